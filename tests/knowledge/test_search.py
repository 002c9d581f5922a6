"""The search engine and the FAQ storage on the unit-test FAQ."""
from __future__ import annotations

import datetime as dt

import pytest

from knowledge.evaluate import engine_fn, evaluate, load_cases
from bot.search import FaqSearch, load_knowledge
from knowledge.faq import LANGS, load_faq_dir
from knowledge.search import MAX_QUERY_CHARS
from knowledge.text import content_tokens, fold
from knowledge.yamlfile import DataError
from storage import faq as store
from storage.db import migrate, open_db
from tests.knowledge.util import FIXTURE_DEVSET, FIXTURE_FAQ

NOW = dt.datetime(2016, 5, 20, 8, 0, tzinfo=dt.timezone.utc)


def top(engine, query):
    hits = engine.search(query)
    return hits[0].entry.id if hits else None


# -- normalisation -------------------------------------------------------------------


def test_fold_removes_case_accents_and_punctuation():
    assert fold("Qu'est-ce que la NDT ?") == "qu est ce que la ndt"
    assert fold("¿Qué   período?") == "que periodo"
    assert fold("Ёлка") == "елка"
    assert fold("الأراضي") == "الاراضي"
    assert fold("ＳＤＧ　１５.３") == "sdg 153"
    assert fold("") == ""


def test_content_tokens_drop_stopwords_per_script():
    assert [t for t, _ in content_tokens(fold("What is the baseline period?"))] == ["baseline", "period"]
    assert [t for t, _ in content_tokens(fold("Что такое НБДЗ?"))] == ["нбдз"]
    assert [t for t, _ in content_tokens(fold("LDN是什么"))] == ["ldn"]
    # nothing but stopwords: keep everything rather than nothing
    assert [t for t, _ in content_tokens(fold("what is it"))] == ["what", "is", "it"]


# -- search ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query, expected",
    [
        ("what is LDN?", "ldn-definition"),
        ("définition de la neutralité des terres", "ldn-definition"),
        ("qué significa neutralidad de la degradación", "ldn-definition"),
        ("что такое нейтральный баланс деградации земель", "ldn-definition"),
        ("ما هو تحييد أثر تدهور الأراضي", "ldn-definition"),
        ("土地退化零增长是什么意思", "ldn-definition"),
        ("soil organic carbon", "soc-indicator"),
        ("土壤有机碳", "soc-indicator"),
        ("baseline period", "baseline-period"),
        ("базовый период", "baseline-period"),
        ("GEF funding", "finance-sources"),
        ("how to change the language", "bot-language"),
        ("SDG 15.3", "sdg-15-3"),
    ],
)
def test_queries_in_every_language_find_the_entry(engine, query, expected):
    assert top(engine, query) == expected


def test_typos_are_tolerated(engine):
    assert top(engine, "soil organc carbn") == "soc-indicator"
    assert top(engine, "baselin perod") == "baseline-period"


def test_chinese_substring_without_spaces(engine):
    assert top(engine, "请问土壤有机碳指标") == "soc-indicator"
    assert top(engine, "基线期是哪几年") == "baseline-period"


@pytest.mark.parametrize("query", ["weather in Paris", "bitcoin price", "football results tonight", "比特币价格", "погода в Москве"])
def test_off_topic_abstains(engine, query):
    assert engine.search(query) == []
    assert 0.0 <= engine.best_score(query) < engine.threshold


def test_hit_carries_the_entry_in_every_language(engine):
    hit = engine.search("что такое НБДЗ")[0]
    assert set(hit.entry.texts) == set(LANGS)
    assert hit.entry.text("fr").q.startswith("Qu'est-ce que")
    assert hit.id == "ldn-definition"


def test_scores_are_in_range_best_first_and_limited(engine):
    hits = engine.search("LDN indicator soil carbon baseline", limit=5)
    assert 1 <= len(hits) <= 5
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert len(engine.search("LDN indicator soil carbon baseline", limit=1)) == 1
    assert engine.search("soil organic carbon", limit=0) == []


