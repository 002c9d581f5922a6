"""The bot in group chats through the real Application and the offline Bot API."""
from __future__ import annotations

import re

from bot.groups import delivered_with_privacy_mode, groups_for_countries
from bot.offline import BOT_USERNAME
from storage import groups as store
from tests.groups.util import (AFRICA_GROUP, ASIA_GROUP, OTHER_GROUP, add_bot, bot_message, group_say, group_texts,
                               make_admin, restricted_update, set_privacy_mode)
from tests.util import EXPERT_CHAT, FOCAL_KEN, SECRETARIAT, one_text, texts

ADMIN = 4001
MEMBER = 4002


# -- joining, leaving ---------------------------------------------------------------------------

async def test_added_to_a_group_introduces_itself_in_the_adders_language_and_records_it(env):
    calls = await add_bot(env, AFRICA_GROUP, by_user=ADMIN, language_code="fr", title="NDT Afrique")
    intro = one_text(calls, AFRICA_GROUP)
    assert "Bonjour" in intro and "/ask" in intro and "@ldn_tsp_bot" in intro
    row = store.get_group(env.db, AFRICA_GROUP)
    assert (row["lang"], row["title"], row["active"], row["added_by"]) == ("fr", "NDT Afrique", 1, ADMIN)
    assert row["circle"] is None


async def test_removed_or_kicked_means_inactive_and_readding_reactivates(env):
    await add_bot(env, AFRICA_GROUP, by_user=ADMIN)
    await env.process(env.updates.my_chat_member(chat_id=AFRICA_GROUP, by_user=ADMIN, old="member", new="kicked"))
    assert store.get_group(env.db, AFRICA_GROUP)["active"] == 0
    calls = await add_bot(env, AFRICA_GROUP, by_user=ADMIN)
    assert store.get_group(env.db, AFRICA_GROUP)["active"] == 1 and texts(calls, AFRICA_GROUP)


async def test_added_muted_says_nothing_and_is_marked_muted(env):
    calls = await env.process(restricted_update(env, AFRICA_GROUP, old="left", new="restricted"))
    assert texts(calls) == []
    assert store.get_group(env.db, AFRICA_GROUP)["muted"] == 1
    assert groups_for_countries(env.db, ["KEN"], "broadcast") == []
    calls = await env.process(restricted_update(env, AFRICA_GROUP, old="restricted", new="member"))
    assert store.get_group(env.db, AFRICA_GROUP)["muted"] == 0
    assert texts(calls) == []  # not "added": no second introduction


# -- privacy mode --------------------------------------------------------------------------------

async def test_privacy_mode_answers_commands_mentions_and_replies_and_ignores_chatter(env):
    await add_bot(env, AFRICA_GROUP, by_user=ADMIN)
    env.api.clear()
    messages = [
        ("/faq how big was the LDN Fund at launch?", {}, True),
        ("/faq@ldn_tsp_bot how big was the LDN Fund at launch?", {}, True),
        ("/faq@some_other_bot how big was the LDN Fund at launch?", {}, False),
        ("@ldn_tsp_bot how big was the LDN Fund at launch?", {}, True),
        ("how big was the LDN Fund at launch?", {"reply_to": bot_message()}, True),
        ("how big was the LDN Fund at launch?", {}, False),  # chatter: not even delivered
        ("see you all in Konya", {}, False),
    ]
    for text, extra, expect_answer in messages:
        delivered = delivered_with_privacy_mode(text, bot_username=BOT_USERNAME, reply_to_bot="reply_to" in extra)
        calls = await group_say(env, text, chat_id=AFRICA_GROUP, user_id=MEMBER, **extra) if delivered else []
        answered = [c for c in texts(calls, AFRICA_GROUP) if "300" in c]
        assert bool(answered) == expect_answer, text
    # Even when a message is delivered (privacy mode off, e.g. an admin bot), chatter gets silence.
    for text in ("how big was the LDN Fund at launch?", "see you all in Konya", "what time is it?"):
        assert texts(await group_say(env, text, chat_id=AFRICA_GROUP, user_id=MEMBER)) == []


