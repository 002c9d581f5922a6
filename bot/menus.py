"""The command menus (``setMyCommands``): everyone's, per scope and language, and the staff's.

The secretariat and the experts get a menu of their own in each chat with the bot, in each of
the six languages (``BotCommandScopeChat`` + ``language_code``), whether their role comes from
config.yaml or from ``ldn-bot role grant``. :func:`refresh_staff_menus` runs at start and with
every heartbeat: a role granted or revoked since (from the command line or another process)
changes that person's menu within a minute; a revoked person falls back to the public menu.
With ``helpdesk.visitors: register`` each focal point has a menu of their own too (with /ask and
/myqueries, which the public one lacks): it is set as soon as they are bound (by an invitation in
the chat, at once; from the command line, with the next heartbeat).
"""
from __future__ import annotations

import logging

from telegram import BotCommand, BotCommandScopeAllGroupChats, BotCommandScopeAllPrivateChats, BotCommandScopeChat
from telegram.error import TelegramError

from bot import intake, roles
from knowledge.vocabulary import LANGS

log = logging.getLogger("ldn.menus")

COMMANDS_PRIVATE = ["start", "help", "faq", "ask", "myqueries", "checklist", "reminders", "calendar", "timezone",
                    "peers", "directory", "language", "whoami", "privacy", "channels"]
COMMANDS_GROUP = ["faq", "ask", "help", "settings", "link"]
COMMANDS_EXPERT = ["queue"]
COMMANDS_SECRETARIAT = ["queue", "progress", "overdue", "due", "events", "broadcast", "invite", "gaps", "status", "block"]
REGISTERED = "staff_menus"   # application.bot_data key: user id -> the role whose menu they have
FOCAL_POINT = "focal_point"


def names_for(role: str | None) -> list[str]:
    """The commands of a role's menu, the staff's own first."""
    extra = {"secretariat": COMMANDS_SECRETARIAT, "expert": COMMANDS_EXPERT}.get(role or "", [])
    return list(dict.fromkeys(extra + COMMANDS_PRIVATE))


def commands(services, names: list[str], lang: str) -> list[BotCommand]:
    return [BotCommand(name, services.t(lang, f"menu.{name}")) for name in names if f"menu.{name}" in services.i18n]


def _code(lang: str) -> str | None:
    return None if lang == "en" else lang


async def register_public(bot, services) -> None:
    """Everyone's menus; with ``helpdesk.visitors: register`` the private one has no /ask or
    /myqueries (each focal point gets the full one in their own chat: :func:`refresh_staff_menus`)."""
    everyone = intake.menu_for_everyone(services, COMMANDS_PRIVATE)
    for lang in LANGS:
        await bot.set_my_commands(commands(services, everyone, lang), scope=BotCommandScopeAllPrivateChats(),
                                  language_code=_code(lang))
        await bot.set_my_commands(commands(services, COMMANDS_GROUP, lang), scope=BotCommandScopeAllGroupChats(),
                                  language_code=_code(lang))


async def _wanted(services) -> dict[int, str]:
    """Who needs a menu of their own, with the role it is made for."""
    config = services.config
    wanted = await services.store.read(roles.staff_roles, config.secretariat_ids, config.expert_ids)
    if intake.menu_for_everyone(services, COMMANDS_PRIVATE) != COMMANDS_PRIVATE:  # visitors must register
        for user_id, _lang in await services.store.read(intake.focal_points):
            wanted.setdefault(user_id, FOCAL_POINT)
    return wanted


async def _set_person(bot, services, user_id: int, role: str | None) -> bool:
    """The person's own menu in every language (or none, back to the public one); False if Telegram refused."""
    try:
        for lang in LANGS:
            scope = BotCommandScopeChat(user_id)
            if role is None:
                await bot.delete_my_commands(scope=scope, language_code=_code(lang))
            else:
                await bot.set_my_commands(commands(services, names_for(role), lang), scope=scope, language_code=_code(lang))
    except TelegramError as exc:  # e.g. they never opened a chat with the bot: tried again at the next change
        log.info("menus.not_set", extra={"user": user_id, "role": role, "error": str(exc)})
        return False
    return True


async def refresh_staff_menus(application) -> dict[int, str]:
    """Give each member of the secretariat, each expert (and, when visitors must register, each
    focal point) their menu; take it back from the people who lost the role. Only changes are
    sent. Returns the menus now registered."""
    services = application.bot_data["services"]
    now = await _wanted(services)
    before: dict[int, str] = application.bot_data.setdefault(REGISTERED, {})
    for user_id in sorted(set(before) | set(now)):
        role = now.get(user_id)
        if before.get(user_id) == role:
            continue
        if await _set_person(application.bot, services, user_id, role):
            if role is None:
                before.pop(user_id, None)
            else:
                before[user_id] = role
            log.info("menus.staff", extra={"user": user_id, "role": role or "none"})
    return dict(before)
