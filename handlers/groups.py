"""The bot in group chats: introduction, /settings, /link, "Ask privately", answers to /faq,
mentions and replies (privacy mode on), optional auto-answers (privacy mode off);
membership, migration and mute bookkeeping; the peer directory (/directory, /peers).

Nothing private is ever posted in a group: /ask in a group only offers a deep link to a
private chat, and the question typed after it is neither echoed nor stored. Ordinary
chatter is not stored either, and its authors get no user row.
"""
from __future__ import annotations

import html
import logging
from typing import Any, Awaitable

from telegram import ReplyParameters, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, TelegramError
from telegram.ext import CallbackQueryHandler, ChatMemberHandler, CommandHandler, MessageHandler, filters

from bot import groups as rules
from bot.i18n import LANG_NAMES, LANGS, normalise_lang
from handlers import faq as faq_handlers
from handlers.common import (GROUP_COMMANDS, authorised, GROUP_TEXT, GROUP_TEXT_MESSAGE, GROUP_TRACK, MAX_QUESTION, Context, answer_button, cb,
                             edit_or_reply, group_lang, keyboard, parse_cb, person, reply, svc, t)
from storage import faq as faq_store
from storage import groups as store
from storage import users

log = logging.getLogger("ldn.handlers.groups")

GROUP_CHAT_TYPES = ("group", "supergroup")
IN_CHAT = ("member", "administrator", "creator")
_ANONYMOUS_ADMIN_BOT = 1087968824  # "GroupAnonymousBot": messages of anonymous admins come from it
_MUTED_ERRORS = ("not enough rights", "have no rights", "chat_write_forbidden", "need administrator rights",
                 "chat_restricted", "topic_closed")
_GONE_ERRORS = ("chat not found", "group chat was deactivated", "peer_id_invalid")


# -- configuration ------------------------------------------------------------------------

def settings_of(services) -> dict:
    """The ``groups`` config section with defaults (bad values fall back to the defaults)."""
    section = services.config.section("groups")

    def number(key: str, default: float) -> float:
        try:
            value = float(section.get(key, default))
        except (TypeError, ValueError):
            return default
        return value if value >= 0 else default

    return {
        "auto_answer_minutes": number("auto_answer_minutes", rules.DEFAULT_AUTO_MINUTES),
        "auto_answer_threshold": number("auto_answer_threshold", rules.DEFAULT_AUTO_THRESHOLD),
        "auto_answer_margin": number("auto_answer_margin", rules.DEFAULT_AUTO_MARGIN),
    }


# -- small helpers --------------------------------------------------------------------------

def _is_group(update: Update) -> bool:
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


def _cache(application, row: dict | None) -> None:
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
    row = await services.store.run(store.touch_group, chat.id, title=chat.title, chat_type=chat.type, lang=None,
                                   now=services.clock.now())
    _cache(context.application, row)
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
    row = await services.store.run(store.migrate_group, old_id, new_id, services.clock.now())
    if old_id in application.chat_data and old_id != new_id:
        application.migrate_chat_data(old_chat_id=old_id, new_chat_id=new_id)
    _cache(application, row)
    log.info("group.migrated", extra={"old": old_id, "new": new_id})
    return row


async def _on_send_error(context: Context, chat_id: int, exc: TelegramError) -> int | None:
    """Book-keep a failed send to a group; return the new chat id after a migration."""
    services = svc(context)
    now = services.clock.now()
    if isinstance(exc, ChatMigrated):
        await migrate(context.application, chat_id, exc.new_chat_id)
        return exc.new_chat_id
    if isinstance(exc, Forbidden):
        await services.store.run(store.mark_group_inactive, chat_id, now)
        log.info("group.forbidden", extra={"chat": chat_id})
        return None
    message = str(exc).lower()
    if any(part in message for part in _GONE_ERRORS):
        await services.store.run(store.mark_group_inactive, chat_id, now)
        log.info("group.gone", extra={"chat": chat_id})
        return None
    if any(part in message for part in _MUTED_ERRORS):
        await services.store.run(store.set_muted, chat_id, True, now)
        log.info("group.muted", extra={"chat": chat_id})
        return None
    raise exc


async def _guard(update: Update, context: Context, action: Awaitable[Any], row: dict | None = None) -> bool:
    """Run ``action`` (which posts in the group); on 403/400/migration, note it and carry on."""
    chat_id = update.effective_chat.id
    try:
        await action
    except (Forbidden, BadRequest, ChatMigrated) as exc:
        await _on_send_error(context, chat_id, exc)
        return False
    await _unmute(context, chat_id, row)
    return True


