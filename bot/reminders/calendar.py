"""Calendar selection: which events go into a person's, a region's or the whole .ics file."""
from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass

from bot.ics import calendar
from knowledge.events import Event
from storage import reminders as store


def calendar_selection(service, events: list[Event], *, country: str | None = None, role: str | None = None,
                       countries: set[str] | None = None, everything: bool = False) -> list[Event]:
    """Events for a calendar file: a person's (``country``/``role``), a region's (``countries``), or all."""
    out = []
    for event in events:
        if everything:
            out.append(event)
        elif countries is not None:
            wanted = event.audience.country_set(service.countries)
            if wanted is None or wanted & countries:
                out.append(event)
        elif service.relevant(event, country=country, role=role):
            out.append(event)
    return out


def calendar_file(service, events: list[Event], lang: str, now: dt.datetime, due_dates=()) -> str:
    """The .ics text of ``events`` (one alarm per reminder offset), titles and descriptions in
    ``lang``, plus a country's checklist ``due_dates``."""
    i18n = service.i18n
    settings = service.settings
    descriptions = {e.id: f"{i18n.t(lang, f'rem.kind.{e.kind}')} · {html.unescape(i18n.t(lang, 'cal.programme'))}" for e in events}
    return calendar(events, lang=lang, now=now, name=html.unescape(i18n.t(lang, "cal.name")), descriptions=descriptions,
                    offsets={e.id: e.offsets if e.offsets is not None else settings.offsets for e in events},
                    due_dates=due_dates, due_description=html.unescape(i18n.t(lang, "rem.kind.milestone")),
                    due_offsets=settings.milestone_offsets)


@dataclass
class CalendarFile:
    text: str
    events: int      # how many of them are not cancelled
    chosen: int


def calendar_for(db, service, *, country: str | None, role: str | None, everything: bool, lang: str,
                 now: dt.datetime) -> CalendarFile | None:
    """``/calendar``: the file for one person (or the whole calendar); None when it would be empty."""
    chosen = calendar_selection(service, store.list_events(db), country=country, role=role, everything=everything)
    if not chosen:
        return None
    return CalendarFile(calendar_file(service, chosen, lang, now), sum(1 for e in chosen if not e.cancelled), len(chosen))
