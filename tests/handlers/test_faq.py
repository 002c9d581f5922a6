"""The knowledge service through the real Application: answers, abstentions, feedback, browsing."""
from __future__ import annotations

import pytest

from storage import faq as faq_store
from tests.util import GUEST, SECRETARIAT, one_text


async def test_private_question_gets_answer_with_source_and_buttons(env):
    calls = await env.send("how big was the LDN Fund at launch?", user_id=GUEST)
    msg = [c for c in calls if c.method == "sendMessage"][-1]
    assert "300" in msg.text and "Source:" in msg.text
    data = [b.get("callback_data") for b in msg.buttons]
    assert "v1:faq:fb:ldn-fund:1" in data and "v1:faq:fb:ldn-fund:0" in data
    assert any(b.get("switch_inline_query") for b in msg.buttons)


async def test_answer_comes_in_the_users_language_whatever_the_query_language(env):
    calls = await env.send("LDN Fund Mirova", user_id=GUEST, language_code="fr")
    text = one_text(calls)
    assert "Source :" in text and "Fonds" in text


async def test_off_topic_abstains_logs_a_miss_and_offers_an_expert(env):
    await env.make_focal_point(501, "KEN")
    calls = await env.send("bitcoin price today", user_id=501)
    msg = [c for c in calls if c.method == "sendMessage"][-1]
    assert "no confident answer" in msg.text
    assert [b.get("callback_data") for b in msg.buttons][0].startswith("v1:hd:fn:")  # "Ask an expert" files this message
    calls = await env.send("bitcoin price today", user_id=GUEST)  # a visitor (visitors: register) is told how to register
    msg = [c for c in calls if c.method == "sendMessage"][-1]
    assert "invitation link" in msg.text and not any(b.get("callback_data", "").startswith("v1:hd:") for b in msg.buttons)
    assert faq_store.list_gaps(env.db) == []  # statistics are written in batches (bot/faqstats.py) ...
    calls = await env.send("/gaps", user_id=SECRETARIAT)  # ... and before anyone reads them
    assert "bitcoin price today" in one_text(calls)
    gaps = faq_store.list_gaps(env.db)
    assert gaps and gaps[0]["query"] == "bitcoin price today" and gaps[0]["kind"] == "abstain"


async def test_faq_statistics_are_written_in_batches_and_at_shutdown(env):
    """"Most asked" counts and misses wait in memory; FLUSH_ITEMS of them, FLUSH_SECONDS,
    or stopping the bot writes them in one go."""
    from bot import faqstats

    await env.send("how big was the LDN Fund at launch?", user_id=GUEST)
    await env.send("bitcoin price today", user_id=GUEST)
    assert faq_store.most_asked(env.db) == [] and faq_store.list_gaps(env.db) == []
    for _ in range(faqstats.FLUSH_ITEMS - 2):
        await env.send("how big was the LDN Fund at launch?", user_id=GUEST)
    assert faq_store.most_asked(env.db) == [("ldn-fund", faqstats.FLUSH_ITEMS - 1)]
    assert [g["query"] for g in faq_store.list_gaps(env.db)] == ["bitcoin price today"]
    await env.send("bitcoin price today", user_id=GUEST + 1)
    env.clock.advance(seconds=faqstats.FLUSH_SECONDS + 1)  # a few quiet seconds: the next question writes
    await env.send("how big was the LDN Fund at launch?", user_id=GUEST)
    assert len(faq_store.list_gaps(env.db)) == 2
    await env.send("bitcoin price today", user_id=GUEST + 2)
    await env.app.shutdown()
    await env.app.post_shutdown(env.app)  # what run_polling does after shutdown
    assert len(faq_store.list_gaps(env.db)) == 3
    await env.app.initialize()  # the fixture shuts it down again


async def test_a_failed_statistics_write_keeps_the_items_for_the_next_one(env):
    stats = env.services.faq_stats
    stats.count_answer("ldn-fund")
    stats.log_miss("bitcoin", lang="en", best_score=0.1, country=None, user_id=GUEST)
    broken = env.services.store.run

    async def failing(*_args, **_kwargs):
        raise RuntimeError("disk full")

    env.services.store.run = failing
    with pytest.raises(RuntimeError):
        await stats.flush()
    env.services.store.run = broken
    assert stats.pending == 2
    assert await stats.flush() == 2
    assert faq_store.most_asked(env.db) == [("ldn-fund", 1)]


