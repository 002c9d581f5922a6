"""Who is reminded of what, and when. Plain Python: no Telegram objects, ``now`` passed in.

The schedule is never held in memory only. Each tick (at start, then every ``tick_seconds``):

1. the calendar (``calendar_events``, loaded from ``events.yaml`` and edited in chat), the users,
   their mutes and the milestone checklist say which reminders fall due in the window
   ``[now - grace, now]``; each (reminder, recipient) becomes one row of the delivery ledger,
   rendered in the recipient's language and local time (kind ``reminder``,
   ``ref = ev:<event>:v<version>:<offset>`` or ``ms:<ISO3>:<step>:<due date>:<offset|odN>``);
   UNIQUE(kind, ref, chat_id) makes this idempotent, so a restart re-plans the same rows;
2. the ledger is flushed: claim -> send with retries -> mark (:class:`bot.delivery.Deliverer`);
   rows older than the grace window are marked ``skipped`` and logged.

Reminders that fell due while the bot was down for longer than the grace window are recorded
as ``skipped`` rows (and logged) instead of being sent late. A reminder's due time before its
event's ``since`` (when the event was added or last moved) is never sent.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import difflib
import html
import json
import logging
import math
import re
import sqlite3
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.clock import parse_instant
from bot.i18n import LANGS, Raw
from bot.roles import effective_role
from knowledge.events import (Event, EventSet, apply_reporting_deadline, canonical_offsets,
                              format_offset, load_events, parse_offset)
from knowledge.yamlfile import DataError, Problem
from knowledge.vocabulary import EVENT_CATEGORY, REMINDER_CATEGORIES, Feature, ReminderAction, callback_data
from storage import deliveries, users
from storage import reminders as store
from storage.db import parse_iso, transaction, utcnow_iso

log = logging.getLogger("ldn.reminders")

UTC = dt.timezone.utc
CATEGORIES = REMINDER_CATEGORIES
MUTE_CHOICES = ("all",) + CATEGORIES
KIND_CATEGORY = EVENT_CATEGORY
SNOOZES = {"1h": dt.timedelta(hours=1), "1d": dt.timedelta(days=1)}
LEDGER_KINDS = ("reminder", "snooze", "event_notice")
STATE_LAST_TICK = "reminders.last_tick"
HTML = {"parse_mode": "HTML", "link_preview_options": {"is_disabled": True}}

DEFAULTS: dict[str, Any] = {
    "offsets": ["14d", "3d", "1d", "2h"],   # before each event, unless the event says otherwise
    "grace": "6h",                          # missed reminders younger than this are still sent
    "reporting_deadline": None,             # e.g. 2018-03-31T23:59:00Z: overrides the reporting-2018 event
    "tick_seconds": 60,                     # how often the schedule is checked
    "milestone_offsets": ["7d", "1d"],      # before a checklist step's due date
    "overdue_every": "7d",                  # nudge while a step is overdue
    "milestone_hour": 9,                    # local hour (country's zone) of milestone reminders
    "concurrency": 8,                       # parallel sends (Telegram's limits are applied by the rate limiter)
}


def callback(action: str, *args: Any) -> str:
    """Callback data of this feature's buttons under a delivered reminder."""
    return callback_data(Feature.REMINDERS, action, *args)


# -- settings ------------------------------------------------------------------------

@dataclass(frozen=True)
class Settings:
    offsets: tuple[str, ...] = ("14d", "3d", "1d", "2h")
    grace: dt.timedelta = dt.timedelta(hours=6)
    reporting_deadline: dt.datetime | None = None
    tick_seconds: float = 60.0
    milestone_offsets: tuple[str, ...] = ("7d", "1d")
    overdue_every: dt.timedelta = dt.timedelta(days=7)
    milestone_hour: int = 9
    concurrency: int = 8

    @classmethod
    def from_section(cls, section: dict | None, where: str = "config.yaml") -> "Settings":
        """The ``reminders`` section of the config, with defaults; every problem raised as DataError."""
        raw = {**DEFAULTS, **(section or {})}
        problems: list[Problem] = []

        def bad(key: str, message: str) -> None:
            problems.append(Problem(where, 1, f"reminders.{key}: {message}"))

        values: dict[str, Any] = {}
        for key in ("offsets", "milestone_offsets"):
            value = raw[key]
            if isinstance(value, str):
                value = [v for v in value.replace(",", " ").split() if v]
            try:
                if not isinstance(value, list) or not value:
                    raise ValueError("must be a list like [14d, 3d, 1d, 2h]")
                values[key] = canonical_offsets(value)
            except ValueError as exc:
                bad(key, str(exc))
        for key in ("grace", "overdue_every"):
            try:
                values[key] = parse_offset(raw[key])
            except ValueError as exc:
                bad(key, str(exc))
        deadline = raw.get("reporting_deadline")
        if deadline not in (None, ""):
            try:
                values["reporting_deadline"] = deadline.astimezone(UTC) if isinstance(deadline, dt.datetime) and deadline.tzinfo \
                    else parse_instant(str(deadline))
            except ValueError:
                bad("reporting_deadline", f"{deadline!r} is not an instant like 2018-03-31T23:59:00Z")
        for key, kind, low in (("tick_seconds", float, 1), ("milestone_hour", int, 0), ("concurrency", int, 1)):
            try:
                values[key] = kind(raw[key])
                if values[key] < low or (key == "milestone_hour" and values[key] > 23):
                    raise ValueError
            except (TypeError, ValueError):
                bad(key, f"{raw[key]!r} is out of range")
        if problems:
            raise DataError(problems)
        return cls(**values)