async def test_mention_alone_gets_the_usage_and_other_bots_commands_are_ignored(env):
    calls = await group_say(env, "@ldn_tsp_bot", chat_id=AFRICA_GROUP, user_id=MEMBER)
    assert "/faq" in one_text(calls, AFRICA_GROUP)
    assert texts(await group_say(env, "/settings@other_bot", chat_id=AFRICA_GROUP, user_id=MEMBER)) == []
    assert texts(await group_say(env, "/nonsense", chat_id=AFRICA_GROUP, user_id=MEMBER)) == []


async def test_replies_in_the_experts_chat_are_not_taken_for_questions(env):
    calls = await env.send("how big was the LDN Fund?", user_id=800, chat_id=EXPERT_CHAT, chat_type="supergroup",
                           reply_to=bot_message(chat_id=EXPERT_CHAT))
    assert not any("Source" in text or "300" in text for text in texts(calls))  # the helpdesk's business, not the FAQ's


# -- nothing private in a group --------------------------------------------------------------------

SECRET = "our minister Dr Secretname disputes the Kenya baseline figures"


async def test_ask_in_a_group_offers_a_private_deep_link_and_posts_nothing_of_the_query(env):
    await add_bot(env, AFRICA_GROUP, by_user=ADMIN)
    calls = await group_say(env, f"/ask {SECRET}", chat_id=AFRICA_GROUP, user_id=FOCAL_KEN, first_name="Amina")
    msg = [c for c in calls if c.method == "sendMessage"][-1]
    assert msg.chat_id == AFRICA_GROUP
    assert msg.buttons[0]["url"] == "https://t.me/ldn_tsp_bot?start=ask"
    assert "Secretname" not in msg.text and "Amina" not in msg.text


async def test_no_query_content_in_any_group(env):
    await add_bot(env, AFRICA_GROUP, by_user=ADMIN)
    env.api.clear()
    await env.make_focal_point(FOCAL_KEN, "KEN")
    for text, extra in [(f"/ask {SECRET}", {}), (f"/faq {SECRET}", {}), (f"@ldn_tsp_bot {SECRET}", {}),
                        (SECRET + "?", {"reply_to": bot_message()}), (f"/ask@ldn_tsp_bot {SECRET}", {}),
                        ("/checklist", {}), ("/myqueries", {}), ("/queue", {})]:
        await group_say(env, text, chat_id=AFRICA_GROUP, user_id=FOCAL_KEN, first_name="Amina", **extra)
    posted = [text for text in group_texts(env.api.calls) if text]
    assert posted  # the bot did answer in the group ...
    for text in posted:  # ... but never with the query, the asker's name or a query number
        assert "Secretname" not in text and "baseline figures" not in text and "Amina" not in text
        assert not re.search(r"#\d", text)


async def test_ask_and_answers_can_be_switched_off_per_group(env):
    make_admin(env, AFRICA_GROUP, ADMIN)
    await add_bot(env, AFRICA_GROUP, by_user=ADMIN)
    await env.press(f"v1:grp:feat:{AFRICA_GROUP}:ask:0", user_id=ADMIN, chat_id=AFRICA_GROUP, chat_type="supergroup")
    await env.press(f"v1:grp:feat:{AFRICA_GROUP}:faq:0", user_id=ADMIN, chat_id=AFRICA_GROUP, chat_type="supergroup")
    env.api.clear()
    for text in ("/ask help", "/faq LDN fund size", "@ldn_tsp_bot LDN fund size"):
        await group_say(env, text, chat_id=AFRICA_GROUP, user_id=MEMBER)
    assert texts(env.api.calls) == []


# -- settings, forged buttons -------------------------------------------------------------------------

async def test_settings_only_for_admins_and_the_secretariat(env):
    make_admin(env, AFRICA_GROUP, ADMIN)
    await add_bot(env, AFRICA_GROUP, by_user=ADMIN)
    calls = await group_say(env, "/settings", chat_id=AFRICA_GROUP, user_id=MEMBER)
    assert "Only the group's admins" in one_text(calls) and not calls[-1].buttons
    calls = await group_say(env, "/settings", chat_id=AFRICA_GROUP, user_id=ADMIN)
    data = [b["callback_data"] for b in calls[-1].buttons]
    assert f"v1:grp:lang:{AFRICA_GROUP}:fr" in data and f"v1:grp:feat:{AFRICA_GROUP}:auto:1" in data
    assert f"v1:grp:rem:{AFRICA_GROUP}:workshops:0" in data
    assert "privacy mode" in one_text(calls)
    calls = await group_say(env, "/settings", chat_id=AFRICA_GROUP, user_id=SECRETARIAT)
    assert calls[-1].buttons


