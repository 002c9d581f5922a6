"""The plain-Python rules of bot/helpdesk.py and the SQL of storage/helpdesk.py, without Telegram."""
from __future__ import annotations

import datetime as dt

import pytest

from bot import helpdesk as hd
from storage import helpdesk as store
from storage.db import migrate, open_db

T0 = dt.datetime(2016, 5, 20, 8, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def db():
    database = open_db(":memory:")
    migrate(database, T0)
    yield database
    database.conn.close()


def new_query(db, text="q", now=T0, asker=501, country="KEN"):
    return hd.create_query(db, asker_id=asker, country=country, lang="en", text=text, source="ask", now=now)


@pytest.mark.parametrize("text,expected", [("4h", 4 * 3600), ("2d", 2 * 86400), ("1d12h", 36 * 3600), ("90m", 5400),
                                           (3, 3 * 3600), ("1.5", 5400), ("1w", 7 * 86400)])
def test_parse_duration(text, expected):
    assert hd.parse_duration(text).total_seconds() == expected


@pytest.mark.parametrize("bad", ["", "soon", "4x", "h4"])
def test_parse_duration_rejects_nonsense(bad):
    with pytest.raises(ValueError):
        hd.parse_duration(bad)


def test_settings_defaults_and_overrides():
    s = hd.settings_from({}, -100)
    assert s.expert_chat_id == -100 and s.targets("urgent") == (dt.timedelta(hours=4), dt.timedelta(days=2))
    assert s.nudge_after == dt.timedelta(days=3) and s.auto_resolve_after == dt.timedelta(days=7)
    s = hd.settings_from({"sla": {"urgent": {"first_response": "1h"}}, "nudge_after_days": 1, "sla_warning_before": "30m",
                          "expert_chat_is_forum": True})
    assert s.targets("urgent") == (dt.timedelta(hours=1), dt.timedelta(days=2))
    assert s.nudge_after == dt.timedelta(days=1) and s.expert_chat_is_forum is True
    assert s.warning_lead(dt.timedelta(hours=1)) == dt.timedelta(minutes=30)
    with pytest.raises(ValueError):
        hd.settings_from({"sla": {"critical": {"first_response": "1h"}}})


def test_parse_queue_args():
    def country(code):
        return code.upper() if code.upper() in ("KEN", "SEN") else None

    assert hd.parse_queue_args([], country) == (hd.QueueFilter("active"), None)
    assert hd.parse_queue_args(["overdue", "ken", "Baseline"], country) == (hd.QueueFilter("overdue", "KEN", "baseline"), None)
    assert hd.parse_queue_args(["sen", "mine"], country) == (hd.QueueFilter("mine", "SEN", None), None)
    assert hd.parse_queue_args(["a", "b"], country) == (None, "b")
    f = hd.QueueFilter("open", "KEN", "soc")
    assert hd.QueueFilter.decode(f.encode().split(":")) == f
    assert hd.QueueFilter.decode(["open", "ken", "-"]) is None


def test_lifecycle_transitions_and_events(db):
    qid = new_query(db)
    assert hd.change_state(db, qid, "open", 800, T0).reason == "invalid"  # only a reply opens it
    reply = hd.record_expert_reply(db, qid, 800, chat_id=-1, message_id=10, kind="text", text="a", attachment=None, now=T0)
    assert reply.recorded and reply.opened and reply.query["state"] == "open"
    assert not hd.record_expert_reply(db, qid, 800, chat_id=-1, message_id=10, kind="text", text="a", attachment=None, now=T0).recorded
    change = hd.change_state(db, qid, "pending", 800, T0, expect="new")
    assert not change.ok and change.reason == "stale"
    assert hd.change_state(db, qid, "pending", 800, T0, expect="open").ok
    later = T0 + dt.timedelta(days=1)
    fu = hd.add_followup(db, qid, 501, chat_id=501, message_id=5, kind="text", text="more", attachment=None, now=later)
    assert fu.added and fu.reopened_from == "pending" and fu.query["paused_seconds"] == 86400
    assert not hd.add_followup(db, qid, 999, chat_id=999, message_id=6, kind="text", text="x", attachment=None, now=later).added
    assert hd.change_state(db, qid, "resolved", 800, later).ok
    assert hd.change_state(db, qid, "resolved", 800, later).reason == "same"
    assert hd.change_state(db, qid, "closed", None, later).ok
    assert not hd.add_followup(db, qid, 501, chat_id=501, message_id=7, kind="text", text="x", attachment=None, now=later).added
    states = [(e["from_value"], e["to_value"]) for e in store.events(db, qid) if e["kind"] == "state"]
    assert states == [("new", "open"), ("open", "pending"), ("pending", "open"), ("open", "resolved"), ("resolved", "closed")]


def test_sla_clock_and_actions(db):
    s = hd.settings_from({})
    qid = new_query(db)
    q = store.get_query(db, qid)
    assert hd.tick_actions([q], T0 + dt.timedelta(hours=43), s) == []
    acts = hd.tick_actions([q], T0 + dt.timedelta(hours=45), s)
    assert [(a.kind, a.target) for a in acts] == [("warn", "first_response")]
    acts = hd.tick_actions([q], T0 + dt.timedelta(days=2, minutes=1), s)
    assert [(a.kind, a.target) for a in acts] == [("breach", "first_response")]
    assert hd.mark_flag(db, qid, "breached_first", T0, "overdue", "first_response")
    assert not hd.mark_flag(db, qid, "breached_first", T0, "overdue", "first_response")
    assert store.get_query(db, qid)["overdue"] == 1


def test_rating_once(db):
    qid = new_query(db)
    assert hd.rate(db, qid, 501, 5, T0) == "not_asked"
    assert store.rating_asked(db, qid, 501, T0) and not store.rating_asked(db, qid, 501, T0)
    assert hd.rate(db, qid, 502, 5, T0) == "not_yours"
    assert hd.rate(db, qid, 501, 0, T0) == "invalid"
    assert hd.rate(db, qid, 501, 3, T0) == "ok"
    assert hd.rate(db, qid, 501, 5, T0) == "already"
    assert hd.comment(db, qid, 501, "fine", T0) and not hd.comment(db, qid, 501, "again", T0)
    assert store.get_rating(db, qid)["score"] == 3


def test_routing_table_is_unique_per_message(db):
    qid = new_query(db)
    other = new_query(db, "other")
    assert store.add_message(db, qid, chat_id=-1, message_id=100, role="card", now=T0)
    assert not store.add_message(db, other, chat_id=-1, message_id=100, role="card", now=T0)
    assert store.route(db, -1, 100)["query_id"] == qid
    assert store.route(db, -1, 101) is None
    assert store.route(db, -2, 100) is None


def test_stats_medians_and_groups(db):
    a, b = new_query(db, "a"), new_query(db, "b", country="SEN")
    hd.record_expert_reply(db, a, 800, chat_id=-1, message_id=1, kind="text", text="x", attachment=None, now=T0 + dt.timedelta(hours=1))
    hd.record_expert_reply(db, b, 800, chat_id=-1, message_id=2, kind="text", text="x", attachment=None, now=T0 + dt.timedelta(hours=3))
    hd.change_state(db, a, "resolved", 800, T0 + dt.timedelta(hours=10))
    st = hd.compute_stats(store.all_queries(db), {}, {a: ["soc"]}, lambda iso: "I")
    assert st.total == 2 and st.by_state["open"] == 1 and st.by_state["resolved"] == 1
    assert st.overall.median_first_hours == 2.0 and st.overall.median_resolution_hours == 10.0
    assert st.by_topic["soc"].count == 1 and st.rating_average is None
