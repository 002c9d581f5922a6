"""The calendar file: what it holds, how it is validated, how audiences resolve; syncing it to the database."""
from __future__ import annotations

import datetime as dt
import textwrap

import pytest

from bot.clock import FakeClock
from bot.datafiles import validate_all
from bot.reminders import Settings, add_event, move_event, sync_events
from knowledge.countries import load_countries
from knowledge.durations import format_duration, parse_duration
from knowledge.events import LANGS, Audience, EventSet, apply_reporting_deadline, canonical_offsets, load_events, parse_audience_text
from knowledge.yamlfile import DataError
from storage import reminders as store
from storage.db import migrate, open_db

UTC = dt.timezone.utc


@pytest.fixture(scope="module")
def registry():
    return load_countries()


def test_the_programme_calendar(registry):
    events = load_events()
    assert [e.id for e in events] == ["ws-konya", "ws-batumi", "ws-bangkok", "ws-buenos-aires", "end-inception",
                                      "end-implementation", "end-consolidation", "cric-15", "reporting-2018"]
    for event in events:
        assert set(event.title) == set(LANGS)
    konya = events.get("ws-konya")
    assert konya.start_utc == dt.datetime(2016, 5, 28, 6, 0, tzinfo=UTC)
    assert konya.place_in("zh") == "土耳其科尼亚"
    assert {"KEN", "SEN", "DZA"} <= konya.audience.country_set(registry)           # pilots of annex I included
    assert "THA" not in konya.audience.country_set(registry)
    batumi = events.get("ws-batumi").audience.country_set(registry)
    assert {"GEO", "ARM", "TUR", "ITA"} <= batumi
    assert events.get("ws-buenos-aires").start_utc == dt.datetime(2016, 7, 20, 12, 0, tzinfo=UTC)
    assert events.get("reporting-2018").offsets == ("30d", "14d", "3d", "1d")
    assert events.get("cric-15").offsets is None and events.get("cric-15").audience.all


def test_check_command_counts_events(config):
    problems, counts = validate_all(config)
    assert not [p for p in problems if "events" in p.file]
    assert counts["events"] == 9


def test_every_problem_is_reported_with_its_line(tmp_path, registry):
    path = tmp_path / "events.yaml"
    path.write_text(textwrap.dedent("""\
        events:
          - id: ok-one
            kind: workshop
            start: 2016-05-28T09:00
            end: 2016-05-30T18:00
            timezone: Europe/Istanbul
            title: {en: a, fr: b, es: c, ru: d, ar: e, zh: f}
            audience: {annex: [I]}
          - id: Bad_Id
            kind: party
            start: 2016-13-01T09:00
            timezone: Mars/Olympus
            title: {en: only English}
            audience: {annex: [VI], countries: [XXX, KE]}
            offsets: [3 days]
          - id: ok-one
            kind: deadline
            start: 2018-03-31T23:59
            end: 2018-03-30T23:59
            timezone: UTC
            title: {en: a, fr: b, es: c, ru: d, ar: e, zh: f}
            audience: {}
            colour: red
        """), encoding="utf-8")
    with pytest.raises(DataError) as caught:
        load_events(path, known_countries={c.iso3 for c in registry})
    text = "\n".join(str(p) for p in caught.value.problems)
    for expected in (f"{path}:9: event id 'Bad_Id'", ":10: Bad_Id: kind must be one of", ":11: Bad_Id: start",
                     ":12: Bad_Id: unknown time zone 'Mars/Olympus'", ":13: Bad_Id: title missing language(s) fr, es, ru, ar, zh",
                     "audience.annex: VI not one of", "XXX is not a participating country", "'KE' is not an ISO3 code",
                     ":15: Bad_Id: offset '3 days'", ":19: ok-one: end is before start", ":22: ok-one: audience must be a mapping",
                     ":23: ok-one: unknown key 'colour'"):
        assert expected in text, expected


def test_offsets():
    assert parse_duration("14d") == dt.timedelta(days=14)
    assert parse_duration("1d12h") == dt.timedelta(days=1, hours=12)
    assert parse_duration("2w") == dt.timedelta(days=14)
    assert format_duration(parse_duration("90m")) == "1h30m"
    assert canonical_offsets(["2h", "14d", "2w", "1d"]) == ("14d", "1d", "2h")
    for bad in ("", "3 days", "-1d", "0h", "d", "99999d"):
        with pytest.raises(ValueError):
            canonical_offsets([bad])


