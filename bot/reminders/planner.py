"""Who is reminded of what, and when: pure functions over a :class:`Snapshot` of the calendar,
the people, their mutes and the checklist. No I/O; ``now`` and the window are passed in.

Refs name each reminder in the delivery ledger: ``ev:<event>:v<version>:<offset>`` for an
event, ``ms:<ISO3>:<step>:<due date>:<offset|odN>`` for a checklist step (``odN``: the N-th
reminder while the step is overdue), ``<ref>~<delivery id>`` for a snooze of one.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Callable, Iterable

from bot.reminders.render import render_event_reminder, render_step_reminder
from bot.reminders.settings import Settings
from bot.reminders.zones import zone
from knowledge.durations import parse_duration
from knowledge.events import Event
from knowledge.vocabulary import LANGS, DeliveryKind, ReminderCategory, Role, category_of

UTC = dt.timezone.utc
MUTE_ALL = "all"
STAFF_ROLES = (Role.SECRETARIAT, Role.EXPERT)


@dataclass(frozen=True)
class Recipient:
    chat_id: int
    lang: str
    tz: str
    country: str | None = None
    role: str | None = None
    is_group: bool = False


@dataclass(frozen=True)
class Step:
    """A checklist step still open for a country, with its effective due date."""

    iso3: str
    step_id: str
    due: dt.date


@dataclass
class Snapshot:
    """What the planner reads, gathered by the service in one database read."""

    events: list[Event]
    people: list[Recipient]
    groups: dict[str, list[dict]] = field(default_factory=dict)   # event id -> linked groups of its circle
    mutes: dict[int, set[str]] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)


@dataclass
class Planned:
    kind: str
    ref: str
    chat_id: int
    due_at: dt.datetime
    text: str
    lang: str
    category: str
    buttons: bool = True
    muted: bool = False


@dataclass
class Upcoming:
    due_at: dt.datetime
    title: str
    category: str
    what: str                  # event | step | snooze
    start: dt.datetime | None = None
    muted: bool = False


# -- refs ------------------------------------------------------------------------------------

def event_ref(event: Event, offset: str) -> str:
    return f"ev:{event.id}:v{event.version}:{offset}"


def step_ref(step: Step, label: str) -> str:
    return f"ms:{step.iso3}:{step.step_id}:{step.due.strftime('%Y%m%d')}:{label}"


def base_ref(ref: str) -> str:
    """A snooze's ref is ``<original ref>~<original id>``; this is the reminder it came from."""
    return ref.split("~", 1)[0]


def parse_ref(ref: str) -> dict | None:
    parts = base_ref(ref).split(":")
    if parts[0] == "ev" and len(parts) >= 4:
        return {"type": "event", "event_id": parts[1], "version": parts[2], "offset": parts[3]}
    if parts[0] == "ms" and len(parts) >= 5:
        return {"type": "step", "iso3": parts[1], "step_id": parts[2], "due": parts[3], "label": parts[4]}
    return None


def is_muted(mutes: set[str], category: str) -> bool:
    return MUTE_ALL in mutes or category in mutes


# -- times -------------------------------------------------------------------------------------

def event_times(event: Event, default_offsets: Iterable[str]) -> list[tuple[str, dt.datetime]]:
    """(offset, due instant) of every reminder of ``event``, earliest first."""
    offsets = event.offsets if event.offsets is not None else tuple(default_offsets)
    start = event.start_utc
    return sorted(((off, start - parse_duration(off)) for off in offsets), key=lambda p: p[1])


def step_anchor(settings: Settings, timezone: str | None, due: dt.date) -> dt.datetime:
    """A step's reminders are timed from ``milestone_hour`` local time (the country's zone) of its due date."""
    local = dt.datetime.combine(due, dt.time(settings.milestone_hour), zone(timezone))
    return local.astimezone(UTC)


def step_times(settings: Settings, anchor: dt.datetime, lo: dt.datetime, hi: dt.datetime) -> list[tuple[str, dt.datetime, bool]]:
    """(label, due instant, overdue?) of a step's reminders in ``[lo, hi]``: before the due date, then
    every ``overdue_every`` from the day after, at most ``overdue_max`` times."""
    out = [(off, anchor - parse_duration(off), False) for off in settings.milestone_offsets]
    out = [p for p in out if lo <= p[1] <= hi]
    first = anchor + dt.timedelta(days=1)
    every = settings.overdue_every
    if hi >= first and settings.overdue_max > 0:
        k_lo = max(0, math.ceil((lo - first) / every))
        k_hi = min(math.floor((hi - first) / every), settings.overdue_max - 1)
        out.extend((f"od{k}", first + k * every, True) for k in range(k_lo, k_hi + 1))
    return out