async def _unmute(context: Context, chat_id: int, row: dict | None) -> None:
    """A post went through: a group marked muted (the bot could not write) is no longer."""
    if row and row.get("muted"):
        services = svc(context)
        await services.store.run(store.set_muted, chat_id, False, services.clock.now())


async def say(update: Update, context: Context, text: str, *, markup=None, row: dict | None = None,
              reply_to: int | None = None) -> bool:
    """Post in the chat of ``update``; a group that migrated gets the message at its new id."""
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
        try:
            await send(new_id)
        except TelegramError:
            return False
        return True
    except (Forbidden, BadRequest) as exc:
        if not _is_group(update):
            raise
        await _on_send_error(context, chat_id, exc)
        return False
    await _unmute(context, chat_id, row)
    return True


# -- who may change a group's settings ----------------------------------------------------------

async def may_change(update: Update, context: Context, who, chat_id: int) -> bool:
    """The secretariat, or an admin of THAT group (asked from Telegram, never from the update)."""
    if who is not None and who.is_secretariat:
        return True
    message = update.effective_message
    anonymous = (update.callback_query is None and message is not None and message.sender_chat is not None
                 and message.sender_chat.id == chat_id)
    status = None
    if who is not None and not anonymous and who.user_id != _ANONYMOUS_ADMIN_BOT:
        try:
            member = await context.bot.get_chat_member(chat_id, who.user_id)
            status = member.status
        except TelegramError:
            status = None
    return rules.may_change_settings(is_secretariat=False, member_status=status, anonymous_admin=anonymous)


# -- membership and migration (GROUP_TRACK: bookkeeping only) ------------------------------------

class GroupMembershipHandler(ChatMemberHandler):
    """The bot's own membership changes in groups and supergroups (not private chats, channels)."""

    def __init__(self, callback, *, added_only: bool = False):
        super().__init__(callback, ChatMemberHandler.MY_CHAT_MEMBER)
        self.added_only = added_only

    def check_update(self, update: object) -> bool:
        if not super().check_update(update):
            return False
        change = update.my_chat_member
        if change.chat.type not in GROUP_CHAT_TYPES:
            return False
        if self.added_only:
            return not _in_chat(change.old_chat_member) and _in_chat(change.new_chat_member)
        return True


async def track_membership(update: Update, context: Context) -> None:
    """Added → record (lang from who added it); removed/kicked → inactive; restricted → muted."""
    change = update.my_chat_member
    chat = change.chat
    services = svc(context)
    now = services.clock.now()
    old, new = change.old_chat_member, change.new_chat_member
    if not _in_chat(new):
        await services.store.run(store.mark_group_inactive, chat.id, now)
        log.info("group.removed", extra={"chat": chat.id, "status": new.status})
        return
    muted = not _can_send(new)
    if not _in_chat(old):
        adder = change.from_user
        lang = None
        if adder is not None and not adder.is_bot:
            adder_row = await services.store.run(users.get_user, adder.id)
            lang = (adder_row or {}).get("lang") or normalise_lang(adder.language_code, services.config.default_language)
        row = await services.store.run(lambda db: store.record_group(
            db, chat.id, title=chat.title, chat_type=chat.type, lang=lang,
            added_by=adder.id if adder else None, now=now, muted=muted))
        if not row.get("lang") and lang:
            await services.store.run(store.set_lang, chat.id, lang, now)
            row["lang"] = lang
        log.info("group.added", extra={"chat": chat.id, "muted": muted})
    else:
        row = await services.store.run(store.touch_group, chat.id, title=chat.title, chat_type=chat.type, lang=None, now=now)
        await services.store.run(store.set_muted, chat.id, muted, now)
        if not row.get("active"):
            await services.store.run(store.set_active, chat.id, True, now)
    _cache(context.application, row)


async def introduce(update: Update, context: Context) -> None:
    """GROUP_COMMANDS: the bot was just added (and may speak): a short introduction."""
    change = update.my_chat_member
    if not _can_send(change.new_chat_member) or _is_expert_chat(context, change.chat.id):
        return
    services = svc(context)
    row = await services.store.run(store.get_group, change.chat.id)
    lang = (row or {}).get("lang") or normalise_lang(change.from_user.language_code if change.from_user else None,
                                                     services.config.default_language)
    await say(update, context, services.t(lang, "groups.intro", bot=services.bot_username), row=row)


