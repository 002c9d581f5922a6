"""The experts' chat: routing replies, exactly-once relay, retries, blocked askers, forum topics."""
from __future__ import annotations

import json

from handlers.helpdesk import helpdesk_tick
from storage import helpdesk as store
from tests.helpdesk.util import bot_message
from tests.util import EXPERT, EXPERT_CHAT, FOCAL_KEN, GUEST, SECRETARIAT, one_text, texts


def copies_to(calls, chat_id):
    return [c for c in calls if c.method == "copyMessage" and c.chat_id == chat_id]


async def test_429_is_retried_after_retry_after_and_delivered_once(env, hd):
    await hd.ask("Question about SDG 15.3.1")
    qid = hd.last_query_id()
    env.api.fail_next("copyMessage", 429, "Too Many Requests: retry after 3", retry_after=3)
    calls = await hd.expert_reply(qid, "The indicator is the proportion of degraded land.")
    attempts = copies_to(calls, FOCAL_KEN)
    assert len(attempts) == 2  # one refused with 429, one accepted
    assert 3 in env.sleeps
    assert store.messages(env.db, qid, ["expert"])[0]["delivery_status"] == "sent"
    assert len(store.messages(env.db, qid, ["answer"])) == 1


async def test_5xx_and_timeouts_are_retried(env, hd):
    await hd.ask("Question about trends.earth")
    qid = hd.last_query_id()
    env.api.fail_next("copyMessage", 502, "Bad Gateway")
    env.api.fail_next("copyMessage", "connect_timeout")
    calls = await hd.expert_reply(qid, "Use the latest plugin version.")
    assert len(copies_to(calls, FOCAL_KEN)) == 3
    assert store.messages(env.db, qid, ["expert"])[0]["delivery_status"] == "sent"
    assert env.services.deliverer.stats["5xx"] == 1 and env.services.deliverer.stats["timeouts"] == 1


async def test_persistent_failure_is_kept_reported_and_retried_by_the_tick(env, hd):
    await hd.ask("Question about carbon stocks")
    qid = hd.last_query_id()
    env.api.fail_next("copyMessage", 500, "Internal Server Error", times=5)
    calls = await hd.expert_reply(qid, "SOC is the proxy for carbon stocks.")
    row = store.messages(env.db, qid, ["expert"])[0]
    assert row["delivery_status"] == "failed" and row["text"] == "SOC is the proxy for carbon stocks."
    assert any("will try again" in x for x in texts(calls, EXPERT_CHAT))
    env.api.clear()
    result = await helpdesk_tick(env.app)
    assert result["retried"] == 1
    assert len(copies_to(env.api.calls, FOCAL_KEN)) == 1
    assert store.messages(env.db, qid, ["expert"])[0]["delivery_status"] == "sent"
    assert any("delivered" in x for x in texts(env.api.calls, EXPERT_CHAT))
    env.api.clear()
    await helpdesk_tick(env.app)
    assert not copies_to(env.api.calls, FOCAL_KEN)  # never twice


async def test_blocked_asker_is_recorded_and_shown_to_the_experts(env, hd):
    await hd.ask("Question before blocking")
    qid = hd.last_query_id()
    env.api.fail_next("copyMessage", 403, "Forbidden: bot was blocked by the user")
    calls = await hd.expert_reply(qid, "Here is your answer")
    assert store.messages(env.db, qid, ["expert"])[0]["delivery_status"] == "blocked"
    assert "delivery_blocked" in [e["kind"] for e in hd.events(qid)]
    assert any("blocked the bot" in x for x in texts(calls, EXPERT_CHAT))
    expert_view = one_text(await env.send(f"/query {qid}", user_id=EXPERT), EXPERT)
    assert "Here is your answer" in expert_view and "blocked" in expert_view


async def test_formatting_and_attachments_are_copied_not_retyped(env, hd):
    await hd.ask("Send me a template")
    qid = hd.last_query_id()
    doc = {"document": {"file_id": "EXPERT-DOC", "file_unique_id": "ed", "file_name": "template.xlsx"}}
    calls = await hd.expert_reply(qid, None, caption="<b>Template</b> attached", **doc)
    copy = copies_to(calls, FOCAL_KEN)[0]
    assert int(copy.params["from_chat_id"]) == EXPERT_CHAT
    assert copy.params["reply_parameters"]["message_id"] == hd.query(qid)["ack_message_id"]
    assert store.attachments(env.db, qid)[0]["file_id"] == "EXPERT-DOC"


async def test_replies_that_cannot_be_routed_get_a_clear_answer(env, hd):
    await hd.ask("A question")
    calls = await env.send("Answer to what?", user_id=EXPERT, chat_id=EXPERT_CHAT, chat_type="supergroup",
                           reply_to=bot_message(987654))
    assert "cannot tell which query" in one_text(calls, EXPERT_CHAT)
    assert not copies_to(calls, FOCAL_KEN)
    # plain discussion among experts is left alone
    calls = await env.send("Shall we meet at 3?", user_id=EXPERT, chat_id=EXPERT_CHAT, chat_type="supergroup")
    assert not [c for c in calls if c.method in ("sendMessage", "copyMessage")]
    # message text that looks like a query number does not route
    calls = await env.send("#1 the answer is 42", user_id=EXPERT, chat_id=EXPERT_CHAT, chat_type="supergroup")
    assert not copies_to(calls, FOCAL_KEN)