async def test_settings_buttons_change_language_features_and_reminder_kinds(env):
    make_admin(env, AFRICA_GROUP, ADMIN)
    await add_bot(env, AFRICA_GROUP, by_user=ADMIN)
    press = dict(user_id=ADMIN, chat_id=AFRICA_GROUP, chat_type="supergroup")
    calls = await env.press(f"v1:grp:lang:{AFRICA_GROUP}:es", **press)
    assert "Configuración" in one_text(calls)
    await env.press(f"v1:grp:rem:{AFRICA_GROUP}:deadlines:0", **press)
    row = store.get_group(env.db, AFRICA_GROUP)
    assert row["lang"] == "es" and row["settings"]["reminders"]["deadlines"] is False
    calls = await group_say(env, "/ask", chat_id=AFRICA_GROUP, user_id=MEMBER, language_code="en")
    assert "privadas" in one_text(calls)  # the group's language, not the sender's


async def test_forged_settings_buttons_change_nothing(env):
    make_admin(env, AFRICA_GROUP, ADMIN)
    await add_bot(env, AFRICA_GROUP, by_user=ADMIN)
    await add_bot(env, ASIA_GROUP, by_user=MEMBER)
    before = {g: store.get_group(env.db, g) for g in (AFRICA_GROUP, ASIA_GROUP)}
    forged = [
        # a member (not admin) presses a real button
        (f"v1:grp:feat:{AFRICA_GROUP}:auto:1", MEMBER, AFRICA_GROUP),
        # an admin of the Africa group aims at the Asia group from a button in the Africa group ...
        (f"v1:grp:feat:{ASIA_GROUP}:auto:1", ADMIN, AFRICA_GROUP),
        # ... or presses in the Asia group, where they are not an admin
        (f"v1:grp:lang:{ASIA_GROUP}:ru", ADMIN, ASIA_GROUP),
        # unknown settings, values, languages
        (f"v1:grp:feat:{AFRICA_GROUP}:root:1", ADMIN, AFRICA_GROUP),
        (f"v1:grp:rem:{AFRICA_GROUP}:workshops:yes", ADMIN, AFRICA_GROUP),
        (f"v1:grp:lang:{AFRICA_GROUP}:xx", ADMIN, AFRICA_GROUP),
        ("v1:grp:lang:notanumber:fr", ADMIN, AFRICA_GROUP),
        ("v1:grp:lang", ADMIN, AFRICA_GROUP),
    ]
    for data, user_id, chat_id in forged:
        calls = await env.press(data, user_id=user_id, chat_id=chat_id, chat_type="supergroup")
        assert any(c.method == "answerCallbackQuery" for c in calls), data
        assert not any(c.method in ("editMessageText", "sendMessage") for c in calls), data
    # a settings button pressed in a private chat
    await env.press(f"v1:grp:feat:{AFRICA_GROUP}:auto:1", user_id=ADMIN)
    after = {g: store.get_group(env.db, g) for g in (AFRICA_GROUP, ASIA_GROUP)}
    for g in before:
        assert (after[g]["settings"], after[g]["lang"]) == (before[g]["settings"], before[g]["lang"])


# -- circles, reminders -----------------------------------------------------------------------------------

