"""The real FAQ against the labelled development set: the accuracy targets of the search.

Every ``tests/data/devset/*.yaml`` file counts. Targets: top-1 >= 90 % and top-3 >= 97 %
of in-scope queries, >= 90 % of out-of-scope queries abstained.
"""
from __future__ import annotations

import pytest

from knowledge.evaluate import engine_fn, evaluate, format_report, load_cases
from knowledge.faq import LANGS, load_faq_dir, load_knowledge
from knowledge.search import FaqSearch
from storage.db import migrate, open_db

from .conftest import DATA

DEVSET = DATA / "devset"


@pytest.fixture(scope="module")
def cases():
    return load_cases(DEVSET)


@pytest.fixture(scope="module")
def report(cases):
    db = open_db(":memory:")
    migrate(db)
    load_knowledge(db)
    result = evaluate(engine_fn(FaqSearch(db)), cases)
    print(format_report(result, failures=True))
    yield result
    db.conn.close()


def test_devset_is_large_and_covers_every_language(cases):
    assert len(cases) >= 200
    assert {case.lang for case in cases} == set(LANGS)
    assert sum(case.expect is None for case in cases) >= 30


def test_devset_labels_exist():
    ids = {entry.id for entry in load_faq_dir()}
    unknown = sorted({case.expect for case in load_cases(DEVSET) if case.expect and case.expect not in ids})
    assert unknown == []


def test_top1(report):
    assert report.overall.top1_rate >= 0.90, format_report(report, failures=True)


def test_top3(report):
    assert report.overall.top3_rate >= 0.97, format_report(report, failures=True)


def test_out_of_scope_abstains(report):
    assert report.overall.abstain_rate >= 0.90, format_report(report, failures=True)


@pytest.mark.parametrize("query", ["weather in Paris", "bitcoin price", "météo à Paris", "比特币价格", "погода в Москве"])
def test_named_off_topic_questions_abstain(query):
    db = open_db(":memory:")
    migrate(db)
    load_knowledge(db)
    assert FaqSearch(db).search(query) == []
    db.conn.close()
