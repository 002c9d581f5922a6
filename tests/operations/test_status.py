"""Watching the bot: /status, ``ldn-bot status``, failed deliveries with reasons, ``deliveries retry`` (once)."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from bot import status as status_mod
from bot.cli import main
from storage import deliveries, ops
from storage import helpdesk as hd_store
from storage.db import utcnow_iso
from tests.loopback_api import LoopbackBotAPI
from tests.util import GUEST, SECRETARIAT, TOKEN, one_text


def add_delivery(db, now, *, kind="broadcast", ref, chat_id, status, error=None, payload=None):
    delivery_id = deliveries.enqueue(db, kind=kind, ref=ref, chat_id=chat_id, method="sendMessage",
                                     payload=payload or {"text": f"hello {ref}"}, due_at=now - dt.timedelta(days=2),
                                     now=now - dt.timedelta(days=2))
    if status != "pending":
        db.execute("UPDATE deliveries SET status = ?, error = ?, attempts = 5 WHERE id = ?", [status, error, delivery_id])
    return delivery_id


def problems(db, now):
    return {
        "retryable": add_delivery(db, now, ref="b1", chat_id=501, status="failed", error="network: timed out"),
        "rate": add_delivery(db, now, ref="b2", chat_id=502, status="failed", error="429 retry_after=30"),
        "blocked": add_delivery(db, now, ref="b3", chat_id=503, status="blocked", error="403 Forbidden: bot was blocked by the user"),
        "kicked": add_delivery(db, now, ref="b4", chat_id=-100999, status="blocked", error="403 Forbidden: bot was kicked"),
        "bad": add_delivery(db, now, ref="b5", chat_id=504, status="failed", error="400 Bad Request: chat not found"),
        "uncertain": add_delivery(db, now, ref="b6", chat_id=505, status="uncertain", error="in flight at shutdown or crash"),
    }


async def test_status_for_the_secretariat_only(env):
    db, now = env.db, env.clock.now()
    for state, overdue in (("new", 0), ("open", 1), ("pending", 0), ("resolved", 1)):
        qid = hd_store.insert_query(db, asker_id=501, country="KEN", lang="en", text="q", source="ask", candidates=[], now=now)
        db.execute("UPDATE queries SET state = ?, overdue = ? WHERE id = ?", [state, overdue, qid])
    problems(db, now)
    add_delivery(db, now, kind="reminder", ref="ev:x:v1:1d", chat_id=501, status="pending")
    env.clock.advance(minutes=90)
    await env.send("/help", user_id=GUEST)  # an update: last_update_at
    text = one_text(await env.send("/status", user_id=SECRETARIAT))
    assert "Bot status" in text and "1 hour 30 minutes" in text
    assert "new 1 · open 1 · pending 1 · overdue 1" in text
    assert "Reminders pending</b>: 1" in text
    assert "failed 3 (2 retryable) · blocked 2 · uncertain 1" in text
    from storage.db import latest_version

    assert f"schema {latest_version()}/{latest_version()}" in text
    assert "2016-05-20 09:30 UTC" in text  # the last update
    assert "not allowed" in one_text(await env.send("/status", user_id=GUEST))
    await env.send("/language", user_id=SECRETARIAT)
    await env.press("v1:lang:fr", user_id=SECRETARIAT)
    assert "État du bot" in one_text(await env.send("/status", user_id=SECRETARIAT))


async def test_last_update_is_recorded_at_most_every_few_seconds(env):
    db = env.db
    await env.send("/help", user_id=GUEST)
    first = ops.state_values(db, ["last_update_at"])["last_update_at"]
    assert first == utcnow_iso(env.clock.now())
    env.clock.advance(seconds=2)
    await env.send("/help", user_id=GUEST)
    assert ops.state_values(db, ["last_update_at"])["last_update_at"] == first  # throttled
    env.clock.advance(seconds=10)
    await env.press("v1:nothing", user_id=GUEST)  # any update counts, even a stale button
    assert ops.state_values(db, ["last_update_at"])["last_update_at"] == utcnow_iso(env.clock.now())


async def test_startup_records_heartbeat_and_countries(env):
    assert ops.state_values(env.db, ["heartbeat"])["heartbeat"]
    assert env.db.execute("SELECT count(*), sum(pilot) FROM ref_countries").fetchone() == (95, 14)
    assert env.db.execute("SELECT region FROM ref_countries WHERE iso3 = 'ARG'").fetchone() == ("Latin America and the Caribbean",)


def test_failed_deliveries_have_reasons(tmp_path):
    from storage.db import migrate, open_db

    db = open_db(tmp_path / "x.db")
    migrate(db)
    now = dt.datetime(2016, 5, 20, tzinfo=dt.timezone.utc)
    ids = problems(db, now)
    rows = {r["id"]: r for r in ops.failed_deliveries(db)}
    assert "user blocked the bot" in rows[ids["blocked"]]["reason"]
    assert "removed from the group" in rows[ids["kicked"]]["reason"]
    assert "retries exhausted" in rows[ids["retryable"]]["reason"] and rows[ids["retryable"]]["retryable"]
    assert "not retryable" in rows[ids["bad"]]["reason"] and not rows[ids["bad"]]["retryable"]
    assert "never resent" in rows[ids["uncertain"]]["reason"]
    assert sorted(ops.retryable_ids(db)) == sorted([ids["retryable"], ids["rate"]])


@pytest.fixture
def cli_db(tmp_path, monkeypatch):
    from storage.db import migrate, open_db

    path = tmp_path / "ops.db"
    db = open_db(path)
    migrate(db)
    monkeypatch.setenv("LDN_DB", str(path))
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.delenv("LDN_NOW", raising=False)
    return db


def test_cli_status_and_deliveries(cli_db, capsys):
    now = dt.datetime.now(dt.timezone.utc)
    ids = problems(cli_db, now)
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert "not running" in out and "failed 3 (2 retryable)" in out and "last backup: -" in out
    assert main(["status", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["running"] is False and data["deliveries"]["blocked"] == 2 and data["database"]["size_bytes"] > 0
    assert data["queries"] == {"new": 0, "open": 0, "pending": 0, "overdue": 0}
    assert main(["deliveries"]) == 0
    out = capsys.readouterr().out
    assert f"#{ids['blocked']}" in out and "the user blocked the bot" in out and "removed from the group" in out
    assert main(["deliveries", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 6
    assert main(["deliveries", "retry", "--dry-run"]) == 0
    assert "2 retryable" in capsys.readouterr().out
    # without a token: requeued, due now, for the running bot's next delivery run
    assert main(["deliveries", "retry"]) == 0
    assert "2 requeued" in capsys.readouterr().out
    rows = {r["id"]: r for r in cli_db.query("SELECT id, status, due_at FROM deliveries")}
    assert rows[ids["retryable"]]["status"] == "pending" and rows[ids["blocked"]]["status"] == "blocked"
    assert rows[ids["retryable"]]["due_at"] >= utcnow_iso(now)


def test_cli_retry_resends_the_retryable_ones_once(cli_db, capsys, monkeypatch):
    now = dt.datetime.now(dt.timezone.utc)
    ids = problems(cli_db, now)
    with LoopbackBotAPI(TOKEN) as api:
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
        monkeypatch.setenv("TELEGRAM_API_BASE_URL", api.base_url)
        assert main(["deliveries", "retry"]) == 0
        out = capsys.readouterr().out
        assert "2 of 2 sent" in out
        sent = api.sent("sendMessage")
        assert sorted(int(p["chat_id"]) for p in sent) == [501, 502]
        assert main(["deliveries", "retry"]) == 0  # nothing left: never twice
        assert "0 retryable" in capsys.readouterr().out
        assert len(api.sent("sendMessage")) == 2
    statuses = dict(cli_db.execute("SELECT id, status FROM deliveries").fetchall())
    assert statuses[ids["retryable"]] == statuses[ids["rate"]] == "sent"
    assert statuses[ids["blocked"]] == "blocked" and statuses[ids["bad"]] == "failed"


def test_status_rendering_helpers():
    assert status_mod.duration(None) == "-"
    assert status_mod.duration(59) == "0m 59s"
    assert status_mod.duration(3 * 86400 + 4 * 3600 + 5 * 60) == "3d 4h 5m"
    assert status_mod.size(1536) == "1.5 KB" and status_mod.size(None) == "-"
    assert status_mod.stamp("2016-05-20T08:00:00Z", 300) == "2016-05-20 08:00 UTC (5m 0s)"


def test_cli_status_without_a_database(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LDN_DB", str(tmp_path / "none.db"))
    assert main(["status"]) == 1
    assert "no database" in capsys.readouterr().err
    assert not (tmp_path / "none.db").exists()


def test_cli_lists_uncertain_sends_and_resends_them_on_purpose(cli_db, capsys):
    now = dt.datetime.now(dt.timezone.utc)
    ids = problems(cli_db, now)
    reminder = add_delivery(cli_db, now, kind="reminder", ref="ev:x:1d", chat_id=506, status="uncertain", error="read timeout")
    assert main(["deliveries"]) == 0
    out = capsys.readouterr().out
    assert "uncertain (sent or not, unknown): broadcast 1, reminder 1" in out
    assert main(["deliveries", "resend", "--uncertain", "--kind", "reminder", "--dry-run"]) == 0
    assert f"1 uncertain delivery: #{reminder}" in capsys.readouterr().out
    assert main(["deliveries", "resend", "--uncertain", "--kind", "reminder"]) == 0
    assert "1 queued again" in capsys.readouterr().out
    rows = {r["id"]: r for r in cli_db.query("SELECT id, status, resends FROM deliveries")}
    assert rows[reminder]["status"] == "pending" and rows[reminder]["resends"] == 1
    assert rows[ids["uncertain"]]["status"] == "uncertain"  # another kind: left alone
    with pytest.raises(SystemExit):
        main(["deliveries", "resend"])
