"""Answers that know who is asking: the placeholders of an FAQ answer (see
:mod:`knowledge.placeholders`) resolved for one asker from the country registry, the
calendar and the country's checklist.

A focal point bound to a country gets their own workshop (dates in their time zone),
deadline, next step, progress and peer group; anyone else (a visitor, an expert, an answer
posted in a group or through inline mode) gets the text for everyone: every workshop, the
deadline in the event's own zone, how to see the rest. ``now`` is always passed in.

:func:`resolve_answer` is the one service: ``services.store.read(resolve_answer, ...)``.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Callable
from zoneinfo import ZoneInfo

from bot.i18n import Raw
from bot.milestones import country_steps, get_template
from bot.reminders import get_reminders
from knowledge.checklist import Template
from knowledge.countries import Country, CountryRegistry
from knowledge.events import Event, EventSet
from knowledge.placeholders import (PERSONAL, REPORTING_EVENT, WORKSHOP_EVENTS, Placeholder, format_dates, has_placeholders,
                                    placeholders, substitute)
from storage import reminders as calendar_store

Translate = Callable[..., str]


@dataclass(frozen=True)
class Asker:
    """Who the answer is for: a country (None for everyone) and a language. ``checklist``: the
    country's own checklist may be shown (its focal points; not a visitor who picked a country)."""

    country: str | None
    lang: str
    checklist: bool = True


@dataclass(frozen=True)
class Sources:
    """What the placeholders are resolved from (all in memory but the checklist)."""

    registry: CountryRegistry
    template: Template | None
    events: EventSet
    t: Translate


def calendar(db, definitions: EventSet) -> EventSet:
    """The calendar as the bot runs it: the files' events with those the database holds
    (moved, cancelled or added in chat) in their place."""
    stored = {e.id: e for e in calendar_store.list_events(db)} if db is not None else {}
    merged = [stored.pop(e.id, e) for e in definitions]
    return EventSet(merged + list(stored.values()))


def sources_of(services) -> Sources:
    """The running bot's registry, checklist template, calendar files and translations."""
    return Sources(services.countries, get_template(services), get_reminders(services).definitions(), services.t)


def is_personal(text: str) -> bool:
    """Whether an answer says something that depends on who asks (a personal placeholder)."""
    return any(isinstance(p, Placeholder) and p.name in PERSONAL for p in placeholders(text))


def workshop_groups(registry: CountryRegistry) -> dict[str, list[Country]]:
    """The countries of each inception workshop, in registry order (for a visitor's country buttons)."""
    groups: dict[str, list[Country]] = {w: [] for w in WORKSHOP_EVENTS}
    for country in registry:
        groups.setdefault(country.workshop, []).append(country)
    return groups


def resolve_answer(db, text: str, asker: Asker, sources: Sources, now: dt.datetime) -> str:
    """``text`` with its placeholders resolved for ``asker``; text without any comes back as is."""
    if not has_placeholders(text):
        return text
    sources = Sources(sources.registry, sources.template, calendar(db, sources.events), sources.t)
    country = sources.registry.get(asker.country) if asker.country else None
    resolver = _Resolver(db, asker.lang, country, sources, now, asker.checklist)
    return substitute(text, resolver.value)


