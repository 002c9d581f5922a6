"""An iCalendar (RFC 5545) file of the programme's events and a country's checklist due dates.

Written with the ``icalendar`` library (line folding, TEXT escaping, CRLF, VTIMEZONE from the
tz database); the rules are ours:

* every timed event keeps its own IANA zone (``DTSTART;TZID=Europe/Istanbul:20160528T090000``) with
  one ``VTIMEZONE`` per zone used, valid for the years the calendar spans, so clients without
  that zone still place the event right;
* a deadline (``kind: deadline``) and a checklist step's due date are all-day events on their
  local date (``DTSTART;VALUE=DATE``; the deadline's date in its own zone);
* ``UID`` is stable (``<event id>@ldn-tsp-bot.unccd``, ``step-<ISO3>-<step id>@...``), so
  re-importing or a subscription updates instead of duplicating; ``SEQUENCE`` is the event's
  version - 1 (bumped when it moves); cancelled events stay listed with ``STATUS:CANCELLED``;
* each event carries one ``VALARM`` per reminder offset (``TRIGGER:-P14D``), the same offsets
  the bot reminds at, so a phone reminds when Telegram does not;
* ``SUMMARY``/``LOCATION`` in the reader's language (with a ``LANGUAGE`` parameter).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Mapping, Sequence

from bot.vtimezones import add_missing_timezones
from knowledge.durations import parse_duration
from knowledge.events import Event

if TYPE_CHECKING:  # start-up: icalendar is imported by the functions that write a calendar, see the functions
    import icalendar

PRODID = "-//UNCCD Global Mechanism//LDN TSP bot//EN"
UID_DOMAIN = "ldn-tsp-bot.unccd"
UTC = dt.timezone.utc
ALL_DAY_KINDS = ("deadline",)


@dataclass(frozen=True)
class DueDate:
    """A country's checklist step due on a date (an all-day event)."""

    iso3: str
    step_id: str
    title: str
    due: dt.date
    overdue: bool = False

    @property
    def uid(self) -> str:
        return f"step-{self.iso3}-{self.step_id}@{UID_DOMAIN}"


def _text(value: str, lang: str) -> icalendar.vText:
    import icalendar  # start-up: only the processes that write a calendar load it

    text = icalendar.vText(value)
    text.params["LANGUAGE"] = lang
    return text


def _alarms(component: icalendar.Event, offsets: Sequence[str], summary: str) -> None:
    import icalendar  # start-up: only the processes that write a calendar load it

    for offset in offsets:
        alarm = icalendar.Alarm()
        alarm.add("ACTION", "DISPLAY")
        alarm.add("DESCRIPTION", summary)
        alarm.add("TRIGGER", -parse_duration(offset))
        component.add_component(alarm)


def _when(component: icalendar.Event, event: Event) -> None:
    if event.kind in ALL_DAY_KINDS:
        day = event.start.date()  # the wall-clock date in the event's zone
        component.add("DTSTART", day)
        component.add("DTEND", day + dt.timedelta(days=1))
        return
    zone = UTC if event.timezone in ("UTC", "Etc/UTC") else event.zone
    component.add("DTSTART", event.start.replace(tzinfo=zone))
    if event.end > event.start:
        component.add("DTEND", event.end.replace(tzinfo=zone))
    # A point in time (the end of a phase) has no DTEND: RFC 5545 3.6.1 then makes it end when it starts.


def vevent(event: Event, lang: str, now: dt.datetime, *, description: str | None = None,
           offsets: Sequence[str] = (), updated: dt.datetime | None = None) -> icalendar.Event:
    import icalendar  # start-up: only the processes that write a calendar load it

    component = icalendar.Event()
    component.add("UID", f"{event.id}@{UID_DOMAIN}")
    component.add("DTSTAMP", now.astimezone(UTC))
    _when(component, event)
    summary = event.title_in(lang)
    component.add("SUMMARY", _text(summary, lang))
    place = event.place_in(lang)
    if place:
        component.add("LOCATION", _text(place, lang))
    if description:
        component.add("DESCRIPTION", _text(description, lang))
    component.add("CATEGORIES", [event.kind.upper()])
    component.add("SEQUENCE", max(0, event.version - 1))
    component.add("STATUS", "CANCELLED" if event.cancelled else "CONFIRMED")
    timed = event.end > event.start and event.kind not in ALL_DAY_KINDS
    component.add("TRANSP", "OPAQUE" if timed else "TRANSPARENT")
    if updated is not None:
        component.add("LAST-MODIFIED", updated.astimezone(UTC))
    if not event.cancelled:
        _alarms(component, offsets, summary)
    return component


def due_event(step: DueDate, lang: str, now: dt.datetime, *, description: str | None = None,
              offsets: Sequence[str] = ()) -> icalendar.Event:
    import icalendar  # start-up: only the processes that write a calendar load it

    component = icalendar.Event()
    component.add("UID", step.uid)
    component.add("DTSTAMP", now.astimezone(UTC))
    component.add("DTSTART", step.due)
    component.add("DTEND", step.due + dt.timedelta(days=1))
    component.add("SUMMARY", _text(step.title, lang))
    if description:
        component.add("DESCRIPTION", _text(description, lang))
    component.add("CATEGORIES", ["MILESTONE"])
    component.add("SEQUENCE", 0)
    component.add("STATUS", "CONFIRMED")
    component.add("TRANSP", "TRANSPARENT")
    _alarms(component, offsets, step.title)
    return component


def calendar(events: Iterable[Event], *, lang: str = "en", now: dt.datetime, name: str = "LDN TSP",
             descriptions: Mapping[str, str] | None = None, offsets: Mapping[str, Sequence[str]] | None = None,
             due_dates: Iterable[DueDate] = (), due_description: str | None = None,
             due_offsets: Sequence[str] = ()) -> str:
    """The whole VCALENDAR as text with CRLF line ends (encode as UTF-8 to write it).

    ``offsets`` maps an event id to its reminder offsets (``["14d", "1d"]``), one VALARM each;
    ``due_dates`` adds a country's checklist steps as all-day events with ``due_offsets`` alarms.
    """
    events = list(events)
    due_dates = list(due_dates)
    import icalendar  # start-up: only the processes that write a calendar load it

    cal = icalendar.Calendar()
    for key, value in (("VERSION", "2.0"), ("PRODID", PRODID), ("CALSCALE", "GREGORIAN"), ("METHOD", "PUBLISH"),
                       ("X-WR-CALNAME", name)):
        cal.add(key, value)
    for event in events:
        cal.add_component(vevent(event, lang, now, description=(descriptions or {}).get(event.id),
                                 offsets=(offsets or {}).get(event.id, ())))
    for step in due_dates:
        cal.add_component(due_event(step, lang, now, description=due_description, offsets=due_offsets))
    years = [y for e in events if e.kind not in ALL_DAY_KINDS for y in (e.start.year, e.end.year)]
    if years:
        add_missing_timezones(cal, first_date=dt.date(min(years) - 1, 1, 1), last_date=dt.date(max(years) + 2, 1, 1))
    return cal.to_ical().decode("utf-8")


def due_dates_from(steps: Iterable, lang: str) -> list[DueDate]:
    """A country's checklist steps (``bot.milestones.StepState``) still to do, as due dates."""
    return [DueDate(s.iso3, s.step.id, s.step.title_in(lang), s.due, s.overdue)
            for s in steps if not s.closed and s.due is not None]