# Input that would be FTS5 syntax, SQL, control characters or sheer size, and the entry it should
# find (None: the engine abstains). The words around the syntax still count; the syntax itself never does.
HOSTILE = [
    ("", None),
    ("   ", None),
    ('"', None),
    ('"soil carbon', "soc-indicator"),
    ("soil*", "soc-indicator"),
    ("*", None),
    ("NEAR(soil carbon)", "soc-indicator"),
    ("NEAR(", None),
    ("soil AND carbon OR NOT baseline", "soc-indicator"),
    ("AND", None),
    ("((((", None),
    ("soil) carbon", "soc-indicator"),
    ("{col}: carbon", "soc-indicator"),
    ("carbon^2 - + :", "soc-indicator"),
    ("x" * 10_000, None),
    ("soil organic carbon " * 700, "soc-indicator"),
    ("🌍🔥👍", None),
    ("🌍 soil carbon 🌱", "soc-indicator"),
    ("ما هو خط الأساس؟ \u200f", "baseline-period"),
    ("\u202eevil RTL override", None),
    ("\x00\x01\x02", None),
    ("' OR 1=1 --", None),
    ("Robert'); DROP TABLE faq_entries;--", None),
]


@pytest.mark.parametrize("query, expected", HOSTILE)
def test_user_input_never_reaches_fts_as_syntax(engine, query, expected):
    rows = engine.db["faq_entries"].count
    hits = engine.search(query)
    assert top(engine, query) == expected
    # the same hits as the query's plain words: operators, quotes and brackets changed nothing
    assert [(h.id, h.score) for h in hits] == [(h.id, h.score) for h in engine.search(fold(query))]
    best = engine.best_score(query)
    if hits:
        assert best == pytest.approx(hits[0].score) and best >= engine.threshold
    else:
        assert 0.0 <= best < engine.threshold
    # nothing was run as SQL: every entry is still there and still found
    assert engine.db["faq_entries"].count == rows and len(engine.entries()) == 6
    assert top(engine, "soil organic carbon") == "soc-indicator"


def test_hostile_input_still_gives_sensible_results(engine):
    assert top(engine, 'NEAR("soil organic carbon"') == "soc-indicator"
    assert top(engine, "soil* AND carbon*") == "soc-indicator"
    assert top(engine, "🌍 baseline period 🌱") == "baseline-period"
    assert top(engine, "ما هو خط الأساس؟ \u200f") == "baseline-period"
    assert engine.search("") == [] and engine.search("🌍🔥👍") == []
    assert len(("soil organic carbon " * 700)[:MAX_QUERY_CHARS]) == MAX_QUERY_CHARS
    assert top(engine, "soil organic carbon " * 700) == "soc-indicator"


def test_entries_get_and_by_topic(engine):
    assert len(engine.entries()) == 6
    assert engine.get("sdg-15-3").topic == "sdg"
    assert engine.get("nope") is None
    assert [e.id for e in engine.by_topic("soc")] == ["soc-indicator"]
    assert engine.topics()[0] == "basics"


def test_fixture_devset_passes(engine):
    report = evaluate(engine_fn(engine), load_cases(FIXTURE_DEVSET))
    assert report.overall.top1_rate == 1.0, report.failures
    assert report.overall.abstain_rate == 1.0, report.failures


def test_empty_knowledge_abstains(db):
    engine = FaqSearch(db)
    assert engine.search("soil organic carbon") == []
    assert engine.best_score("soil organic carbon") == 0.0


# -- reload, version, promoted entries ---------------------------------------------------


def test_reload_is_noticed_through_the_knowledge_version(loaded_db, engine):
    assert engine.version == store.knowledge_version(loaded_db) == 1
    assert engine.refresh_if_changed() is False
    entries = [e for e in load_faq_dir(FIXTURE_FAQ) if e.id != "soc-indicator"]
    store.load_entries(loaded_db, entries)
    assert top(engine, "soil organic carbon") != "soc-indicator"  # search() refreshes by itself
    assert engine.version == 2
    assert engine.get("soc-indicator") is None


def test_malformed_yaml_keeps_the_old_knowledge(loaded_db, engine, faq_copy):
    (faq_copy / "data.yaml").write_text("entries:\n  - id: broken\n    en: [unclosed\n", encoding="utf-8")
    with pytest.raises(DataError) as caught:
        load_knowledge(loaded_db, faq_copy)
    assert str(faq_copy / "data.yaml") + ":" in str(caught.value)
    assert store.knowledge_version(loaded_db) == 1
    assert top(engine, "soil organic carbon") == "soc-indicator"
    assert len(engine.entries()) == 6