# -- recipients ------------------------------------------------------------------------

@dataclass(frozen=True)
class Recipient:
    chat_id: int
    lang: str
    tz: str
    country: str | None = None
    role: str | None = None
    is_group: bool = False


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def user_timezone(row: dict, registry) -> str:
    """The user's own ``/timezone``, else their country's, else UTC."""
    if row.get("timezone"):
        return row["timezone"]
    country = registry.get(row.get("country"))
    return country.timezone if country else "UTC"


def user_lang(row: dict, registry, default: str = "en") -> str:
    if row.get("lang") in LANGS:
        return row["lang"]
    country = registry.get(row.get("country"))
    return country.un_language if country else default


# -- formatting (every string from the translator) ----------------------------------------------

def offset_label(when: dt.datetime) -> str:
    """``UTC+05:30`` (or ``UTC``) for an aware datetime."""
    offset = when.utcoffset() or dt.timedelta()
    minutes = int(offset.total_seconds() // 60)
    if minutes == 0:
        return "UTC"
    sign = "+" if minutes > 0 else "-"
    hours, mins = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{mins:02d}"


def tz_label(when_utc: dt.datetime, tz: str) -> str:
    local = when_utc.astimezone(zone(tz))
    label = offset_label(local)
    return label if tz in ("UTC", "Etc/UTC") else f"{tz}, {label}"


def format_date(i18n, lang: str, day: dt.date) -> str:
    months = i18n.t(lang, "fmt.months").split("|")
    month = months[day.month - 1] if len(months) == 12 else str(day.month)
    return i18n.t(lang, "fmt.date", day=day.day, month=month, year=day.year)


def format_when(i18n, lang: str, when_utc: dt.datetime, tz: str, *, with_zone: bool = True) -> str:
    """``12 July 2016, 07:30 (Asia/Colombo, UTC+05:30)`` in ``lang`` (safe HTML)."""
    local = when_utc.astimezone(zone(tz))
    date = format_date(i18n, lang, local.date())
    text = i18n.t(lang, "fmt.datetime", date=Raw(date), time=local.strftime("%H:%M"))
    return Raw(f"{text} ({tz_label(when_utc, tz)})" if with_zone else text)


def relative(i18n, lang: str, delta: dt.timedelta) -> str:
    """``in 3 days`` / ``in 2 hours`` / ``tomorrow`` in ``lang`` (rounded to the largest unit)."""
    seconds = delta.total_seconds()
    if seconds < 60:
        return i18n.t(lang, "rel.now")
    if seconds >= 86400 - 60:
        n = max(1, round(seconds / 86400))
        unit = "day"
    elif seconds >= 3600 - 60:
        n = max(1, round(seconds / 3600))
        unit = "hour"
    else:
        return i18n.t(lang, "rel.minutes", n=max(1, round(seconds / 60)))
    if n == 1:
        return i18n.t(lang, f"rel.{unit}1")
    if n == 2:
        return i18n.t(lang, f"rel.{unit}s2", n=n)
    if n <= 10:
        return i18n.t(lang, f"rel.{unit}s", n=n)
    return i18n.t(lang, f"rel.{unit}s_many", n=n)


def category_label(i18n, lang: str, category: str) -> str:
    return i18n.t(lang, f"rem.cat.{category}")


def reminder_markup(i18n, lang: str, delivery_id: int, category: str) -> dict:
    """Snooze (1 h / 1 day) and mute buttons under a delivered reminder."""
    return {"inline_keyboard": [
        [{"text": i18n.t(lang, "rem.btn.snooze_1h"), "callback_data": callback(ReminderAction.SNOOZE, delivery_id, "1h")},
         {"text": i18n.t(lang, "rem.btn.snooze_1d"), "callback_data": callback(ReminderAction.SNOOZE, delivery_id, "1d")}],
        [{"text": i18n.t(lang, "rem.btn.mute", category=category_label(i18n, lang, category)),
          "callback_data": callback(ReminderAction.MUTE, category, 1)}],
    ]}


def render_event_reminder(i18n, event: Event, who: Recipient, at: dt.datetime) -> str:
    """The reminder text for ``who``, as read at ``at`` (the due time)."""
    lang = who.lang
    start = event.start_utc
    lines = [i18n.t(lang, "rem.event.head", kind=i18n.t(lang, f"rem.kind.{event.kind}"), relative=relative(i18n, lang, start - at)),
             f"<b>{_escape(event.title_in(lang))}</b>",
             i18n.t(lang, "rem.event.when", when=format_when(i18n, lang, start, who.tz))]
    if who.tz != event.timezone and not (event.timezone == "UTC" and who.tz in ("UTC", "Etc/UTC")):
        lines.append(i18n.t(lang, "rem.event.local", when=format_when(i18n, lang, start, event.timezone)))
    if event.end > event.start:
        lines.append(i18n.t(lang, "rem.event.until", when=format_when(i18n, lang, event.end_utc, who.tz)))
    place = event.place_in(lang)
    if place:
        lines.append(i18n.t(lang, "rem.event.place", place=place))
    lines.append("")
    lines.append(i18n.t(lang, "rem.event.footer"))
    return "\n".join(lines)


def render_cancel_notice(i18n, event: Event, who: Recipient) -> str:
    return i18n.t(who.lang, "rem.event.cancelled", title=event.title_in(who.lang),
                  when=format_when(i18n, who.lang, event.start_utc, who.tz))


def render_step_reminder(i18n, who: Recipient, country_name: str, step_title: str, due: dt.date, at: dt.datetime,
                         anchor: dt.datetime, overdue: bool) -> str:
    lang = who.lang
    date = Raw(format_date(i18n, lang, due))
    if overdue:
        return i18n.t(lang, "rem.step.overdue", country=country_name, step=step_title, date=date)
    return i18n.t(lang, "rem.step.before", country=country_name, step=step_title, date=date,
                  relative=relative(i18n, lang, anchor - at))


def _escape(text: str) -> str:
    return html.escape(text, quote=False)


# -- refs ------------------------------------------------------------------------------------

def event_ref(event: Event, offset: str) -> str:
    return f"ev:{event.id}:v{event.version}:{offset}"


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


# -- planning --------------------------------------------------------------------------------

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
class TickResult:
    created: int = 0
    muted: int = 0
    missed: int = 0
    outcomes: list = field(default_factory=list)
    busy: bool = False

    @property
    def sent(self) -> int:
        return sum(1 for o in self.outcomes if o.status == "sent")

    def as_dict(self) -> dict:
        statuses: dict[str, int] = {}
        for outcome in self.outcomes:
            statuses[outcome.status] = statuses.get(outcome.status, 0) + 1
        return {"planned": self.created, "muted": self.muted, "missed": self.missed, "busy": self.busy, **statuses}


@dataclass
class Upcoming:
    due_at: dt.datetime
    title: str
    category: str
    what: str                  # event | step | snooze
    start: dt.datetime | None = None
    muted: bool = False


def is_muted(mutes: set[str], category: str) -> bool:
    return "all" in mutes or category in mutes


class Reminders:
    """The reminder service of one Application (``services.reminders``)."""

    def __init__(self, services):
        self.services = services
        self.settings = Settings.from_section(services.config.section("reminders"), str(services.config.path or "config.yaml"))
        self.events_path = Path(services.config.knowledge_dir) / "events.yaml"
        self.loaded = False
        self._tick_lock = asyncio.Lock()
        self._load_lock = asyncio.Lock()
        self.tasks: set[asyncio.Task] = set()
        self.milestones_error: str | None = None

    # -- shortcuts
    @property
    def i18n(self):
        return self.services.i18n

    @property
    def countries(self):
        return self.services.countries

    @property
    def default_lang(self) -> str:
        return self.services.config.default_language

    def role_of(self, row: dict) -> str | None:
        cfg = self.services.config
        return effective_role(row, row["user_id"], cfg.secretariat_ids, cfg.expert_ids)

    def recipient(self, row: dict) -> Recipient:
        return Recipient(row["user_id"], user_lang(row, self.countries, self.default_lang), user_timezone(row, self.countries),
                         row.get("country"), self.role_of(row))

    def offsets_of(self, event: Event) -> tuple[str, ...]:
        return event.offsets if event.offsets is not None else self.settings.offsets

    def event_times(self, event: Event) -> list[tuple[str, dt.datetime]]:
        """(offset, due instant) of every reminder of ``event``, earliest first."""
        start = event.start_utc
        out = [(off, start - parse_offset(off)) for off in self.offsets_of(event)]
        return sorted(out, key=lambda p: p[1])

    def spawn(self, coro) -> asyncio.Task:
        """Run in the background, keeping a reference (tests await ``drain()``)."""
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("reminders.task_failed", exc_info=task.exception())

    async def drain(self) -> None:
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)

    # -- the calendar ------------------------------------------------------------------
    def definitions(self) -> EventSet:
        """events.yaml with the configured reporting deadline applied (raises DataError)."""
        return apply_reporting_deadline(load_events(self.events_path), self.settings.reporting_deadline)

    async def ensure_loaded(self) -> None:
        if self.loaded:
            return
        async with self._load_lock:
            if self.loaded:
                return
            try:
                result = await self.reload()
                log.info("reminders.events_loaded", extra={f"events_{k}": len(v) for k, v in result.items()})
            except DataError as exc:
                log.error("reminders.events_invalid", extra={"problems": [str(p) for p in exc.problems]})
                self.loaded = True  # keep serving the calendar already in the database

    async def reload(self, by: int | None = None) -> dict[str, list[str]]:
        """Load events.yaml into the database (see :func:`sync_events`); DataError if invalid."""
        events = self.definitions()
        result = await self.services.store.run(sync_events, events, self.services.clock.now(), by)
        self.loaded = True
        return result

    def audience_of(self, db, event: Event) -> list[Recipient]:
        """Users (and linked groups) an event concerns, each with their language and time zone."""
        audience = event.audience
        countries = audience.country_set(self.countries)
        if countries is not None and not countries:
            return []
        # Everyone the bot can write to has a users row (Telegram lets bots write only to users who
        # started them); configured staff ids get their role from the config (effective_role).
        rows = users.users_where(db, countries=sorted(countries) if countries is not None else None)
        out: list[Recipient] = []
        seen: set[int] = set()
        for row in rows:
            who = self.recipient(row)
            if who.chat_id in seen or not audience.includes(self.countries, country=who.country, role=who.role):
                continue
            seen.add(who.chat_id)
            out.append(who)
        if audience.role is None:
            iso3s = sorted(countries) if countries is not None else [c.iso3 for c in self.countries]
            # the groups feature applies each group's switches for this kind (workshops, milestones, deadlines)
            for group in groups_for_countries(db, iso3s, KIND_CATEGORY.get(event.kind, "workshops")):
                chat_id = int(group["chat_id"])
                if chat_id in seen:
                    continue
                seen.add(chat_id)
                lang = group.get("lang") if group.get("lang") in LANGS else self.default_lang
                out.append(Recipient(chat_id, lang, group.get("timezone") or event.timezone, None, None, True))
        return out

    def relevant(self, event: Event, *, country: str | None, role: str | None) -> bool:
        """Events shown to a person (/calendar, /reminders): staff see all; guests the public ones."""
        if role in ("secretariat", "expert"):
            return True
        if role is None:
            return event.audience.all and not event.audience.role
        return event.audience.includes(self.countries, country=country, role=role)

    # -- planning (runs on the database thread) ------------------------------------------
    def plan(self, db, lo: dt.datetime, hi: dt.datetime, now: dt.datetime, skip: set | None = None) -> list[Planned]:
        """Every (reminder, recipient) due in ``[lo, hi]``, rendered; keys in ``skip`` are left out."""
        skip = skip or set()
        mutes = store.all_mutes(db)
        planned: list[Planned] = []
        for event in store.list_events(db, include_cancelled=False):
            since = event.since or lo
            times = [(off, due) for off, due in self.event_times(event) if lo <= due <= hi and due > since]
            if not times:
                continue
            category = KIND_CATEGORY.get(event.kind, "workshops")
            audience = self.audience_of(db, event)
            for off, due in times:
                ref = event_ref(event, off)
                for who in audience:
                    if ("reminder", ref, who.chat_id) in skip:
                        continue
                    planned.append(Planned("reminder", ref, who.chat_id, due, render_event_reminder(self.i18n, event, who, max(due, now)),
                                           who.lang, category, buttons=not who.is_group,
                                           muted=is_muted(mutes.get(who.chat_id, set()), category)))
        planned.extend(self.plan_steps(db, lo, hi, now, skip, mutes))
        return planned

    def milestone_api(self):
        """(pending_steps, step_title, template) from the milestones feature, or None while it is absent."""
        try:
            from bot import milestones
        except ImportError:
            return None
        pending = getattr(milestones, "pending_steps", None)
        title = getattr(milestones, "step_title", None)
        if pending is None or title is None:
            return None
        try:
            if hasattr(milestones, "get_template"):
                template = milestones.get_template(self.services)
            else:
                from knowledge.checklist import load_checklist

                if self.services.checklist is None:
                    self.services.checklist = load_checklist(Path(self.services.config.knowledge_dir) / "checklist.yaml")
                template = self.services.checklist
        except (DataError, ImportError, OSError) as exc:
            if self.milestones_error is None:
                log.error("reminders.checklist_unavailable", extra={"error": str(exc)})
            self.milestones_error = str(exc)
            return None
        return pending, title, template

    def step_anchor(self, iso3: str, due: dt.date | dt.datetime) -> dt.datetime:
        """A step's reminders are timed from ``milestone_hour`` local time of its due date."""
        if isinstance(due, dt.datetime):
            return due if due.tzinfo else due.replace(tzinfo=UTC)
        country = self.countries.get(iso3)
        local = dt.datetime.combine(due, dt.time(self.settings.milestone_hour), zone(country.timezone if country else "UTC"))
        return local.astimezone(UTC)

    def step_times(self, iso3: str, due, lo: dt.datetime, hi: dt.datetime) -> list[tuple[str, dt.datetime, bool]]:
        """(label, due instant, overdue?) of a step's reminders in ``[lo, hi]``: before the due date, then weekly."""
        anchor = self.step_anchor(iso3, due)
        out = [(off, anchor - parse_offset(off), False) for off in self.settings.milestone_offsets]
        out = [p for p in out if lo <= p[1] <= hi]
        first = anchor + dt.timedelta(days=1)
        every = self.settings.overdue_every
        if hi >= first:
            k_lo = max(0, math.ceil((lo - first) / every))
            k_hi = math.floor((hi - first) / every)
            out.extend((f"od{k}", first + k * every, True) for k in range(k_lo, k_hi + 1))
        return out

    def plan_steps(self, db, lo, hi, now, skip, mutes) -> list[Planned]:
        api = self.milestone_api()
        if api is None:
            return []
        pending_steps, step_title, template = api
        focal: dict[str, list[Recipient]] = {}
        for row in users.users_where(db, role="focal_point"):
            if row.get("country"):
                focal.setdefault(row["country"], []).append(self.recipient(row))
        if not focal:
            return []
        out: list[Planned] = []
        for item in pending_steps(db, template, self.countries, now):
            iso3, step_id, due = _field(item, "iso3"), _field(item, "step_id", "step"), _field(item, "due")
            if iso3 not in focal or due is None:
                continue
            times = self.step_times(iso3, due, lo, hi)
            if not times:
                continue
            due_key = due.strftime("%Y%m%d")
            anchor = self.step_anchor(iso3, due)
            due_date = due.date() if isinstance(due, dt.datetime) else due
            for label, when, overdue in times:
                ref = f"ms:{iso3}:{step_id}:{due_key}:{label}"
                for who in focal[iso3]:
                    if ("reminder", ref, who.chat_id) in skip:
                        continue
                    text = render_step_reminder(self.i18n, who, self.countries.name(iso3, who.lang), step_title(template, step_id, who.lang),
                                                due_date, max(when, now), anchor, overdue)
                    out.append(Planned("reminder", ref, who.chat_id, when, text, who.lang, "milestones",
                                       muted=is_muted(mutes.get(who.chat_id, set()), "milestones")))
        return out

    def materialise(self, db, now: dt.datetime, last_tick: dt.datetime | None) -> TickResult:
        """Write the ledger rows due in ``[now - grace, now]``; record as skipped those missed for longer."""
        result = TickResult()
        lo = now - self.settings.grace
        start = min(lo, last_tick) if last_tick else lo
        existing = store.existing_keys(db, ("reminder",), start - dt.timedelta(days=1))
        due_now = self.plan(db, lo, now, now, existing)
        missed = self.plan(db, last_tick, lo - dt.timedelta(seconds=1), now, existing) if last_tick and last_tick < lo else []
        with transaction(db):
            for p in due_now:
                status, error = ("cancelled", "muted by the recipient") if p.muted else ("pending", None)
                _, created = self._write(db, p, now, status, error)
                if created:
                    result.created += status == "pending"
                    result.muted += status == "cancelled"
            for p in missed:
                _, created = self._write(db, p, now, "skipped", f"missed by more than the grace window ({format_offset(self.settings.grace)})")
                result.missed += created
        if result.missed:
            log.warning("reminders.missed_skipped", extra={"count": result.missed, "since": utcnow_iso(last_tick), "until": utcnow_iso(lo)})
        return result

    def _write(self, db, p: Planned, now: dt.datetime, status: str, error: str | None) -> tuple[int, bool]:
        def payload(delivery_id: int) -> dict:
            body = {"text": p.text, **HTML}
            if p.buttons:
                body["reply_markup"] = reminder_markup(self.i18n, p.lang, delivery_id, p.category)
            return body

        return store.add_delivery(db, kind=p.kind, ref=p.ref, chat_id=p.chat_id, due_at=p.due_at, now=now, payload=payload,
                                  status=status, error=error)

    # -- the tick ---------------------------------------------------------------------------
    async def tick(self, bot) -> TickResult:
        """Plan what is due, then send it. Concurrent calls return at once (``busy``)."""
        if self._tick_lock.locked():
            return TickResult(busy=True)
        async with self._tick_lock:
            await self.ensure_loaded()
            services = self.services
            now = services.clock.now()
            last = parse_iso(await services.store.run(users.get_state, STATE_LAST_TICK))
            if last and last > now:
                last = None  # the clock went back (LDN_NOW set earlier than a previous run)
            result = await services.store.run(self.materialise, now, last)
            await services.store.run(users.set_state, STATE_LAST_TICK, utcnow_iso(now), now)
            result.outcomes = await self.flush(bot)
            return result

    async def flush(self, bot) -> list:
        """Send every due ledger row (any feature's), older than the grace window skipped."""
        outcomes: list = []
        for _ in range(100):
            now = self.services.clock.now()
            if not await self.services.store.run(deliveries.due, now, 1):
                break
            outcomes.extend(await self.services.deliverer.flush_due(bot, grace=self.settings.grace, concurrency=self.settings.concurrency))
        return outcomes

    # -- per user -------------------------------------------------------------------------
    def upcoming(self, db, user_id: int, now: dt.datetime, limit: int = 10, horizon: dt.timedelta = dt.timedelta(days=120)) -> list[Upcoming]:
        """The next reminders of one user (events, checklist steps, snoozed), muted ones flagged."""
        row = users.get_user(db, user_id) or {"user_id": user_id}
        who = self.recipient(row)
        mutes = store.mutes_of(db, user_id)
        out: list[Upcoming] = []
        for event in store.list_events(db, include_cancelled=False):
            if not event.audience.includes(self.countries, country=who.country, role=who.role):
                continue
            category = KIND_CATEGORY.get(event.kind, "workshops")
            for _, due in self.event_times(event):
                if now < due <= now + horizon and (event.since is None or due > event.since):
                    out.append(Upcoming(due, event.title_in(who.lang), category, "event", event.start_utc, is_muted(mutes, category)))
        if who.role == "focal_point" and who.country:
            api = self.milestone_api()
            if api is not None:
                pending_steps, step_title, template = api
                for item in pending_steps(db, template, self.countries, now):
                    if _field(item, "iso3") != who.country:
                        continue
                    step_id, due = _field(item, "step_id", "step"), _field(item, "due")
                    for _, when, _ in self.step_times(who.country, due, now, now + horizon)[:2]:
                        out.append(Upcoming(when, step_title(template, step_id, who.lang), "milestones", "step", None,
                                            is_muted(mutes, "milestones")))
        for row in store.pending_for_chat(db, user_id, ("snooze",)):
            title = self.title_of_ref(db, row["ref"], who.lang) or _first_bold(json.loads(row["payload"]).get("text", ""))
            out.append(Upcoming(parse_iso(row["due_at"]), title, self.category_of_ref(db, row["ref"]), "snooze"))
        out.sort(key=lambda u: u.due_at)
        return out[:limit]

    def title_of_ref(self, db, ref: str, lang: str) -> str | None:
        parsed = parse_ref(ref)
        if parsed and parsed["type"] == "event":
            event = store.get_event(db, parsed["event_id"])
            return event.title_in(lang) if event else None
        if parsed and parsed["type"] == "step":
            api = self.milestone_api()
            return api[1](api[2], parsed["step_id"], lang) if api else None
        return None

    def category_of_ref(self, db, ref: str) -> str:
        parsed = parse_ref(ref)
        if parsed and parsed["type"] == "event":
            event = store.get_event(db, parsed["event_id"])
            return KIND_CATEGORY.get(event.kind, "workshops") if event else "workshops"
        return "milestones"

    def set_mute(self, db, user_id: int, category: str, muted: bool, now: dt.datetime) -> int:
        """Mute or unmute; muting also cancels that category's pending snoozes. Returns snoozes cancelled."""
        store.set_mute(db, user_id, category, muted, now)
        if not muted:
            return 0
        if category == "all":
            prefixes = [""]
        else:
            prefixes = [f"ev:{e.id}:" for e in store.list_events(db) if KIND_CATEGORY.get(e.kind) == category]
            if category == "milestones":
                prefixes.append("ms:")
        return store.cancel_pending_snoozes(db, user_id, prefixes)

    def snooze(self, db, delivery_id: int, user_id: int, choice: str, now: dt.datetime) -> tuple[str, dt.datetime | None]:
        """Deliver a sent reminder again later: ``ok`` | ``already`` | ``not_allowed`` | ``stale`` | ``too_late``."""
        delta = SNOOZES.get(choice)
        row = deliveries.get(db, delivery_id)
        if delta is None or row is None or row["chat_id"] != user_id or row["kind"] not in ("reminder", "snooze"):
            return "not_allowed", None
        if row["status"] != "sent":
            return "stale", None
        ref = f"{row['ref']}~{row['id']}"
        existing = deliveries.find(db, "snooze", ref, user_id)
        if existing is not None:
            return "already", parse_iso(existing["due_at"])
        due = now + delta
        user_row = users.get_user(db, user_id) or {"user_id": user_id}
        who = self.recipient(user_row)
        category = self.category_of_ref(db, row["ref"])
        text = self.rerender(db, row, who, due)
        if text is None:
            return "too_late", None

        def payload(new_id: int) -> dict:
            return {"text": text, **HTML, "reply_markup": reminder_markup(self.i18n, who.lang, new_id, category)}

        store.add_delivery(db, kind="snooze", ref=ref, chat_id=user_id, due_at=due, now=now, payload=payload)
        return "ok", due

    def rerender(self, db, row: dict, who: Recipient, at: dt.datetime) -> str | None:
        """The reminder's text as it should read at ``at``; None when the event has started by then."""
        parsed = parse_ref(row["ref"])
        snoozed = self.i18n.t(who.lang, "rem.snoozed_head")
        if parsed and parsed["type"] == "event":
            event = store.get_event(db, parsed["event_id"])
            if event is None or event.cancelled or event.start_utc <= at:
                return None
            return snoozed + "\n" + render_event_reminder(self.i18n, event, who, at)
        if parsed and parsed["type"] == "step":
            api = self.milestone_api()
            if api is not None:
                _, step_title, template = api
                due = dt.datetime.strptime(parsed["due"], "%Y%m%d").date()
                overdue = parsed["label"].startswith("od")
                return snoozed + "\n" + render_step_reminder(self.i18n, who, self.countries.name(parsed["iso3"], who.lang),
                                                             step_title(template, parsed["step_id"], who.lang), due, at,
                                                             self.step_anchor(parsed["iso3"], due), overdue)
        text = json.loads(row["payload"]).get("text", "")
        return text if text.startswith(snoozed) else snoozed + "\n" + text

    # -- chat edits of the calendar ---------------------------------------------------------
    def notify_cancelled(self, db, event: Event, now: dt.datetime) -> int:
        """One notice per audience member (mutes respected) that ``event`` will not take place."""
        mutes = store.all_mutes(db)
        category = KIND_CATEGORY.get(event.kind, "workshops")
        count = 0
        for who in self.audience_of(db, event):
            if is_muted(mutes.get(who.chat_id, set()), category):
                continue
            text = render_cancel_notice(self.i18n, event, who)
            _, created = store.add_delivery(db, kind="event_notice", ref=f"ev:{event.id}:v{event.version}:cancelled",
                                            chat_id=who.chat_id, due_at=now, now=now, payload=lambda _id, t=text: {"text": t, **HTML})
            count += created
        return count


