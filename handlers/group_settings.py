"""A group admin's commands: /settings (language, features, what the group receives, as
buttons), /link CIRCLE and /unlink. Only the secretariat or an admin of that very group (asked
from Telegram, never taken from the update) may change anything; every button press is checked
again, and it must sit in the group it changes.
"""
from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot import groups as rules
from handlers.common import GROUP_COMMANDS, Context, answer_button, cb, edit_or_reply, keyboard, parse_cb, person, reply, svc, t
from handlers.groups import GROUP_CHAT_TYPES, cache_lang, circle_label, guard, is_group, lang_of, load_group, say
from knowledge.vocabulary import GROUP_POSTS, LANG_NAMES, LANGS, Feature, GroupAction

log = logging.getLogger("ldn.handlers.groups")

_ANONYMOUS_ADMIN_BOT = 1087968824  # "GroupAnonymousBot": messages of anonymous admins come from it


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
    names = [(("✓ " if row.get("lang") == code else "") + LANG_NAMES[code], cb(Feature.GROUPS, GroupAction.LANGUAGE, chat_id, code))
             for code in LANGS]
    rows = [names[:3], names[3:]]
    for feature in rules.FEATURES:
        on = settings["features"][feature]
        rows.append([(f"{'✅' if on else '⬜'} {services.t(lang, f'groups.feature.{feature}')}",
                      cb(Feature.GROUPS, GroupAction.FEATURE, chat_id, feature, 0 if on else 1))])
    for kind in GROUP_POSTS:
        on = settings["reminders"][kind]
        rows.append([(f"{'✅' if on else '⬜'} {services.t(lang, f'groups.reminder.{kind}')}",
                      cb(Feature.GROUPS, GroupAction.POSTS, chat_id, kind, 0 if on else 1))])
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
    if update.callback_query is None:
        return
    parts = parse_cb(update.callback_query.data, Feature.GROUPS) or []
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
    action = parts[0]
    row = await services.store.run(rules.apply_setting, chat.id, action, parts[2:], services.clock.now(),
                                   title=chat.title, chat_type=chat.type)
    if row is None:
        await answer_button(update, services.t(fallback, "error.stale_button"), alert=True)
        return
    cache_lang(context.application, row)
    lang = lang_of(update, context, row)
    log.info("group.settings_changed", extra={"chat": chat.id, "action": action})
    await answer_button(update, services.t(lang, "groups.settings_saved"))
    privacy_on = not context.bot.can_read_all_group_messages
    await guard(update, context, edit_or_reply(update, context, settings_text(services, lang, row, privacy_on),
                                                markup=settings_markup(services, lang, row)))


async def _admin_in_group(update: Update, context: Context):
    """(who, group row, group language) when the sender may change this group's settings;
    otherwise answer why not (private chat, not an admin) and return None."""
    who = await person(update, context)
    if who is None:
        return None
    if not is_group(update):
        await reply(update, context, t(context, who, "groups.groups_only"))
        return None
    row = await load_group(update, context)
    if row is None:  # is_group() said it is one, so load_group() found (or made) its row
        return None
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
    resolved = await services.store.run(rules.link_circle, services.countries, row["chat_id"], text, who.user_id,
                                        services.clock.now())
    if resolved is None:
        await say(update, context, services.t(lang, "groups.link_unknown", circle=text[:40]), row=row)
        return
    circle, countries = resolved
    log.info("group.linked", extra={"chat": row["chat_id"], "circle": circle, "by": who.user_id})
    await say(update, context, services.t(lang, "groups.linked", circle=circle_label(services, circle, lang),
                                          count=len(countries)), row=row)


async def unlink_command(update: Update, context: Context) -> None:
    admin = await _admin_in_group(update, context)
    if admin is None:
        return
    who, row, lang = admin
    services = svc(context)
    await services.store.run(rules.unlink_circle, row["chat_id"], who.user_id, services.clock.now())
    log.info("group.unlinked", extra={"chat": row["chat_id"], "by": who.user_id})
    await say(update, context, services.t(lang, "groups.unlinked"), row=row)


def handlers():
    return [
        (GROUP_COMMANDS, CommandHandler("settings", settings_command, filters=filters.ChatType.GROUPS)),
        (GROUP_COMMANDS, CommandHandler("link", link_command)),
        (GROUP_COMMANDS, CommandHandler("unlink", unlink_command)),
        (GROUP_COMMANDS, CallbackQueryHandler(settings_button, pattern=r"^v1:grp:")),
    ]


def commands() -> dict[str, list[str]]:
    """Menu entries of this feature (labels are ``menu.<command>`` in groups.yaml)."""
    return {"group": ["settings", "link"]}
