"""Every command and button is authorised on the server; forged or stale buttons change nothing."""
from __future__ import annotations

import pytest

from tests.util import EXPERT, EXPERT_CHAT, FOCAL_FRA_SPEAKER, FOCAL_KEN, GUEST, SECRETARIAT, one_text

OTHER_GROUP = -100555


def alert(calls) -> str:
    answers = [c for c in calls if c.method == "answerCallbackQuery"]
    assert len(answers) == 1, [c.method for c in calls]
    return answers[0].params.get("text") or ""


async def test_non_experts_cannot_press_card_buttons(env, hd):
    await hd.ask("A question")
    qid = hd.last_query_id()
    for user in (FOCAL_KEN, FOCAL_FRA_SPEAKER, GUEST):
        for action in ("rs", "pd", "as"):
            calls = await hd.press_card(qid, action, user_id=user)
            assert "not allowed" in alert(calls)
        calls = await hd.press_card(qid, "pr", "urgent", user_id=user)
        assert "not allowed" in alert(calls)
    q = hd.query(qid)
    assert (q["state"], q["priority"], q["assignee_id"]) == ("new", "normal", None)
    # forged in a private chat, too
    calls = await env.press(f"v1:hd:rs:{qid}:n", user_id=FOCAL_KEN)
    assert "not allowed" in alert(calls) and hd.query(qid)["state"] == "new"


async def test_an_old_button_after_the_state_changed_does_nothing(env, hd):
    await hd.ask("A question")
    qid = hd.last_query_id()
    await hd.expert_reply(qid, "An answer")  # new → open
    calls = await hd.press_card(qid, "pd", state="new")  # the button drawn while it was new
    assert "out of date" in alert(calls)
    assert hd.query(qid)["state"] == "open"
    assert any(c.method == "editMessageText" for c in calls)  # the card is redrawn
    await hd.press_card(qid, "rs")
    calls = await hd.press_card(qid, "rs", state="open")
    assert "out of date" in alert(calls)
    calls = await hd.press_card(qid, "pr", "urgent", state="open")
    assert "out of date" in alert(calls) and hd.query(qid)["priority"] == "normal"
    assert [e["kind"] for e in hd.events(qid)].count("state") == 2


@pytest.mark.parametrize("data", ["v1:hd:rs:abc:n", "v1:hd:rs:1", "v1:hd:rs:1:z", "v1:hd:zz:1", "v1:hd:pr:1:n:extreme",
                                  "v1:hd:rs:99999:n", "v1:hd:qp:x:active:-:-", "v1:hd:qp:1:evil:-:-", "v1:hd:rt:1:9",
                                  "v1:hd:fu:1:1", "v1:hd:ap:zz"])
async def test_malformed_buttons_get_an_answer_and_change_nothing(env, hd, data):
    await hd.ask("A question")
    before = hd.query(1)
    calls = await env.press(data, user_id=EXPERT, chat_id=EXPERT_CHAT, chat_type="supergroup")
    assert alert(calls)
    assert hd.query(1) == before


async def test_only_the_asker_rates_and_only_after_resolution(env, hd):
    await hd.ask("A question")
    qid = hd.last_query_id()
    calls = await env.press(f"v1:hd:rt:{qid}:5", user_id=FOCAL_KEN)
    assert "out of date" in alert(calls)  # not asked yet
    await hd.press_card(qid, "rs")
    for user in (FOCAL_FRA_SPEAKER, EXPERT, GUEST):
        calls = await env.press(f"v1:hd:rt:{qid}:1", user_id=user)
        assert "not allowed" in alert(calls)
    calls = await env.press(f"v1:hd:rt:{qid}:1", user_id=FOCAL_KEN, chat_id=OTHER_GROUP, chat_type="supergroup")
    assert "not allowed" in alert(calls)
    await env.press(f"v1:hd:rt:{qid}:5", user_id=FOCAL_KEN)
    assert [e["to_value"] for e in hd.events(qid) if e["kind"] == "rating"] == ["5"]


async def test_another_countrys_follow_up_choice_is_refused(env, hd):
    await hd.ask("Kenya question")
    ken = hd.last_query_id()
    await hd.ask("Senegal 1", user_id=FOCAL_FRA_SPEAKER)
    await hd.ask("Senegal 2", user_id=FOCAL_FRA_SPEAKER)
    calls = await env.send("which?", user_id=FOCAL_FRA_SPEAKER)
    mid = [c for c in calls if c.buttons][-1].buttons[0]["callback_data"].split(":")[-1]
    calls = await env.press(f"v1:hd:fu:{ken}:{mid}", user_id=FOCAL_FRA_SPEAKER)
    assert "not allowed" in alert(calls)
    assert "which?" not in [m["text"] for m in __import__("storage.helpdesk", fromlist=["x"]).messages(env.db, ken)]


async def test_query_content_never_reaches_other_groups(env, hd):
    await hd.ask("SECRET-CONTENT about our national data")
    qid = hd.last_query_id()
    before = len(env.api.calls)
    for command in ("/queue", f"/query {qid}", "/stats", "/export", f"/promote {qid}", "/myqueries", f"/assign {qid}"):
        await env.send(command, user_id=EXPERT, chat_id=OTHER_GROUP, chat_type="supergroup")
        await env.send(command, user_id=SECRETARIAT, chat_id=OTHER_GROUP, chat_type="supergroup")
    await env.send(f"/query {qid}", user_id=FOCAL_KEN, chat_id=OTHER_GROUP, chat_type="supergroup")
    for data in (f"v1:hd:q:{qid}", "v1:hd:qp:1:active:-:-", f"v1:hd:rs:{qid}:n", f"v1:hd:pm:{qid}:n"):
        await env.press(data, user_id=EXPERT, chat_id=OTHER_GROUP, chat_type="supergroup")
    calls = env.api.calls[before:]
    group_text = "".join(c.text for c in calls if c.chat_id == OTHER_GROUP)
    assert "SECRET-CONTENT" not in group_text
    assert not [c for c in calls if c.chat_id == OTHER_GROUP and c.method in ("sendDocument", "editMessageText", "editMessageReplyMarkup")]
    assert "private chat" in group_text
    assert hd.query(qid)["state"] == "new"


async def test_triage_commands_are_for_experts(env, hd):
    await hd.ask("A question")
    qid = hd.last_query_id()
    for command in ("/queue", f"/assign {qid}", f"/priority {qid} high", f"/tag {qid} x", "/stats", "/export", f"/promote {qid}"):
        for user in (FOCAL_KEN, GUEST):
            assert "not allowed" in one_text(await env.send(command, user_id=user), user)
    q = hd.query(qid)
    assert (q["priority"], q["assignee_id"], q["tags"]) == ("normal", None, [])


async def test_experts_commands_work_in_the_experts_chat(env, hd):
    await hd.ask("A question")
    qid = hd.last_query_id()
    calls = await env.send(f"/priority {qid} urgent", user_id=EXPERT, chat_id=EXPERT_CHAT, chat_type="supergroup")
    assert "urgent" in one_text(calls, EXPERT_CHAT) and hd.query(qid)["priority"] == "urgent"
    calls = await env.press(f"v1:hd:q:{qid}", user_id=EXPERT, chat_id=EXPERT_CHAT, chat_type="supergroup")
    assert "A question" in one_text(calls, EXPERT_CHAT)
