"""Every helpdesk change is one service call in one transaction: SQLite itself is made to
fail between the writes of a change (a TEMP trigger that raises), through the real
Application, and none of the change's earlier writes is found afterwards."""
from __future__ import annotations

from handlers.helpdesk import helpdesk_tick
from storage import helpdesk as store
from tests.util import EXPERT_CHAT, FOCAL_KEN, texts


def fail_on_insert(env, table: str, when: str = "1") -> None:
    env.db.execute(f"CREATE TEMP TRIGGER boom BEFORE INSERT ON {table} WHEN {when} "
                   "BEGIN SELECT RAISE(ABORT, 'injected'); END")


def heal(env) -> None:
    env.db.execute("DROP TRIGGER boom")


def count(env, sql: str, *args) -> int:
    return env.db.execute(sql, args).fetchone()[0]


async def test_a_query_whose_last_write_fails_leaves_nothing_and_is_not_acknowledged(env, hd):
    # create_query writes the query, its 'created' event, then the asker's message: the last one fails
    fail_on_insert(env, "query_messages", "NEW.role = 'asker'")
    calls = await env.send("/ask How do I report on SO1-1?", user_id=FOCAL_KEN)
    assert count(env, "SELECT count(*) FROM queries") == 0
    assert count(env, "SELECT count(*) FROM query_events") == 0
    assert not any("logged" in x for x in texts(calls, FOCAL_KEN))  # nothing acknowledged that is not stored
    assert not texts(calls, EXPERT_CHAT)
    heal(env)
    calls = await env.send("/ask How do I report on SO1-1?", user_id=FOCAL_KEN)
    assert any("logged" in x for x in texts(calls, FOCAL_KEN))
    qid = hd.last_query_id()
    assert [e["kind"] for e in hd.events(qid)][:1] == ["created"]
    assert len(store.messages(env.db, qid, ["asker"])) == 1


async def test_a_relay_whose_recording_fails_is_recorded_all_or_nothing(env, hd):
    await hd.ask("Which baseline period applies?")
    qid = hd.last_query_id()
    # record_delivery marks the expert's message sent, then routes the asker's copy: the copy's row fails
    fail_on_insert(env, "query_messages", "NEW.role = 'answer'")
    await hd.expert_reply(qid, "2000-2015 is the baseline.")
    expert = store.messages(env.db, qid, ["expert"])
    assert len(expert) == 1  # the reply itself was committed before the relay
    assert expert[0]["delivery_status"] == "pending"  # not "sent" without the copy's route
    assert store.messages(env.db, qid, ["answer"]) == []
    heal(env)


async def test_a_card_whose_recording_fails_leaves_the_query_unposted_for_the_tick(env, hd):
    # keep_card: posted_at, the card's route and the 'posted' event, the event fails
    fail_on_insert(env, "query_events", "NEW.kind = 'posted'")
    await hd.ask("Question whose card is not recorded")
    qid = hd.last_query_id()
    query = hd.query(qid)
    assert query["posted_at"] is None and query["expert_message_id"] is None
    assert store.messages(env.db, qid, ["card"]) == []
    assert "posted" not in [e["kind"] for e in hd.events(qid)]
    heal(env)
    env.api.clear()
    assert (await helpdesk_tick(env.app))["posted"] == 1
    query = hd.query(qid)
    assert query["posted_at"] and len(store.messages(env.db, qid, ["card"])) == 1
    assert store.route(env.db, EXPERT_CHAT, query["expert_message_id"])["query_id"] == qid


async def test_a_follow_up_whose_reopening_fails_is_not_added(env, hd):
    await hd.ask("Question to be continued")
    qid = hd.last_query_id()
    await hd.press_card(qid, "pd")  # pending: a message of the asker reopens it
    assert hd.query(qid)["state"] == "pending"
    # add_followup: the message, its event, the reopening and its 'state' event: the last fails
    fail_on_insert(env, "query_events", "NEW.kind = 'state'")
    calls = await env.send("Here is the detail you asked for", user_id=FOCAL_KEN)
    assert hd.query(qid)["state"] == "pending"
    assert [m for m in store.messages(env.db, qid, ["asker"]) if m["delivery_status"]] == []
    assert "followup" not in [e["kind"] for e in hd.events(qid)]
    assert not any("reopened" in x.lower() for x in texts(calls, FOCAL_KEN))
    heal(env)
