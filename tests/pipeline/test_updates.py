"""Updates parsed one by one: an update python-telegram-bot cannot parse is skipped with one WARNING,
the rest of its batch is handled and the offset moves past it; unusual updates get the answer or the
silence Telegram users expect. Through the real HTTP transport, polling a loopback Bot API."""
from __future__ import annotations

import logging
import time


from tests.loopback_api import LoopbackBotAPI
from tests.pipeline.util import TOKEN, polling_bot, problems, wait_until


def message(text, user_id, *, chat_id=None, chat_type="private", first_name="Nadia", lang="en", sender=True, **extra):
    chat_id = user_id if chat_id is None else chat_id
    chat = {"id": chat_id, "type": chat_type}
    chat.update({"first_name": first_name} if chat_type == "private" else {"title": "Group"})
    msg = {"message_id": int(time.time() * 1000) % 10**9, "date": int(time.time()), "chat": chat, "text": text, **extra}
    if sender:
        msg["from"] = {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": lang}
    if text.startswith("/"):
        msg["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return msg


MALFORMED_POLL = {"poll": {"id": "5012", "question": "Which year?"}}  # no options, total_voter_count, … any more


def replies_to(api, chat_id) -> list[str]:
    return [str(p.get("text", "")) for p in api.sent("sendMessage") if int(p["chat_id"]) == chat_id]


def unparsable(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.getMessage() == "update.unparsable"]


async def test_a_malformed_update_between_two_good_ones_is_skipped_and_both_are_answered(config, caplog):
    caplog.set_level(logging.INFO)
    with LoopbackBotAPI(TOKEN) as api:
        api.push({"message": message("/help", 6101)})
        bad_id = api.push(MALFORMED_POLL)
        api.push({"edited_message": {**message("/start", 6102, lang="fr"), "edit_date": int(time.time())}})
        async with polling_bot(config, api):
            await wait_until(lambda: replies_to(api, 6101) and replies_to(api, 6102), "both good updates answered")
            await wait_until(lambda: api.confirmed_offset > bad_id + 1, "the offset moved past all three")
    assert "/start" in replies_to(api, 6101)[0] or "<b>" in replies_to(api, 6101)[0]
    assert "Bonjour" in replies_to(api, 6102)[0]  # the edited /start, answered in French
    (record,) = unparsable(caplog)
    assert record.levelname == "WARNING" and record.update_type == "poll" and record.update_id == bad_id
    assert record.exc_info is None and "Which year" not in caplog.text  # no traceback, no content
    assert problems(caplog) == []


async def test_a_malformed_update_last_or_alone_in_its_batch_is_confirmed_too(config, caplog):
    caplog.set_level(logging.INFO)
    with LoopbackBotAPI(TOKEN) as api:
        api.push({"message": message("/help", 6111)})
        api.push({"message": {"message_id": 1, "chat": {"id": 6111, "type": "private"}}})  # no date: unparsable
        async with polling_bot(config, api):
            await wait_until(lambda: api.confirmed_offset >= 3, "the offset moved past the last, malformed update")
            last = api.push(MALFORMED_POLL)  # a batch of one malformed update
            await wait_until(lambda: api.confirmed_offset > last, "the offset moved past a batch of only it")
            after = api.push({"message": message("/help", 6112)})
            await wait_until(lambda: replies_to(api, 6112), "the next update is answered")
    assert len(replies_to(api, 6111)) == 1
    assert [(r.update_type, r.update_id) for r in unparsable(caplog)] == [("message", 2), ("poll", last)]
    assert after == last + 1 and problems(caplog) == []


UNUSUAL_INLINE = ["' OR 1=1 --", "%", "\\", "a\x00b", "\u202eLDN", "\u2068target\u2069", "🌍🌱", "👩‍🌾",
                  "\u200b\u200c\u200d", "ta\u0301rget\u0308", "<b>LDN</b>", "*LDN* _target_ [x](y)", "{0} %s {q!r}",
                  "ما هو تحييد أثر تدهور الأراضي", "LDN\ntarget\r\nsetting", "", "\u200b"]


async def test_unusual_updates_after_a_malformed_one_each_get_their_answer_or_silence(config, caplog):
    caplog.set_level(logging.INFO)
    huge = 2**52 - 3  # Telegram ids fit in 52 bits
    with LoopbackBotAPI(TOKEN) as api:
        api.push(MALFORMED_POLL)
        api.push({"edited_message": {**message("/help", 6201), "edit_date": int(time.time())}})
        api.push({"edited_message": {**message("What is land degradation neutrality?", 6202), "edit_date": int(time.time())}})
        api.push({"channel_post": message("/help", 0, chat_id=-1006203, chat_type="channel", sender=False)})
        api.push({"channel_post": message("what is LDN", 0, chat_id=-1006203, chat_type="channel", sender=False)})
        api.push({"edited_channel_post": {**message("x", 0, chat_id=-1006203, chat_type="channel", sender=False),
                                          "edit_date": int(time.time())}})
        api.push({"message": message("/help", 0, chat_id=-1006204, chat_type="supergroup", sender=False)})
        api.push({"message": message("what is LDN", 0, chat_id=-1006204, chat_type="supergroup", sender=False)})
        api.push({"message": message("/faq baseline", 0, chat_id=-1006204, chat_type="supergroup", sender=False,
                                     sender_chat={"id": -1006204, "type": "supergroup", "title": "Group"})})
        api.push({"a_type_from_the_future": {"id": 1, "text": "hello"}})
        api.push({"message": message("/start", huge)})
        api.push({"message": message("/start", 6205, first_name="Ж" * 300)})
        api.push({"message": message("What is land degradation neutrality?", 6206, first_name="N" * 300)})
        first_inline = None
        for i, query in enumerate(UNUSUAL_INLINE):
            update_id = api.push({"inline_query": {"id": f"iq{i}", "query": query, "offset": "",
                                                   "from": {"id": 6300 + i, "is_bot": False, "first_name": "I", "language_code": "en"}}})
            first_inline = first_inline or update_id
        last = api.push({"message": message("/help", 6207)})
        async with polling_bot(config, api):
            await wait_until(lambda: replies_to(api, 6207) and len(api.sent("answerInlineQuery")) == len(UNUSUAL_INLINE),
                             "every update handled", detail=lambda: (replies_to(api, 6207), len(api.sent("answerInlineQuery")),
                                                                     api.confirmed_offset, problems(caplog)))
            await wait_until(lambda: api.confirmed_offset > last, "every update confirmed")
    assert replies_to(api, 6201) and "/faq" in replies_to(api, 6201)[0]  # an edited /help is answered
    assert replies_to(api, 6202) == []  # an edited question is not answered twice
    assert replies_to(api, -1006203) == [] and replies_to(api, -1006204) == []  # channels, no sender: silence
    assert "Hello" in replies_to(api, huge)[0]
    assert "Ж" * 50 in replies_to(api, 6205)[0] and len(replies_to(api, 6205)[0]) <= 4096
    assert "degradation neutrality" in replies_to(api, 6206)[0]
    answered = {p["inline_query_id"]: p for p in api.sent("answerInlineQuery")}
    assert set(answered) == {f"iq{i}" for i in range(len(UNUSUAL_INLINE))}
    for params in answered.values():  # results, or none and the button to the bot
        assert params["results"] or params["button"]["start_parameter"] == "ask"
    assert [r.update_type for r in unparsable(caplog)] == ["poll"]
    assert problems(caplog) == []