async def test_link_is_for_the_secretariat_and_group_admins(env):
    make_admin(env, ASIA_GROUP, ADMIN)
    await add_bot(env, AFRICA_GROUP, by_user=ADMIN)
    calls = await group_say(env, "/link Africa", chat_id=AFRICA_GROUP, user_id=MEMBER)
    assert "Only the group's admins" in one_text(calls)
    assert store.get_group(env.db, AFRICA_GROUP)["circle"] is None
    calls = await group_say(env, "/link Africa", chat_id=AFRICA_GROUP, user_id=SECRETARIAT)
    assert "annex I" in one_text(calls) and "(40 " in one_text(calls)
    assert store.get_group(env.db, AFRICA_GROUP)["circle"] == "annex:I"
    calls = await group_say(env, "/link asia", chat_id=ASIA_GROUP, user_id=ADMIN)
    assert store.get_group(env.db, ASIA_GROUP)["circle"] == "annex:II"
    calls = await group_say(env, "/link atlantis", chat_id=ASIA_GROUP, user_id=ADMIN)
    assert "atlantis" in one_text(calls) and store.get_group(env.db, ASIA_GROUP)["circle"] == "annex:II"
    calls = await group_say(env, "/link", chat_id=ASIA_GROUP, user_id=ADMIN)
    assert "annex II" in one_text(calls)
    calls = await group_say(env, "/link KEN", chat_id=OTHER_GROUP, user_id=SECRETARIAT)
    assert "Kenya" in one_text(calls)
    await group_say(env, "/unlink", chat_id=OTHER_GROUP, user_id=SECRETARIAT)
    assert store.get_group(env.db, OTHER_GROUP)["circle"] is None
    calls = await env.send("/link Africa", user_id=SECRETARIAT)
    assert "group" in one_text(calls)


async def test_a_group_linked_to_a_region_receives_its_reminder_and_another_does_not(env):
    for chat_id in (AFRICA_GROUP, ASIA_GROUP, OTHER_GROUP):
        await add_bot(env, chat_id, by_user=ADMIN)
    await group_say(env, "/link Africa", chat_id=AFRICA_GROUP, user_id=SECRETARIAT)
    await group_say(env, "/link asia", chat_id=ASIA_GROUP, user_id=SECRETARIAT)
    env.api.clear()
    services = env.services
    africa = services.countries.resolve_circle("Africa")[1]
    recipients = await services.store.run(groups_for_countries, africa, "workshops")
    assert [r["chat_id"] for r in recipients] == [AFRICA_GROUP]
    for row in recipients:
        await services.deliverer.send_now(env.app.bot, kind="reminder", ref="workshop-konya", chat_id=row["chat_id"],
                                          method="sendMessage", payload={"text": "Konya workshop in 7 days"})
    assert [c.chat_id for c in env.api.sent("sendMessage")] == [AFRICA_GROUP]


# -- migration, 403, 400 ----------------------------------------------------------------------------------

async def test_supergroup_migration_keeps_the_settings(env):
    old, new = -4000001, -1004000001
    make_admin(env, old, ADMIN)
    await add_bot(env, old, by_user=ADMIN, language_code="ru")
    await env.send("/link pilots", user_id=SECRETARIAT, chat_id=old, chat_type="group")
    await env.press(f"v1:grp:rem:{old}:broadcast:0", user_id=ADMIN, chat_id=old, chat_type="group")
    # Telegram announces the upgrade in the old group and in the new supergroup.
    await env.process(env.updates.message(None, user_id=ADMIN, chat_id=old, chat_type="group", migrate_to_chat_id=new))
    await env.process(env.updates.message(None, user_id=ADMIN, chat_id=new, chat_type="supergroup",
                                          migrate_from_chat_id=old))
    assert store.get_group(env.db, old) is None
    row = store.get_group(env.db, new)
    assert (row["circle"], row["lang"], row["settings"]["reminders"]["broadcast"]) == ("pilots", "ru", False)
    calls = await group_say(env, "/ask", chat_id=new, user_id=MEMBER, language_code="en")
    assert "конфиденциальны" in one_text(calls)


async def test_a_ledger_send_that_hits_chat_migrated_moves_the_group(env):
    old, new = -4000002, -1004000002
    await add_bot(env, old, by_user=ADMIN)
    await env.send("/link Africa", user_id=SECRETARIAT, chat_id=old, chat_type="group")
    env.api.fail_next("sendMessage", 400, "Bad Request: group chat was upgraded to a supergroup chat",
                      migrate_to_chat_id=new)
    outcome = await env.services.deliverer.send_now(env.app.bot, kind="broadcast", ref="b1", chat_id=old,
                                                    method="sendMessage", payload={"text": "hello"})
    assert outcome.status == "sent"
    assert env.api.last("sendMessage").chat_id == new
    assert store.get_group(env.db, new)["circle"] == "annex:I"
    assert [r["chat_id"] for r in groups_for_countries(env.db, ["KEN"], "broadcast")] == [new]


