"""The peer directory (/directory, /peers) and inline mode."""
from __future__ import annotations

import json

from storage import faq as faq_store
from storage import users
from tests.groups.util import AFRICA_GROUP, group_say
from tests.util import EXPERT, FOCAL_KEN, GUEST, SECRETARIAT, one_text, texts

ETH, CHN, SEN = 611, 612, 613


async def register(env, user_id, iso3, username):
    await env.make_focal_point(user_id, iso3)
    await env.send("/start", user_id=user_id, username=username)


# -- /directory and /peers --------------------------------------------------------------------------

async def test_peers_lists_only_opted_in_focal_points_of_my_region(env):
    await register(env, FOCAL_KEN, "KEN", "ken_fp")
    await register(env, ETH, "ETH", "eth_fp")
    await register(env, SEN, "SEN", None)
    await register(env, CHN, "CHN", "chn_fp")
    calls = await env.send("/peers", user_id=FOCAL_KEN, username="ken_fp")
    assert "No focal point" in one_text(calls)  # nobody opted in: nobody listed
    calls = await env.send("/directory on", user_id=ETH, username="eth_fp")
    assert "@eth_fp" in one_text(calls)
    calls = await env.send("/directory on", user_id=SEN)
    assert "no public Telegram username" in one_text(calls)
    await env.send("/directory on", user_id=CHN, username="chn_fp")
    text = one_text(await env.send("/peers", user_id=FOCAL_KEN, username="ken_fp"))
    assert "Ethiopia — @eth_fp" in text
    assert "chn_fp" not in text  # another region
    assert "Senegal" not in text  # opted in, but has no public username
    assert "not listed" in text  # my own status
    await env.send("/directory off", user_id=ETH, username="eth_fp")
    assert "eth_fp" not in one_text(await env.send("/peers", user_id=FOCAL_KEN, username="ken_fp"))


async def test_peers_in_another_circle_only_if_my_country_belongs_to_it(env):
    await register(env, FOCAL_KEN, "KEN", "ken_fp")
    await register(env, SEN, "SEN", "sen_fp")  # Senegal is a pilot
    await env.send("/directory on", user_id=SEN, username="sen_fp")
    assert "belongs to" in one_text(await env.send("/peers pilots", user_id=FOCAL_KEN, username="ken_fp"))
    assert "belongs to" in one_text(await env.send("/peers asia", user_id=FOCAL_KEN, username="ken_fp"))
    assert "atlantis" in one_text(await env.send("/peers atlantis", user_id=FOCAL_KEN, username="ken_fp"))
    await register(env, ETH, "ETH", "eth_fp")  # Ethiopia is a pilot too
    assert "@sen_fp" in one_text(await env.send("/peers pilots", user_id=ETH, username="eth_fp"))


async def test_directory_and_peers_are_private_and_for_focal_points(env):
    for user_id in (GUEST, EXPERT, SECRETARIAT):
        assert "focal points" in one_text(await env.send("/peers", user_id=user_id))
        assert "focal points" in one_text(await env.send("/directory on", user_id=user_id))
    await register(env, FOCAL_KEN, "KEN", "ken_fp")
    calls = await group_say(env, "/peers", chat_id=AFRICA_GROUP, user_id=FOCAL_KEN, username="ken_fp")
    assert "private chat" in one_text(calls) and "@" not in one_text(calls)
    calls = await group_say(env, "/directory on", chat_id=AFRICA_GROUP, user_id=FOCAL_KEN, username="ken_fp")
    assert "private chat" in one_text(calls)
    assert "You are now: not listed" in one_text(await env.send("/directory", user_id=FOCAL_KEN, username="ken_fp"))
    await env.send("/directory on", user_id=FOCAL_KEN, username="ken_fp")
    assert "You are now: listed" in one_text(await env.send("/directory", user_id=FOCAL_KEN, username="ken_fp"))


# -- inline mode --------------------------------------------------------------------------------------

async def inline(env, query, **kwargs):
    calls = await env.process(env.updates.inline(query, **kwargs))
    answers = [c for c in calls if c.method == "answerInlineQuery"]
    assert len(answers) == 1
    params = answers[0].params
    results = params["results"]
    if isinstance(results, str):
        results = json.loads(results)
    return params, results


async def test_inline_results_in_two_languages(env):
    params, results = await inline(env, "LDN Fund", user_id=GUEST, language_code="en")
    assert 1 <= len(results) <= 10
    first = results[0]
    assert first["type"] == "article" and first["id"] == "ldn-fund"
    assert "Fund" in first["title"] and first["description"]
    content = first["input_message_content"]
    assert "300" in content["message_text"] and "Source:" in content["message_text"]
    assert content["parse_mode"] == "HTML"
    assert params["cache_time"] == 300 and params["is_personal"] is True

    _, results_fr = await inline(env, "LDN Fund", user_id=GUEST + 1, language_code="fr")
    assert results_fr[0]["id"] == "ldn-fund"
    assert "Source :" in results_fr[0]["input_message_content"]["message_text"]
    assert results_fr[0]["title"] != first["title"]


async def test_inline_uses_the_saved_language_and_then_does_not_cache(env):
    await env.send("/start", user_id=GUEST)
    await env.press("v1:lang:es", user_id=GUEST)
    params, results = await inline(env, "LDN Fund", user_id=GUEST, language_code="en")
    assert "Fuente:" in results[0]["input_message_content"]["message_text"]
    assert params["is_personal"] is True and params["cache_time"] == 0


async def test_inline_empty_query_shows_the_most_asked(env):
    for _ in range(3):
        faq_store.record_asked(env.db, "baseline-steps", env.clock.now())
    faq_store.record_asked(env.db, "ldn-fund", env.clock.now())
    _, results = await inline(env, "", user_id=GUEST)
    assert [r["id"] for r in results[:2]] == ["baseline-steps", "ldn-fund"]
    assert len(results) == 10 and len({r["id"] for r in results}) == 10


async def test_inline_without_an_answer_offers_a_private_chat_and_stores_nothing(env):
    params, results = await inline(env, "pizza recipe with mozzarella", user_id=5555)
    assert results == []
    button = params["button"]
    if isinstance(button, str):
        button = json.loads(button)
    assert button["start_parameter"] == "ask"
    assert users.get_user(env.db, 5555) is None  # no user row for inline users
    assert faq_store.list_gaps(env.db) == []  # inline text is never logged


async def test_inline_never_exceeds_ten_results_and_survives_garbage(env):
    for query in ("land", "LDN", '"((( NEAR', "x" * 400, "🙂"):
        _, results = await inline(env, query, user_id=GUEST)
        assert len(results) <= 10


async def test_private_answers_have_a_share_button(env):
    calls = await env.send("how big was the LDN Fund at launch?", user_id=GUEST)
    share = [b for b in calls[-1].buttons if "switch_inline_query" in b]
    assert [b["switch_inline_query"] for b in share] == ["What is the LDN Fund?"]  # shares the answered question
    assert texts(calls)[0].startswith("<b>What is the LDN Fund?</b>")