async def test_only_experts_replies_are_relayed(env, hd):
    await hd.ask("A question")
    qid = hd.last_query_id()
    calls = await hd.expert_reply(qid, "I am not an expert", user_id=GUEST)
    assert not copies_to(calls, FOCAL_KEN)
    assert "registered experts" in one_text(calls, EXPERT_CHAT)
    calls = await hd.expert_reply(qid, "The secretariat answers too", user_id=SECRETARIAT)
    assert len(copies_to(calls, FOCAL_KEN)) == 1


async def test_replies_to_other_groups_are_not_routed(env, hd):
    await hd.ask("A question")
    qid = hd.last_query_id()
    card = hd.query(qid)["expert_message_id"]
    calls = await env.send("answer in the wrong group", user_id=EXPERT, chat_id=-100999, chat_type="supergroup",
                           reply_to=bot_message(card, -100999))
    assert not copies_to(calls, FOCAL_KEN)


async def test_reply_to_a_closed_query_is_not_sent_and_says_so(env, hd):
    await hd.ask("A question")
    qid = hd.last_query_id()
    await hd.press_card(qid, "rs")
    await env.press(f"v1:hd:rt:{qid}:5", user_id=FOCAL_KEN)
    assert hd.query(qid)["state"] == "closed"
    calls = await hd.expert_reply(qid, "one more thing")
    assert not copies_to(calls, FOCAL_KEN)
    assert "is closed" in one_text(calls, EXPERT_CHAT)


async def test_forum_supergroup_gets_a_topic_per_query(env, hd):
    env.api.chats[EXPERT_CHAT] = {"id": EXPERT_CHAT, "type": "supergroup", "title": "Experts", "is_forum": True}
    calls = await hd.ask("Forum question")
    qid = hd.last_query_id()
    topic = [c for c in calls if c.method == "createForumTopic"]
    assert len(topic) == 1 and f"#{qid}" in topic[0].params["name"]
    q = hd.query(qid)
    card = [c for c in calls if c.method == "sendMessage" and c.chat_id == EXPERT_CHAT][0]
    assert int(card.params["message_thread_id"]) == q["expert_thread_id"]
    # any message in the topic (no Telegram reply needed) reaches the asker
    calls = await env.send("Answer in the topic", user_id=EXPERT, chat_id=EXPERT_CHAT, chat_type="supergroup",
                           thread_id=q["expert_thread_id"], is_forum=True)
    assert len(copies_to(calls, FOCAL_KEN)) == 1
    # follow-ups go into the topic
    calls = await hd.follow_up(qid, "Follow-up in private")
    relay = copies_to(calls, EXPERT_CHAT)[0]
    assert int(relay.params["message_thread_id"]) == q["expert_thread_id"]
    # a message in another topic is not routed
    calls = await env.send("Unrelated topic", user_id=EXPERT, chat_id=EXPERT_CHAT, chat_type="supergroup", thread_id=9999, is_forum=True)
    assert not copies_to(calls, FOCAL_KEN)


def experts_chat_down(env, code=500):
    """Make every call to the experts' chat fail (the rest of Telegram works)."""
    original = env.api.do_request
    failed = []

    async def flaky(url, method, request_data=None, **kwargs):
        params = request_data.parameters if request_data else {}
        if str(params.get("chat_id")) == str(EXPERT_CHAT):
            failed.append(url.rsplit("/", 1)[-1])
            return code, json.dumps({"ok": False, "error_code": code, "description": "Internal Server Error"}).encode()
        return await original(url, method, request_data, **kwargs)

    env.api.do_request = flaky

    def restore():
        env.api.do_request = original

    return failed, restore


async def test_card_is_posted_later_when_the_experts_chat_is_down(env, hd):
    failed, restore = experts_chat_down(env)
    calls = await hd.ask("Question while Telegram is unwell")
    qid = hd.last_query_id()
    assert "logged" in one_text(calls, FOCAL_KEN)
    assert failed.count("sendMessage") == 5  # retried with backoff
    assert hd.query(qid)["posted_at"] is None
    restore()
    env.api.clear()
    result = await helpdesk_tick(env.app)
    assert result["posted"] == 1
    assert hd.query(qid)["expert_message_id"]
    cards = [c for c in env.api.calls if c.method == "sendMessage" and c.chat_id == EXPERT_CHAT]
    assert len(cards) == 1 and "unwell" in cards[0].text
    env.api.clear()
    assert (await helpdesk_tick(env.app))["posted"] == 0


async def test_follow_ups_wait_for_the_card_and_are_relayed_once(env, hd):
    failed, restore = experts_chat_down(env)
    await hd.ask("First question")
    qid = hd.last_query_id()
    await hd.follow_up(qid, "a detail written while the experts' chat was down")
    restore()
    env.api.clear()
    await helpdesk_tick(env.app)
    assert len(copies_to(env.api.calls, EXPERT_CHAT)) == 1
    env.api.clear()
    await helpdesk_tick(env.app)
    assert not copies_to(env.api.calls, EXPERT_CHAT)
    assert [m["delivery_status"] for m in store.messages(env.db, qid, ["asker"]) if m["delivery_status"]] == ["sent"]


async def test_experts_in_another_language_get_cards_in_the_configured_one(env, hd):
    env.services.helpdesk_settings = None
    env.services.config.raw["helpdesk"]["expert_language"] = "es"
    try:
        calls = await hd.ask("Pregunta")
        card = [c for c in calls if c.method == "sendMessage" and c.chat_id == EXPERT_CHAT][0]
        assert "Consulta n.º" in card.text and "Asignármela" in "".join(b["text"] for b in card.buttons)
    finally:
        env.services.config.raw["helpdesk"].pop("expert_language", None)
        env.services.helpdesk_settings = None
