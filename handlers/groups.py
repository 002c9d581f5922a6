"""The bot in group chats: introduction, /settings, /link, "Ask privately", answers to /faq,
mentions and replies (privacy mode on), optional auto-answers (privacy mode off);
membership, migration and mute bookkeeping. A group admin's /settings, /link and /unlink are
:mod:`handlers.group_settings`; the private peer directory (/directory, /peers) is
:mod:`handlers.directory`.

Nothing private is ever posted in a group: /ask in a group only offers a deep link to a
private chat, and the question typed after it is neither echoed nor stored. Ordinary
chatter is not stored either, and its authors get no user row.
"""
from __future__ import annotations

import logging
from typing import Any, Awaitable

from telegram import ReplyParameters, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, TelegramError
from telegram.ext import ChatMemberHandler, CommandHandler, MessageHandler, filters

from bot import groups as rules
from bot.i18n import normalise_lang
from bot.telegram_errors import SendError, classify
from handlers import faq as faq_handlers
from handlers.common import (GROUP_COMMANDS, GROUP_TEXT, GROUP_TEXT_MESSAGE, GROUP_TRACK, MAX_QUESTION, Context, group_lang,
                             keyboard, reply, svc)
from knowledge.vocabulary import GroupFeature

log = logging.getLogger("ldn.handlers.groups")

GROUP_CHAT_TYPES = ("group", "supergroup")
IN_CHAT = ("member", "administrator", "creator")


# -- small helpers --------------------------------------------------------------------------

def is_group(update: Update) -> bool:
    chat = update.effective_chat
    return chat is not None and chat.type in GROUP_CHAT_TYPES


def _is_expert_chat(context: Context, chat_id: int) -> bool:
    return chat_id == svc(context).config.expert_chat_id


def _in_chat(member) -> bool:
    if member is None:
        return False
    if member.status in IN_CHAT:
        return True
    return member.status == "restricted" and bool(getattr(member, "is_member", False))


def _can_send(member) -> bool:
    if member is None or member.status != "restricted":
        return True
    return bool(getattr(member, "can_send_messages", False))


def cache_lang(application, row: dict | None) -> None:
    """Keep the group's language in chat_data, where ``handlers.common.group_lang`` reads it."""
    if not row:
        return
    data = application.chat_data[row["chat_id"]]
    if row.get("lang"):
        data["lang"] = row["lang"]
    else:
        data.pop("lang", None)


async def load_group(update: Update, context: Context) -> dict | None:
    """The group's row (created if the bot was added before it kept track of groups)."""
    chat = update.effective_chat
    if chat is None or chat.type not in GROUP_CHAT_TYPES:
        return None
    services = svc(context)
    row = await services.store.run(rules.heard_from, chat.id, title=chat.title, chat_type=chat.type, now=services.clock.now())
    cache_lang(context.application, row)
    return row


def lang_of(update: Update, context: Context, row: dict | None) -> str:
    """Language of what the bot posts in a group: the group's setting, else the sender's."""
    if row and row.get("lang"):
        return row["lang"]
    return group_lang(update, context, svc(context).config.default_language)


def circle_label(services, circle: str | None, lang: str) -> str:
    if not circle:
        return services.t(lang, "groups.not_linked")
    if circle.startswith("annex:"):
        return services.t(lang, "groups.circle.annex", annex=circle[len("annex:"):])
    if circle == "pilots":
        return services.t(lang, "groups.circle.pilots")
    if circle == "all":
        return services.t(lang, "groups.circle.all")
    if circle.startswith("group:"):
        return services.t(lang, "groups.circle.group", group=circle[len("group:"):])
    return services.countries.name(circle, lang)


# -- sending in a group without crashing or retrying into a wall ------------------------------

async def migrate(application, old_id: int, new_id: int) -> dict | None:
    """A group became a supergroup: move its row and its chat_data to the new id."""
    services = application.bot_data["services"]
    row = await services.store.run(rules.migrate, old_id, new_id, services.clock.now())
    if old_id in application.chat_data and old_id != new_id:
        application.migrate_chat_data(old_chat_id=old_id, new_chat_id=new_id)
    cache_lang(application, row)
    log.info("group.migrated", extra={"old": old_id, "new": new_id})
    return row


async def _on_send_error(context: Context, chat_id: int, exc: TelegramError) -> int | None:
    """Book-keep a failed send to a group (what it means is :func:`bot.telegram_errors.classify`'s
    answer, as on every other sending path); return the new chat id after a migration.
    An error that says nothing about the group (a bad request, the network) is raised again."""
    error = classify(exc)
    if error.kind is SendError.MIGRATED and error.new_chat_id is not None:
        await migrate(context.application, chat_id, error.new_chat_id)
        return error.new_chat_id
    services = svc(context)
    if not await services.store.run(rules.note_send_error, chat_id, error.kind, services.clock.now()):
        raise exc
    log.info(f"group.{error.kind}", extra={"chat": chat_id, "reason": error.reason})
    return None


