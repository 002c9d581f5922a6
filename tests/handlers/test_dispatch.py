"""The fast dispatch pieces agree with the PTB filters they replace."""
from __future__ import annotations

import pytest
from telegram.ext import filters

from bot.offline import OfflineBotAPI, UpdateFactory
from handlers.common import GROUP_TEXT_MESSAGE, PRIVATE_TEXT

PHOTO = {"photo": [{"file_id": "p", "file_unique_id": "p", "width": 1, "height": 1}]}


def updates():
    from telegram import Bot

    factory = UpdateFactory(Bot("1:x", request=OfflineBotAPI()))
    for chat_type, chat_id in [("private", 5), ("group", -5), ("supergroup", -1005)]:
        where = {"chat_id": chat_id, "chat_type": chat_type}
        yield factory.message("what is the baseline period?", user_id=5, **where)
        yield factory.message("/help", user_id=5, **where)
        yield factory.message("/help@ldn_tsp_bot now", user_id=5, **where)
        yield factory.message("see /help", user_id=5, **where)
        yield factory.message("", user_id=5, **where)
        yield factory.message(None, user_id=5, caption="a photo", **PHOTO, **where)
        yield factory.edited("an edited question", user_id=5, **where)
    yield factory.callback("v1:faq:topics:0", user_id=5)


@pytest.mark.parametrize("fast, merged", [
    (PRIVATE_TEXT, filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND & filters.UpdateType.MESSAGE),
    (GROUP_TEXT_MESSAGE, filters.ChatType.GROUPS & filters.TEXT & ~filters.COMMAND & filters.UpdateType.MESSAGE),
])
def test_one_check_text_filters_match_the_merged_ptb_filters(fast, merged):
    seen = [(bool(fast.check_update(u)), bool(merged.check_update(u))) for u in updates()]
    assert [a for a, _ in seen] == [b for _, b in seen]
    assert any(a for a, _ in seen) and not all(a for a, _ in seen)


def test_keyboard_json_is_what_ptb_would_send_for_the_same_keyboard():
    import json

    from handlers.common import keyboard, keyboard_json, markup_json

    rows = [[("👍 Helpful", "v1:faq:fb:ldn-fund:1"), ("👎", "v1:faq:fb:ldn-fund:0")], [],
            [("Open", "https://t.me/ldn_tsp_bot?start=ask")], [("↗️ Share", "inline:what is LDN?")]]
    expected = keyboard(rows).to_dict()
    assert json.loads(keyboard_json(rows)) == expected == json.loads(markup_json(keyboard(rows)))
    assert expected["inline_keyboard"][2] == [{"text": "↗️ Share", "switch_inline_query": "what is LDN?"}]