def test_invalid_entry_keeps_the_old_knowledge(loaded_db, engine, faq_copy):
    text = (faq_copy / "basics.yaml").read_text(encoding="utf-8")
    (faq_copy / "basics.yaml").write_text(text.replace("topic: sdg", "topic: astrology"), encoding="utf-8")
    with pytest.raises(DataError, match="unknown topic 'astrology'"):
        load_knowledge(loaded_db, faq_copy)
    assert store.knowledge_version(loaded_db) == 1
    assert top(engine, "SDG 15.3") == "sdg-15-3"


def test_promoted_entry_is_searchable_and_survives_reload_and_restart(tmp_path):
    path = tmp_path / "ldn.db"
    db = open_db(path)
    migrate(db)
    load_knowledge(db, FIXTURE_FAQ)
    engine = FaqSearch(db)
    assert engine.search("drought early warning system") == []

    draft = store.add_draft(
        db,
        topic="data",
        q="Is there a drought early warning system in the toolbox?",
        a="Yes: the drought toolbox links to national early warning systems.",
        lang="en",
        alt=["drought early warning", "early warning of droughts"],
        ref="query:42",
        created_by=800,
        now=NOW,
    )
    assert [d["id"] for d in store.list_drafts(db)] == [draft]
    entry_id = store.approve_draft(db, draft, by=900, now=NOW)
    assert entry_id == f"helpdesk-{draft}"
    assert store.list_drafts(db) == []
    assert store.list_drafts(db, status="approved")[0]["entry_id"] == entry_id

    hit = engine.search("drought early warning system")[0]
    assert hit.entry.id == entry_id and hit.entry.origin == "promoted"
    assert hit.entry.text("fr").q.startswith("Is there")  # only English: falls back

    load_knowledge(db, FIXTURE_FAQ)  # a reload keeps promoted entries
    assert top(engine, "drought early warning system") == entry_id
    assert top(engine, "soil organic carbon") == "soc-indicator"
    db.conn.close()

    db = open_db(path)  # a restart
    migrate(db)
    restarted = FaqSearch(db)
    assert top(restarted, "drought early warning system") == entry_id
    assert store.knowledge_state(db)["promoted_entries"] == 1
    db.conn.close()


def test_yaml_entry_with_the_same_id_replaces_a_promoted_one(loaded_db):
    draft = store.add_draft(loaded_db, topic="basics", q="Old promoted question?", a="Old answer.")
    store.approve_draft(loaded_db, draft, by=900, entry_id="ldn-definition-2")
    entries = load_faq_dir(FIXTURE_FAQ)
    renamed = type(entries[0])(**{**entries[0].__dict__, "id": "ldn-definition-2"})
    store.load_entries(loaded_db, entries + [renamed])
    origins = {e.id: e.origin for e in store.read_entries(loaded_db)}
    assert origins["ldn-definition-2"] == "yaml"


def test_drafts_are_validated_and_can_be_rejected(loaded_db):
    with pytest.raises(ValueError):
        store.add_draft(loaded_db, topic="basics", q="", a="x")
    with pytest.raises(ValueError):
        store.add_draft(loaded_db, topic="basics", q="Q?", a="x" * 1300)
    with pytest.raises(ValueError):
        store.add_draft(loaded_db, {"xx": {"q": "Q?", "a": "A"}}, topic="basics")
    draft = store.add_draft(
        loaded_db,
        {"fr": {"q": "Question ?", "a": "Réponse."}, "es": {"q": "¿Pregunta?", "a": "Respuesta."}},
        topic="basics",
    )
    store.reject_draft(loaded_db, draft, by=900)
    with pytest.raises(ValueError, match="already rejected"):
        store.approve_draft(loaded_db, draft, by=900)
    with pytest.raises(KeyError):
        store.approve_draft(loaded_db, 999, by=900)


