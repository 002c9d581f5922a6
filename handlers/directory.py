"""The peer directory, in private chats: ``/directory on|off`` (a focal point opts in to be
listed with their public @username) and ``/peers [circle]`` (the listed focal points of my
region, or of another circle my country belongs to). Nobody else is ever listed.
"""
from __future__ import annotations

import html
import logging

from telegram import Update
from telegram.ext import CommandHandler

from bot import groups as rules
from bot.roles import Person
from handlers.common import GROUP_COMMANDS, Context, authorised, reply, svc, t
from handlers.groups import circle_label

log = logging.getLogger("ldn.handlers.directory")

_ON = ("on", "yes", "1")
_OFF = ("off", "no", "0")


async def _directory_user(update: Update, context: Context) -> Person | None:
    """The focal point using the peer directory in a private chat, or None after saying why not."""
    who = await authorised(update, context, private=True)
    if who is None:
        return None
    if not rules.may_use_directory(is_focal_point=who.is_focal_point):
        await reply(update, context, t(context, who, "groups.focal_only"))
        return None
    return who


def _state(context: Context, who: Person, listed: bool) -> str:
    return t(context, who, "groups.directory_state_on" if listed else "groups.directory_state_off")


async def directory_command(update: Update, context: Context) -> None:
    who = await _directory_user(update, context)
    if who is None:
        return
    services = svc(context)
    arg = context.args[0].lower() if context.args else ""
    if arg in _ON or arg in _OFF:
        listed = arg in _ON
        await services.store.run(rules.set_listed, who.user_id, listed, services.clock.now())
        log.info("directory.on" if listed else "directory.off", extra={"user": who.user_id})
        if not listed:
            key = "groups.directory_off"
        else:
            key = "groups.directory_on" if who.username else "groups.directory_on_no_username"
        await reply(update, context, t(context, who, key, username=who.username or ""))
        return
    listed = await services.store.read(rules.is_listed, who.user_id)
    await reply(update, context, t(context, who, "groups.directory_usage", state=_state(context, who, listed)))


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
    rows, listed = await services.store.read(rules.peers, who.user_id, countries)
    label = circle_label(services, circle, who.lang)
    if not rows:
        await reply(update, context, t(context, who, "groups.peers_none", circle=label))
        return
    lines = [t(context, who, "groups.peers_header", circle=label, count=len(rows))]
    for row in rows:
        name = html.escape(services.countries.name(row["country"], who.lang))
        lines.append(f"• {name} — @{html.escape(row['username'])}")
    lines += ["", t(context, who, "groups.peers_footer", state=_state(context, who, listed))]
    await reply(update, context, "\n".join(lines))


def handlers():
    return [
        (GROUP_COMMANDS, CommandHandler("directory", directory_command)),
        (GROUP_COMMANDS, CommandHandler("peers", peers_command)),
    ]


def commands() -> dict[str, list[str]]:
    """Menu entries of this feature (labels are ``menu.<command>`` in groups.yaml)."""
    return {"private": ["peers", "directory"]}
