"""SLA warnings and breaches, the paused clock, nudges, auto-resolve, closing: helpdesk_tick after clock.advance."""
from __future__ import annotations

from handlers.helpdesk import helpdesk_tick
from tests.util import EXPERT, EXPERT_CHAT, FOCAL_KEN, one_text, texts


async def tick(env):
    env.api.clear()
    result = await helpdesk_tick(env.app)
    return result, env.api.calls


async def test_sla_warning_then_breach_marks_overdue(env, hd):
    await hd.ask("Urgent: the baseline deadline is tomorrow")
    qid = hd.last_query_id()
    await env.send(f"/priority {qid} urgent", user_id=EXPERT)
    # urgent: first response 4h; warning at most half the target before, i.e. at 2h
    env.clock.advance(hours=1)
    result, calls = await tick(env)
    assert result["warn"] == 0 and not texts(calls, EXPERT_CHAT)
    env.clock.advance(hours=1, minutes=30)
    result, calls = await tick(env)
    assert result["warn"] == 1
    assert any("first response" in x and f"#{qid}" in x for x in texts(calls, EXPERT_CHAT))
    result, calls = await tick(env)
    assert result["warn"] == 0  # warned once
    env.clock.advance(hours=2)
    result, calls = await tick(env)
    assert result["breach"] == 1
    assert any("overdue" in x for x in texts(calls, EXPERT_CHAT))
    q = hd.query(qid)
    assert q["overdue"] == 1 and q["breached_first"] == 1
    assert any(c.method == "editMessageText" and "Overdue" in c.text for c in calls)
    assert "overdue" in [e["kind"] for e in hd.events(qid)]
    text = one_text(await env.send("/queue overdue", user_id=EXPERT), EXPERT)
    assert f"#{qid}" in text


async def test_pending_pauses_the_sla_clock(env, hd):
    await hd.ask("A question")
    qid = hd.last_query_id()
    await hd.expert_reply(qid, "Can you send your land cover legend?")
    await hd.press_card(qid, "pd")
    # normal priority: resolution 10 days; pending for 2 days does not count (nudge comes at 3)
    env.clock.advance(days=2)
    await hd.follow_up(qid, "Here is the legend")
    env.clock.advance(days=6)
    result, _ = await tick(env)
    assert result["warn"] == 0 and result["breach"] == 0
    env.clock.advance(days=3, hours=23)
    result, _ = await tick(env)
    assert result["warn"] == 1
    env.clock.advance(hours=2)
    result, _ = await tick(env)
    assert result["breach"] == 1 and hd.query(qid)["breached_resolution"] == 1


async def test_pending_query_is_nudged_then_auto_resolved(env, hd):
    await hd.ask("A question")
    qid = hd.last_query_id()
    await hd.expert_reply(qid, "Which year is your baseline?")
    await hd.press_card(qid, "pd")
    env.clock.advance(days=2)
    result, calls = await tick(env)
    assert result["nudge"] == 0
    env.clock.advance(days=1, hours=1)
    result, calls = await tick(env)
    assert result["nudge"] == 1
    assert "Reminder" in one_text(calls, FOCAL_KEN)
    result, calls = await tick(env)
    assert result["nudge"] == 0 and not texts(calls, FOCAL_KEN)
    env.clock.advance(days=4)
    result, calls = await tick(env)
    assert result["auto_resolve"] == 1
    q = hd.query(qid)
    assert q["state"] == "resolved"
    assert "resolved automatically" in one_text(calls, FOCAL_KEN)
    assert any("resolved automatically" in x for x in texts(calls, EXPERT_CHAT))
    event = [e for e in hd.events(qid) if e["kind"] == "state" and e["to_value"] == "resolved"][0]
    assert event["actor_id"] is None and event["detail"] == "auto"
    # the rating can be given; resolved queries close after the configured days
    env.clock.advance(days=7)
    result, _ = await tick(env)
    assert result["close"] == 1 and hd.query(qid)["state"] == "closed"


async def test_resolved_query_reopens_when_the_asker_writes(env, hd):
    await hd.ask("A question")
    qid = hd.last_query_id()
    await hd.expert_reply(qid, "Answer")
    await hd.press_card(qid, "rs")
    env.clock.advance(hours=3)
    calls = await hd.follow_up(qid, "Sorry, it still does not work")
    q = hd.query(qid)
    assert q["state"] == "open" and q["resolved_at"] is None and q["paused_seconds"] == 3 * 3600
    assert any("open again" in x for x in texts(calls, EXPERT_CHAT))
    # resolving again does not ask the rating a second time
    calls = await hd.press_card(qid, "rs")
    to_asker = texts(calls, FOCAL_KEN)
    assert len(to_asker) == 1 and "resolved again" in to_asker[0]
    assert len(list(env.db.query("SELECT * FROM deliveries WHERE kind = 'hd_rate'"))) == 1


async def test_priority_menu_assign_and_pending_buttons(env, hd):
    await hd.ask("A question")
    qid = hd.last_query_id()
    calls = await hd.press_card(qid, "pm")
    edit = [c for c in calls if c.method == "editMessageText"][0]
    datas = [b["callback_data"] for b in edit.buttons]
    assert f"v1:hd:pr:{qid}:n:urgent" in datas
    await hd.press_card(qid, "pr", "high")
    assert hd.query(qid)["priority"] == "high"
    calls = await hd.press_card(qid, "as")
    assert hd.query(qid)["assignee_id"] == EXPERT
    answer = [c for c in calls if c.method == "answerCallbackQuery"][0]
    assert "assigned" in answer.params["text"]
    calls = await hd.press_card(qid, "as")
    assert "Nothing to change" in [c for c in calls if c.method == "answerCallbackQuery"][0].params["text"]
    kinds = [(e["kind"], e["from_value"], e["to_value"], e["actor_id"]) for e in hd.events(qid)]
    assert ("priority", "normal", "high", EXPERT) in kinds and ("assign", None, str(EXPERT), EXPERT) in kinds