def test_remove_promoted(loaded_db, engine):
    draft = store.add_draft(loaded_db, topic="data", q="Where is the drought toolbox?", a="On the UNCCD site.",
                            alt=["drought toolbox"])
    entry_id = store.approve_draft(loaded_db, draft, by=900)
    assert top(engine, "drought toolbox") == entry_id
    assert store.remove_promoted(loaded_db, entry_id) is True
    assert store.remove_promoted(loaded_db, "ldn-definition") is False
    assert engine.get(entry_id) is not None  # accessors read memory: fresh as of the last refresh
    assert engine.refresh_if_changed() is True
    assert engine.get(entry_id) is None


# -- misses, feedback, most asked -----------------------------------------------------------


def test_misses_are_logged_and_listed(loaded_db, engine):
    query = "bitcoin price"
    assert engine.search(query) == []
    store.log_miss(loaded_db, query, lang="en", best_score=engine.best_score(query), country="KEN", user_id=501, now=NOW)
    store.record_feedback(loaded_db, "soc-indicator", False, lang="fr", user_id=502, country="SEN",
                          query="carbone du sol", best_score=0.61, now=NOW + dt.timedelta(minutes=1))
    store.record_feedback(loaded_db, "soc-indicator", True, lang="en", user_id=503, now=NOW)
    gaps = store.list_gaps(loaded_db)
    assert [g["kind"] for g in gaps] == ["not_helpful", "abstain"]
    assert gaps[0]["entry_id"] == "soc-indicator" and gaps[0]["country"] == "SEN"
    assert gaps[1]["query"] == query and gaps[1]["country"] == "KEN" and gaps[1]["created_at"] == "2016-05-20T08:00:00Z"
    assert 0 <= gaps[1]["best_score"] < engine.threshold
    assert [g["kind"] for g in store.list_gaps(loaded_db, since=NOW + dt.timedelta(seconds=30))] == ["not_helpful"]
    assert store.list_gaps(loaded_db, kind="abstain", limit=5)[0]["query"] == query
    assert store.feedback_counts(loaded_db) == {"soc-indicator": (1, 1)}
    with pytest.raises(ValueError):
        store.log_miss(loaded_db, "x", lang="en", best_score=0, kind="other")


def test_long_queries_are_truncated_in_the_log(loaded_db):
    store.log_miss(loaded_db, "x" * 10_000, lang="en", best_score=0.0)
    assert len(store.list_gaps(loaded_db)[0]["query"]) == store.MAX_LOGGED_QUERY


def test_most_asked(loaded_db):
    for entry_id, times in [("soc-indicator", 3), ("sdg-15-3", 1), ("baseline-period", 2), ("gone", 9)]:
        for _ in range(times):
            store.record_asked(loaded_db, entry_id, now=NOW)
    assert store.most_asked(loaded_db, 2) == [("soc-indicator", 3), ("baseline-period", 2)]


def test_engine_bm25_equals_fts5(engine, loaded_db):
    """The engine computes bm25 from its own trigram postings; SQLite FTS5 ranking the
    same ``OR`` of trigrams over the same folded strings gives the same figures, for
    every dev-set query."""
    from knowledge.search import ANSWER_WEIGHT

    store.fts_table(loaded_db)
    compared = 0
    for case in load_cases(FIXTURE_DEVSET) + [type("Q", (), {"q": "wéird ÜNKNOWN zzqx 未知词"})()]:
        chosen, _ideal = engine.ranker.fts_terms(content_tokens(fold(case.q)))
        if not chosen:
            continue
        entries = engine.entries()
        ours = {entries[i].id: rank for i, rank in engine.ranker.bm25_best(chosen, ANSWER_WEIGHT, 1000)}
        direct = dict(store.fts_candidates(loaded_db, " OR ".join(store.fts_quote(t) for t in chosen), 1000, ANSWER_WEIGHT))
        assert ours.keys() == direct.keys(), case.q
        for entry_id, rank in direct.items():
            assert ours[entry_id] == pytest.approx(rank, rel=1e-9), (case.q, entry_id)
        compared += 1
    assert compared >= 10


