"""``ldn-bot export``: queries, milestones and the whole archive as CSV."""
from __future__ import annotations

import csv
import io
import json

from bot.cli import main
from storage import faq as faq_store
from storage import helpdesk as hd_store
from storage import users
from tests.util import SECRETARIAT


def read(path) -> list[dict]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


async def setup(env):
    db, now = env.db, env.clock.now()
    await env.make_focal_point(501, "KEN")
    await env.send("/start", user_id=501, first_name="Wanjiru", username="wanjiru_ke")
    hd_store.insert_query(db, asker_id=501, country="KEN", lang="en", text="=cmd|' /C calc'!A0", source="ask", candidates=[], now=now)
    env.clock.advance(days=10)
    hd_store.insert_query(db, asker_id=501, country="KEN", lang="en", text="Later question", source="ask", candidates=[],
                          now=env.clock.now())
    faq_store.log_miss(db, "pregunta sin respuesta", lang="es", best_score=0.1, country="ARG", now=now)
    users.insert_invite(db, "a" * 64, "KEN", SECRETARIAT, now, now)


async def test_export_all_writes_the_archive(env, tmp_path, monkeypatch, capsys):
    await setup(env)
    monkeypatch.setenv("LDN_DB", env.services.config.db_path)
    out = tmp_path / "archive"
    assert main(["export", "all", str(out)]) == 0
    printed = capsys.readouterr().out
    expected = {"queries.csv", "query_events.csv", "milestones.csv", "milestone_history.csv", "events.csv",
                "focal_points.csv", "faq_misses.csv", "faq_feedback.csv", "countries.csv"}
    assert {p.name for p in out.glob("*.csv")} == expected
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["files"]["queries.csv"] == 2 and manifest["files"]["countries.csv"] == 95 and not manifest["skipped"]
    assert "queries.csv  2 rows" in printed
    queries = read(out / "queries.csv")
    assert queries[0]["question"].startswith("'=")  # a formula is never run by a spreadsheet
    focal = read(out / "focal_points.csv")
    assert focal == [{**focal[0], "user_id": "501", "name": "Wanjiru", "username": "wanjiru_ke", "country": "KEN",
                      "country_name": "Kenya", "region": "Africa"}]
    assert "a" * 64 not in "".join(p.read_text() for p in out.glob("*.csv"))  # no invite secrets anywhere
    assert len(read(out / "milestones.csv")) == 95 * 10
    assert len(read(out / "events.csv")) >= 9
    assert read(out / "faq_misses.csv")[0]["lang"] == "es"


async def test_export_queries_and_milestones(env, tmp_path, monkeypatch, capsys):
    await setup(env)
    monkeypatch.setenv("LDN_DB", env.services.config.db_path)
    assert main(["export", "queries", "--csv"]) == 0
    assert len(list(csv.DictReader(io.StringIO(capsys.readouterr().out)))) == 2
    assert main(["export", "queries", "--csv", "--since", "2016-05-25"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["question"] for r in rows] == ["Later question"]
    target = tmp_path / "m.csv"
    assert main(["export", "milestones", "--csv", "-o", str(target)]) == 0
    assert len(read(target)) == 950
