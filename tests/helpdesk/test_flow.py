"""The whole path through the real Application and the offline Bot API:
ask → logged → posted to experts → expert reply → delivered once → pending → follow-up reopens → resolve → rating."""
from __future__ import annotations

from storage import deliveries
from storage import helpdesk as store
from tests.helpdesk.util import bot_message
from tests.util import EXPERT, EXPERT_CHAT, FOCAL_KEN, one_text, texts


async def test_full_lifecycle(env, hd):
    # ask
    calls = await hd.ask("How do we replace the default SOC data with our national soil map?")
    qid = hd.last_query_id()
    logged = one_text(calls, FOCAL_KEN)
    assert f"Query #{qid}" in logged and "logged" in logged
    q = hd.query(qid)
    assert (q["state"], q["country"], q["lang"], q["asker_id"]) == ("new", "KEN", "en", FOCAL_KEN)
    # posted to the experts with country, text and the four buttons
    card = [c for c in calls if c.method == "sendMessage" and c.chat_id == EXPERT_CHAT]
    assert len(card) == 1
    assert "Kenya" in card[0].text and "national soil map" in card[0].text
    labels = [b["text"] for b in card[0].buttons]
    assert any("Assign to me" in x for x in labels) and any("Priority" in x for x in labels)
    assert any("Pending" in x for x in labels) and any("Resolve" in x for x in labels)
    assert q["expert_message_id"] and store.route(env.db, EXPERT_CHAT, q["expert_message_id"])["query_id"] == qid

    # an expert replies to the card: relayed once with copyMessage, recorded, query opens
    calls = await hd.expert_reply(qid, "Use the national map if it covers 0-30 cm; see the good practice guidance.")
    copies = [c for c in calls if c.method == "copyMessage"]
    assert len(copies) == 1 and copies[0].chat_id == FOCAL_KEN
    assert int(copies[0].params["from_chat_id"]) == EXPERT_CHAT
    q = hd.query(qid)
    assert q["state"] == "open" and q["first_response_at"] and q["assignee_id"] == EXPERT
    # the same update delivered again (Telegram retry) is not relayed twice
    expert_msgs = store.messages(env.db, qid, ["expert"])
    assert len(expert_msgs) == 1 and expert_msgs[0]["delivery_status"] == "sent"
    update = env.updates.message("again", user_id=EXPERT, chat_id=EXPERT_CHAT, chat_type="supergroup",
                                 reply_to=bot_message(q["expert_message_id"]))
    update_dup = update.to_dict()
    update_dup["message"]["message_id"] = expert_msgs[0]["message_id"]
    from telegram import Update
    calls = await env.process(Update.de_json(update_dup, env.app.bot))
    assert not [c for c in calls if c.method == "copyMessage"]

    # pending: the asker is told, SLA clock paused
    calls = await hd.press_card(qid, "pd")
    assert hd.query(qid)["state"] == "pending"
    assert "more information" in one_text(calls, FOCAL_KEN)

    # a follow-up from the asker reopens it and reaches the experts
    env.clock.advance(hours=5)
    calls = await hd.follow_up(qid, "Our map covers 0-20 cm only.")
    q = hd.query(qid)
    assert q["state"] == "open" and q["paused_seconds"] == 5 * 3600
    assert "open again" in one_text(calls, FOCAL_KEN)
    relayed = [c for c in calls if c.method == "copyMessage" and c.chat_id == EXPERT_CHAT]
    assert len(relayed) == 1 and int(relayed[0].params["from_chat_id"]) == FOCAL_KEN
    assert any("open again" in x for x in texts(calls, EXPERT_CHAT))

    # resolve: the rating is asked once
    calls = await hd.press_card(qid, "rs")
    assert hd.query(qid)["state"] == "resolved"
    rating_msgs = [c for c in calls if c.chat_id == FOCAL_KEN and c.method == "sendMessage"]
    assert len(rating_msgs) == 1 and "resolved" in rating_msgs[0].text
    assert [b["callback_data"] for b in rating_msgs[0].buttons] == [f"v1:hd:rt:{qid}:{i}" for i in range(1, 6)]

    calls = await env.press(f"v1:hd:rt:{qid}:4", user_id=FOCAL_KEN)
    assert store.get_rating(env.db, qid)["score"] == 4
    assert hd.query(qid)["state"] == "closed"
    assert any("rated 4/5" in x for x in texts(calls, EXPERT_CHAT))
    # a second press does nothing
    calls = await env.press(f"v1:hd:rt:{qid}:1", user_id=FOCAL_KEN)
    assert store.get_rating(env.db, qid)["score"] == 4
    answer = [c for c in calls if c.method == "answerCallbackQuery"][0]
    assert "already rated" in answer.params["text"]
    # optional comment: a reply to the invitation
    prompt = store.messages(env.db, qid, ["comment_prompt"])[0]
    calls = await env.send("Very helpful, thanks", user_id=FOCAL_KEN, reply_to=bot_message(prompt["message_id"], FOCAL_KEN))
    assert store.get_rating(env.db, qid)["comment"] == "Very helpful, thanks"
    assert any("Very helpful" in x for x in texts(calls, EXPERT_CHAT))

    # the audit trail
    kinds = [(e["kind"], e["from_value"], e["to_value"]) for e in hd.events(qid)]
    assert ("created", None, "new") in kinds
    assert ("state", "new", "open") in kinds and ("state", "open", "pending") in kinds
    assert ("state", "pending", "open") in kinds and ("state", "open", "resolved") in kinds
    assert ("state", "resolved", "closed") in kinds and ("rating", None, "4") in kinds
    # exactly one answer in the ledger
    assert deliveries.counts(env.db).get("sent", 0) >= 1
    assert len([r for r in env.db.query("SELECT * FROM deliveries WHERE kind = 'answer'")]) == 1