async def guard(update: Update, context: Context, action: Awaitable[Any], row: dict | None = None) -> bool:
    """Run ``action`` (which posts in the group); on 403/400/migration, note it and carry on."""
    chat = update.effective_chat
    try:
        await action
    except (Forbidden, BadRequest, ChatMigrated) as exc:
        if chat is None:  # not a chat's update: no group to note it for
            raise
        await _on_send_error(context, chat.id, exc)
        return False
    if chat is not None:
        await _unmute(context, chat.id, row)
    return True


async def _unmute(context: Context, chat_id: int, row: dict | None) -> None:
    """A post went through: a group marked muted (the bot could not write) is no longer."""
    if row and row.get("muted"):
        services = svc(context)
        await services.store.run(rules.unmute, chat_id, services.clock.now())


async def say(update: Update, context: Context, text: str, *, markup=None, row: dict | None = None,
              reply_to: int | None = None) -> bool:
    """Post in the chat of ``update``; a group that migrated gets the message at its new id."""
    if update.effective_chat is None:
        return False  # no chat to post in
    chat_id = update.effective_chat.id

    async def send(target: int) -> None:
        if reply_to is None and target == chat_id:
            await reply(update, context, text, markup=markup)
            return
        kwargs: dict[str, Any] = {"parse_mode": ParseMode.HTML, "reply_markup": markup}
        message = update.effective_message
        if message is not None and message.is_topic_message and message.message_thread_id:
            kwargs["message_thread_id"] = message.message_thread_id
        if reply_to is not None and target == chat_id:
            kwargs["reply_parameters"] = ReplyParameters(message_id=reply_to, allow_sending_without_reply=True)
        await context.bot.send_message(target, text, **kwargs)

    try:
        await send(chat_id)
    except ChatMigrated as exc:
        new_id = await _on_send_error(context, chat_id, exc)
        if new_id is None:
            return False
        try:
            await send(new_id)
        except TelegramError:
            return False
        return True
    except (Forbidden, BadRequest) as exc:
        if not is_group(update):
            raise
        await _on_send_error(context, chat_id, exc)
        return False
    await _unmute(context, chat_id, row)
    return True


# -- membership and migration (GROUP_TRACK: bookkeeping only) ------------------------------------

class GroupMembershipHandler(ChatMemberHandler):
    """The bot's own membership changes in groups and supergroups (not private chats, channels)."""

    def __init__(self, callback, *, added_only: bool = False):
        super().__init__(callback, ChatMemberHandler.MY_CHAT_MEMBER)
        self.added_only = added_only

    def check_update(self, update: object) -> bool:
        if not super().check_update(update) or not isinstance(update, Update):
            return False
        change = update.my_chat_member
        if change is None or change.chat.type not in GROUP_CHAT_TYPES:
            return False
        if self.added_only:
            return not _in_chat(change.old_chat_member) and _in_chat(change.new_chat_member)
        return True


async def track_membership(update: Update, context: Context) -> None:
    """Added → record (lang from who added it); removed/kicked → inactive; restricted → muted."""
    change = update.my_chat_member
    if change is None:
        return
    chat, adder = change.chat, change.from_user
    services = svc(context)
    membership = rules.Membership(
        chat_id=chat.id, title=chat.title, chat_type=chat.type, was_in=_in_chat(change.old_chat_member),
        is_in=_in_chat(change.new_chat_member), can_send=_can_send(change.new_chat_member),
        added_by=adder.id if adder else None, adder_language_code=adder.language_code if adder else None,
        adder_is_person=adder is not None and not adder.is_bot)
    row = await services.store.run(rules.membership_changed, membership, default_lang=services.config.default_language,
                                   now=services.clock.now())
    if row is None:
        log.info("group.removed", extra={"chat": chat.id, "status": change.new_chat_member.status})
        return
    if not membership.was_in:
        log.info("group.added", extra={"chat": chat.id, "muted": not membership.can_send})
    cache_lang(context.application, row)


async def introduce(update: Update, context: Context) -> None:
    """GROUP_COMMANDS: the bot was just added (and may speak): a short introduction."""
    change = update.my_chat_member
    if change is None or not _can_send(change.new_chat_member) or _is_expert_chat(context, change.chat.id):
        return
    services = svc(context)
    row = await services.store.run(rules.group, change.chat.id)
    lang = (row or {}).get("lang") or normalise_lang(change.from_user.language_code if change.from_user else None,
                                                     services.config.default_language)
    await say(update, context, services.t(lang, "groups.intro", bot=services.bot_username), row=row)


async def on_migration_message(update: Update, context: Context) -> None:
    """Telegram announces a group → supergroup upgrade in both chats; either one moves the row."""
    message = update.effective_message
    if message is None:
        return
    if message.migrate_to_chat_id:
        old_id, new_id = message.chat.id, message.migrate_to_chat_id
    elif message.migrate_from_chat_id:
        old_id, new_id = message.migrate_from_chat_id, message.chat.id
    else:
        return
    await migrate(context.application, old_id, new_id)


# -- commands in groups ------------------------------------------------------------------------

