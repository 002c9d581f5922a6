"""An iCalendar (RFC 5545) file of the programme's events, written by hand.

* CRLF line ends; content lines folded at 75 octets (never inside a UTF-8 sequence);
* TEXT values escaped (``\\`` ``;`` ``,`` and newlines);
* every event keeps its own IANA zone: ``DTSTART;TZID=Europe/Istanbul:20160528T090000`` with one
  ``VTIMEZONE`` per zone used, whose observances are computed from the tz database for the
  years the calendar spans (so clients without that zone still place the event right);
* ``UID`` is stable per event (re-importing updates instead of duplicating), ``SEQUENCE`` is the
  event's version (bumped when it moves), cancelled events are listed with ``STATUS:CANCELLED``;
* ``SUMMARY``/``LOCATION`` in the reader's language (with a ``LANGUAGE`` parameter).
"""
from __future__ import annotations

import datetime as dt
from typing import Iterable
from zoneinfo import ZoneInfo

from knowledge.events import Event

CRLF = "\r\n"
PRODID = "-//UNCCD Global Mechanism//LDN TSP bot//EN"
UID_DOMAIN = "ldn-tsp-bot.unccd"
UTC = dt.timezone.utc


def escape_text(value: str) -> str:
    """RFC 5545 3.3.11 TEXT escaping."""
    return (value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n"))


def fold(line: str, limit: int = 75) -> str:
    """Fold a content line so that no physical line exceeds ``limit`` octets (RFC 5545 3.1)."""
    raw = line.encode("utf-8")
    if len(raw) <= limit:
        return line
    parts: list[str] = []
    current = ""
    size = 0
    budget = limit
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > budget:
            parts.append(current)
            current, size = char, width
            budget = limit - 1  # continuation lines start with one space
        else:
            current += char
            size += width
    parts.append(current)
    return (CRLF + " ").join(parts)


def _utc_stamp(when: dt.datetime) -> str:
    return when.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _local_stamp(when: dt.datetime) -> str:
    return when.strftime("%Y%m%dT%H%M%S")


def _offset(delta: dt.timedelta | None) -> str:
    seconds = int((delta or dt.timedelta()).total_seconds())
    sign = "+" if seconds >= 0 else "-"
    seconds = abs(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{sign}{hours:02d}{minutes:02d}" + (f"{secs:02d}" if secs else "")


def transitions(tz: ZoneInfo, start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    """UTC instants in [start, end) where the zone's offset changes (to the minute)."""
    found: list[dt.datetime] = []
    step = dt.timedelta(days=1)
    t = start
    previous = t.astimezone(tz).utcoffset()
    while t < end:
        nxt = min(t + step, end)
        offset = nxt.astimezone(tz).utcoffset()
        if offset != previous:
            lo, hi = t, nxt
            while hi - lo > dt.timedelta(minutes=1):
                mid = lo + (hi - lo) / 2
                mid = mid.replace(second=0, microsecond=0)
                if mid <= lo:
                    break
                if mid.astimezone(tz).utcoffset() == previous:
                    lo = mid
                else:
                    hi = mid
            found.append(hi.replace(second=0, microsecond=0))
            previous = offset
        t = nxt
    return found


def vtimezone(name: str, first_year: int, last_year: int) -> list[str]:
    """A VTIMEZONE for ``name`` valid from 1 January ``first_year`` to the end of ``last_year``."""
    tz = ZoneInfo(name)
    start = dt.datetime(first_year, 1, 1, tzinfo=UTC)
    end = dt.datetime(last_year + 1, 1, 1, tzinfo=UTC)
    lines = ["BEGIN:VTIMEZONE", f"TZID:{name}"]

    def observance(at_utc: dt.datetime, before: dt.timedelta, after_local: dt.datetime) -> list[str]:
        kind = "DAYLIGHT" if after_local.dst() else "STANDARD"
        onset = (at_utc + before).replace(tzinfo=None)  # local wall time, in the offset in force before
        out = [f"BEGIN:{kind}", f"DTSTART:{_local_stamp(onset)}", f"TZOFFSETFROM:{_offset(before)}",
               f"TZOFFSETTO:{_offset(after_local.utcoffset())}"]
        abbreviation = after_local.tzname()
        if abbreviation:
            out.append(f"TZNAME:{escape_text(abbreviation)}")
        out.append(f"END:{kind}")
        return out

    first_local = start.astimezone(tz)
    lines += observance(start, first_local.utcoffset(), first_local)
    previous = first_local.utcoffset()
    for instant in transitions(tz, start, end):
        local = instant.astimezone(tz)
        lines += observance(instant, previous, local)
        previous = local.utcoffset()
    lines.append("END:VTIMEZONE")
    return lines


def _when(prop: str, local: dt.datetime, tz: str) -> str:
    if tz in ("UTC", "Etc/UTC"):
        return f"{prop}:{_utc_stamp(local.replace(tzinfo=UTC))}"
    return f"{prop};TZID={tz}:{_local_stamp(local)}"


def vevent(event: Event, lang: str, now: dt.datetime, *, description: str | None = None,
           updated: dt.datetime | None = None) -> list[str]:
    lines = ["BEGIN:VEVENT", f"UID:{event.id}@{UID_DOMAIN}", f"DTSTAMP:{_utc_stamp(now)}",
             _when("DTSTART", event.start, event.timezone)]
    if event.end > event.start:
        lines.append(_when("DTEND", event.end, event.timezone))
    # A point in time (deadline, end of a phase) has no DTEND: RFC 5545 3.6.1 then makes it end when it starts.
    lines.append(f"SUMMARY;LANGUAGE={lang}:{escape_text(event.title_in(lang))}")
    place = event.place_in(lang)
    if place:
        lines.append(f"LOCATION;LANGUAGE={lang}:{escape_text(place)}")
    if description:
        lines.append(f"DESCRIPTION;LANGUAGE={lang}:{escape_text(description)}")
    lines.append(f"CATEGORIES:{escape_text(event.kind.upper())}")
    lines.append(f"SEQUENCE:{max(0, event.version - 1)}")
    lines.append("STATUS:CANCELLED" if event.cancelled else "STATUS:CONFIRMED")
    lines.append("TRANSP:OPAQUE" if event.end > event.start else "TRANSP:TRANSPARENT")
    if updated is not None:
        lines.append(f"LAST-MODIFIED:{_utc_stamp(updated)}")
    lines.append("END:VEVENT")
    return lines


def calendar(events: Iterable[Event], *, lang: str = "en", now: dt.datetime, name: str = "LDN TSP",
             descriptions: dict[str, str] | None = None) -> str:
    """The whole VCALENDAR as text with CRLF line ends (encode as UTF-8 to write it)."""
    events = list(events)
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN", "METHOD:PUBLISH",
             f"X-WR-CALNAME:{escape_text(name)}"]
    zones = sorted({e.timezone for e in events if e.timezone not in ("UTC", "Etc/UTC")})
    if events:
        years = [y for e in events for y in (e.start.year, e.end.year)]
        first, last = min(years) - 1, max(years) + 1
        for tz in zones:
            lines += vtimezone(tz, first, last)
    for event in events:
        lines += vevent(event, lang, now, description=(descriptions or {}).get(event.id))
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + CRLF for line in lines)
