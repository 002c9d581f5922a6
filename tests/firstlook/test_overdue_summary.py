"""/overdue with every country late: counts and the worst cases first, then pages with buttons,
never a wall split over several messages."""
from __future__ import annotations

import pytest

from knowledge.vocabulary import LANGS
from tests.util import SECRETARIAT, texts

TELEGRAM_LIMIT = 4096


@pytest.mark.parametrize("lang", LANGS)
async def test_overdue_summarises_then_pages(env, lang):
    env.clock.set("2017-02-01T08:00:00Z")  # steps 1 and 2 are late everywhere
    await env.press(f"v1:lang:{lang}", user_id=SECRETARIAT)
    calls = await env.send("/overdue", user_id=SECRETARIAT, language_code=lang)
    sent = texts(calls)
    assert len(sent) == 1 and len(sent[0]) < TELEGRAM_LIMIT
    text = sent[0]
    t = env.services.t
    assert t(lang, "ms.overdue.by_step") in text
    assert t(lang, "ms.overdue.page", page=1, pages=12) in text
    head = text.split("\n\n")[0]
    assert "95" in head and "190" in head  # counts before any country
    datas = [b["callback_data"] for c in calls for b in c.buttons]
    assert datas == ["v1:ms:od:all:0", "v1:ms:od:all:1"]
    calls = await env.press("v1:ms:od:all:11", user_id=SECRETARIAT, language_code=lang)
    last = texts(calls)[0]
    assert t(lang, "ms.overdue.page", page=12, pages=12) in last and last.count(" (") >= 7
    assert [b["callback_data"] for c in calls for b in c.buttons] == ["v1:ms:od:all:10", "v1:ms:od:all:11"]


async def test_one_region_and_forged_pages(env):
    env.clock.set("2017-02-01T08:00:00Z")
    text = texts(await env.send("/overdue pilots", user_id=SECRETARIAT))[0]
    assert "in 14 countries" in text and "page 1 of 2" in text
    text = texts(await env.press("v1:ms:od:pilots:99", user_id=SECRETARIAT))[0]
    assert "page 2 of 2" in text  # beyond the end: the last page
    calls = await env.press("v1:ms:od:all:x", user_id=SECRETARIAT)
    assert not texts(calls) and any(c.method == "answerCallbackQuery" for c in calls)
    calls = await env.press("v1:ms:od:all:0", user_id=777)
    assert not texts(calls)
