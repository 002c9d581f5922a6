"""Bad chat input in the arguments of commands (tests/pipeline/test_bad_input.py covers plain text,
documents, channel posts and unknown update types): 10,000 characters, whitespace only, FTS5 syntax,
zero-width and RTL-override characters, emoji only, through every command that takes words. Each
gets a reply (or, for the secretariat's input prompts, a refusal) and the log has no traceback."""
from __future__ import annotations

import logging

import pytest

from tests.pipeline.util import problems
from tests.reminders.util import person
from tests.util import EXPERT, FOCAL_KEN, SECRETARIAT, texts

BAD = {
    "10,000 characters": "objectif " * 1111 + "x",
    "whitespace only": " \t \u00a0\u2003 ",
    "fts5 quote": '"', "fts5 star": "*", "fts5 near": "NEAR(", "fts5 and or": "AND OR", "fts5 caret": "^",
    "fts5 mixed": 'LDN " NEAR( * ^ AND OR NOT -col:x',
    "zero width": "\u200b\u200c\u200d\ufeff", "rtl override": "\u202eNDL tegrat", "emoji only": "🌍🌱🔥", "emoji zwj": "👩‍🌾",
    "nul": "a\x00b", "html": "<b>x</b><script>", "format": "{0} %s {q!r}",
}
COMMANDS = [("/faq {x}", FOCAL_KEN), ("/ask {x}", FOCAL_KEN), ("/queue {x}", EXPERT), ("/tag 1 {x}", EXPERT),
            ("/assign 1 {x}", EXPERT), ("/query {x}", EXPERT), ("/timezone {x}", FOCAL_KEN), ("/language {x}", FOCAL_KEN),
            ("/broadcast {x}", SECRETARIAT), ("/event add {x}", SECRETARIAT), ("/event move ws-konya {x}", SECRETARIAT),
            ("/due KEN 1 {x}", SECRETARIAT), ("/directory {x}", FOCAL_KEN), ("/events {x}", FOCAL_KEN)]


@pytest.mark.parametrize("command,user", COMMANDS, ids=[c.split()[0] + ("" if len(c.split()) == 2 else "-" + c.split()[1])
                                                         for c, _ in COMMANDS])
async def test_bad_words_in_command_arguments(env, caplog, command, user):
    caplog.set_level(logging.INFO)
    await person(env, FOCAL_KEN, "KEN")
    await person(env, EXPERT, None, role="expert")
    await person(env, SECRETARIAT, None, role=None)
    await env.send("/ask How is the LDN baseline computed for drylands?", user_id=FOCAL_KEN)
    for name, bad in BAD.items():
        caplog.clear()
        calls = await env.send(command.format(x=bad), user_id=user)
        replies = texts(calls, user)
        assert replies, f"{command} with {name}: no reply"
        assert all(len(r) <= 4096 for r in replies), f"{command} with {name}: over 4096 characters"
        assert problems(caplog) == [], f"{command} with {name}"
        await env.send("/cancel", user_id=user)   # leave no prompt waiting for the next one


async def test_bad_text_at_the_broadcast_prompt(env, caplog):
    caplog.set_level(logging.INFO)
    await person(env, FOCAL_KEN, "KEN")
    for name, bad in BAD.items():
        await env.send("/broadcast KEN", user_id=SECRETARIAT)
        caplog.clear()
        replies = texts(await env.send(bad, user_id=SECRETARIAT), SECRETARIAT)
        assert replies, name
        assert all(len(r) <= 4096 for r in replies), name
        assert problems(caplog) == [], name