async def on_migration_message(update: Update, context: Context) -> None:
    """Telegram announces a group → supergroup upgrade in both chats; either one moves the row."""
    message = update.effective_message
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
    if row is None or not rules.feature_on(row["settings"], "ask"):
        return
    services = svc(context)
    lang = lang_of(update, context, row)
    markup = keyboard([[(services.t(lang, "button.ask_privately"), services.deep_link("ask"))]])
    log.info("group.ask_redirected", extra={"chat": row["chat_id"]})  # no user, no text: nothing about the query
    await say(update, context, services.t(lang, "groups.ask_privately"), markup=markup, row=row)


async def faq_in_group(update: Update, context: Context) -> None:
    """/faq in a group: the FAQ feature answers, unless the group switched answers off."""
    row = await load_group(update, context)
    if row is None or not rules.feature_on(row["settings"], "faq"):
        return
    await _guard(update, context, faq_handlers.faq_command(update, context), row)


def settings_text(services, lang: str, row: dict, privacy_on: bool) -> str:
    text = services.t(lang, "groups.settings", title=row.get("title") or str(row["chat_id"]),
                      lang=LANG_NAMES.get(row.get("lang") or "", "—"),
                      circle=circle_label(services, row.get("circle"), lang))
    if privacy_on:
        text += "\n\n" + services.t(lang, "groups.settings_privacy_note")
    return text


def settings_markup(services, lang: str, row: dict):
    chat_id = row["chat_id"]
    settings = row["settings"]
    names = [(("✓ " if row.get("lang") == code else "") + LANG_NAMES[code], cb("grp", "lang", chat_id, code))
             for code in LANGS]
    rows = [names[:3], names[3:]]
    for feature in rules.FEATURES:
        on = settings["features"][feature]
        rows.append([(f"{'✅' if on else '⬜'} {services.t(lang, f'groups.feature.{feature}')}",
                      cb("grp", "feat", chat_id, feature, 0 if on else 1))])
    for kind in rules.GROUP_POSTS:
        on = settings["reminders"][kind]
        rows.append([(f"{'✅' if on else '⬜'} {services.t(lang, f'groups.reminder.{kind}')}",
                      cb("grp", "rem", chat_id, kind, 0 if on else 1))])
    return keyboard(rows)


async def settings_command(update: Update, context: Context) -> None:
    row = await load_group(update, context)
    if row is None:
        return
    services = svc(context)
    who = await person(update, context)
    lang = lang_of(update, context, row)
    if not await may_change(update, context, who, row["chat_id"]):
        await say(update, context, services.t(lang, "groups.not_admin"), row=row)
        return
    privacy_on = not context.bot.can_read_all_group_messages
    await say(update, context, settings_text(services, lang, row, privacy_on), markup=settings_markup(services, lang, row),
              row=row)


async def settings_button(update: Update, context: Context) -> None:
    """``v1:grp:lang:<chat>:<code>``, ``v1:grp:feat:<chat>:<feature>:<0|1>``, ``v1:grp:rem:<chat>:<kind>:<0|1>``.

    Re-validated on every press: the button must sit in that very group, the presser must
    be its admin (asked from Telegram) or the secretariat, and the change must be a known one.
    """
    services = svc(context)
    who = await person(update, context)
    parts = parse_cb(update.callback_query.data, "grp") or []
    chat = update.effective_chat
    fallback = who.lang if who else "en"
    if len(parts) < 3 or chat is None or chat.type not in GROUP_CHAT_TYPES:
        await answer_button(update, services.t(fallback, "error.stale_button"), alert=True)
        return
    try:
        target = int(parts[1])
    except ValueError:
        target = None
    if target != chat.id or not await may_change(update, context, who, chat.id):
        log.info("group.settings_refused", extra={"chat": chat.id, "user": who.user_id if who else None})
        await answer_button(update, services.t(fallback, "groups.not_admin"), alert=True)
        return
    row = await load_group(update, context)
    now = services.clock.now()
    action = parts[0]
    if action == "lang" and len(parts) == 3 and parts[2] in LANGS:
        await services.store.run(store.set_lang, chat.id, parts[2], now)
    elif action in ("feat", "rem") and len(parts) == 4 and parts[3] in ("0", "1"):
        section = "features" if action == "feat" else "reminders"
        changed = rules.change(row["settings"], section, parts[2], parts[3] == "1")
        if changed is None:
            await answer_button(update, services.t(fallback, "error.stale_button"), alert=True)
            return
        await services.store.run(store.set_settings, chat.id, changed, now)
    else:
        await answer_button(update, services.t(fallback, "error.stale_button"), alert=True)
        return
    row = await services.store.run(store.get_group, chat.id)
    _cache(context.application, row)
    lang = lang_of(update, context, row)
    log.info("group.settings_changed", extra={"chat": chat.id, "action": action})
    await answer_button(update, services.t(lang, "groups.settings_saved"))
    privacy_on = not context.bot.can_read_all_group_messages
    await _guard(update, context, edit_or_reply(update, context, settings_text(services, lang, row, privacy_on),
                                                markup=settings_markup(services, lang, row)))


