"""The reminder service of one Application (``services.reminders``): loads the calendar, reads a
:class:`~bot.reminders.planner.Snapshot` for the planner, writes what falls due to the delivery
ledger and sends it through :class:`bot.delivery.Deliverer`.

Each tick (at start, then every ``tick_seconds``):

1. the planner says which reminders fall due in the window ``[now - grace, now]``; each
   (reminder, recipient) becomes one ledger row, rendered in the recipient's language and local
   time; UNIQUE(kind, ref, chat_id) makes this idempotent, so a restart re-plans the same rows;
2. the ledger is flushed: claim -> send with retries -> mark; rows older than the grace window are
   marked ``skipped`` and logged.

Reminders that fell due while the bot was down for longer than the grace window are recorded as
``skipped`` rows (and logged) instead of being sent late. A reminder due before its event's
``since`` (when the event was added or last moved) is never sent.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import dataclass, field
from pathlib import Path

from bot import groups, milestones
from bot.reminders import planner
from bot.reminders.admin import sync_events
from bot.reminders.planner import Planned, Recipient, Snapshot
from bot.reminders.render import HTML, reminder_markup
from bot.reminders.settings import Settings
from bot.reminders.zones import user_lang, user_timezone
from bot.roles import effective_role
from bot.services import Services
from knowledge.durations import format_duration
from knowledge.events import Event, EventSet, apply_reporting_deadline, load_events
from knowledge.isotime import format_instant, parse_instant
from knowledge.vocabulary import DeliveryKind, ReminderCategory, category_of
from knowledge.yamlfile import DataError
from storage import deliveries, users
from storage import mail as mail_store
from storage import reminders as store
from storage.deliveries import AT_LEAST_ONCE, AT_MOST_ONCE

log = logging.getLogger("ldn.reminders")

STATE_LAST_TICK = "reminders.last_tick"


@dataclass
class TickResult:
    created: int = 0
    muted: int = 0
    missed: int = 0
    outcomes: list = field(default_factory=list)
    busy: bool = False

    def as_dict(self) -> dict:
        statuses: dict[str, int] = {}
        for outcome in self.outcomes:
            statuses[outcome.status] = statuses.get(outcome.status, 0) + 1
        return {"planned": self.created, "muted": self.muted, "missed": self.missed, "busy": self.busy, **statuses}


def promise_of_category(category: str) -> str:
    """Deadline reminders are promised at least once (a duplicate is better than a missed deadline);
    the others at most once (see bot/delivery.py)."""
    return AT_LEAST_ONCE if category == ReminderCategory.DEADLINES else AT_MOST_ONCE


def groups_for_countries(db, iso3s: list[str], kind: str) -> list[dict]:
    """Linked peer-exchange groups of these countries whose switches let ``kind`` through."""
    return [g for g in groups.groups_for_countries(db, list(iso3s), kind) if g.get("chat_id") is not None]


class Reminders:
    """The reminder service of one Application (``services.reminders``)."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.settings = Settings.from_section(services.config.section("reminders"), str(services.config.path or "config.yaml"))
        self.events_path = Path(services.config.knowledge_dir) / "events.yaml"
        self.loaded = False
        self._tick_lock = asyncio.Lock()
        self._load_lock = asyncio.Lock()
        self.tasks: set[asyncio.Task] = set()
        self.checklist_error: str | None = None

    @property
    def i18n(self):
        return self.services.i18n

    @property
    def countries(self):
        return self.services.countries

    @property
    def default_lang(self) -> str:
        return self.services.config.default_language

    # -- people ------------------------------------------------------------------------------
    def role_of(self, row: dict) -> str | None:
        cfg = self.services.config
        return effective_role(row, row["user_id"], cfg.secretariat_ids, cfg.expert_ids)

    def recipient(self, row: dict) -> Recipient:
        return Recipient(row["user_id"], user_lang(row, self.countries, self.default_lang), user_timezone(row, self.countries),
                         row.get("country"), self.role_of(row))

    def person(self, db, user_id: int) -> Recipient:
        return self.recipient(users.get_user(db, user_id) or {"user_id": user_id})

    def event_times(self, event: Event) -> list[tuple[str, dt.datetime]]:
        return planner.event_times(event, self.settings.offsets)

    def relevant(self, event: Event, *, country: str | None, role: str | None) -> bool:
        return planner.relevant(event, self.countries, country=country, role=role)

    def event_groups(self, db, event: Event) -> list[dict]:
        """The linked groups of an event's circle (each group's switch for the event's category applied)."""
        if event.audience.role is not None:
            return []
        countries = event.audience.country_set(self.countries)
        iso3s = sorted(countries) if countries is not None else [c.iso3 for c in self.countries]
        return groups_for_countries(db, iso3s, category_of(event.kind)) if iso3s else []

    def audience_of(self, db, event: Event) -> list[Recipient]:
        """Users (and linked groups) an event concerns, each with their language and time zone."""
        people = [self.recipient(row) for row in users.users_where(db)]
        return planner.audience(event, people, self.event_groups(db, event), self.countries, self.default_lang)

    # -- the checklist -----------------------------------------------------------------------
    def template(self):
        """The checklist template, or None (logged once) while checklist.yaml is invalid."""
        try:
            return milestones.get_template(self.services)
        except DataError as exc:
            if self.checklist_error is None:
                log.error("reminders.checklist_unavailable", extra={"error": str(exc)})
            self.checklist_error = str(exc)
            return None

    def step_title(self, template, step_id: str, lang: str) -> str:
        return milestones.step_title(template, step_id, lang)

    def open_steps(self, db, template, now: dt.datetime) -> list[planner.Step]:
        if template is None:
            return []
        return [planner.Step(p.iso3, p.step_id, p.due) for p in milestones.pending_steps(db, template, self.countries, now)
                if p.due is not None]

    def step_anchor(self, iso3: str, due: dt.date) -> dt.datetime:
        country = self.countries.get(iso3)
        return planner.step_anchor(self.settings, country.timezone if country else None, due)

    # -- background tasks --------------------------------------------------------------------
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

    # -- the calendar ------------------------------------------------------------------------
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
        """Load events.yaml into the database (see :func:`~bot.reminders.admin.sync_events`); DataError if invalid."""
        events = self.definitions()
        result = await self.services.store.run(sync_events, events, self.services.clock.now(), by)
        self.loaded = True
        return result

    # -- planning ----------------------------------------------------------------------------
    def snapshot(self, db, now: dt.datetime) -> Snapshot:
        """Everything the planner reads, from one database read."""
        events = store.list_events(db, include_cancelled=False)
        return Snapshot(events=events, people=[self.recipient(row) for row in mail_store.without_email_only(db, users.users_where(db))],
                        groups={e.id: self.event_groups(db, e) for e in events}, mutes=store.all_mutes(db),
                        steps=self.open_steps(db, self.template(), now))

    def plan(self, snap: Snapshot, lo: dt.datetime, hi: dt.datetime, now: dt.datetime, skip: set | None = None) -> list[Planned]:
        """Every (reminder, recipient) due in ``[lo, hi]``, rendered; keys in ``skip`` are left out."""
        template = self.template()
        return planner.plan(snap, self.i18n, self.settings, self.countries, self.default_lang,
                            lambda step_id, lang: self.step_title(template, step_id, lang), lo, hi, now, skip)

    def materialise(self, db, now: dt.datetime, last_tick: dt.datetime | None) -> TickResult:
        """Write the ledger rows due in ``[now - grace, now]``; record as skipped those missed for longer."""
        result = TickResult()
        lo = now - self.settings.grace
        start = min(lo, last_tick) if last_tick else lo
        existing = store.existing_keys(db, (DeliveryKind.REMINDER,), start - dt.timedelta(days=1))
        snap = self.snapshot(db, now)
        due_now = self.plan(snap, lo, now, now, existing)
        missed = self.plan(snap, last_tick, lo - dt.timedelta(seconds=1), now, existing) if last_tick and last_tick < lo else []
        for p in due_now:
            status, error = ("cancelled", "muted by the recipient") if p.muted else ("pending", None)
            _, created = self._write(db, p, now, status, error)
            if created:
                result.created += status == "pending"
                result.muted += status == "cancelled"
        for p in missed:
            _, created = self._write(db, p, now, "skipped", f"missed by more than the grace window ({format_duration(self.settings.grace)})")
            result.missed += created
        if result.missed:
            log.warning("reminders.missed_skipped", extra={"count": result.missed, "since": last_tick and format_instant(last_tick),
                                                            "until": format_instant(lo)})
        return result

    def _write(self, db, p: Planned, now: dt.datetime, status: str, error: str | None) -> tuple[int, bool]:
        def payload(delivery_id: int) -> dict:
            body = {"text": p.text, **HTML}
            if p.buttons:
                body["reply_markup"] = reminder_markup(self.i18n, p.lang, delivery_id, p.category)
            return body

        return store.add_delivery(db, kind=p.kind, ref=p.ref, chat_id=p.chat_id, due_at=p.due_at, now=now, payload=payload,
                                  status=status, error=error, promise=promise_of_category(p.category))

    def plan_tick(self, db, now: dt.datetime) -> TickResult:
        """One transaction: what fell due since the last tick is written, and the tick recorded."""
        last = parse_instant(users.get_state(db, STATE_LAST_TICK))
        if last and last > now:
            last = None  # the clock went back (LDN_NOW set earlier than a previous run)
        result = self.materialise(db, now, last)
        users.set_state(db, STATE_LAST_TICK, format_instant(now), now)
        return result

    # -- the tick ----------------------------------------------------------------------------
    async def tick(self, bot) -> TickResult:
        """Plan what is due, then send it. Concurrent calls return at once (``busy``)."""
        if self._tick_lock.locked():
            return TickResult(busy=True)
        async with self._tick_lock:
            await self.ensure_loaded()
            result = await self.services.store.run(self.plan_tick, self.services.clock.now())
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


def get_reminders(services) -> Reminders:
    """The service of this Application (created on first use)."""
    if services.reminders is None:
        services.reminders = Reminders(services)
    return services.reminders