def _field(item: Any, *names: str) -> Any:
    for name in names:
        if isinstance(item, dict) and name in item:
            return item[name]
        if hasattr(item, name):
            return getattr(item, name)
    return None


def _first_bold(text: str) -> str:
    match = re.search(r"<b>(.*?)</b>", text[text.find("\n") + 1:] if "\n" in text else text, re.S)
    found = match.group(1) if match else text.split("\n")[0]
    return html.unescape(re.sub(r"<[^>]+>", "", found))[:120]


def groups_for_countries(db, iso3s: list[str], kind: str) -> list[dict]:
    """Linked peer-exchange groups of these countries (empty while the groups feature is absent)."""
    try:
        from storage import groups
    except ImportError:
        return []
    fn = getattr(groups, "groups_for_countries", None)
    if fn is None:
        return []
    try:
        return [g for g in fn(db, list(iso3s), kind) if g.get("chat_id") is not None]
    except sqlite3.OperationalError:  # its table is not there yet
        return []


# -- the calendar in the database ----------------------------------------------------------------

def sync_events(db, events: EventSet, now: dt.datetime, by: int | None = None) -> dict[str, list[str]]:
    """Bring ``calendar_events`` in line with the file. An event whose definition did not change
    since it was last loaded is left alone (so edits made in chat stay); a changed one is applied
    (a new time bumps its version and cancels its pending reminders); an event removed from the
    file is cancelled."""
    result: dict[str, list[str]] = {"added": [], "updated": [], "moved": [], "cancelled": [], "removed": []}
    rows = {r["id"]: r for r in store.event_rows(db)}
    with transaction(db):
        for event in events:
            digest = event.definition_hash()
            row = rows.get(event.id)
            if row is None:
                store.save_event(db, event, now=now, source="yaml", version=1, since=now, yaml_hash=digest, by=by)
                store.log_event(db, event.id, "added", by, now, {"start": event.start.isoformat(), "timezone": event.timezone})
                result["added"].append(event.id)
                continue
            if row["yaml_hash"] == digest:
                continue
            old = store._event(row)
            moved = (old.start, old.end, old.timezone) != (event.start, event.end, event.timezone)
            revived = old.cancelled and not event.cancelled
            version = old.version + 1 if moved else old.version
            since = now if (moved or revived) else (old.since or now)
            store.save_event(db, event, now=now, source="yaml", version=version, since=since, yaml_hash=digest, by=by)
            if moved or (event.cancelled and not old.cancelled):
                store.cancel_pending_for_event(db, event.id)
            if event.cancelled and not old.cancelled:
                action = "cancelled"
            elif moved:
                action = "moved"
            else:
                action = "updated"
            store.log_event(db, event.id, action, by, now, {"from": old.start.isoformat(), "to": event.start.isoformat(), "via": "yaml"})
            result[action].append(event.id)
        for event_id, row in rows.items():
            if event_id not in events and row["source"] == "yaml" and row["status"] == "active":
                old = store._event(row)
                store.save_event(db, replace(old, cancelled=True), now=now, source="yaml", version=old.version,
                                 since=old.since or now, yaml_hash=None, by=by)
                store.cancel_pending_for_event(db, event_id)
                store.log_event(db, event_id, "removed", by, now, {"via": "yaml"})
                result["removed"].append(event_id)
    return result


