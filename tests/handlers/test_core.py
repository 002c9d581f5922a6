"""The first conversations, through the real Application and the offline Bot API."""
from __future__ import annotations

import pytest

from bot import invites
from storage import users
from tests.util import GUEST, SECRETARIAT, one_text


async def test_start_welcomes_in_the_users_language(env):
    calls = await env.send("/start", user_id=GUEST, language_code="fr")
    text = one_text(calls, GUEST)
    assert "Bonjour" in text and "neutralité" in text
    calls = await env.send("/start", user_id=GUEST + 1, language_code="pt-br")  # not a UN language: English
    assert "Hello" in one_text(calls)


async def test_language_choice_is_persisted(env):
    calls = await env.send("/language", user_id=GUEST)
    labels = [b["text"] for b in calls[-1].buttons]
    assert labels == ["English", "Français", "Español", "Русский", "العربية", "中文"]
    calls = await env.press("v1:lang:ar", user_id=GUEST)
    assert "العربية" in one_text(calls)
    row = users.get_user(env.db, GUEST)
    assert row["lang"] == "ar"
    calls = await env.send("/help", user_id=GUEST, language_code="en")
    assert "ما يمكنني فعله" in one_text(calls)


async def test_forged_language_button_changes_nothing(env):
    await env.send("/start", user_id=GUEST)
    calls = await env.press("v1:lang:xx", user_id=GUEST)
    assert users.get_user(env.db, GUEST)["lang"] is None
    assert any(c.method == "answerCallbackQuery" for c in calls)


async def test_invite_binds_focal_point_once(env):
    token, _ = invites.create_invite(env.db, "KEN", SECRETARIAT, env.clock.now(), 14)
    calls = await env.send(f"/start {token}", user_id=501)
    assert "Kenya" in one_text(calls)
    row = users.get_user(env.db, 501)
    assert (row["role"], row["country"]) == ("focal_point", "KEN")
    calls = await env.send(f"/start {token}", user_id=502)
    assert "already been used" in one_text(calls)
    assert users.get_user(env.db, 502)["role"] is None
    calls = await env.send("/whoami", user_id=501)
    assert "national focal point" in one_text(calls) and "Kenya" in one_text(calls)


async def test_expired_and_forged_invites_bind_nothing(env):
    token, _ = invites.create_invite(env.db, "KEN", SECRETARIAT, env.clock.now(), 1)
    env.clock.advance(days=2)
    calls = await env.send(f"/start {token}", user_id=503)
    assert "expired" in one_text(calls)
    calls = await env.send("/start iAAAAAAAAAAAAAAAAAAAAAAAAAAA", user_id=503)
    assert "not valid" in one_text(calls)
    calls = await env.send("/start <script>", user_id=503)
    assert "not valid" in one_text(calls)
    assert users.get_user(env.db, 503)["role"] is None


async def test_invite_command_is_for_the_secretariat(env):
    calls = await env.send("/invite KEN", user_id=GUEST)
    assert "not allowed" in one_text(calls)
    calls = await env.send("/invite KEN", user_id=SECRETARIAT)
    text = one_text(calls)
    assert "https://t.me/ldn_tsp_bot?start=i" in text and "Kenya" in text
    calls = await env.send("/invite XYZ", user_id=SECRETARIAT)
    assert "XYZ" in one_text(calls)


async def test_help_depends_on_role(env):
    guest = one_text(await env.send("/help", user_id=GUEST))
    assert "/queue" not in guest and "invitation" in guest
    sec = one_text(await env.send("/help", user_id=SECRETARIAT))
    assert "/queue" in sec and "/invite" in sec


async def test_unknown_command_in_private_and_silence_in_group(env):
    assert "do not know that command" in one_text(await env.send("/frobnicate", user_id=GUEST))
    calls = await env.send("/frobnicate", user_id=GUEST, chat_id=-100777, chat_type="supergroup")
    assert [c for c in calls if c.method == "sendMessage"] == []
    calls = await env.send("/frobnicate@other_bot", user_id=GUEST, chat_id=-100777, chat_type="supergroup")
    assert [c for c in calls if c.method == "sendMessage"] == []