class _Resolver:
    def __init__(self, db, lang: str, country: Country | None, sources: Sources, now: dt.datetime, checklist: bool):
        self.db, self.lang, self.country, self.s, self.now = db, lang, country, sources, now
        self.checklist = checklist

    def t(self, key: str, **kwargs) -> str:
        """A phrase as plain text (the answer it goes into is escaped as a whole)."""
        return self.s.t(self.lang, f"personal.{key}", **{k: v if isinstance(v, int) else Raw(str(v)) for k, v in kwargs.items()})

    def value(self, p: Placeholder) -> str:
        if p.name == "event":
            event = self.s.events.get(p.event)
            if event is None:
                return self.t("unknown_event")
            return event.place_in(self.lang) if p.field == "place" else self.dates(event)
        method = getattr(self, f"_{p.name}")
        return method()

    # -- pieces ----------------------------------------------------------------------------------

    def dates(self, event: Event, zone: ZoneInfo | None = None) -> str:
        """The event's days in its own zone, or in ``zone`` (the asker's)."""
        if zone is None:
            return format_dates(event.start.date(), event.end.date(), self.lang)
        return format_dates(event.start_utc.astimezone(zone).date(), event.end_utc.astimezone(zone).date(), self.lang)

    def zone(self) -> ZoneInfo | None:
        return ZoneInfo(self.country.timezone) if self.country else None

    def _country(self) -> str:
        return self.country.name(self.lang) if self.country else self.t("your_country")

    def _workshop(self) -> str:
        if self.country is None:
            return "\n".join(self._workshop_line(workshop) for workshop in WORKSHOP_EVENTS)
        event = self.s.events.get(WORKSHOP_EVENTS[self.country.workshop])
        if event is None:
            return self.t("unknown_event")
        zone = self.zone()
        opening = event.start_utc.astimezone(zone)
        facts = dict(country=self.country.name(self.lang), place=event.place_in(self.lang), dates=self.dates(event, zone),
                     time=opening.strftime("%H:%M"), zone=self.country.timezone)
        if self.country.workshop == "pilots":
            regional = self._regional_workshop(self.country.annex)
            also = "" if regional is None else self.t("workshop_pilot_regional", place=regional.place_in(self.lang),
                                                      dates=self.dates(regional, zone))
            return self.t("workshop_pilots", **facts) + also
        return self.t("workshop_regional", **facts)

    def _regional_workshop(self, annex: str) -> Event | None:
        """The regional workshop whose audience holds ``annex`` (pilot countries were invited to it too)."""
        for workshop, event_id in WORKSHOP_EVENTS.items():
            event = self.s.events.get(event_id)
            if workshop != "pilots" and event is not None and annex in event.audience.annex:
                return event
        return None

    def _workshop_line(self, workshop: str) -> str:
        event = self.s.events.get(WORKSHOP_EVENTS[workshop])
        if event is None:
            return ""
        if workshop == "pilots":
            return self.t("workshop_line_pilots", place=event.place_in(self.lang), dates=self.dates(event))
        annexes = "+".join(event.audience.annex)
        return self.t("workshop_line", place=event.place_in(self.lang), dates=self.dates(event), annex=annexes)

    def _deadline(self) -> str:
        event = self.s.events.get(REPORTING_EVENT)
        if event is None:
            return self.t("unknown_event")
        zone = self.zone() or event.zone
        local = event.start_utc.astimezone(zone)
        text = self.t("deadline_at", date=format_dates(local.date(), None, self.lang), time=local.strftime("%H:%M"),
                      zone=self.country.timezone if self.country else event.timezone)
        if self.now >= event.start_utc:
            text += self.t("deadline_passed")
        return text

    def _steps(self):
        if self.country is None or not self.checklist or self.s.template is None or self.db is None:
            return None
        return country_steps(self.db, self.s.template, self.s.registry, self.country.iso3, self.now)

    def _next_step(self) -> str:
        steps = self._steps()
        if steps is None:
            return self.t("next_step_everyone")
        open_steps = [s for s in steps if not s.closed]
        if not open_steps:
            return self.t("next_step_none", country=self.country.name(self.lang) if self.country else "")
        step = open_steps[0]
        key = "next_step_overdue" if step.overdue else "next_step"
        return self.t(key, title=step.step.title_in(self.lang), due=format_dates(step.due, None, self.lang))

    def _progress(self) -> str:
        steps = self._steps()
        if steps is None or self.country is None:
            return self.t("progress_everyone")
        applicable = [s for s in steps if s.status != "not_applicable"]
        done = sum(1 for s in applicable if s.status == "done")
        return self.t("progress", country=self.country.name(self.lang), done=done, total=len(applicable),
                      doing=sum(1 for s in applicable if s.status == "in_progress"),
                      overdue=sum(1 for s in applicable if s.overdue))

    def _peers(self) -> str:
        if self.country is None:
            return self.t("peers_everyone")
        annex = self.country.annex
        members = self.s.registry.by_annex(annex)
        return self.t("peers", region=self.s.t(self.lang, f"hd.region.{annex}"), count=len(members))