async def test_a_question_asked_before_the_index_is_loaded_goes_to_the_database(env):
    """Searches run on the event loop when the index is in memory; an engine that has
    not loaded it yet (nothing searched since it was made) answers the same question
    from the database thread, and keeps the index for the next ones."""
    from bot.search import FaqSearch

    cold = env.services.search = FaqSearch(env.db)
    assert cold._state[1] is None
    calls = await env.send("how big was the LDN Fund at launch?", user_id=GUEST)
    assert "300" in [c for c in calls if c.method == "sendMessage"][-1].text
    assert cold._state[1] is not None


async def test_fts_syntax_and_garbage_never_break_search(env):
    for text in ['"unbalanced', "NEAR( AND OR *", "((((", "🙂🙂🙂", "تحييد ) AND (", "x" * 10000, "\x00\x01"]:
        calls = await env.send(text, user_id=GUEST)
        assert [c for c in calls if c.method == "sendMessage"], text
        assert "went wrong" not in one_text(calls)


async def test_not_helpful_is_logged_once_and_offers_an_expert(env):
    await env.send("how big was the LDN Fund at launch?", user_id=GUEST)
    calls = await env.press("v1:faq:fb:ldn-fund:0", user_id=GUEST, message_id=1000)
    assert "v1:hd:askq" in [b.get("callback_data") for c in calls for b in c.buttons]
    await env.press("v1:faq:fb:ldn-fund:0", user_id=GUEST, message_id=1000)
    misses = [g for g in faq_store.list_gaps(env.db) if g["kind"] == "not_helpful"]
    assert len(misses) == 1 and misses[0]["entry_id"] == "ldn-fund"


async def test_forged_feedback_for_unknown_entry_changes_nothing(env):
    calls = await env.press("v1:faq:fb:no-such-entry:0", user_id=GUEST)
    assert faq_store.list_gaps(env.db) == []
    assert any(c.method == "answerCallbackQuery" for c in calls)


async def test_browse_topics_and_open_a_question(env):
    calls = await env.send("/faq", user_id=GUEST)
    buttons = calls[-1].buttons
    topic_buttons = [b["callback_data"] for b in buttons if b["callback_data"].startswith("v1:faq:topic:")]
    assert topic_buttons
    calls = await env.press("v1:faq:topic:finance:0", user_id=GUEST)
    shows = [b["callback_data"] for c in calls for b in c.buttons if b["callback_data"].startswith("v1:faq:show:")]
    assert "v1:faq:show:ldn-fund" in shows
    calls = await env.press("v1:faq:show:ldn-fund", user_id=GUEST)
    assert "Mirova" in one_text(calls)


async def test_faq_in_a_group_answers_without_private_buttons(env):
    calls = await env.send("/faq LDN fund size", user_id=GUEST, chat_id=-100555, chat_type="supergroup")
    msg = [c for c in calls if c.method == "sendMessage"][-1]
    assert msg.chat_id == -100555 and "300" in msg.text
    assert not any("fb" in (b.get("callback_data") or "") for b in msg.buttons)
    calls = await env.send("/faq bitcoin price", user_id=GUEST, chat_id=-100555, chat_type="supergroup")
    msg = [c for c in calls if c.method == "sendMessage"][-1]
    assert msg.buttons[0]["url"] == "https://t.me/ldn_tsp_bot?start=ask"


async def test_reload_and_gaps_are_for_the_secretariat(env):
    assert "not allowed" in one_text(await env.send("/reload", user_id=GUEST))
    assert "not allowed" in one_text(await env.send("/gaps", user_id=GUEST))
    assert "FAQ reloaded" in one_text(await env.send("/reload", user_id=SECRETARIAT))
    await env.send("weather in Paris", user_id=GUEST)
    assert "weather in Paris" in one_text(await env.send("/gaps", user_id=SECRETARIAT))