# -- audiences ---------------------------------------------------------------------------------

def relevant(event: Event, registry, *, country: str | None, role: str | None) -> bool:
    """Events shown to a person (/calendar, /events): staff see all; guests the public ones."""
    if role in STAFF_ROLES:
        return True
    if role is None:
        return event.audience.all and not event.audience.role
    return event.audience.includes(registry, country=country, role=role)


def audience(event: Event, people: list[Recipient], groups: list[dict], registry, default_lang: str) -> list[Recipient]:
    """The people (and linked groups) an event concerns, each with their language and time zone."""
    countries = event.audience.country_set(registry)
    if countries is not None and not countries:
        return []
    out: list[Recipient] = []
    seen: set[int] = set()
    for who in people:
        if who.chat_id in seen or not event.audience.includes(registry, country=who.country, role=who.role):
            continue
        seen.add(who.chat_id)
        out.append(who)
    if event.audience.role is None:
        for group in groups:
            chat_id = int(group["chat_id"])
            if chat_id in seen:
                continue
            seen.add(chat_id)
            lang = str(group["lang"]) if group.get("lang") in LANGS else default_lang
            out.append(Recipient(chat_id, lang, group.get("timezone") or event.timezone, None, None, True))
    return out


# -- the plan ------------------------------------------------------------------------------------

def plan_events(snapshot: Snapshot, i18n, settings: Settings, registry, default_lang: str, lo: dt.datetime, hi: dt.datetime,
                now: dt.datetime, skip: set) -> list[Planned]:
    """Every (event reminder, recipient) due in ``[lo, hi]`` (and after the event's ``since``), rendered."""
    planned: list[Planned] = []
    for event in snapshot.events:
        if event.cancelled:
            continue
        since = event.since or lo
        times = [(off, due) for off, due in event_times(event, settings.offsets) if lo <= due <= hi and due > since]
        if not times:
            continue
        category = category_of(event.kind)
        people = audience(event, snapshot.people, snapshot.groups.get(event.id, []), registry, default_lang)
        for off, due in times:
            ref = event_ref(event, off)
            for who in people:
                if (DeliveryKind.REMINDER, ref, who.chat_id) in skip:
                    continue
                text = render_event_reminder(i18n, event, who.lang, who.tz, max(due, now))
                planned.append(Planned(DeliveryKind.REMINDER, ref, who.chat_id, due, text, who.lang, category,
                                       buttons=not who.is_group, muted=is_muted(snapshot.mutes.get(who.chat_id, set()), category)))
    return planned


def plan_steps(snapshot: Snapshot, i18n, settings: Settings, registry, step_title: Callable[[str, str], str],
               lo: dt.datetime, hi: dt.datetime, now: dt.datetime, skip: set) -> list[Planned]:
    """Every (checklist step reminder, focal point of the country) due in ``[lo, hi]``, rendered."""
    focal: dict[str, list[Recipient]] = {}
    for who in snapshot.people:
        if who.role == Role.FOCAL_POINT and who.country:
            focal.setdefault(who.country, []).append(who)
    category = ReminderCategory.MILESTONES
    out: list[Planned] = []
    for step in snapshot.steps:
        if step.iso3 not in focal:
            continue
        country = registry.get(step.iso3)
        anchor = step_anchor(settings, country.timezone if country else None, step.due)
        for label, when, overdue in step_times(settings, anchor, lo, hi):
            ref = step_ref(step, label)
            for who in focal[step.iso3]:
                if (DeliveryKind.REMINDER, ref, who.chat_id) in skip:
                    continue
                text = render_step_reminder(i18n, who.lang, registry.name(step.iso3, who.lang), step_title(step.step_id, who.lang),
                                            step.due, max(when, now), anchor, overdue)
                out.append(Planned(DeliveryKind.REMINDER, ref, who.chat_id, when, text, who.lang, category,
                                   muted=is_muted(snapshot.mutes.get(who.chat_id, set()), category)))
    return out


def plan(snapshot: Snapshot, i18n, settings: Settings, registry, default_lang: str, step_title: Callable[[str, str], str],
         lo: dt.datetime, hi: dt.datetime, now: dt.datetime, skip: set | None = None) -> list[Planned]:
    """Every (reminder, recipient) due in ``[lo, hi]``; keys ``(kind, ref, chat_id)`` in ``skip`` are left out."""
    skip = skip or set()
    return (plan_events(snapshot, i18n, settings, registry, default_lang, lo, hi, now, skip)
            + plan_steps(snapshot, i18n, settings, registry, step_title, lo, hi, now, skip))
