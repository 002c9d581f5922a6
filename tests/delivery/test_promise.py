"""The delivery promise per kind, through the real Application and the offline Bot API:
a send whose outcome is unknown (the API carried it out, the answer was lost) is resent
once, saying so, for an expert's answer or a deadline reminder; never for a broadcast."""
from __future__ import annotations

from storage import deliveries, users
from storage.deliveries import AT_LEAST_ONCE

ASKER = 4242


async def relay(env, ref="q1:m1"):
    return await env.services.deliverer.send_now(env.app.bot, kind="answer", ref=ref, chat_id=ASKER, method="copyMessage",
                                                 payload={"from_chat_id": -100123, "message_id": 77})


async def test_an_expert_answer_whose_send_timed_out_is_sent_again_and_says_so(env):
    users.touch_user(env.db, ASKER, "Ana", None, env.clock.now())
    users.set_lang(env.db, ASKER, "fr", env.clock.now())
    env.api.fail_next("copyMessage", "timeout")  # Telegram delivered it, the bot never heard back
    outcome = await relay(env)
    assert outcome.status == "sent"
    copies = env.api.sent("copyMessage", ASKER)
    assert len(copies) == 2  # a possible duplicate is better than a lost answer
    notes = env.api.sent("sendMessage", ASKER)
    assert len(notes) == 1 and "Envoyé à nouveau" in notes[0].params["text"]
    row = deliveries.find(env.db, "answer", "q1:m1", ASKER)
    assert row["status"] == "sent" and row["resends"] == 1 and row["promise"] == AT_LEAST_ONCE


async def test_an_answer_is_sent_again_at_most_once(env):
    env.api.fail_next("copyMessage", "timeout", times=2)
    outcome = await relay(env)
    assert outcome.status == "uncertain"
    assert len(env.api.sent("copyMessage", ASKER)) == 2
    assert deliveries.find(env.db, "answer", "q1:m1", ASKER)["status"] == "uncertain"


async def test_a_broadcast_whose_send_timed_out_stays_uncertain_and_is_not_resent(env):
    env.api.fail_next("sendMessage", "timeout")
    outcome = await env.services.deliverer.send_now(env.app.bot, kind="broadcast", ref="b1", chat_id=ASKER,
                                                    method="sendMessage", payload={"text": "Workshop moved"})
    assert outcome.status == "uncertain"
    assert len(env.api.sent("sendMessage", ASKER)) == 1
    assert deliveries.uncertain_by_kind(env.db) == {"broadcast": 1}


async def test_a_deadline_reminder_sent_again_carries_the_note_in_its_text(env):
    env.api.fail_next("sendMessage", "timeout")
    outcome = await env.services.deliverer.send_now(env.app.bot, kind="reminder", ref="ev:reporting-2018:3d", chat_id=ASKER,
                                                    method="sendMessage", payload={"text": "Report due in 3 days"},
                                                    promise=AT_LEAST_ONCE)
    assert outcome.status == "sent"
    texts = [c.params["text"] for c in env.api.sent("sendMessage", ASKER)]
    assert texts[0] == "Report due in 3 days"
    assert texts[1].startswith("Report due in 3 days") and "Sent again" in texts[1]


async def test_in_flight_rows_after_a_crash_follow_their_promise(env):
    now = env.clock.now()
    ids = [deliveries.enqueue(env.db, kind=kind, ref="r", chat_id=chat, method="sendMessage", payload={"text": "x"},
                              due_at=now, now=now, promise=promise)
           for kind, chat, promise in (("broadcast", 1, "at_most_once"), ("answer", 2, AT_LEAST_ONCE))]
    for delivery_id in ids:
        deliveries.claim(env.db, delivery_id, now)
    counts = await env.services.deliverer.recover_after_restart()
    assert counts == {"uncertain": 1, "resend": 1}
    assert [deliveries.get(env.db, i)["status"] for i in ids] == ["uncertain", "pending"]
    outcomes = await env.services.deliverer.flush_due(env.app.bot)
    assert [o.status for o in outcomes] == ["sent"]
    assert "Sent again" in env.api.sent("sendMessage", 2)[0].params["text"]
    assert env.api.sent("sendMessage", 1) == []