async def test_reply_to_a_migrated_group_goes_to_the_new_chat(env):
    old, new = -4000003, -1004000003
    await add_bot(env, old, by_user=ADMIN)
    env.api.fail_next("sendMessage", 400, "Bad Request: group chat was upgraded to a supergroup chat",
                      migrate_to_chat_id=new)
    calls = await env.send("/ask", user_id=MEMBER, chat_id=old, chat_type="group")
    assert calls[-1].chat_id == new and store.get_group(env.db, new) is not None


async def test_forbidden_and_muted_groups_do_not_crash_or_get_retried(env):
    await add_bot(env, AFRICA_GROUP, by_user=ADMIN)
    await add_bot(env, ASIA_GROUP, by_user=ADMIN)
    await group_say(env, "/link Africa", chat_id=AFRICA_GROUP, user_id=SECRETARIAT)
    await group_say(env, "/link Africa", chat_id=ASIA_GROUP, user_id=SECRETARIAT)
    # 400: the bot may no longer write in the Asia group
    env.api.fail_next("sendMessage", 400, "Bad Request: not enough rights to send text messages to the chat")
    calls = await group_say(env, "/ask", chat_id=ASIA_GROUP, user_id=MEMBER)
    assert [c.method for c in calls].count("sendMessage") == 1  # tried once, no retry storm, no error message
    assert store.get_group(env.db, ASIA_GROUP)["muted"] == 1
    # 403: kicked from the Africa group (the membership update may come later or never)
    env.api.fail_next("sendMessage", 403, "Forbidden: bot was kicked from the supergroup chat")
    calls = await group_say(env, "/faq LDN fund size", chat_id=AFRICA_GROUP, user_id=MEMBER)
    assert [c.method for c in calls].count("sendMessage") == 1
    assert store.get_group(env.db, AFRICA_GROUP)["active"] == 0
    assert groups_for_countries(env.db, ["KEN"], "broadcast") == []
    # a 403 on a ledger send is final too
    await add_bot(env, AFRICA_GROUP, by_user=ADMIN)
    env.api.fail_next("sendMessage", 403, "Forbidden: bot was kicked from the supergroup chat")
    outcome = await env.services.deliverer.send_now(env.app.bot, kind="broadcast", ref="b2", chat_id=AFRICA_GROUP,
                                                    method="sendMessage", payload={"text": "hello"})
    assert outcome.status == "blocked" and outcome.retries == 0
    # once the bot can write again, the group is unmuted
    await group_say(env, "/ask", chat_id=ASIA_GROUP, user_id=MEMBER)
    assert store.get_group(env.db, ASIA_GROUP)["muted"] == 0


async def test_have_no_rights_mutes_the_group_on_every_sending_path(env):
    """A group post and a ledger send read the same error the same way (bot.telegram_errors):
    "have no rights", even as a 403, means the bot is in the group but may not write: muted."""
    await add_bot(env, AFRICA_GROUP, by_user=ADMIN)
    await group_say(env, "/link Africa", chat_id=AFRICA_GROUP, user_id=SECRETARIAT)
    env.api.fail_next("sendMessage", 403, "Forbidden: bot have no rights to send a message")
    calls = await group_say(env, "/ask", chat_id=AFRICA_GROUP, user_id=MEMBER)
    assert [c.method for c in calls].count("sendMessage") == 1
    row = store.get_group(env.db, AFRICA_GROUP)
    assert (row["muted"], row["active"]) == (1, 1)
    await group_say(env, "/ask", chat_id=AFRICA_GROUP, user_id=MEMBER)  # it may write again
    assert store.get_group(env.db, AFRICA_GROUP)["muted"] == 0
    env.api.fail_next("sendMessage", 403, "Forbidden: bot have no rights to send a message")
    outcome = await env.services.deliverer.send_now(env.app.bot, kind="broadcast", ref="b3", chat_id=AFRICA_GROUP,
                                                    method="sendMessage", payload={"text": "hello"})
    assert outcome.retries == 0
    row = store.get_group(env.db, AFRICA_GROUP)
    assert (row["muted"], row["active"]) == (1, 1)
    # a bad request that says nothing about the group changes nothing and is not swallowed
    await group_say(env, "/ask", chat_id=AFRICA_GROUP, user_id=MEMBER)
    env.api.fail_next("sendMessage", 400, "Bad Request: message text is empty")
    await group_say(env, "/ask", chat_id=AFRICA_GROUP, user_id=MEMBER)
    row = store.get_group(env.db, AFRICA_GROUP)
    assert (row["muted"], row["active"]) == (0, 1)


