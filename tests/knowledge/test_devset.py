"""The real FAQ against the labelled development set: the accuracy targets of the search.

Every ``tests/data/devset/*.yaml`` file counts. The floors (:data:`TOP1` ...) record what the
engine reaches; the targets of issue #17 are measured on the held-out set (``tests/data/heldout``,
and from round 7 on a fresh set written and measured by someone else).
"""
from __future__ import annotations

import pytest

from knowledge.evaluate import engine_fn, evaluate, format_report, load_cases
from bot.search import FaqSearch, load_knowledge
from knowledge.faq import LANGS, load_faq_dir
from storage.db import migrate, open_db
from tests.knowledge.util import DATA

DEVSET = DATA / "devset"


@pytest.fixture(scope="module")
def cases():
    return load_cases(DEVSET)


@pytest.fixture(scope="module")
def real_db():
    db = open_db(":memory:")
    migrate(db)
    load_knowledge(db)
    yield db
    db.conn.close()


ROUND8 = "l_tune8"
"""The round-8 tuning set, the held-out heldout6 until then: measured on its own floors below (the
round-7 tuning did not carry over to it), so that adding it lowers none of the floors of the rest."""


@pytest.fixture(scope="module")
def report(cases, real_db):
    result = evaluate(engine_fn(FaqSearch(real_db)), [case for case in cases if ROUND8 not in case.file])
    print(format_report(result, failures=True))
    return result


@pytest.fixture(scope="module")
def round8(cases, real_db):
    result = evaluate(engine_fn(FaqSearch(real_db)), [case for case in cases if ROUND8 in case.file])
    print(format_report(result, failures=True))
    return result


def test_devset_is_large_and_covers_every_language(cases):
    assert len(cases) >= 200
    assert {case.lang for case in cases} == set(LANGS)
    assert sum(case.expect is None for case in cases) >= 30


def test_devset_labels_exist():
    ids = {entry.id for entry in load_faq_dir()}
    unknown = sorted({case.expect for case in load_cases(DEVSET) if case.expect and case.expect not in ids})
    assert unknown == []


# Issue #17 added near-miss out-of-scope and informal questions (f_nearmiss.yaml) and the practice
# entries' questions (e_practice.yaml). On the enlarged set the lexical engine alone scored 86.1 % /
# 96.3 % / 40.8 %; with the scope rules (knowledge/scope.py) and informal spellings it reaches the
# floors below (top-1 86.7 % once the personal entries of f_personal.yaml arrived; 87.3 % with the query synonyms
# of knowledge/informal.py). Round 4 (g_neighbours.yaml: neighbouring entries, counted questions,
# One Out All Out scenarios, regions, generic and everyday off-topic text) first measured 89.2 % /
# 98.0 % / 92.8 %; distinctive phrasings, the new scope rules, years as dates and re-chosen weights
# reach 94.9 % / 98.8 % / 99.5 % (506 in scope, 195 out). Raise them when the engine improves, never lower them.
# Round 6 added questions with context (i_context.yaml), trips, venues and other bodies (j_nearmiss6.yaml)
# and the untainted tuning set tune6 (h_tune6.yaml: main scored 92.6 / 98.1 / 90.5 % on it before any
# change); on the 506 + 195 questions above nothing fell (95.1 / 99.0 / 99.5 %), on all 902 the
# abstention is 98.9 %, hence 0.985 (two two-word "government report" questions, es and ar, are answered).
# Round 7 moved the held-out heldout5.yaml into the dev set as the tuning set k_tune7.yaml (main scored
# 88.9 / 96.3 / 90.5 % on it before it was used). Report and budget words that decide nothing alone,
# more outside topics, transliteration by consonant skeletons, code-switched glosses, levels and the
# years an entry is about took it to 99.1 / 100 / 100 % and the 902 earlier questions from
# 94.7 / 98.9 / 98.9 % to 95.5 / 98.9 / 100 % (no language worse); on all 1,052: 96.1 / 99.0 / 100 %.
TOP1, TOP3, ABSTAIN, ABSTAIN_PER_LANGUAGE = 0.95, 0.985, 0.995, 0.98
# Round 8: the held-out heldout6.yaml (every entry asked once) scored 88.0 / 92.6 / 85.7 % on main and
# 88.0 / 93.5 / 85.7 % after round 7; ministries as generic words, COP registration and Spanish
# forecasts as outside topics took its abstention to 95.2 %. Its own floors:
ROUND8_TOP1, ROUND8_TOP3, ROUND8_ABSTAIN = 0.875, 0.935, 0.95


