"""Event administration: the calendar in the database, brought in line with events.yaml and
edited in chat by the secretariat (add, move, cancel; each previewed, then confirmed).

Every function here is a service call run by ``Store.run`` in one transaction; the ones
that take ``service`` get the audience and rendering from :class:`~bot.reminders.service.Reminders`.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, replace
from enum import StrEnum

from bot import confirmations
from bot.reminders.planner import is_muted
from bot.reminders.render import render_cancel_notice, text_payload
from knowledge.durations import MAX_DURATION, DurationError, format_duration, parse_duration
from knowledge.events import Event, EventSet, parse_event, parse_local
from knowledge.isotime import MIN_DATE, MAX_DATE, DateRangeError, check_range
from knowledge.vocabulary import DeliveryKind, category_of
from knowledge.yamlfile import Problem
from storage import reminders as store

#: The accepted range, as the error messages name it.
DATE_RANGE = {"min": MIN_DATE.isoformat(), "max": MAX_DATE.isoformat()}
OFFSET_RANGE = {"max": format_duration(MAX_DURATION)}
#: The ``action`` of an /event preview's one-time confirmation (bot/confirmations.py); its subject
#: is the operation the preview showed, as JSON (what the Confirm button then does, and nothing else).
EVENT_CONFIRMATION = "event"


class Outcome(StrEnum):
    OK = "ok"
    INVALID = "invalid"            # problems say why
    DATE_RANGE = "date_range"      # a date outside MIN_DATE..MAX_DATE
    BAD_OFFSET = "bad_offset"      # a reminder offset that is not a duration in range
    EXISTS = "exists"
    NOT_FOUND = "not_found"
    ALREADY_CANCELLED = "already_cancelled"
    STALE = "stale"                # changed meanwhile (an old button)
    UNCONFIRMED = "unconfirmed"    # a forged, copied, replayed or expired confirmation: nothing done


@dataclass
class Preview:
    """What the secretariat sees before confirming, or the result after."""

    outcome: Outcome
    event: Event | None = None
    old: Event | None = None                 # a move: the event as it was
    audience: int = 0                        # people and groups it concerns
    reminders: list[tuple[str, dt.datetime]] | None = None   # reminders still to come
    problems: str = ""
    notified: int = 0
    nonce: str = ""                          # a preview: the one-time nonce of its buttons
    op: str = ""                             # add | move | cancel


# -- events.yaml -------------------------------------------------------------------------------

def sync_events(db, events: EventSet, now: dt.datetime, by: int | None = None) -> dict[str, list[str]]:
    """Bring ``calendar_events`` in line with the file. An event whose definition did not change
    since it was last loaded is left alone (so edits made in chat stay); a changed one is applied
    (a new time bumps its version and cancels its pending reminders); an event removed from the
    file is cancelled."""
    result: dict[str, list[str]] = {"added": [], "updated": [], "moved": [], "cancelled": [], "removed": []}
    rows = {r["id"]: r for r in store.event_rows(db)}
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
        old = store.event_of_row(row)
        moved = (old.start, old.end, old.timezone) != (event.start, event.end, event.timezone)
        revived = old.cancelled and not event.cancelled
        version = old.version + 1 if moved else old.version
        since = now if (moved or revived) else (old.since or now)
        store.save_event(db, event, now=now, source="yaml", version=version, since=since, yaml_hash=digest, by=by)
        if moved or (event.cancelled and not old.cancelled):
            store.cancel_pending_for_event(db, event.id)
        action = "cancelled" if event.cancelled and not old.cancelled else ("moved" if moved else "updated")
        store.log_event(db, event.id, action, by, now, {"from": old.start.isoformat(), "to": event.start.isoformat(), "via": "yaml"})
        result[action].append(event.id)
    for event_id, row in rows.items():
        if event_id not in events and row["source"] == "yaml" and row["status"] == "active":
            old = store.event_of_row(row)
            store.save_event(db, replace(old, cancelled=True), now=now, source="yaml", version=old.version,
                             since=old.since or now, yaml_hash=None, by=by)
            store.cancel_pending_for_event(db, event_id)
            store.log_event(db, event_id, "removed", by, now, {"via": "yaml"})
            result["removed"].append(event_id)
    return result


# -- edits ---------------------------------------------------------------------------------------

def add_event(db, event: Event, now: dt.datetime, by: int | None) -> bool:
    """A new event typed in chat; False if the id is taken."""
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


def notify_cancelled(db, service, event: Event, now: dt.datetime) -> int:
    """One notice per audience member (mutes respected) that ``event`` will not take place."""
    mutes = store.all_mutes(db)
    category = category_of(event.kind)
    count = 0
    for who in service.audience_of(db, event):
        if is_muted(mutes.get(who.chat_id, set()), category):
            continue
        text = render_cancel_notice(service.i18n, event, who.lang, who.tz)
        _, created = store.add_delivery(db, kind=DeliveryKind.EVENT_NOTICE, ref=f"ev:{event.id}:v{event.version}:cancelled",
                                        chat_id=who.chat_id, due_at=now, now=now, payload=text_payload(text))
        count += created
    return count


# -- what the /event command calls: preview, then confirm ------------------------------------------

def in_range(*values: dt.datetime | None) -> bool:
    """Whether every given date lies within MIN_DATE..MAX_DATE."""
    try:
        for value in values:
            if value is not None:
                check_range(value)
    except DateRangeError:
        return False
    return True


def offsets_ok(values) -> bool:
    try:
        for value in values or ():
            parse_duration(value)
    except DurationError:
        return False
    return True


def preview(db, service, event: Event, now: dt.datetime, outcome: Outcome = Outcome.OK, old: Event | None = None) -> Preview:
    times = [(off, due) for off, due in service.event_times(event) if due > now]
    return Preview(outcome, event, old, len(service.audience_of(db, event)), times)


def check_new(data: dict, known_countries: set[str]) -> Event | Preview:
    """A typed event, or the Preview that says why not (dates and offsets checked at the edge)."""
    if not in_range(parse_local(data.get("start")), parse_local(data.get("end"))):
        return Preview(Outcome.DATE_RANGE)
    if not offsets_ok(data.get("offsets")):
        return Preview(Outcome.BAD_OFFSET)
    problems: list[Problem] = []
    event = parse_event(data, "chat", known_countries=known_countries, problems=problems)
    if event is None:
        return Preview(Outcome.INVALID, problems="\n".join(p.message for p in problems))
    return event


def prepare_add(db, service, data: dict, now: dt.datetime) -> Preview:
    event = check_new(data, {c.iso3 for c in service.countries})
    if isinstance(event, Preview):
        return event
    if store.get_event(db, event.id) is not None:
        return Preview(Outcome.EXISTS, event)
    return preview(db, service, event, now)


def inspect(db, service, event_id: str, now: dt.datetime, *, live: bool) -> Preview:
    """``/event show`` (``live=False``) and ``/event cancel`` (``live=True``: not cancelled already)."""
    event = store.get_event(db, event_id)
    if event is None:
        return Preview(Outcome.NOT_FOUND)
    if live and event.cancelled:
        return Preview(Outcome.ALREADY_CANCELLED, event)
    return preview(db, service, event, now)


def prepare_move(db, service, event_id: str, start: dt.datetime, end: dt.datetime | None, now: dt.datetime) -> Preview:
    found = inspect(db, service, event_id, now, live=True)
    if found.outcome is not Outcome.OK or found.event is None:
        return found
    if not in_range(start, end):
        return Preview(Outcome.DATE_RANGE, found.event)
    return preview(db, service, found.event.moved_to(start, end), now, old=found.event)


def confirm_add(db, service, data: dict, now: dt.datetime, by: int | None) -> Preview:
    event = check_new(data, {c.iso3 for c in service.countries})
    if isinstance(event, Preview):
        return event
    return Preview(Outcome.OK if add_event(db, event, now, by) else Outcome.EXISTS, event)


def confirm_move(db, service, event_id: str, start: dt.datetime, end: dt.datetime, version: int, now: dt.datetime,
                 by: int | None) -> Preview:
    if not in_range(start, end):
        return Preview(Outcome.DATE_RANGE)
    moved = move_event(db, event_id, start, end, now, by, version)
    return Preview(Outcome.OK, moved) if moved else Preview(Outcome.STALE)


def confirm_cancel(db, service, event_id: str, version: int, notify: bool, now: dt.datetime, by: int | None) -> Preview:
    """Cancel and (when asked) write the notices, in one transaction."""
    cancelled = cancel_event(db, event_id, now, by, version)
    if cancelled is None:
        return Preview(Outcome.STALE)
    return Preview(Outcome.OK, cancelled, notified=notify_cancelled(db, service, cancelled, now) if notify else 0)


# -- previews whose buttons carry a one-time nonce, and what those buttons do ----------------------

def _ask(db, found: Preview, by: int, op: dict, now: dt.datetime) -> Preview:
    """``found`` with the nonce that confirms ``op`` (only ``by`` may press it, once, for a few minutes)."""
    if found.outcome is Outcome.OK:
        found.nonce = confirmations.issue(db, by, EVENT_CONFIRMATION, now, subject=json.dumps(op, sort_keys=True))
        found.op = op["op"]
    return found


def preview_add(db, service, data: dict, now: dt.datetime, by: int) -> Preview:
    """``/event add``: the preview and, if it can be added, the nonce of its Confirm button."""
    return _ask(db, prepare_add(db, service, data, now), by, {"op": "add", "data": data}, now)


def preview_move(db, service, event_id: str, start: dt.datetime, end: dt.datetime | None, now: dt.datetime, by: int) -> Preview:
    found = prepare_move(db, service, event_id, start, end, now)
    if found.outcome is not Outcome.OK or found.old is None or found.event is None:
        return found
    return _ask(db, found, by, {"op": "move", "id": found.old.id, "version": found.old.version,
                                "start": found.event.start.isoformat(), "end": found.event.end.isoformat()}, now)


def preview_cancel(db, service, event_id: str, now: dt.datetime, by: int) -> Preview:
    found = inspect(db, service, event_id, now, live=True)
    if found.outcome is not Outcome.OK or found.event is None:
        return found
    return _ask(db, found, by, {"op": "cancel", "id": found.event.id, "version": found.event.version}, now)


def _redeem(db, nonce: str, by: int, now: dt.datetime) -> dict | None:
    subject = confirmations.redeem(db, nonce, by, EVENT_CONFIRMATION, now)
    try:
        op = json.loads(subject) if subject else None
    except ValueError:
        return None
    return op if isinstance(op, dict) and op.get("op") in ("add", "move", "cancel") else None


def confirm(db, service, nonce: str, by: int, notify: bool, now: dt.datetime) -> Preview:
    """A Confirm button: what its preview showed, done once, by the person it was shown to; else
    ``UNCONFIRMED`` and nothing changes. The nonce is spent in the same transaction as the change."""
    op = _redeem(db, nonce, by, now)
    if op is None:
        return Preview(Outcome.UNCONFIRMED)
    if op["op"] == "add":
        done = confirm_add(db, service, op["data"], now, by)
    elif op["op"] == "move":
        done = confirm_move(db, service, op["id"], dt.datetime.fromisoformat(op["start"]), dt.datetime.fromisoformat(op["end"]),
                            op["version"], now, by)
    else:
        done = confirm_cancel(db, service, op["id"], op["version"], notify, now, by)
    done.op = op["op"]
    return done


def decline(db, nonce: str, by: int, now: dt.datetime) -> bool:
    """The preview's Cancel (Keep) button: the nonce is spent, so its Confirm does nothing any more.
    False if it was not this person's valid confirmation."""
    return _redeem(db, nonce, by, now) is not None


def listing(db, service, user_id: int, *, staff: bool, show_all: bool, now: dt.datetime) -> tuple[list[Event], int, str | None]:
    """``/events``: (events to list, how many past ones are left out, the reader's zone or None for each event's own)."""
    events = store.list_events(db)
    who = service.person(db, user_id)
    if not staff:
        events = [e for e in events if service.relevant(e, country=who.country, role=who.role) and not e.cancelled]
    upcoming = [e for e in events if show_all or e.end_utc >= now]
    return upcoming, len(events) - len(upcoming), None if staff else who.tz