async def test_commands_are_found_by_name_in_every_form(env):
    """Commands go through one look-up by name (handlers/router.py): upper case, the
    bot's @name reach the same handler; another bot's command gets no answer;
    two handlers of one name (/faq in groups and in private) still split by chat type."""
    plain = one_text(await env.send("/help", user_id=GUEST))
    assert "/faq" in plain
    assert one_text(await env.send("/HELP", user_id=GUEST)) == plain
    assert one_text(await env.send("/help@ldn_tsp_bot", user_id=GUEST)) == plain
    assert [c for c in await env.send("/help@other_bot", user_id=GUEST) if c.method == "sendMessage"] == []
    private = [c for c in await env.send("/faq LDN fund size", user_id=GUEST) if c.method == "sendMessage"][-1]
    assert "300" in private.text and any("fb" in (b.get("callback_data") or "") for b in private.buttons)
    group = [c for c in await env.send("/faq LDN fund size", user_id=GUEST, chat_id=-100555, chat_type="supergroup")
             if c.method == "sendMessage"][-1]
    assert "300" in group.text and not any("fb" in (b.get("callback_data") or "") for b in group.buttons)


@pytest.mark.parametrize("kind", ["sticker", "voice", "location"])
async def test_media_the_bot_cannot_read_gets_a_short_answer(env, kind):
    media = {
        "sticker": {"sticker": {"file_id": "s", "file_unique_id": "s", "width": 1, "height": 1, "is_animated": False, "is_video": False, "type": "regular"}},
        "voice": {"voice": {"file_id": "v", "file_unique_id": "v", "duration": 2}},
        "location": {"location": {"latitude": 1.0, "longitude": 2.0}},
    }[kind]
    update = env.updates.message(None, user_id=GUEST, **media)
    calls = await env.process(update)
    assert "only read text" in one_text(calls)


async def test_edited_messages_are_ignored_quietly(env):
    calls = await env.process(env.updates.edited("what is ldn", user_id=GUEST))
    assert [c for c in calls if c.method == "sendMessage"] == []


async def test_stale_or_foreign_button_gets_an_answer(env):
    calls = await env.press("v0:something:old", user_id=GUEST)
    answers = [c for c in calls if c.method == "answerCallbackQuery"]
    assert answers and "out of date" in answers[0].params.get("text", "")


async def test_long_replies_are_split_at_paragraphs(env):
    from handlers.common import split_message

    text = "\n\n".join(("paragraph %d " % i) + "x" * 900 for i in range(10))
    parts = split_message(text)
    assert len(parts) > 1 and all(len(p) <= 4096 for p in parts)
    assert all(p.startswith("paragraph") for p in parts)
    assert "".join(parts).replace("\n", "") == text.replace("\n", "")
    huge = "y" * 10000
    assert all(len(p) <= 4096 for p in split_message(huge)) and "".join(split_message(huge)) == huge


async def test_command_menus_are_registered_per_scope_and_language(config, clock):
    from bot.app import build_application
    from bot.offline import OfflineBotAPI

    api = OfflineBotAPI()
    app = build_application(config, request=api, clock=clock, rate_limit=False)
    await app.initialize()
    await app.post_init(app)
    calls = api.sent("setMyCommands")
    scopes = {(c.params["scope"]["type"], c.params.get("language_code")) for c in calls}
    for lang in (None, "fr", "es", "ru", "ar", "zh"):
        assert ("all_private_chats", lang) in scopes and ("all_group_chats", lang) in scopes
    assert any(c.params["scope"] == {"type": "chat", "chat_id": SECRETARIAT} for c in calls)
    private_fr = next(c for c in calls if c.params["scope"]["type"] == "all_private_chats" and c.params.get("language_code") == "fr")
    names = [cmd["command"] for cmd in private_fr.params["commands"]]
    assert {"faq", "checklist", "language"} <= set(names) and "ask" not in names  # helpdesk.visitors: register
    assert any("Changer de langue" == cmd["description"] for cmd in private_fr.params["commands"])
    await app.shutdown()
    app.bot_data["services"].store.close()
