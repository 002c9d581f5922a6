"""SQL does the aggregation (issue #16): the figures of ``/stats``, ``/progress`` and ``/overdue``
are the ones the previous implementation computed in Python from every row.

A database is seeded the way ``bench/bigdb.py`` builds a year of use (through the storage
functions), plus the awkward rows: a query without a country, a resolution shorter than the
time spent pending, a query reopened after it was resolved, a state the vocabulary does not
know. The references are the earlier code paths, kept: :func:`bot.helpdesk.compute_stats`
over every row, and the checklist counted from :func:`bot.milestones.all_states`.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics

import pytest

from bench import bigdb
from bot import helpdesk as hd
from bot import milestones as ms
from bot.cli import main
from bot.cli_helpdesk import _stats_dict
from bot.config import load_config
from bot.helpdesk import reports
from knowledge.countries import load_countries
from storage import figures
from storage import helpdesk as store
from storage.db import migrate, open_db, transaction

LATER = bigdb.START + dt.timedelta(days=400)


def seed(path):
    db = open_db(path)
    migrate(db, bigdb.START)
    config = load_config(None)
    registry = load_countries()
    bigdb.build(db, registry, argparse.Namespace(queries=700, faq_rows=60, deliveries=60))
    template = ms.load_template(config)
    with transaction(db):
        ms.sync_template(db, template, bigdb.START)
    bigdb.checklist(db, template, registry)
    with transaction(db):
        t0 = bigdb.START + dt.timedelta(days=30)
        nowhere = hd.create_query(db, asker_id=77, country=None, lang="en", text="no country", source="ask", now=t0)
        hd.record_expert_reply(db, nowhere, 800, chat_id=-5, message_id=1, kind="text", text="x", attachment=None,
                               now=t0 + dt.timedelta(minutes=3))
        paused = hd.create_query(db, asker_id=78, country="KEN", lang="en", text="long pause", source="ask", now=t0)
        store.update_query(db, paused, t0, state="resolved", first_response_at="2026-01-31T00:10:00Z",
                           resolved_at="2026-01-31T01:00:00Z", paused_seconds=999_999)
        reopened = hd.create_query(db, asker_id=79, country="SEN", lang="fr", text="encore", source="ask", now=t0)
        hd.record_expert_reply(db, reopened, 800, chat_id=-5, message_id=2, kind="text", text="x", attachment=None,
                               now=t0 + dt.timedelta(hours=2))
        hd.change_state(db, reopened, "resolved", 800, t0 + dt.timedelta(hours=5))
        hd.change_state(db, reopened, "open", 800, t0 + dt.timedelta(hours=9))
        odd = hd.create_query(db, asker_id=80, country="CMR", lang="fr", text="odd", source="ask", now=t0)
        store.update_query(db, odd, t0, state="archived")
        store.add_tag(db, odd, "finance")
    return db, config, registry, template


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    path = tmp_path_factory.mktemp("figures") / "ldn.db"
    db, config, registry, template = seed(path)
    yield path, db, config, registry, template
    db.conn.close()


def region_of(registry):
    return lambda iso3: registry.get(iso3).annex if iso3 and registry.get(iso3) else "-"


def test_stats_in_sql_equal_the_python_figures(seeded):
    _, db, _, registry, _ = seeded
    region = region_of(registry)
    before = reports.compute_stats(store.all_queries(db), store.all_ratings(db), store.all_tags(db), region)
    after = reports.load_stats(db, region)
    assert _stats_dict(after) == _stats_dict(before)
    assert list(after.by_state) == list(before.by_state) and after.by_state["archived"] == 1
    assert list(after.by_region) == list(before.by_region) and "-" in after.by_region
    assert list(after.by_topic) == list(before.by_topic)
    assert after.overall.median_first_hours is not None and after.rating_count > 0


def test_helpdesk_stats_cli_prints_the_python_figures(seeded, monkeypatch, capsys):
    path, db, _, registry, _ = seeded
    expected = _stats_dict(reports.compute_stats(store.all_queries(db), store.all_ratings(db), store.all_tags(db),
                                                 region_of(registry)))
    monkeypatch.setenv("LDN_DB", str(path))
    assert main(["helpdesk", "stats", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == json.loads(json.dumps(expected))


def test_durations_follow_every_change_of_a_query(seeded):
    """The stored durations are the rules' own, row by row, after replies, pauses and reopening."""
    _, db, _, _, _ = seeded
    for q in store.all_queries(db):
        first, resolution = hd.first_response_time(q), hd.resolution_time(q)
        assert q["first_response_seconds"] == (None if first is None else first.total_seconds())
        assert q["resolution_seconds"] == (None if resolution is None else resolution.total_seconds())


