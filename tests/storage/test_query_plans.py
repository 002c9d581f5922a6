"""The hot paths' queries read indexes, never a whole growing table (issue #16).

Each hot path runs for real on a migrated database; every SELECT it issues is caught by
SQLite's trace hook and handed back to ``EXPLAIN QUERY PLAN``: no step of the plan may
``SCAN`` a table that grows with use (a covering index read end to end is a scan too; a
partial index, which holds only the rows a hot path wants, is not).

Every hot path is checked twice: on a database SQLite knows nothing about, and on one seeded
like ``bench/bigdb.py``'s year of use (fewer rows) after ``ANALYZE``, since the planner's
choices change with the table's statistics (with them it once preferred reading the whole
ledger to find the failed deliveries).
"""
from __future__ import annotations

import argparse
import datetime as dt
import re

import pytest

from bench import bigdb
from bot import milestones as ms
from bot import status
from bot.config import load_config
from bot.helpdesk import reports
from knowledge.countries import load_countries
from storage import deliveries, figures, helpdesk, ops
from storage.db import migrate, open_db, transaction

GROWING = {"queries", "query_events", "query_messages", "query_tags", "query_attachments", "query_ratings",
           "faq_misses", "faq_feedback", "deliveries", "milestone_history"}
NOW = dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc)
REGISTRY = load_countries()


@pytest.fixture(scope="module", params=["no statistics", "analyzed year"])
def db(request, tmp_path_factory):
    database = open_db(tmp_path_factory.mktemp("plans") / "plans.db")
    migrate(database, NOW)
    qid = helpdesk.insert_query(database, asker_id=1, country="KEN", lang="en", text="q", source="private",
                                candidates=[], now=NOW)
    helpdesk.add_event(database, qid, NOW, None, "created")
    helpdesk.add_tag(database, qid, "finance")
    deliveries.enqueue(database, kind="reminder", ref="r1", chat_id=1, method="sendMessage", payload={"text": "x"},
                       due_at=NOW, now=NOW)
    if request.param == "analyzed year":
        registry = load_countries()
        bigdb.build(database, registry, argparse.Namespace(queries=1500, faq_rows=300, deliveries=1500))
        template = ms.load_template(load_config(None))
        with transaction(database):
            ms.sync_template(database, template, NOW)
        bigdb.checklist(database, template, registry)
        database.execute("ANALYZE")
    yield database
    database.conn.close()


def partial_indexes(db) -> set[str]:
    return {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND sql LIKE '% WHERE %'")}


def plans_of(db, run) -> dict[str, list[str]]:
    """Every SELECT ``run()`` sends to SQLite, with the details of its query plan."""
    seen: list[str] = []
    db.conn.set_trace_callback(seen.append)
    try:
        run()
    finally:
        db.conn.set_trace_callback(None)
    selects = [sql for sql in dict.fromkeys(seen) if re.match(r"\s*(WITH|SELECT)\b", sql, re.I)
               and "sqlite_master" not in sql and "PRAGMA" not in sql.upper()]
    return {sql: [row[3] for row in db.conn.execute("EXPLAIN QUERY PLAN " + sql)] for sql in selects}


def full_scans(plans: dict[str, list[str]], partial: set[str] = frozenset()) -> list[tuple[str, str]]:
    found = []
    for sql, steps in plans.items():
        for step in steps:
            match = re.match(r"SCAN (\w+)(?: USING (?:COVERING )?INDEX (\w+))?", step)
            if match and match.group(1) in GROWING and match.group(2) not in partial:
                found.append((" ".join(sql.split())[:120], step))
    return found


def _annex_of(iso3: str | None) -> str:
    """/stats's own naming of the regions: the country's annex (as stored on its queries)."""
    country = REGISTRY.get(iso3) if iso3 else None
    return country.annex if country else "-"


HOT_PATHS = {
    "status": lambda db, config: status.gather(db, config, NOW, running=True),
    "status queue": lambda db, config: ops.query_queue(db),
    "status deliveries": lambda db, config: (ops.delivery_counts(db), ops.pending_reminders(db), ops.retryable_ids(db)),
    "deliveries list": lambda db, config: ops.failed_deliveries(db),
    "deliveries due": lambda db, config: deliveries.due(db, NOW),
    "helpdesk unposted": lambda db, config: helpdesk.unposted(db),
    "helpdesk active": lambda db, config: helpdesk.in_states(db, ["new", "open", "pending"]),
    "helpdesk asker": lambda db, config: helpdesk.asker_queries(db, 1, "KEN"),
    "helpdesk events": lambda db, config: helpdesk.events(db, 1),
    "/stats": lambda db, config: reports.load_stats(db, lambda iso3: iso3[:1] if iso3 else "-"),
    "/stats by stored region": lambda db, config: reports.load_stats(db, _annex_of),
    "/stats stored regions": lambda db, config: (figures.query_annexes(db), figures.annex_figures(db, "I"),
                                                 figures.annex_figures(db, None)),
    "/stats distinct values": lambda db, config: (figures.query_countries(db), figures.query_tags(db), figures.state_counts(db)),
    "/stats region": lambda db, config: (figures.group_figures(db, ["KEN", "SEN", None]), figures.group_figures(db, ["KEN"])),
    "/stats topic": lambda db, config: figures.tag_figures(db, "finance"),
    "/progress": lambda db, config: ms.progress(db, ms.load_template(config), load_countries(), NOW),
    "/progress region": lambda db, config: ms.progress(db, ms.load_template(config), load_countries(), NOW, ["KEN", "SEN"]),
    "/overdue": lambda db, config: ms.overdue_by_country(db, ms.load_template(config), load_countries(), NOW),
}


@pytest.mark.parametrize("name", list(HOT_PATHS))
def test_hot_path_reads_no_growing_table_whole(db, name):
    config = load_config(None)
    plans = plans_of(db, lambda: HOT_PATHS[name](db, config))
    assert plans, f"{name}: no query was seen"
    assert full_scans(plans, partial_indexes(db)) == []


def test_the_check_sees_a_full_scan(db):
    """The test above can fail: a count over every query is reported."""
    plans = plans_of(db, lambda: db.execute("SELECT count(*) FROM queries WHERE text LIKE '%x%'").fetchall())
    assert [step for _, step in full_scans(plans)] == ["SCAN queries"]
