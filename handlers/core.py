"""The first conversations: /start (and invitations), /help, /language, /whoami, /invite,
/cancel; plus what every bot must do well: unknown commands, media it cannot read,
free text a feature asked for, and errors."""
from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot import intake, invites, menus, people
from bot.i18n import LANG_NAMES, LANGS
from bot.roles import Person
from handlers.common import (GROUP_COMMANDS, authorised, GROUP_FALLBACK, Context, answer_button, cb,
                             edit_or_reply, forget_cached_person, is_private, keyboard, parse_cb,
                             person, reply, svc, t)

log = logging.getLogger("ldn.handlers.core")
START_HOOKS: dict = {}  # deep-link payload prefix -> handler(update, context, who, payload); features add theirs


def role_label(context: Context, who: Person) -> str:
    return t(context, who, f"role.{who.role or 'guest'}")


async def start(update: Update, context: Context) -> None:
    who = await person(update, context)
    if who is None:
        return  # no sender (a channel post): nobody to greet
    services = svc(context)
    payload = context.args[0] if context.args else ""
    if payload and is_private(update):
        for prefix, hook in START_HOOKS.items():
            if payload.startswith(prefix):
                await hook(update, context, who, payload)
                return
        await redeem_invite(update, context, who, payload)  # anything else is an invitation (or a forged one)
        return
    if who.role:
        country = f" — {services.countries.name(who.country, who.lang)}" if who.country else ""
        await reply(update, context, t(context, who, "start.welcome_back", name=who.name, role=role_label(context, who), country=country))
    else:
        await reply(update, context, t(context, who, "start.welcome", name=who.name or "👋"))


async def redeem_invite(update: Update, context: Context, who: Person, token: str) -> None:
    services = svc(context)
    if who.role in ("expert", "secretariat"):
        await reply(update, context, t(context, who, "invite.already_staff", role=role_label(context, who)))
        return
    result = await services.store.run(invites.redeem, token, who.user_id, services.clock.now())
    log.info("invite.redeem", extra={"user": who.user_id, "outcome": result.outcome})
    if result.outcome == "bound":
        forget_cached_person(context)
        who = await person(update, context) or who
        await menus.refresh_staff_menus(context.application)  # their own menu (with /ask) at once
        await reply(update, context, t(context, who, "invite.bound", country=services.countries.name(result.country, who.lang)))
    else:
        await reply(update, context, t(context, who, f"invite.{result.outcome}"))


async def help_command(update: Update, context: Context) -> None:
    who = await person(update, context)
    if who is None:
        return
    parts = [intake.help_lines(t(context, who, "help.everyone"), intake.ask_right(who, intake.settings_of(svc(context))))]
    if who.is_focal_point:
        parts.append(t(context, who, "help.focal_point"))
    if who.is_expert:
        parts.append(t(context, who, "help.expert"))
    if who.is_secretariat:
        parts.append(t(context, who, "help.secretariat"))
    if not who.role:
        parts.append(t(context, who, "help.register_hint"))
    await reply(update, context, "\n\n".join(parts))


def language_keyboard():
    names = [(LANG_NAMES[lang], cb("lang", lang)) for lang in LANGS]
    return keyboard([names[:3], names[3:]])


async def language_command(update: Update, context: Context) -> None:
    who = await person(update, context)
    if who is None:
        return
    await reply(update, context, t(context, who, "language.choose"), markup=language_keyboard())


async def language_button(update: Update, context: Context) -> None:
    who = await person(update, context)
    if who is None or update.callback_query is None:
        return
    parts = parse_cb(update.callback_query.data, "lang")
    if not parts or parts[0] not in LANGS:
        await answer_button(update, t(context, who, "error.stale_button"))
        return
    services = svc(context)
    await services.store.run(people.set_language, who.user_id, parts[0], services.clock.now())
    forget_cached_person(context)
    await answer_button(update)
    await edit_or_reply(update, context, services.t(parts[0], "language.set"))


