"""The search index at size: built in bulk, stored and loaded, bounded per query, rebuilt on new content.

The unit-test FAQ is replicated with perturbed copies (as ``bench/search.py --scale``
does with the real one), so that every word and trigram has many rows; nothing here
is timed (speed is measured by the bench).
"""
from __future__ import annotations

import datetime as dt
import logging
import random
from dataclasses import replace

import numpy as np
import pytest

from bot import search as service
from bot.search import FaqSearch
from knowledge import index as index_module
from knowledge.evaluate import load_cases
from knowledge.faq import FaqEntry, FaqText, load_faq_dir
from knowledge.index import SearchIndex, entries_digest
from knowledge.search import ANSWER_WEIGHT, Ranker
from knowledge.text import content_tokens, fold, fold_many, term_units, term_units_flat
from storage import faq as store
from storage.db import migrate, open_db
from tests.knowledge.util import FIXTURE_DEVSET, FIXTURE_FAQ

COPIES = 12
NOW = dt.datetime(2016, 5, 20, 8, 0, tzinfo=dt.timezone.utc)


def _perturb(text: str, rng: random.Random) -> str:
    """One word fewer, two neighbours swapped, sometimes two letters swapped."""
    words = text.split()
    if len(words) > 3:
        del words[rng.randrange(len(words))]
    if len(words) > 2:
        i = rng.randrange(len(words) - 1)
        words[i], words[i + 1] = words[i + 1], words[i]
    if words and rng.random() < 0.5:
        i = rng.randrange(len(words))
        if len(words[i]) > 4:
            j = rng.randrange(1, len(words[i]) - 2)
            w = words[i]
            words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2:]
    return " ".join(words)


def replicated(copies: int = COPIES) -> list[FaqEntry]:
    """The unit-test FAQ and ``copies`` perturbed copies of each entry (ids ``<id>~<n>``)."""
    rng = random.Random(16)
    base = load_faq_dir(FIXTURE_FAQ)
    out = list(base)
    for n in range(1, copies + 1):
        for entry in base:
            texts = {lang: FaqText(_perturb(t.q, rng), tuple(_perturb(a, rng) for a in t.alt), _perturb(t.a, rng))
                     for lang, t in entry.texts.items()}
            out.append(replace(entry, id=f"{entry.id}~{n}", texts=texts))
    return out


@pytest.fixture(scope="module")
def big() -> tuple[list[FaqEntry], SearchIndex]:
    entries = replicated()
    return entries, SearchIndex.build(entries)


def family(entry_id: str) -> str:
    return entry_id.split("~")[0]


def test_bulk_folding_equals_folding_one_string_at_a_time(big):
    entries, _index = big
    strings = [s for e in entries for t in e.texts.values() for s in (*t.questions(), t.a)]
    strings += ["", "   ", "15.3.1", "CRIC17 and 15. 3", "Ёлка\u00a0x", "ٱلأراضي ١٥", "ＳＤＧ　１５.３", "é\u0301", "LDN是什么"]
    assert fold_many(strings) == [fold(s) for s in strings]
    folded = fold_many(strings)
    units, counts = term_units_flat(folded)
    at = 0
    for text, count in zip(folded, counts, strict=True):
        assert list(dict.fromkeys(units[at:at + count])) == term_units(text), text
        at += count
    assert at == len(units)


def test_a_loaded_index_equals_the_rebuilt_one(big):
    """Stored and read back, the index has the same arrays and ranks every dev-set query
    exactly as the index built in memory."""
    entries, built = big
    loaded = SearchIndex.from_bytes(built.to_bytes(), entries)
    assert loaded is not None
    for name in index_module._ARRAYS:
        assert np.array_equal(getattr(loaded, name), getattr(built, name)), name
    assert (loaded.words, loaded.tri, loaded.q_text) == (built.words, built.tri, built.q_text)
    queries = [case.q for case in load_cases(FIXTURE_DEVSET)]
    assert [Ranker(loaded).rank(q) for q in queries] == [Ranker(built).rank(q) for q in queries]
    assert SearchIndex.build(entries).to_bytes() == built.to_bytes()  # the build is deterministic


