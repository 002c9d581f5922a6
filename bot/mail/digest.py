"""Reminders and the weekly digest by e-mail, for the people whose channel is ``email`` or
``both`` (/channels).

Reminders are the same the Telegram planner makes (:mod:`bot.reminders`), planned for the
e-mail recipients and sent once each through the ledger (ref ``reminder:<ref>``); an event
reminder carries the event as ``.ics``. The digest goes on Monday, from ``DIGEST_HOUR`` in
the person's time zone, once per ISO week: their open queries and their state, the next
checklist steps of their country and their due dates, the coming events (``.ics``
attached) and the FAQ entries added in the last week.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from bot.mail.parsing import html_to_text
from bot.reminders import planner
from bot.reminders.calendar import calendar_file
from bot.reminders.zones import user_timezone, zone
from knowledge.isotime import format_instant
from knowledge.vocabulary import ACTIVE_STATES, FOLLOWABLE_STATES
from storage import helpdesk as hd_store
from storage import mail as store
from storage import reminders as rem_store

DIGEST_HOUR = 8
DIGEST_EVENTS_DAYS = 30
REMINDER_PREFIX = "reminder:"


@dataclass
class EmailReminder:
    person: dict
    ref: str
    lang: str
    text: str                  # plain text
    ics: str | None = None


def reminders_due(db, service, now: dt.datetime) -> list[EmailReminder]:
    """The reminders due now for the e-mail recipients, not yet e-mailed (muted ones left out)."""
    rows = store.people_for_email(db)
    if not rows:
        return []
    snap = service.snapshot(db, now)
    snap.people = [service.recipient(row) for row in rows]
    snap.groups = {}
    lo = now - service.settings.grace
    sent = store.mail_refs(db, REMINDER_PREFIX, lo - dt.timedelta(days=1))
    people = {row["user_id"]: row for row in rows}
    events = {e.id: e for e in snap.events}
    out = []
    for p in service.plan(snap, lo, now, now):
        if p.muted or (REMINDER_PREFIX + p.ref, p.chat_id) in sent or p.chat_id not in people:
            continue
        parsed = planner.parse_ref(p.ref) or {}
        event = events.get(parsed.get("event_id", ""))
        ics = calendar_file(service, [event], p.lang, now) if event is not None else None
        out.append(EmailReminder(people[p.chat_id], p.ref, p.lang, _for_email(html_to_text(p.text)), ics))
    return out


def _for_email(text: str) -> str:
    """A Telegram reminder as e-mail text: without its lines of bot commands (/calendar, /reminders)."""
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("/")).strip()


@dataclass
class Digest:
    person: dict
    week: str
    lang: str
    queries: list[dict] = field(default_factory=list)
    steps: list[tuple[str, dt.date]] = field(default_factory=list)   # (title, due)
    events: list = field(default_factory=list)
    ics: str | None = None
    faq: list[str] = field(default_factory=list)                     # questions of the new entries


def _week(local: dt.datetime) -> str:
    year, week, _ = local.isocalendar()
    return f"{year}-W{week:02d}"


def digests_due(db, service, search, now: dt.datetime) -> list[Digest]:
    """The digests due now: Monday from DIGEST_HOUR in each person's time zone, once a week."""
    out = []
    template = None
    for row in store.people_for_email(db):
        local = now.astimezone(zone(user_timezone(row, service.countries)))
        week = _week(local)
        if local.weekday() != 0 or local.hour < DIGEST_HOUR or row.get("digest_sent_week") == week:
            continue
        recipient = service.recipient(row)
        lang = recipient.lang
        queries = [q for q in hd_store.asker_queries(db, row["user_id"], row.get("country"), 20) if q["state"] in FOLLOWABLE_STATES]
        if template is None:
            template = service.template()
        steps = sorted((s for s in service.open_steps(db, template, now) if s.iso3 == row.get("country")), key=lambda s: s.due)[:5]
        horizon = now + dt.timedelta(days=DIGEST_EVENTS_DAYS)
        events = [e for e in rem_store.list_events(db, include_cancelled=False) if now <= e.start_utc < horizon
                  and service.relevant(e, country=row.get("country"), role=recipient.role)]
        since = format_instant(now - dt.timedelta(days=7))
        faq = []
        for (entry_id,) in db.execute("SELECT entry_id FROM faq_drafts WHERE status = 'approved' AND decided_at >= ? ORDER BY id",
                                      [since]):
            entry = search.get(entry_id) if search is not None and entry_id else None
            if entry is not None:
                faq.append(entry.text(lang).q)
        out.append(Digest(row, week, lang, queries, [(service.step_title(template, s.step_id, lang), s.due) for s in steps],
                          events, calendar_file(service, events, lang, now) if events else None, faq))
    return out


def digest_sent(db, user_id: int, week: str) -> bool:
    return store.set_digest_week(db, user_id, week)


def active(query: dict) -> bool:
    return query["state"] in ACTIVE_STATES