# -- auto-answers ----------------------------------------------------------------------------------------

async def test_auto_answers_need_an_admin_privacy_off_confidence_and_respect_the_rate_limit(env):
    make_admin(env, AFRICA_GROUP, ADMIN)
    await add_bot(env, AFRICA_GROUP, by_user=ADMIN)
    question = "How big was the LDN Fund at launch?"
    await env.press(f"v1:grp:feat:{AFRICA_GROUP}:auto:1", user_id=ADMIN, chat_id=AFRICA_GROUP, chat_type="supergroup")
    assert store.get_group(env.db, AFRICA_GROUP)["settings"]["features"]["auto"] is True
    # privacy mode on: the bot would not even receive it; if it does (admin), still silence
    assert texts(await group_say(env, question, chat_id=AFRICA_GROUP, user_id=MEMBER)) == []
    await set_privacy_mode(env, on=False)
    calls = await group_say(env, question, chat_id=AFRICA_GROUP, user_id=MEMBER)
    answer = one_text(calls, AFRICA_GROUP)
    assert "300" in answer and "/settings" in answer
    assert calls[-1].params.get("reply_parameters")
    # rate limit: at most one automatic answer per 10 minutes per group
    env.clock.advance(minutes=5)
    assert texts(await group_say(env, question, chat_id=AFRICA_GROUP, user_id=MEMBER)) == []
    env.clock.advance(minutes=6)
    assert "300" in one_text(await group_say(env, question, chat_id=AFRICA_GROUP, user_id=MEMBER))
    env.clock.advance(minutes=30)
    for chatter in ("LDN fund at launch", "thanks, the fund was 300 million", "anyone hungry? 🍕", "bitcoin price?"):
        assert texts(await group_say(env, chatter, chat_id=AFRICA_GROUP, user_id=MEMBER)) == [], chatter
    # off again: silence
    await env.press(f"v1:grp:feat:{AFRICA_GROUP}:auto:0", user_id=ADMIN, chat_id=AFRICA_GROUP, chat_type="supergroup")
    env.clock.advance(minutes=30)
    assert texts(await group_say(env, question, chat_id=AFRICA_GROUP, user_id=MEMBER)) == []


async def test_auto_answer_settings_come_from_config(env):
    from bot.groups import settings_of

    assert settings_of(env.services.config.section("groups")) == {"auto_answer_minutes": 10, "auto_answer_threshold": 0.75,
                                         "auto_answer_margin": 0.1}


async def test_chatter_creates_no_user_rows(env):
    await set_privacy_mode(env, on=False)
    await group_say(env, "good morning everyone", chat_id=AFRICA_GROUP, user_id=4999)
    from storage import users

    assert users.get_user(env.db, 4999) is None


async def test_an_anonymous_admin_posting_as_the_group_may_open_settings(env):
    await add_bot(env, AFRICA_GROUP, by_user=ADMIN)
    group_chat = {"id": AFRICA_GROUP, "type": "supergroup", "title": "Group"}
    calls = await env.send("/settings", user_id=1087968824, chat_id=AFRICA_GROUP, chat_type="supergroup",
                           first_name="Group", sender_chat=group_chat)
    assert calls[-1].buttons
    other_chat = {"id": -1009999, "type": "channel", "title": "Some channel"}
    calls = await env.send("/settings", user_id=136817688, chat_id=AFRICA_GROUP, chat_type="supergroup",
                           first_name="Channel", sender_chat=other_chat)
    assert not calls[-1].buttons


async def test_startup_loads_group_languages_and_hooks_migrations_once(env):
    from handlers import groups as feature

    await add_bot(env, AFRICA_GROUP, by_user=ADMIN, language_code="ar")
    env.app.chat_data[AFRICA_GROUP].clear()
    hook = env.services.deliverer.on_migrate
    await feature.on_startup(env.app)
    assert env.app.chat_data[AFRICA_GROUP]["lang"] == "ar"
    assert env.services.deliverer.on_migrate is hook  # not wrapped twice