async def ask_in_group(update: Update, context: Context) -> None:
    """/ask in a group: never take the question here; offer a private chat instead."""
    row = await load_group(update, context)
    if row is None or not rules.feature_on(row["settings"], GroupFeature.ASK):
        return
    services = svc(context)
    lang = lang_of(update, context, row)
    markup = keyboard([[(services.t(lang, "button.ask_privately"), services.deep_link("ask"))]])
    log.info("group.ask_redirected", extra={"chat": row["chat_id"]})  # no user, no text: nothing about the query
    await say(update, context, services.t(lang, "groups.ask_privately"), markup=markup, row=row)


async def faq_in_group(update: Update, context: Context) -> None:
    """/faq in a group: the FAQ feature answers, unless the group switched answers off."""
    row = await load_group(update, context)
    if row is None or not rules.feature_on(row["settings"], GroupFeature.FAQ):
        return
    await guard(update, context, faq_handlers.faq_command(update, context), row)


# -- text in groups: mentions, replies to the bot, auto-answers -----------------------------------

def _replies_to_bot(message, bot_id: int) -> bool:
    replied = message.reply_to_message
    if replied is None or replied.from_user is None or replied.from_user.id != bot_id:
        return False
    # In forum topics every message "replies" to the topic's first message: that is no reply.
    return replied.forum_topic_created is None


async def group_text(update: Update, context: Context) -> None:
    """GROUP_TEXT: a mention of the bot or a reply to its message is a question; any other
    message is silence, unless auto-answers are on (and privacy mode is off)."""
    message = update.effective_message
    chat = update.effective_chat
    if message is None or chat is None or _is_expert_chat(context, chat.id):
        return
    text = message.text or ""
    username = context.bot.username
    if rules.mentions(text, username) or _replies_to_bot(message, context.bot.id):
        row = await load_group(update, context)
        if row is None or not rules.feature_on(row["settings"], GroupFeature.FAQ):
            return
        question = rules.strip_mention(text, username)
        if not question:
            lang = lang_of(update, context, row)
            await say(update, context, svc(context).t(lang, "faq.usage_group"), row=row)
            return
        await guard(update, context, faq_handlers.answer_question(update, context, question), row)
        return
    await maybe_auto_answer(update, context, text)


async def maybe_auto_answer(update: Update, context: Context, text: str) -> None:
    """Ordinary chatter: silence, except a confident FAQ match to a question when an admin
    turned auto-answers on, privacy mode is off, and the group's rate limit allows."""
    if not context.bot.can_read_all_group_messages or not rules.is_question_like(text):
        return
    row = await load_group(update, context)
    if row is None or not rules.feature_on(row["settings"], GroupFeature.AUTO_ANSWER) or not row.get("active"):
        return
    services = svc(context)
    engine = services.search
    if engine is None:
        return
    cfg = rules.settings_of(services.config.section("groups"))
    chat_id = row["chat_id"]
    decision, hit = await services.store.run(rules.auto_answer, engine, chat_id, text[:MAX_QUESTION], services.clock.now(), cfg)
    if hit is None:
        log.debug("group.auto_silent", extra={"chat": chat_id, "reason": decision.reason})
        return
    lang = lang_of(update, context, row)
    log.info("group.auto_answer", extra={"chat": chat_id, "entry": hit.id, "score": round(hit.score, 3)})
    body = faq_handlers.render_answer(services, hit.entry, lang) + "\n\n" + services.t(lang, "groups.auto_note")
    message = update.effective_message
    await say(update, context, body, row=row, reply_to=message.message_id if message else None)


# -- wiring --------------------------------------------------------------------------------------

async def on_startup(application) -> None:
    """Route the Deliverer's ChatMigrated to :func:`migrate`; load group languages into chat_data."""
    services = application.bot_data["services"]
    previous = services.deliverer.on_migrate
    if not getattr(previous, "_groups_hook", False):
        async def on_migrate(old_id: int, new_id: int) -> None:
            if previous is not None:
                await previous(old_id, new_id)
            await migrate(application, old_id, new_id)

        on_migrate._groups_hook = True  # type: ignore[attr-defined]
        services.deliverer.on_migrate = on_migrate
    for row in await services.store.run(rules.active_groups):
        if row.get("lang"):
            cache_lang(application, row)


def handlers():
    groups = filters.ChatType.GROUPS
    group_text_filter = GROUP_TEXT_MESSAGE
    return [
        (GROUP_TRACK, GroupMembershipHandler(track_membership)),
        (GROUP_TRACK, MessageHandler(filters.StatusUpdate.MIGRATE, on_migration_message)),
        (GROUP_COMMANDS, GroupMembershipHandler(introduce, added_only=True)),
        (GROUP_COMMANDS, CommandHandler("ask", ask_in_group, filters=groups)),
        (GROUP_COMMANDS, CommandHandler("faq", faq_in_group, filters=groups)),
        (GROUP_TEXT, MessageHandler(group_text_filter, group_text)),
    ]


__all__ = ["handlers", "on_startup", "migrate", "load_group", "lang_of", "say", "guard", "cache_lang", "circle_label",
           "is_group", "GROUP_CHAT_TYPES"]