def counted(db, template, registry, now):
    return [{"iso3": iso3, "done": sum(s.status == "done" for s in steps),
             "in_progress": sum(s.status == "in_progress" for s in steps),
             "not_applicable": sum(s.status == "not_applicable" for s in steps), "overdue": sum(s.overdue for s in steps),
             "total": len(steps)}
            for iso3, steps in ms.all_states(db, template, registry, now).items()]


@pytest.mark.parametrize("now", [bigdb.START + dt.timedelta(days=300, hours=23, minutes=30),
                                 bigdb.START + dt.timedelta(days=301, hours=2), LATER])
def test_progress_and_overdue_in_sql_equal_the_python_figures(seeded, now):
    """Near midnight UTC the countries' local dates differ: each is compared in its own time zone."""
    _, db, _, registry, template = seeded
    result = ms.progress(db, template, registry, now).to_json()["countries"]
    assert [{k: c[k] for k in ("iso3", "done", "in_progress", "not_applicable", "overdue", "total")} for c in result] \
        == counted(db, template, registry, now)
    reference = {iso3: [s for s in steps if s.overdue]
                 for iso3, steps in ms.all_states(db, template, registry, now).items() if any(s.overdue for s in steps)}
    assert ms.overdue_by_country(db, template, registry, now) == reference and reference
    some = ["SEN", "KEN", "SEN", "XXX"]
    assert ms.overdue_by_country(db, template, registry, now, some) == {k: v for k, v in reference.items() if k in some}


def test_progress_cli_prints_the_python_figures(seeded, tmp_path, monkeypatch, capsys):
    path, db, _, registry, template = seeded
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"storage:\n  path: {path}\n", encoding="utf-8")
    monkeypatch.setenv("LDN_NOW", "2026-10-28T10:00:00Z")
    assert main(["progress", "--json", "--config", str(cfg)]) == 0
    data = json.loads(capsys.readouterr().out)
    now = dt.datetime(2026, 10, 28, 10, tzinfo=dt.timezone.utc)
    assert [{k: c[k] for k in ("iso3", "done", "in_progress", "not_applicable", "overdue", "total")} for c in data["countries"]] \
        == counted(db, template, registry, now)
    assert data["total"]["overdue"] == sum(c["overdue"] for c in counted(db, template, registry, now)) > 0


def test_region_and_topic_figures_are_the_medians_of_their_rows(seeded):
    """One country (an even or odd count), several with the queries without one, a topic."""
    _, db, _, _, _ = seeded
    rows = store.all_queries(db)
    tags = store.all_tags(db)

    def expected(chosen):
        firsts = [q["first_response_seconds"] for q in chosen if q["first_response_seconds"] is not None]
        resolutions = [q["resolution_seconds"] for q in chosen if q["resolution_seconds"] is not None]
        return (len(chosen), len(firsts), len(resolutions), statistics.median(firsts) if firsts else None,
                statistics.median(resolutions) if resolutions else None)

    for countries in (["KEN"], ["SEN"], ["KEN", "SEN", None], [None]):
        assert figures.group_figures(db, countries) == expected([q for q in rows if q["country"] in countries])
    assert figures.tag_figures(db, "finance") == expected([q for q in rows if "finance" in tags.get(q["id"], [])])
    assert figures.group_figures(db, ["XXX"]) == (0, 0, 0, None, None)


# -- the region stored on each query (m0022) ---------------------------------------------------------


def statements_of(db, run) -> list[str]:
    seen: list[str] = []
    db.conn.set_trace_callback(seen.append)
    try:
        run()
    finally:
        db.conn.set_trace_callback(None)
    return seen


def by_country_list(statements: list[str]) -> bool:
    """Whether some region was read through its list of countries (the way the stored regions are not used)."""
    return any("idx_queries_country_times" in sql for sql in statements)


def test_regions_are_read_through_the_region_stored_on_each_query(seeded):
    _, db, _, registry, _ = seeded
    annexes = figures.query_annexes(db)
    assert set(annexes) == {"I", "II", "III", "IV", "V", None} and annexes[None] == [None]
    assert all(registry.get(iso3).annex == annex for annex, countries in annexes.items() if annex for iso3 in countries)
    assert not by_country_list(statements_of(db, lambda: reports.load_stats(db, region_of(registry))))