async def whoami(update: Update, context: Context) -> None:
    who = await person(update, context)
    if who is None:
        return
    services = svc(context)
    none = t(context, who, "common.none")
    country = services.countries.name(who.country, who.lang) if who.country else none
    home = services.countries.get(who.country)
    tz = who.timezone or (home.timezone if home else "UTC")
    await reply(update, context, t(context, who, "whoami.text", name=who.name, user_id=who.user_id, role=role_label(context, who),
                                    country=country, lang=LANG_NAMES.get(who.lang, who.lang), tz=tz))


async def invite_command(update: Update, context: Context) -> None:
    who = await authorised(update, context, secretariat=True, private=True)
    if who is None:
        return
    if not context.args:
        await reply(update, context, t(context, who, "invite.usage"))
        return
    services = svc(context)
    country = services.countries.get(context.args[0])
    if country is None:
        await reply(update, context, t(context, who, "invite.unknown_country", code=context.args[0][:12]))
        return
    token, expires = await services.store.run(invites.create_invite, country.iso3, who.user_id, services.clock.now(), services.config.invite_ttl_days)
    await reply(update, context, t(context, who, "invite.created", country=country.name(who.lang), link=services.deep_link(token),
                                    expires=expires.strftime("%Y-%m-%d %H:%M UTC")))


async def unknown_command(update: Update, context: Context) -> None:
    message = update.effective_message
    if message is None or not message.text:
        return
    command = message.text.split()[0]
    if "@" in command and command.split("@", 1)[1].lower() != context.bot.username.lower():
        return  # addressed to another bot in a group
    if not is_private(update) and "@" not in command:
        return  # groups: stay silent on commands that may belong to other bots
    who = await person(update, context)
    if who is None:
        return
    await reply(update, context, t(context, who, "error.unknown_command"))


async def unsupported(update: Update, context: Context) -> None:
    """Stickers, voice, locations … in a private chat: say what the bot can read."""
    if not is_private(update) or update.effective_message is None:
        return
    who = await person(update, context)
    if who is None:
        return
    await reply(update, context, t(context, who, "error.unsupported"))


async def stale_button(update: Update, context: Context) -> None:
    who = await person(update, context)
    await answer_button(update, t(context, who or svc(context).config.default_language, "error.stale_button"), alert=True)


async def on_error(update: object, context: Context) -> None:
    """Log the failure (without message bodies) and tell the user briefly; never re-raise."""
    log.error("handler.error", exc_info=context.error, extra={"update_type": type(update).__name__})
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            lang = "en"
            if update.effective_user is not None and context.user_data is not None and context.user_data.get("_row"):
                lang = context.user_data["_row"].get("lang") or "en"
            if update.callback_query is not None:
                await answer_button(update, svc(context).t(lang, "error.internal"), alert=True)
            elif is_private(update):
                await context.bot.send_message(update.effective_chat.id, svc(context).t(lang, "error.internal"))
        except Exception:  # noqa: BLE001 - the error handler must not fail
            log.warning("handler.error_reply_failed")


def handlers():
    return [
        (GROUP_COMMANDS, CommandHandler("start", start)),
        (GROUP_COMMANDS, CommandHandler("help", help_command)),
        (GROUP_COMMANDS, CommandHandler("language", language_command)),
        (GROUP_COMMANDS, CommandHandler("whoami", whoami)),
        (GROUP_COMMANDS, CommandHandler("invite", invite_command)),
        (GROUP_COMMANDS, CallbackQueryHandler(language_button, pattern=r"^v1:lang:")),
    ]


def fallbacks():
    """Registered after every feature's handlers, so they only see what nothing else took."""
    return [
        (GROUP_COMMANDS, MessageHandler(filters.COMMAND & filters.UpdateType.MESSAGE, unknown_command)),
        (GROUP_COMMANDS, CallbackQueryHandler(stale_button)),
        (GROUP_FALLBACK, MessageHandler(filters.UpdateType.MESSAGE & ~filters.COMMAND & ~filters.StatusUpdate.ALL & ~filters.TEXT, unsupported)),
    ]
