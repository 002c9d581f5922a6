"""The .ics file, read back with a real iCalendar parser (``icalendar``)."""
from __future__ import annotations

import datetime as dt

import icalendar

from bot.ics import calendar
from knowledge.events import LANGS, Audience, Event, load_events
from tests.reminders.util import person
from tests.util import FOCAL_KEN

UTC = dt.timezone.utc
NOW = dt.datetime(2016, 5, 20, 8, 0, tzinfo=UTC)


def parse(text: str) -> tuple[icalendar.Calendar, dict]:
    cal = icalendar.Calendar.from_ical(text)
    return cal, {str(e["UID"]).split("@")[0]: e for e in cal.walk("VEVENT")}


def physical_lines(text: str) -> list[str]:
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    return text.split("\r\n")[:-1]


def test_round_trip_of_the_programme_calendar():
    text = calendar(list(load_events()), lang="fr", now=NOW)
    assert all(len(line.encode("utf-8")) <= 75 for line in physical_lines(text))
    cal, events = parse(text)
    assert str(cal["VERSION"]) == "2.0" and cal["PRODID"]
    assert len(events) == 9 and len({str(e["UID"]) for e in events.values()}) == 9
    konya = events["ws-konya"]
    start, end = konya["DTSTART"].dt, konya["DTEND"].dt
    assert start.tzinfo.key == "Europe/Istanbul" and (start.hour, start.minute) == (9, 0)
    assert start.astimezone(UTC) == dt.datetime(2016, 5, 28, 6, 0, tzinfo=UTC)
    assert end.astimezone(UTC) == dt.datetime(2016, 5, 30, 15, 0, tzinfo=UTC)
    assert str(konya["SUMMARY"]).startswith("Atelier régional de lancement")
    assert str(konya["LOCATION"]) == "Konya (Turquie)" and konya["SUMMARY"].params["LANGUAGE"] == "fr"
    assert konya["DTSTAMP"].dt == NOW
    ba = events["ws-buenos-aires"]["DTSTART"].dt
    assert ba.tzinfo.key == "America/Argentina/Buenos_Aires" and ba.astimezone(UTC).hour == 12
    deadline = events["reporting-2018"]                # a deadline: all day, on its local date
    assert deadline["DTSTART"].dt == dt.date(2018, 3, 31) and deadline["DTEND"].dt == dt.date(2018, 4, 1)
    assert type(deadline["DTSTART"].dt) is dt.date and "DTSTART;VALUE=DATE:20180331" in text
    zones = {str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")}
    assert zones == {"Europe/Istanbul", "Asia/Tbilisi", "Asia/Bangkok", "America/Argentina/Buenos_Aires", "Africa/Nairobi"}


def test_vtimezone_alone_places_events_right_including_half_hour_dst():
    """Rename the zones so the parser cannot use its own tz database: only our VTIMEZONE is left."""
    tehran = Event("ir-summer", "meeting", dt.datetime(2016, 6, 1, 9, 0), dt.datetime(2016, 6, 1, 12, 0), "Asia/Tehran",
                   {"en": "Summer"}, {}, Audience(all=True))
    winter = Event("ir-winter", "meeting", dt.datetime(2016, 12, 1, 9, 0), dt.datetime(2016, 12, 1, 12, 0), "Asia/Tehran",
                   {"en": "Winter"}, {}, Audience(all=True))
    kathmandu = Event("np", "meeting", dt.datetime(2016, 9, 1, 9, 0), dt.datetime(2016, 9, 1, 12, 0), "Asia/Kathmandu",
                      {"en": "Kathmandu"}, {}, Audience(all=True))
    text = calendar([tehran, winter, kathmandu], now=NOW).replace("Asia/Tehran", "X-Tehran").replace("Asia/Kathmandu", "X-Kathmandu")
    _, events = parse(text)
    assert events["ir-summer"]["DTSTART"].dt.astimezone(UTC) == dt.datetime(2016, 6, 1, 4, 30, tzinfo=UTC)   # +04:30
    assert events["ir-winter"]["DTSTART"].dt.astimezone(UTC) == dt.datetime(2016, 12, 1, 5, 30, tzinfo=UTC)  # +03:30
    assert events["np"]["DTSTART"].dt.astimezone(UTC) == dt.datetime(2016, 9, 1, 3, 15, tzinfo=UTC)         # +05:45


def test_escaping_and_folding_survive_the_round_trip():
    title = "Réunion; « NDT », partie 1\\2\nligne deux — " + "土地退化零增长" * 12
    event = Event("long", "meeting", dt.datetime(2016, 9, 1, 9, 0), dt.datetime(2016, 9, 1, 17, 30), "Asia/Kathmandu",
                  {lang: title for lang in LANGS}, {lang: "Kathmandu, Nepal; room 2" for lang in LANGS}, Audience(all=True))
    text = calendar([event], lang="zh", now=NOW)
    assert all(len(line.encode("utf-8")) <= 75 for line in physical_lines(text))
    _, events = parse(text)
    assert str(events["long"]["SUMMARY"]) == title
    assert str(events["long"]["LOCATION"]) == "Kathmandu, Nepal; room 2"
    assert "SUMMARY;LANGUAGE=zh:Réunion\\; « NDT »\\, partie 1\\\\2\\nligne deux" in text.replace("\r\n ", "")


def _document(call) -> bytes:
    [(name, content, _mime)] = call.files.values()
    assert name == "ldn-tsp-calendar.ics"
    return content if isinstance(content, bytes) else content.read()


async def test_calendar_command_sends_the_users_events_in_their_language(env):
    await person(env, FOCAL_KEN, "KEN", lang="es")
    calls = await env.send("/calendar", user_id=FOCAL_KEN)
    [doc] = [c for c in calls if c.method == "sendDocument"]
    _, events = parse(_document(doc).decode("utf-8"))
    assert "ws-konya" in events and "ws-bangkok" not in events and "cric-15" in events
    assert str(events["ws-konya"]["LOCATION"]) == "Konya (Turquía)"
    assert "eventos del programa" in doc.text
    calls = await env.send("/calendar all", user_id=FOCAL_KEN)
    _, events = parse(_document([c for c in calls if c.method == "sendDocument"][0]).decode("utf-8"))
    assert "ws-bangkok" in events


async def test_moved_and_cancelled_events_update_calendars(env):
    from bot.reminders import cancel_event, move_event

    move_event(env.db, "ws-batumi", dt.datetime(2016, 6, 13, 9, 0), None, env.clock.now(), 900)
    cancel_event(env.db, "ws-bangkok", env.clock.now(), 900)
    calls = await env.send("/calendar", user_id=900)
    _, events = parse(_document([c for c in calls if c.method == "sendDocument"][0]).decode("utf-8"))
    assert int(events["ws-batumi"]["SEQUENCE"]) == 1 and events["ws-batumi"]["DTSTART"].dt.day == 13
    assert str(events["ws-bangkok"]["STATUS"]) == "CANCELLED"


def test_cli_calendar(tmp_path, monkeypatch, capsysbinary):
    from bot.cli import main

    (tmp_path / "config.yaml").write_text(f"storage:\n  path: {tmp_path / 'cli.db'}\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LDN_NOW", "2016-05-20T08:00:00Z")
    assert main(["calendar", "--region", "asia", "--lang", "ru"]) == 0
    out = capsysbinary.readouterr().out
    _, events = parse(out.decode("utf-8"))
    assert "ws-bangkok" in events and "ws-konya" not in events and "reporting-2018" in events
    assert str(events["ws-bangkok"]["LOCATION"]) == "Бангкок (Таиланд)"
    assert main(["calendar", "--country", "KEN"]) == 0
    _, events = parse(capsysbinary.readouterr().out.decode("utf-8"))
    assert "ws-konya" in events and "ws-bangkok" not in events
    # Kenya's own checklist: every step still to do, all day on its due date, reminded 7 and 1 days before
    steps = sorted(uid for uid in events if uid.startswith("step-KEN-"))
    assert len(steps) == 10 and "step-KEN-working_group" in steps
    wg = events["step-KEN-working_group"]
    assert wg["DTSTART"].dt == dt.date(2016, 10, 31) and wg["DTEND"].dt == dt.date(2016, 11, 1)
    assert sorted(a["TRIGGER"].dt for a in wg.walk("VALARM")) == [-dt.timedelta(days=7), -dt.timedelta(days=1)]
    konya = sorted(a["TRIGGER"].dt for a in events["ws-konya"].walk("VALARM"))
    assert konya == [-dt.timedelta(days=14), -dt.timedelta(days=3), -dt.timedelta(days=1)]
    assert main(["calendar", "--region", "asia"]) == 0
    _, events = parse(capsysbinary.readouterr().out.decode("utf-8"))
    assert not [uid for uid in events if uid.startswith("step-")]  # due dates only for one country
    assert main(["calendar", "--region", "atlantis"]) == 2
    assert main(["events", "--json"]) == 0
    assert b'"ws-konya"' in capsysbinary.readouterr().out
