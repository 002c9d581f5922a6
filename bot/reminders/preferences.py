"""A person's reminder preferences: what they muted, what they snoozed, their time zone, and the
list of their next reminders (``/reminders``). Each function is one service call (one transaction)."""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from bot.reminders import planner
from bot.reminders.planner import MUTE_ALL, Recipient, Upcoming, is_muted, parse_ref
from bot.reminders.service import promise_of_category
from bot.reminders.render import HTML, SNOOZE_CHOICES, first_bold, reminder_markup, render_event_reminder, render_step_reminder, \
    snoozed_text
from bot.reminders.zones import timezone_source, user_timezone
from knowledge.durations import parse_duration
from knowledge.isotime import parse_instant
from knowledge.vocabulary import REMINDER_CATEGORIES, REMINDER_DELIVERY_KINDS, DeliveryKind, ReminderCategory, Role, category_of
from storage import deliveries, users
from storage import reminders as store

#: What a person can mute: everything, or one category.
MUTE_CHOICES: tuple[str, ...] = (MUTE_ALL,) + REMINDER_CATEGORIES
HORIZON = dt.timedelta(days=120)


def title_of_ref(db, service, ref: str, lang: str) -> str | None:
    parsed = parse_ref(ref)
    if parsed and parsed["type"] == "event":
        event = store.get_event(db, parsed["event_id"])
        return event.title_in(lang) if event else None
    if parsed and parsed["type"] == "step":
        template = service.template()
        return service.step_title(template, parsed["step_id"], lang) if template is not None else None
    return None


def category_of_ref(db, ref: str) -> str:
    """The category of the reminder a ledger row carries (an event's, or milestones)."""
    parsed = parse_ref(ref)
    if parsed and parsed["type"] == "event":
        event = store.get_event(db, parsed["event_id"])
        if event is None:  # a reminder of an event that is no longer in the calendar
            return ReminderCategory.WORKSHOPS
        return category_of(event.kind)
    return ReminderCategory.MILESTONES


# -- mute --------------------------------------------------------------------------------------

def set_mute(db, user_id: int, category: str, muted: bool, now: dt.datetime) -> int:
    """Mute or unmute; muting also cancels that category's pending snoozes. Returns snoozes cancelled."""
    store.set_mute(db, user_id, category, muted, now)
    if not muted:
        return 0
    if category == MUTE_ALL:
        prefixes = [""]
    else:
        prefixes = [f"ev:{e.id}:" for e in store.list_events(db) if category_of(e.kind) == category]
        if category == ReminderCategory.MILESTONES:
            prefixes.append("ms:")
    return store.cancel_pending_snoozes(db, user_id, prefixes)


# -- snooze ------------------------------------------------------------------------------------

@dataclass
class Snoozed:
    outcome: str                       # ok | already | not_allowed | stale | too_late
    due: dt.datetime | None = None
    tz: str = "UTC"                    # the person's zone, to say when


def rerender(db, service, row: dict, who: Recipient, at: dt.datetime) -> str | None:
    """The reminder's text as it should read at ``at``; None when the event has started by then."""
    parsed = parse_ref(row["ref"])
    i18n = service.i18n
    if parsed and parsed["type"] == "event":
        event = store.get_event(db, parsed["event_id"])
        if event is None or event.cancelled or event.start_utc <= at:
            return None
        return snoozed_text(i18n, who.lang, render_event_reminder(i18n, event, who.lang, who.tz, at))
    template = service.template() if parsed and parsed["type"] == "step" else None
    if parsed and template is not None:
        due = dt.datetime.strptime(parsed["due"], "%Y%m%d").date()
        text = render_step_reminder(i18n, who.lang, service.countries.name(parsed["iso3"], who.lang),
                                    service.step_title(template, parsed["step_id"], who.lang), due, at,
                                    service.step_anchor(parsed["iso3"], due), parsed["label"].startswith("od"))
        return snoozed_text(i18n, who.lang, text)
    return snoozed_text(i18n, who.lang, json.loads(row["payload"]).get("text", ""))


