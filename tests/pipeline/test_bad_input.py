"""Bad input through the real Application (offline Bot API): every inline query is answered, every
odd chat message gets a short translated answer or the silence Telegram users expect, and the log
holds no traceback."""
from __future__ import annotations

import datetime as dt
import json
import logging

import pytest
from telegram import Update

from tests.util import texts
from tests.pipeline.util import problems

INLINE = {
    "sql comment": "LDN'; -- DROP TABLE faq", "percent": "%", "percent like": "%target%", "backslash": "\\",
    "nul": "target\x00setting", "rtl override": "\u202etegrat NDL", "bidi isolate": "\u2067LDN\u2069 target",
    "emoji only": "🌍🌱🔥", "emoji zwj": "👩‍🌾👨‍👩‍👧", "zero width": "\u200b\u200c\u200d\ufeff", "zero width in word": "tar\u200bget",
    "combining marks": "ta\u0301\u0301rge\u0308t", "html": "<script>alert(1)</script><b>LDN", "markdown": "*bold* _it_ `code` [a](b)",
    "format strings": "{0} {q} %s %(x)d {{}}", "arabic": "ما هو تحييد أثر تدهور الأراضي؟", "newlines": "what\nis\r\nLDN\n\n",
    "only spaces": "   ", "very long": "target " * 200,
}


@pytest.mark.parametrize("name", list(INLINE))
async def test_every_inline_query_is_answered(env, name, caplog):
    caplog.set_level(logging.INFO)
    calls = await env.process(env.updates.inline(INLINE[name], user_id=6400, language_code="fr"))
    (answer,) = [c for c in calls if c.method == "answerInlineQuery"]
    results = answer.params["results"]
    results = json.loads(results) if isinstance(results, str) else results
    if not results:  # nothing found: the button leads to the bot, in the user's language
        button = answer.params["button"]
        button = json.loads(button) if isinstance(button, str) else button
        assert button["start_parameter"] == "ask"
        assert button["text"] == env.services.t("fr", "inline.no_results")
    assert problems(caplog) == []


def _now() -> int:
    return int(dt.datetime.now(dt.timezone.utc).timestamp())


CHAT = {
    "10,000 characters": "pourquoi " * 1111 + "x",
    "whitespace only": " \t \u00a0\u2003 ",
    "quote": '"', "unclosed quote": 'objectif "LDN', "star": "*", "near": "NEAR(", "near full": "NEAR(target baseline, 3)",
    "and or": "AND OR", "caret": "^", "mixed fts5": 'LDN " NEAR( * ^ AND OR NOT -col:x',
    "zero width only": "\u200b\u200c\u200d", "zero width inside": "qu'est-ce que la neu\u200btralité",
    "rtl override": "\u202eNDL tse'uq", "emoji only": "🌍🌱", "emoji zwj": "👩‍🌾",
}
ANSWER_KEYS = ("error.empty", "error.too_long", "faq.abstain")


@pytest.mark.parametrize("name", list(CHAT))
async def test_odd_chat_text_gets_a_short_translated_answer(env, name, caplog):
    caplog.set_level(logging.INFO)
    replies = texts(await env.send(CHAT[name], user_id=6500, language_code="fr"), 6500)
    assert replies, "no answer"
    expected = {env.services.t("fr", key, limit=2000).split("{")[0][:30] for key in ANSWER_KEYS}
    for reply in replies:  # a fixed message in French, or an FAQ answer (a bold question first)
        assert reply.startswith("<b>") or any(reply.startswith(prefix) for prefix in expected), reply[:80]
        assert len(reply) <= 4096
    if name in ("whitespace only", "zero width only"):
        assert replies == [env.services.t("fr", "error.empty")]
    assert problems(caplog) == []


async def test_a_binary_document_gets_a_translated_answer(env, caplog):
    caplog.set_level(logging.INFO)
    calls = await env.send(None, user_id=6501, language_code="es",
                           document={"file_id": "BIN", "file_unique_id": "bin", "file_name": "dump.bin",
                                     "mime_type": "application/octet-stream", "file_size": 7340032})
    assert texts(calls, 6501) == [env.services.t("es", "error.unsupported")]
    assert problems(caplog) == []


SILENT = {
    "channel post": {"channel_post": {"message_id": 5, "date": 0, "chat": {"id": -1006600, "type": "channel", "title": "C"},
                                      "text": "what is LDN"}},
    "channel command": {"channel_post": {"message_id": 6, "date": 0, "chat": {"id": -1006600, "type": "channel", "title": "C"},
                                         "text": "/start", "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}},
    "edited channel post": {"edited_channel_post": {"message_id": 5, "date": 0, "edit_date": 0,
                                                    "chat": {"id": -1006600, "type": "channel", "title": "C"}, "text": "x"}},
    "group command without from": {"message": {"message_id": 7, "date": 0, "chat": {"id": -1006601, "type": "supergroup", "title": "G"},
                                                "text": "/help", "entities": [{"type": "bot_command", "offset": 0, "length": 5}]}},
    "unknown update type": {"a_type_from_the_future": {"id": 3, "text": "hello"}},
    "empty update": {},
}


@pytest.mark.parametrize("name", list(SILENT))
async def test_updates_nobody_expects_an_answer_to_get_silence(env, name, caplog):
    caplog.set_level(logging.INFO)
    data = json.loads(json.dumps(SILENT[name]).replace('"date": 0', f'"date": {_now()}'))
    calls = await env.process(Update.de_json({"update_id": 4242, **data}, env.app.bot))
    assert [c for c in calls if c.method.startswith("send")] == []
    assert problems(caplog) == []