def test_offline_search_needs_no_sqlite_once_loaded(loaded_db):
    """Before the index is loaded an ``offline`` search (the event loop's) raises
    ``NeedsDatabase`` without doing any work; once an online search (or ``warm``) has
    loaded it, offline searches give the same hits without touching SQLite."""
    from knowledge.search import NeedsDatabase

    cases = load_cases(FIXTURE_DEVSET)
    cold = FaqSearch(loaded_db)
    with pytest.raises(NeedsDatabase):
        cold.search(cases[0].q, offline=True)
    engine = FaqSearch(loaded_db, warm=True)
    online = [[(h.id, h.score) for h in engine.search(case.q)] for case in cases]
    engine._last = None
    loaded_db.conn.close()  # an offline search must not need it
    offline = [[(h.id, h.score) for h in engine.search(case.q, offline=True)] for case in cases]
    assert offline == online and any(online)


def test_index_is_built_once_per_content_and_loaded_from_the_database(tmp_path, caplog):
    """The first engine builds the index and stores it under the entries' digest; a new
    process (empty in-process cache) loads it instead of building, with the same
    results; new content gets a new index and the old one is dropped."""
    import logging

    from bot import search as service
    from knowledge.index import entries_digest

    def builds():
        return sum(r.getMessage() == "search.index_built" for r in caplog.records)

    caplog.set_level(logging.INFO, logger="ldn.search")
    db = open_db(tmp_path / "ldn.db")
    migrate(db)
    load_knowledge(db, FIXTURE_FAQ)
    service._INDEX_CACHE.clear()
    queries = [case.q for case in load_cases(FIXTURE_DEVSET)]
    first = FaqSearch(db)
    expected = [[(h.id, h.score) for h in first.search(q)] for q in queries]
    digest = entries_digest(store.read_entries(db))
    assert db.execute("SELECT digest FROM faq_search_index").fetchall() == [(digest,)]
    assert builds() == 1

    service._INDEX_CACHE.clear()  # as in a new process
    again = FaqSearch(db)
    assert [[(h.id, h.score) for h in again.search(q)] for q in queries] == expected
    assert builds() == 1  # loaded, not rebuilt

    store.load_entries(db, [e for e in load_faq_dir(FIXTURE_FAQ) if e.id != "soc-indicator"])
    assert again.get("soc-indicator") is not None  # memory: as of the last refresh
    again.search("soil organic carbon")  # notices the new version
    assert builds() == 2 and again.get("soc-indicator") is None
    assert db.execute("SELECT count(*) FROM faq_search_index").fetchone()[0] == 1
    db.conn.close()


def test_stored_index_of_other_content_is_not_used(loaded_db):
    """``from_bytes`` refuses a blob built from other entries (or by another format)."""
    from knowledge.index import SearchIndex

    entries = store.read_entries(loaded_db)
    blob = SearchIndex.build(entries).to_bytes()
    assert SearchIndex.from_bytes(blob, entries) is not None
    assert SearchIndex.from_bytes(blob, entries[1:]) is None


def test_a_fresh_database_beside_a_used_one_reuses_the_parsed_faq_and_the_index(faq_copy, caplog):
    """The parsed FAQ files and the built index are also kept in ``.ldn-cache/`` beside the
    database: a new database in the same place loads both instead of redoing them."""
    import logging

    from bot import search as service

    caplog.set_level(logging.INFO, logger="ldn.search")
    kdir, now = faq_copy.parent, NOW
    first = open_db(kdir / "first.db")
    migrate(first)
    service._INDEX_CACHE.clear()
    service._PARSED_FAQ.clear()
    assert service.sync_knowledge(first, kdir, now) is True
    expected = [(h.id, h.score) for h in FaqSearch(first).search("soil organic carbon")]
    cache = sorted(p.name.split("-")[0] for p in (kdir / ".ldn-cache").iterdir())
    assert cache == ["faq", "schema", "search"]  # the schema template too (storage/db.py)

    service._INDEX_CACHE.clear()  # a new process ...
    service._PARSED_FAQ.clear()
    fresh = open_db(kdir / "fresh.db")  # ... on a new database
    migrate(fresh)
    assert service.sync_knowledge(fresh, kdir, now) is True
    assert store.read_entries(fresh) == store.read_entries(first)
    assert [(h.id, h.score) for h in FaqSearch(fresh).search("soil organic carbon")] == expected
    assert sum(r.getMessage() == "search.index_built" for r in caplog.records) == 1
    assert service.sync_knowledge(fresh, kdir, now) is False  # unchanged files: nothing to load
    first.conn.close()
    fresh.conn.close()