async def _admin_in_group(update: Update, context: Context):
    """(who, group row, group language) when the sender may change this group's settings;
    otherwise answer why not (private chat, not an admin) and return None."""
    who = await person(update, context)
    if not _is_group(update):
        await reply(update, context, t(context, who, "groups.groups_only"))
        return None
    row = await load_group(update, context)
    lang = lang_of(update, context, row)
    if not await may_change(update, context, who, row["chat_id"]):
        await say(update, context, svc(context).t(lang, "groups.not_admin"), row=row)
        return None
    return who, row, lang


async def link_command(update: Update, context: Context) -> None:
    admin = await _admin_in_group(update, context)
    if admin is None:
        return
    who, row, lang = admin
    services = svc(context)
    text = " ".join(context.args or []).strip()
    if not text:
        await say(update, context, services.t(lang, "groups.link_usage", current=circle_label(services, row.get("circle"), lang)),
                  row=row)
        return
    resolved = rules.resolve_circle(services.countries, text)
    if resolved is None:
        await say(update, context, services.t(lang, "groups.link_unknown", circle=text[:40]), row=row)
        return
    circle, countries = resolved
    await services.store.run(store.set_circle, row["chat_id"], circle, countries, who.user_id, services.clock.now())
    log.info("group.linked", extra={"chat": row["chat_id"], "circle": circle, "by": who.user_id})
    await say(update, context, services.t(lang, "groups.linked", circle=circle_label(services, circle, lang),
                                          count=len(countries)), row=row)


async def unlink_command(update: Update, context: Context) -> None:
    admin = await _admin_in_group(update, context)
    if admin is None:
        return
    who, row, lang = admin
    services = svc(context)
    await services.store.run(store.set_circle, row["chat_id"], None, [], who.user_id, services.clock.now())
    log.info("group.unlinked", extra={"chat": row["chat_id"], "by": who.user_id})
    await say(update, context, services.t(lang, "groups.unlinked"), row=row)


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
        if row is None or not rules.feature_on(row["settings"], "faq"):
            return
        question = rules.strip_mention(text, username)
        if not question:
            lang = lang_of(update, context, row)
            await say(update, context, svc(context).t(lang, "faq.usage_group"), row=row)
            return
        await _guard(update, context, faq_handlers.answer_question(update, context, question), row)
        return
    await maybe_auto_answer(update, context, text)


async def maybe_auto_answer(update: Update, context: Context, text: str) -> None:
    """Ordinary chatter: silence, except a confident FAQ match to a question when an admin
    turned auto-answers on, privacy mode is off, and the group's rate limit allows."""
    if not context.bot.can_read_all_group_messages or not rules.is_question_like(text):
        return
    row = await load_group(update, context)
    if row is None or not rules.feature_on(row["settings"], "auto") or not row.get("active"):
        return
    services = svc(context)
    engine = services.search
    if engine is None:
        return
    cfg = settings_of(services)
    chat_id = row["chat_id"]
    question = text[:MAX_QUESTION]

    def decide(db):
        now = services.clock.now()
        engine.refresh_if_changed()
        hits = engine.search(question, limit=2)
        decision = rules.auto_answer_decision(
            enabled=True, privacy_off=True, text=question,
            top_score=hits[0].score if hits else None, runner_up=hits[1].score if len(hits) > 1 else None,
            last_auto_at=store.last_auto_answer(db, chat_id), now=now,
            minutes=cfg["auto_answer_minutes"], threshold=cfg["auto_answer_threshold"], margin=cfg["auto_answer_margin"])
        if not decision.answer:
            return decision, None
        store.note_auto_answer(db, chat_id, now)
        faq_store.record_asked(db, hits[0].id, now)
        return decision, hits[0]

    decision, hit = await services.store.run(decide)
    if hit is None:
        log.debug("group.auto_silent", extra={"chat": chat_id, "reason": decision.reason})
        return
    lang = lang_of(update, context, row)
    log.info("group.auto_answer", extra={"chat": chat_id, "entry": hit.id, "score": round(hit.score, 3)})
    body = faq_handlers.render_answer(services, hit.entry, lang) + "\n\n" + services.t(lang, "groups.auto_note")
    await say(update, context, body, row=row, reply_to=update.effective_message.message_id)


# -- the peer directory (private) -----------------------------------------------------------------