def test_round8_tuning_set(round8):
    assert round8.overall.top1_rate >= ROUND8_TOP1, format_report(round8, failures=True)
    assert round8.overall.top3_rate >= ROUND8_TOP3, format_report(round8, failures=True)
    assert round8.overall.abstain_rate >= ROUND8_ABSTAIN, format_report(round8, failures=True)


def test_top1(report):
    assert report.overall.top1_rate >= TOP1, format_report(report, failures=True)


def test_top3(report):
    assert report.overall.top3_rate >= TOP3, format_report(report, failures=True)


def test_out_of_scope_abstains(report):
    assert report.overall.abstain_rate >= ABSTAIN, format_report(report, failures=True)


@pytest.mark.parametrize("lang", LANGS)
def test_near_miss_questions_abstain_in_every_language(report, cases, lang):
    near_miss = [case for case in cases if case.lang == lang and case.expect is None and "f_nearmiss" in case.file]
    assert len(near_miss) >= 15, lang
    assert report.by_lang[lang].abstain_rate >= ABSTAIN_PER_LANGUAGE, format_report(report, failures=True)


@pytest.mark.parametrize("query", ["weather in Paris", "bitcoin price", "météo à Paris", "比特币价格", "погода в Москве"])
def test_named_off_topic_questions_abstain(query):
    db = open_db(":memory:")
    migrate(db)
    load_knowledge(db)
    assert FaqSearch(db).search(query) == []
    db.conn.close()


def test_candidates_left_out_could_never_be_shown(cases, real_db):
    """``scored`` skips the fuzzy signal of candidates that could not be among the first
    ``keep`` results; an engine that scores everything gives the same results and scores
    for every limit and the same best score, and what is kept is scored the same."""
    engine, exhaustive = FaqSearch(real_db), FaqSearch(real_db, exhaustive=True)
    left_out = 0
    for case in cases:
        for limit in (1, 2, 3, 10):
            assert ([(h.id, h.score) for h in engine.search(case.q, limit)]
                    == [(h.id, h.score) for h in exhaustive.search(case.q, limit)]), (case.q, limit)
        assert engine.best_score(case.q) == exhaustive.best_score(case.q)
        full = {s.index: s.score for s in exhaustive.scored(case.q)}
        engine._last = None  # not the list kept from search(limit=10)
        pruned = {s.index: s.score for s in engine.scored(case.q, keep=3)}
        assert all(full[i] == score for i, score in pruned.items()), case.q
        left_out += len(full) - len(pruned)
    assert left_out > len(cases)  # on average more than one candidate per query spared


def test_spelling_prefilter_keeps_every_word_rapidfuzz_would_accept(cases, real_db):
    """``SearchIndex.near`` drops vocabulary words by a lower bound before ``fuzz.ratio``;
    on misspellings made from the vocabulary and on every dev-set word, what rapidfuzz
    accepts is the same as over the whole vocabulary."""
    import random

    from rapidfuzz import fuzz, process

    from knowledge.index import SPELL_SCRIPTS
    from knowledge.text import FUZZY_CUTOFF, content_tokens, fold

    index = FaqSearch(real_db).index
    vocabs = {script: index.vocab(script) for script in SPELL_SCRIPTS if index.vocab(script)}
    rng = random.Random(7)
    words = [(w, script) for case in cases for w, script in content_tokens(fold(case.q)) if script in vocabs]
    for script, vocab in vocabs.items():
        for word in rng.sample(vocab, min(60, len(vocab))):
            i = rng.randrange(len(word))
            words += [(word[:i] + word[i + 1:], script), (word[:i] + word[i:i + 2][::-1] + word[i + 2:], script),
                      (word[:i] + rng.choice(word) + word[i:], script), (word + word[:3], script)]
    kept = 0
    for word, script in words:
        def accepted(choices, word=word):
            return sorted((m, s) for m, s, _ in process.extract(word, choices, scorer=fuzz.ratio, processor=None,
                                                                score_cutoff=FUZZY_CUTOFF, limit=None))
        near = index.near(word, script)
        assert accepted(near) == accepted(vocabs[script]), word
        kept += len(near)
    assert kept < 0.2 * sum(len(vocabs[s]) for _, s in words)  # and it does drop most words
