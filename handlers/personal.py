"""Answers that know who is asking, in chat: the one call that resolves an FAQ answer's
placeholders for the person it is sent to (:func:`personal_answer`, used wherever an answer is
rendered) and the region buttons a visitor gets under a personal answer (pressed:
:mod:`handlers.personal_buttons`).

The rules are in :mod:`bot.personal`; this module only picks the asker and renders.
"""
from __future__ import annotations

from dataclasses import dataclass

from bot import personal
from bot.roles import Person
from bot.services import Services
from handlers.common import cb
from knowledge.vocabulary import Feature, PersonalAction


@dataclass(frozen=True)
class PersonalAnswer:
    """An entry's answer for one asker, and the country buttons a visitor gets under it."""

    text: str
    rows: list


async def personal_answer(services: Services, who: Person | None, entry, lang: str, *, country: str | None = None,
                          offer_countries: bool = True) -> PersonalAnswer:
    """``entry``'s answer in ``lang`` for ``who`` (None: for everyone, e.g. in a group or inline).
    A focal point gets their country's facts; a visitor the text for everyone and, for a
    personal answer, buttons to pick a country. ``country``: a visitor's pick."""
    text = entry.text(lang).a
    if "{" not in text and "}" not in text:
        return PersonalAnswer(text, [])
    bound = who is not None and who.is_focal_point
    asker = personal.Asker(who.country if bound and who else country, lang, checklist=bound)
    resolved = await services.store.read(personal.resolve_answer, text, asker, personal.sources_of(services),
                                         services.clock.now())
    rows = region_rows(services, lang, entry.id) if offer_countries and who is not None and not bound \
        and country is None and personal.is_personal(text) else []
    return PersonalAnswer(resolved, rows)


def region_rows(services: Services, lang: str, entry_id: str) -> list:
    """One button per inception workshop's group of countries."""
    rows = []
    for workshop, members in personal.workshop_groups(services.countries).items():
        if not members:
            continue
        if workshop == "pilots":
            label = services.t(lang, "personal.button.pilots")
        else:
            annexes = sorted({c.annex for c in members})
            label = " / ".join(services.t(lang, f"hd.region.{a}") for a in annexes)
        rows.append([(label, cb(Feature.PERSONAL, PersonalAction.REGION, entry_id, workshop))])
    return rows


def everyone_text(services: Services, entry, lang: str) -> str:
    """``entry``'s answer in ``lang`` for everyone (a group, inline mode), from the calendar files:
    no database, so it may run anywhere."""
    text = entry.text(lang).a
    if "{" not in text and "}" not in text:
        return text
    return personal.resolve_answer(None, text, personal.Asker(None, lang), personal.sources_of(services), services.clock.now())