def test_settings_from_config():
    settings = Settings.from_section({"offsets": "7d, 1d", "grace": "12h", "reporting_deadline": "2018-04-30T23:59:00Z"})
    assert settings.offsets == ("7d", "1d") and settings.grace == dt.timedelta(hours=12)
    assert settings.reporting_deadline == dt.datetime(2018, 4, 30, 23, 59, tzinfo=UTC)
    assert Settings.from_section(None).offsets == ("14d", "3d", "1d", "2h")
    with pytest.raises(DataError) as caught:
        Settings.from_section({"offsets": ["soon"], "grace": "x", "tick_seconds": 0, "reporting_deadline": "March"})
    assert len(caught.value.problems) == 4


def test_reporting_deadline_override():
    events = apply_reporting_deadline(load_events(), dt.datetime(2018, 4, 30, 23, 59, tzinfo=UTC))
    event = events.get("reporting-2018")
    assert event.start_utc == event.end_utc == dt.datetime(2018, 4, 30, 23, 59, tzinfo=UTC)
    assert events.get("cric-15") == load_events().get("cric-15")


def test_audiences(registry):
    assert parse_audience_text("KEN, UGA", registry) == {"countries": ["KEN", "UGA"]}
    assert parse_audience_text("europe", registry) == {"annex": ["IV", "V"]}
    assert parse_audience_text("pilots role:focal_point", registry) == {"pilots": True, "role": "focal_point"}
    assert parse_audience_text("atlantis", registry) is None
    secretariat = Audience(role="secretariat")
    assert secretariat.includes(registry, country=None, role="secretariat")
    assert not secretariat.includes(registry, country="KEN", role="focal_point")
    everyone = Audience(all=True)
    assert everyone.includes(registry, country="KEN", role="focal_point") and not everyone.includes(registry, country=None, role=None)
    mixed = Audience(annex=("II",), countries=("KEN",))
    assert mixed.includes(registry, country="KEN", role="focal_point") and mixed.includes(registry, country="THA", role="focal_point")
    assert not mixed.includes(registry, country="SEN", role="focal_point")


def test_sync_keeps_chat_edits_until_the_file_changes():
    db = open_db(":memory:")
    clock = FakeClock("2016-05-20T08:00:00Z")
    migrate(db, clock.now())
    events = load_events()
    assert sync_events(db, events, clock.now())["added"][0] == "ws-konya"
    assert not any(sync_events(db, events, clock.now()).values())          # unchanged file: nothing
    moved = move_event(db, "ws-konya", dt.datetime(2016, 6, 4, 9, 0), None, clock.now(), 900)
    assert moved.version == 2
    assert not any(sync_events(db, events, clock.now()).values())          # the chat edit stays
    assert store.get_event(db, "ws-konya").start == dt.datetime(2016, 6, 4, 9, 0)
    clock.advance(days=1)
    edited = EventSet([e.moved_to(dt.datetime(2016, 6, 10, 9, 0)) if e.id == "ws-konya" else e for e in events])
    result = sync_events(db, edited, clock.now())                          # the file was edited: it wins
    assert result["moved"] == ["ws-konya"]
    konya = store.get_event(db, "ws-konya")
    assert konya.version == 3 and konya.since == clock.now() and konya.start == dt.datetime(2016, 6, 10, 9, 0)
    removed = EventSet([e for e in edited if e.id != "ws-batumi"])
    assert sync_events(db, removed, clock.now())["removed"] == ["ws-batumi"]
    assert store.get_event(db, "ws-batumi").cancelled
    from knowledge.events import parse_event

    extra = parse_event({"id": "ken-nws", "kind": "workshop", "start": "2016-09-12T09:00", "timezone": "Africa/Nairobi",
                         "title": {lang: "National workshop" for lang in LANGS}, "audience": {"countries": ["KEN"]}})
    assert add_event(db, extra, clock.now(), 900) and not add_event(db, extra, clock.now(), 900)
    assert not any(sync_events(db, removed, clock.now()).values())         # events added in chat are not the file's
    log = store.event_log(db, "ws-konya")
    assert [r["action"] for r in log][:2] == ["moved", "moved"]