def snooze(db, service, delivery_id: int, user_id: int, choice: str, now: dt.datetime) -> Snoozed:
    """Deliver a sent reminder again later (``choice``: one of SNOOZE_CHOICES)."""
    row = deliveries.get(db, delivery_id)
    if choice not in SNOOZE_CHOICES or row is None or row["chat_id"] != user_id or row["kind"] not in REMINDER_DELIVERY_KINDS:
        return Snoozed("not_allowed")
    if row["status"] != "sent":
        return Snoozed("stale")
    who = service.person(db, user_id)
    ref = f"{row['ref']}~{row['id']}"
    existing = deliveries.find(db, DeliveryKind.SNOOZE, ref, user_id)
    if existing is not None:
        return Snoozed("already", parse_instant(existing["due_at"]), who.tz)
    due = now + parse_duration(choice)
    category = category_of_ref(db, row["ref"])
    text = rerender(db, service, row, who, due)
    if text is None:
        return Snoozed("too_late")

    def payload(new_id: int) -> dict:
        return {"text": text, **HTML, "reply_markup": reminder_markup(service.i18n, who.lang, new_id, category)}

    store.add_delivery(db, kind=DeliveryKind.SNOOZE, ref=ref, chat_id=user_id, due_at=due, now=now, payload=payload,
                       promise=promise_of_category(category))
    return Snoozed("ok", due, who.tz)


# -- /reminders --------------------------------------------------------------------------------

@dataclass
class Overview:
    tz: str
    items: list[Upcoming]
    mutes: set[str]


def upcoming(db, service, who: Recipient, mutes: set[str], now: dt.datetime, limit: int = 10) -> list[Upcoming]:
    """The next reminders of one person (events, checklist steps, snoozed), muted ones flagged."""
    out: list[Upcoming] = []
    for event in store.list_events(db, include_cancelled=False):
        if not event.audience.includes(service.countries, country=who.country, role=who.role):
            continue
        category = category_of(event.kind)
        for _, due in service.event_times(event):
            if now < due <= now + HORIZON and (event.since is None or due > event.since):
                out.append(Upcoming(due, event.title_in(who.lang), category, "event", event.start_utc, is_muted(mutes, category)))
    template = service.template() if who.role == Role.FOCAL_POINT and who.country else None
    for step in service.open_steps(db, template, now):
        if step.iso3 != who.country:
            continue
        anchor = service.step_anchor(step.iso3, step.due)
        for _, when, _ in planner.step_times(service.settings, anchor, now, now + HORIZON)[:2]:
            out.append(Upcoming(when, service.step_title(template, step.step_id, who.lang), ReminderCategory.MILESTONES, "step",
                                None, is_muted(mutes, ReminderCategory.MILESTONES)))
    for row in store.pending_for_chat(db, who.chat_id, (DeliveryKind.SNOOZE,)):
        title = title_of_ref(db, service, row["ref"], who.lang) or first_bold(json.loads(row["payload"]).get("text", ""))
        due = parse_instant(row["due_at"])
        if due is not None:
            out.append(Upcoming(due, title, category_of_ref(db, row["ref"]), "snooze"))
    out.sort(key=lambda u: u.due_at)
    return out[:limit]


def overview(db, service, user_id: int, now: dt.datetime) -> Overview:
    who = service.person(db, user_id)
    mutes = store.mutes_of(db, user_id)
    return Overview(who.tz, upcoming(db, service, who, mutes, now), mutes)


# -- /timezone ---------------------------------------------------------------------------------

@dataclass
class Zone:
    tz: str
    source: str       # user | country | default


def timezone_of(db, registry, user_id: int) -> Zone:
    row = users.get_user(db, user_id) or {}
    return Zone(user_timezone(row, registry), timezone_source(row, registry))


def set_timezone(db, registry, user_id: int, name: str | None, now: dt.datetime) -> Zone:
    """Set (or, with None, reset to the country's) the person's zone; the zone now in effect."""
    users.set_timezone(db, user_id, name, now)
    return timezone_of(db, registry, user_id)