def add_event(db, event: Event, now: dt.datetime, by: int | None) -> bool:
    """A new event typed in chat; False if the id is taken."""
    with transaction(db):
        if store.get_event(db, event.id) is not None:
            return False
        store.save_event(db, event, now=now, source="chat", version=1, since=now, by=by)
        store.log_event(db, event.id, "added", by, now, {"start": event.start.isoformat(), "timezone": event.timezone, "via": "chat"})
    return True


def _live_event(db, event_id: str, expect_version: int | None) -> tuple[Event, str | None] | None:
    """The event (and its YAML digest) if it exists, is not cancelled and, when
    ``expect_version`` is given, was not changed meanwhile (a stale button)."""
    found = store.get_event_and_hash(db, event_id)
    if found is None:
        return None
    event = found[0]
    if event.cancelled or (expect_version is not None and event.version != expect_version):
        return None
    return found


def move_event(db, event_id: str, start: dt.datetime, end: dt.datetime | None, now: dt.datetime, by: int | None,
               expect_version: int | None = None) -> Event | None:
    """New local start (and end); pending reminders are cancelled and re-planned for the new time."""
    with transaction(db):
        found = _live_event(db, event_id, expect_version)
        if found is None:
            return None
        old, yaml_hash = found
        moved = replace(old.moved_to(start, end), version=old.version + 1, since=now)
        store.save_event(db, moved, now=now, source=old.source, version=moved.version, since=now, yaml_hash=yaml_hash, by=by)
        store.cancel_pending_for_event(db, event_id)
        store.log_event(db, event_id, "moved", by, now, {"from": old.start.isoformat(), "to": moved.start.isoformat(), "via": "chat"})
    return moved


