"""The VTIMEZONE components of a calendar file, as ``icalendar`` writes them, in a fraction of its time.

``Calendar.add_missing_timezones(first_date, last_date)`` finds each zone's transitions by
stepping through time, and for its last interval keeps stepping, 64 days at a time, until
the offset changes or the year 9999 overflows: for a zone without daylight saving
(Africa/Nairobi, Asia/Bangkok...) that is 45,000 look-ups, most of a tenth of a second per
zone, on every ``ldn-bot calendar`` and every ``/calendar``. What it writes only depends on
the intervals that *start* before ``last_date``, and the search never looks further than
its longest step (64 days) past the end of such an interval, so :func:`add_missing_timezones`
gives the same search a zone that ends one longest step and a day after ``last_date`` (an
``OverflowError`` there, as at the year 9999): the same components, byte for byte (``tests/reminders/test_vtimezones.py``
compares them for every zone of the registry and the calendar).
"""
from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # start-up: icalendar is imported by the processes that write a calendar
    import icalendar


class _Until(dt.tzinfo):
    """``zone`` up to ``limit`` (a naive local time); beyond it, like beyond the year 9999."""

    def __init__(self, zone: dt.tzinfo, limit: dt.datetime):
        self.zone = zone
        self.limit = limit

    def utcoffset(self, when: dt.datetime | None) -> dt.timedelta | None:
        if when is not None and when.replace(tzinfo=None) > self.limit:
            raise OverflowError("past the calendar's last date")
        return self.zone.utcoffset(when)

    def dst(self, when: dt.datetime | None) -> dt.timedelta | None:
        return self.zone.dst(when)

    def tzname(self, when: dt.datetime | None) -> str | None:
        return self.zone.tzname(when)


def add_missing_timezones(cal: icalendar.Calendar, *, first_date: dt.date, last_date: dt.date) -> None:
    """``cal.add_missing_timezones(first_date=..., last_date=...)``, each zone searched only up to
    one longest step and a day after ``last_date`` (see the module's text). Zones the tz provider does not know are
    left out, as icalendar does; a provider other than zoneinfo gets icalendar's own search."""
    from icalendar import Timezone  # start-up: as bot.ics, only when a calendar is written
    from icalendar.timezone import tzp

    missing = cal.get_missing_tzids()
    if not missing:
        return
    reach = max(Timezone._from_tzinfo_skip_search) + dt.timedelta(days=1)  # the search's longest step, and a day
    limit = dt.datetime(last_date.year, last_date.month, last_date.day) + reach
    position = len(cal.timezones)
    for tzid in missing:
        zone = tzp.timezone(tzid)
        if zone is None:
            continue
        if isinstance(zone, zoneinfo.ZoneInfo):
            component = Timezone.from_tzinfo(_Until(zone, limit), tzid, first_date, last_date)
        else:  # pragma: no cover - pytz and other providers: icalendar's own way
            component = Timezone.from_tzid(tzid, first_date=first_date, last_date=last_date)
        cal.subcomponents.insert(position, component)
        position += 1