def _first_letter(registry):
    return lambda iso3: iso3[:1] if iso3 else "-"


def _annexes_i_and_ii_together(registry):
    annex = region_of(registry)
    return lambda iso3: "I+II" if annex(iso3) in ("I", "II") else annex(iso3)


@pytest.mark.parametrize("naming", [_first_letter, _annexes_i_and_ii_together])
def test_regions_named_another_way_give_the_python_figures(seeded, naming):
    """Names that do not follow the annexes: those regions are read through their countries."""
    _, db, _, registry, _ = seeded
    region = naming(registry)
    seen = statements_of(db, lambda: reports.load_stats(db, region))
    after = reports.load_stats(db, region)
    before = reports.compute_stats(store.all_queries(db), store.all_ratings(db), store.all_tags(db), region)
    assert _stats_dict(after) == _stats_dict(before) and list(after.by_region) == list(before.by_region)
    assert by_country_list(seen)


@pytest.mark.parametrize("stale", ["UPDATE queries SET annex = 'V' WHERE country = 'KEN'",
                                   "UPDATE queries SET annex = NULL WHERE country = 'SEN'",
                                   "UPDATE queries SET annex = 'I' WHERE id = (SELECT min(id) FROM queries WHERE annex = 'III')"])
def test_a_stored_region_out_of_date_changes_no_figure(seeded, stale):
    """A country moved to another annex after its queries were stored (or stored without one):
    the regions it touches are read through their countries, the others as stored."""
    _, db, _, registry, _ = seeded
    region = region_of(registry)
    expected = _stats_dict(reports.compute_stats(store.all_queries(db), store.all_ratings(db), store.all_tags(db), region))
    db.execute("BEGIN")
    try:
        assert db.execute(stale).rowcount > 0
        seen = statements_of(db, lambda: reports.load_stats(db, region))
        assert _stats_dict(reports.load_stats(db, region)) == expected
    finally:
        db.execute("ROLLBACK")
    assert by_country_list(seen) and any("idx_queries_annex_first_response" in sql for sql in seen)


def test_annex_figures_are_the_medians_of_their_rows(seeded):
    _, db, _, registry, _ = seeded
    rows = store.all_queries(db)
    for annex in ("I", "IV", None):
        chosen = [q for q in rows if (registry.get(q["country"]).annex if q["country"] else None) == annex]
        assert figures.annex_figures(db, annex) == figures.group_figures(db, list({q["country"] for q in chosen}))
        assert figures.annex_figures(db, annex)[0] == len(chosen) > 0
    assert figures.annex_figures(db, "VI") == (0, 0, 0, None, None)


def test_the_region_is_stored_when_a_query_is_created_and_follows_its_country(tmp_path):
    db = open_db(tmp_path / "ldn.db")
    migrate(db, bigdb.START, upto=19)
    stamp = "2026-01-02T00:00:00Z"
    db.execute("INSERT INTO users (user_id, active, created_at, updated_at) VALUES (5, 1, ?, ?)", [stamp, stamp])
    for qid, country in ((1, "KEN"), (2, None), (3, "ARG")):
        db.execute("INSERT INTO queries (id, asker_id, country, lang, text, source, created_at, updated_at) "
                   "VALUES (?, 5, ?, 'en', 'q', 'ask', ?, ?)", [qid, country, stamp, stamp])
    assert "m0022_stats_region" in migrate(db, bigdb.START)
    annex = {row[0]: row[1] for row in db.execute("SELECT id, annex FROM queries")}
    assert annex == {1: "I", 2: None, 3: "III"}
    with transaction(db):
        new = store.insert_query(db, asker_id=5, country="CHN", lang="zh", text="q", source="ask", candidates=[],
                                 now=bigdb.START)
        nowhere = store.insert_query(db, asker_id=5, country=None, lang="en", text="q", source="ask", candidates=[],
                                     now=bigdb.START)
    assert store.get_query(db, new)["annex"] == "II" and store.get_query(db, nowhere)["annex"] is None
    with transaction(db):
        store.update_query(db, new, bigdb.START, country="SEN")
        store.update_query(db, nowhere, bigdb.START, state="open")
    assert store.get_query(db, new)["annex"] == "I" and store.get_query(db, nowhere)["annex"] is None
    db.conn.close()
