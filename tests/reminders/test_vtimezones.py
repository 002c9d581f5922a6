"""The calendar's VTIMEZONE components (bot.vtimezones) are icalendar's own, byte for byte,
for every zone of the country registry and of the calendar, over the spans calendars use."""
from __future__ import annotations

import datetime as dt
import zoneinfo

import icalendar
import pytest

from bot.vtimezones import add_missing_timezones
from knowledge.countries import load_countries
from knowledge.events import load_events
from tests.util import ROOT

# the registry's and the calendar's zones, and a few with odd rules (half hours, southern summers, changes)
ZONES = sorted({c.timezone for c in load_countries(ROOT / "knowledge" / "countries.yaml")}
               | {e.timezone for e in load_events(ROOT / "knowledge" / "events.yaml")}
               | {"America/Sao_Paulo", "Asia/Tehran", "Australia/Lord_Howe", "Africa/Casablanca", "Pacific/Chatham"})
SPANS = [(dt.date(2015, 1, 1), dt.date(2019, 1, 1)), (dt.date(2016, 1, 1), dt.date(2016, 3, 27)),
         (dt.date(2024, 1, 1), dt.date(2029, 1, 1))]


def _calendar(zones: list[str]) -> icalendar.Calendar:
    cal = icalendar.Calendar()
    for name in zones:
        event = icalendar.Event()
        event.add("DTSTART", dt.datetime(2016, 5, 1, 9, tzinfo=zoneinfo.ZoneInfo(name)))
        cal.add_component(event)
    return cal


@pytest.mark.parametrize("first,last", SPANS)
def test_the_components_are_icalendars_own(first, last):
    for name in ZONES:
        theirs, ours = _calendar([name]), _calendar([name])
        theirs.add_missing_timezones(first_date=first, last_date=last)
        add_missing_timezones(ours, first_date=first, last_date=last)
        assert ours.to_ical() == theirs.to_ical(), name


def test_one_component_per_zone_before_the_events_and_none_twice():
    cal = _calendar(["Europe/Istanbul", "Africa/Nairobi", "Europe/Istanbul"])
    add_missing_timezones(cal, first_date=dt.date(2015, 1, 1), last_date=dt.date(2019, 1, 1))
    names = [c.name for c in cal.subcomponents]
    assert names[:2] == ["VTIMEZONE", "VTIMEZONE"] and names[2:] == ["VEVENT"] * 3
    assert sorted(str(c["TZID"]) for c in cal.timezones) == ["Africa/Nairobi", "Europe/Istanbul"]
    add_missing_timezones(cal, first_date=dt.date(2015, 1, 1), last_date=dt.date(2019, 1, 1))
    assert len(cal.timezones) == 2