def test_perturbed_copies_are_found(big):
    """At thirteen times the FAQ, every copy's own (perturbed) question finds an entry of
    its family first, and the original questions still find their family."""
    entries, index = big
    ranker = Ranker(index)
    by_id = {e.id: e for e in entries}
    checked = wrong = 0
    for entry in entries:
        if not entry.id.endswith(("~3", "~11")):
            continue
        for lang in ("en", "fr", "ru"):
            ranked = ranker.rank(by_id[entry.id].texts[lang].q)
            hits = ranker.hits(ranked, 3)
            checked += 1
            wrong += not hits or family(hits[0].id) != family(entry.id)
    assert checked >= 20 and wrong <= checked // 10
    for query, expected in [("soil organic carbon", "soc-indicator"), ("baseline period", "baseline-period"),
                            ("базовый период", "baseline-period")]:
        hits = ranker.hits(ranker.rank(query), 3)
        assert hits and family(hits[0].id) == expected, query


def test_bm25_reads_a_bounded_number_of_rows(big, monkeypatch):
    """Past MAX_BM25_ROWS trigram rows the commonest of a query's trigrams are left out:
    the result is then the bm25 of the rarest ones alone; under the bound nothing changes."""
    _entries, index = big
    ranker = Ranker(index)
    chosen, _ideal = ranker.fts_terms(content_tokens(fold("soil organic carbon stock baseline")))
    sizes = {t: index.trigram_df(t) for t in chosen}
    total = sum(sizes.values())
    assert len(chosen) >= 4 and total > 100
    unbounded = index.bm25_best(chosen, ANSWER_WEIGHT, 10_000)
    monkeypatch.setattr(index_module, "MAX_BM25_ROWS", total)
    assert index.bm25_best(chosen, ANSWER_WEIGHT, 10_000) == unbounded
    rarest = sorted(chosen, key=lambda t: sizes[t])
    budget = sizes[rarest[0]] + sizes[rarest[1]]
    monkeypatch.setattr(index_module, "MAX_BM25_ROWS", budget)
    kept = [t for t in chosen if t in rarest[:2]]
    assert index.bm25_best(chosen, ANSWER_WEIGHT, 10_000) == index.bm25_best(kept, ANSWER_WEIGHT, 10_000) != unbounded
    monkeypatch.setattr(index_module, "MAX_BM25_ROWS", 1)  # the rarest trigram always counts
    assert index.bm25_best(chosen, ANSWER_WEIGHT, 10_000) == index.bm25_best([rarest[0]], ANSWER_WEIGHT, 10_000) != []


def test_the_index_is_rebuilt_when_the_faq_files_change(faq_copy, caplog):
    """sync_knowledge loads changed FAQ files (new fingerprint); the next search builds and
    stores an index for the new content (an unchanged start loads the stored one)."""
    caplog.set_level(logging.INFO, logger="ldn.search")
    kdir = faq_copy.parent
    service._INDEX_CACHE.clear()
    service._PARSED_FAQ.clear()
    db = open_db(kdir / "ldn.db")
    migrate(db)

    def builds() -> int:
        return sum(r.getMessage() == "search.index_built" for r in caplog.records)

    assert service.sync_knowledge(db, kdir, NOW) is True
    engine = FaqSearch(db)
    assert engine.search("soil organic carbon")[0].id == "soc-indicator"
    first = db.execute("SELECT digest FROM faq_search_index").fetchall()
    assert builds() == 1

    service._INDEX_CACHE.clear()  # a restart on unchanged files: nothing parsed, nothing built
    assert service.sync_knowledge(db, kdir, NOW) is False
    assert FaqSearch(db).search("soil organic carbon")[0].id == "soc-indicator"
    assert builds() == 1

    data = faq_copy / "data.yaml"
    text = data.read_text(encoding="utf-8")
    assert "soil organic carbon" in text.lower()
    data.write_text(text.replace("Soil organic carbon", "Zyxwarbon quorbium").replace(
        "soil organic carbon", "zyxwarbon quorbium"), encoding="utf-8")
    assert service.sync_knowledge(db, kdir, NOW) is True
    hits = engine.search("zyxwarbon quorbium")
    assert hits and hits[0].id == "soc-indicator"
    assert builds() == 2
    second = db.execute("SELECT digest FROM faq_search_index").fetchall()
    assert len(second) == 1 and second != first
    assert second[0][0] == entries_digest(store.read_entries(db))
    db.conn.close()