def cancel_event(db, event_id: str, now: dt.datetime, by: int | None, expect_version: int | None = None) -> Event | None:
    """Cancel an event and its pending reminders (the caller decides whether to notify the audience)."""
    with transaction(db):
        found = _live_event(db, event_id, expect_version)
        if found is None:
            return None
        old, yaml_hash = found
        cancelled = replace(old, cancelled=True)
        store.save_event(db, cancelled, now=now, source=old.source, version=old.version, since=old.since or now,
                         yaml_hash=yaml_hash, by=by)
        store.cancel_pending_for_event(db, event_id)
        store.log_event(db, event_id, "cancelled", by, now, {"via": "chat"})
    return cancelled


def get_reminders(services) -> Reminders:
    """The service of this Application (created on first use)."""
    if services.reminders is None:
        services.reminders = Reminders(services)
    return services.reminders



# -- time zones typed by users ------------------------------------------------------------------

_ZONES: dict[str, str] | None = None


def _zone_index() -> dict[str, str]:
    global _ZONES
    if _ZONES is None:
        names = {z for z in available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/", "posix/", "right/"))}
        names.add("UTC")
        _ZONES = {z.lower(): z for z in names}
    return _ZONES


def resolve_timezone(text: str | None) -> tuple[str | None, list[str]]:
    """What a user typed (``Asia/Kathmandu``, ``kathmandu``, ``Buenos Aires``, ``UTC``) to an IANA name,
    or (None, suggestions)."""
    value = (text or "").strip().replace(" ", "_")
    if not value:
        return None, []
    index = _zone_index()
    low = value.lower()
    if low in ("utc", "gmt", "z", "etc/utc"):
        return "UTC", []
    if low in index:
        return index[low], []
    cities: dict[str, list[str]] = {}
    for key, name in index.items():
        cities.setdefault(key.rsplit("/", 1)[-1], []).append(name)
    if low in cities:  # a city: the most specific zone (America/Argentina/Buenos_Aires over America/Buenos_Aires)
        return sorted(cities[low], key=lambda z: (-z.count("/"), z))[0], []
    suggestions: list[str] = []
    for key in difflib.get_close_matches(low, list(index), n=3, cutoff=0.6):
        suggestions.append(index[key])
    for city in difflib.get_close_matches(low, list(cities), n=3, cutoff=0.7):
        suggestions.append(sorted(cities[city], key=lambda z: (-z.count("/"), z))[0])
    suggestions = list(dict.fromkeys(suggestions))
    return None, suggestions[:5]


# -- calendars ----------------------------------------------------------------------------

def calendar_selection(service: "Reminders", events: list[Event], *, country: str | None = None, role: str | None = None,
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


def calendar_file(service: "Reminders", events: list[Event], lang: str, now: dt.datetime) -> str:
    from bot.ics import calendar

    i18n = service.i18n
    descriptions = {e.id: f"{i18n.t(lang, f'rem.kind.{e.kind}')} · {html.unescape(i18n.t(lang, 'cal.programme'))}" for e in events}
    return calendar(events, lang=lang, now=now, name=html.unescape(i18n.t(lang, "cal.name")), descriptions=descriptions)
