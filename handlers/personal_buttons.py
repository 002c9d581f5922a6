"""A visitor's country buttons under a personal FAQ answer: a region (an inception workshop's
group of countries), then a country, then the answer for that country (its registry and
calendar facts; a country's own checklist only ever goes to its focal points)."""
from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler

from bot import personal
from handlers.common import GROUP_COMMANDS, Context, answer_button, cb, edit_or_reply, keyboard, parse_cb, person, reply, t
from handlers.faq import render_answer
from handlers.personal import personal_answer
from knowledge.vocabulary import CALLBACK_VERSION, Feature, PersonalAction

COUNTRIES_PER_ROW = 3


async def on_button(update: Update, context: Context) -> None:
    """``rg <entry> <workshop>``: the countries of that group; ``ct <entry> <ISO3>``: the answer for that country."""
    pressed = update.callback_query
    who = await person(update, context)
    if pressed is None or who is None:
        return
    services = context.services
    parts = parse_cb(pressed.data, Feature.PERSONAL) or []
    entry = services.search.get(parts[1]) if len(parts) == 3 and services.search else None
    if entry is None:
        await answer_button(update, t(context, who, "error.stale_button"), alert=True)
        return
    if parts[0] == PersonalAction.REGION:
        members = personal.workshop_groups(services.countries).get(parts[2]) or []
        if not members:
            await answer_button(update, t(context, who, "error.stale_button"), alert=True)
            return
        await answer_button(update)
        members = sorted(members, key=lambda c: c.name(who.lang))
        buttons = [(c.name(who.lang)[:30], cb(Feature.PERSONAL, PersonalAction.COUNTRY, entry.id, c.iso3)) for c in members]
        rows = [buttons[i:i + COUNTRIES_PER_ROW] for i in range(0, len(buttons), COUNTRIES_PER_ROW)]
        await edit_or_reply(update, context, t(context, who, "personal.pick_country"), markup=keyboard(rows))
        return
    if parts[0] == PersonalAction.COUNTRY and services.countries.get(parts[2]) is not None:
        await answer_button(update)
        answer = await personal_answer(services, who, entry, who.lang, country=parts[2])
        await reply(update, context, render_answer(services, entry, who.lang, answer=answer.text))
        return
    await answer_button(update, t(context, who, "error.stale_button"), alert=True)


def handlers():
    return [(GROUP_COMMANDS, CallbackQueryHandler(on_button, pattern=rf"^{CALLBACK_VERSION}:{Feature.PERSONAL}:"))]