async def _directory_user(update: Update, context: Context):
    """The focal point using the peer directory in a private chat, or None after saying why not."""
    who = await authorised(update, context, private=True)
    if who is None:
        return None
    if not rules.may_use_directory(is_focal_point=who.is_focal_point):
        await reply(update, context, t(context, who, "groups.focal_only"))
        return None
    return who


async def directory_command(update: Update, context: Context) -> None:
    who = await _directory_user(update, context)
    if who is None:
        return
    services = svc(context)
    arg = (context.args[0].lower() if context.args else "")
    now = services.clock.now()
    if arg in ("on", "yes", "1"):
        await services.store.run(store.set_directory, who.user_id, True, now)
        log.info("directory.on", extra={"user": who.user_id})
        if who.username:
            await reply(update, context, t(context, who, "groups.directory_on", username=who.username))
        else:
            await reply(update, context, t(context, who, "groups.directory_on_no_username"))
        return
    if arg in ("off", "no", "0"):
        await services.store.run(store.set_directory, who.user_id, False, now)
        log.info("directory.off", extra={"user": who.user_id})
        await reply(update, context, t(context, who, "groups.directory_off"))
        return
    listed = await services.store.run(store.is_listed, who.user_id)
    state = t(context, who, "groups.directory_state_on" if listed else "groups.directory_state_off")
    await reply(update, context, t(context, who, "groups.directory_usage", state=state))


async def peers_command(update: Update, context: Context) -> None:
    """Focal points of my region (or another circle my country belongs to) who opted in."""
    who = await _directory_user(update, context)
    if who is None:
        return
    services = svc(context)
    text = " ".join(context.args or []).strip()
    if text:
        resolved = rules.resolve_circle(services.countries, text)
        if resolved is None:
            await reply(update, context, t(context, who, "groups.peers_unknown_circle", circle=text[:40]))
            return
        if who.country not in resolved[1]:
            await reply(update, context, t(context, who, "groups.peers_not_your_circle"))
            return
    else:
        resolved = rules.region_of(services.countries, who.country)
        if resolved is None:
            await reply(update, context, t(context, who, "groups.focal_only"))
            return
    circle, countries = resolved
    rows = await services.store.run(lambda db: store.listed_peers(db, countries, exclude_user=who.user_id))
    listed = await services.store.run(store.is_listed, who.user_id)
    label = circle_label(services, circle, who.lang)
    state = t(context, who, "groups.directory_state_on" if listed else "groups.directory_state_off")
    if not rows:
        await reply(update, context, t(context, who, "groups.peers_none", circle=label))
        return
    lines = [t(context, who, "groups.peers_header", circle=label, count=len(rows))]
    for row in rows:
        name = html.escape(services.countries.name(row["country"], who.lang))
        lines.append(f"• {name} — @{html.escape(row['username'])}")
    lines.append("")
    lines.append(t(context, who, "groups.peers_footer", state=state))
    await reply(update, context, "\n".join(lines))


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
    for row in await services.store.run(store.active_groups):
        if row.get("lang"):
            _cache(application, row)


def handlers():
    groups = filters.ChatType.GROUPS
    group_text_filter = GROUP_TEXT_MESSAGE
    return [
        (GROUP_TRACK, GroupMembershipHandler(track_membership)),
        (GROUP_TRACK, MessageHandler(filters.StatusUpdate.MIGRATE, on_migration_message)),
        (GROUP_COMMANDS, GroupMembershipHandler(introduce, added_only=True)),
        (GROUP_COMMANDS, CommandHandler("ask", ask_in_group, filters=groups)),
        (GROUP_COMMANDS, CommandHandler("faq", faq_in_group, filters=groups)),
        (GROUP_COMMANDS, CommandHandler("settings", settings_command, filters=groups)),
        (GROUP_COMMANDS, CommandHandler("link", link_command)),
        (GROUP_COMMANDS, CommandHandler("unlink", unlink_command)),
        (GROUP_COMMANDS, CommandHandler("directory", directory_command)),
        (GROUP_COMMANDS, CommandHandler("peers", peers_command)),
        (GROUP_COMMANDS, CallbackQueryHandler(settings_button, pattern=r"^v1:grp:")),
        (GROUP_TEXT, MessageHandler(group_text_filter, group_text)),
    ]


def commands() -> dict[str, list[str]]:
    """Menu entries of this feature (labels are ``menu.<command>`` in groups.yaml)."""
    return {"private": ["peers", "directory"], "group": ["settings", "link"]}


__all__ = ["handlers", "on_startup", "migrate", "load_group", "say", "circle_label", "settings_of"]
