"""Dates, durations and numbers are bounded at the edge: /event add and /event move with a date far
outside the programme (year 1, year 9999) or an offset that is not a duration in range get a
translated answer naming the accepted range, and nothing is saved; never an OverflowError."""
from __future__ import annotations

import datetime as dt
import logging
import random

import pytest

from knowledge.durations import DurationError, parse_duration
from knowledge.events import load_events, parse_event
from knowledge.yamlfile import DataError
from storage import reminders as store
from tests.util import SECRETARIAT, one_text
from tests.reminders.util import person

ADD = "/event add id=far kind=workshop start={start} tz=Africa/Nairobi audience=KEN title=Far"


def no_traceback(caplog) -> None:
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


@pytest.mark.parametrize("start", ["0001-01-01T00:00", "9999-12-31T23:59", "1989-12-31T09:00", "2101-01-01T09:00"])
async def test_event_add_outside_the_range_names_it(env, caplog, start):
    text = one_text(await env.send(ADD.format(start=start), user_id=SECRETARIAT))
    assert "between 1990-01-01 and 2100-12-31" in text
    assert store.get_event(env.db, "far") is None
    no_traceback(caplog)


async def test_event_add_end_outside_the_range_and_in_french(env, caplog):
    await person(env, SECRETARIAT, None, role="secretariat", lang="fr")
    text = one_text(await env.send(ADD.format(start="2016-06-01T09:00") + " end=9999-01-01T09:00", user_id=SECRETARIAT))
    assert "entre le 1990-01-01 et le 2100-12-31" in text
    no_traceback(caplog)


async def test_event_add_on_the_edges_of_the_range_is_previewed(env):
    for start, event_id in (("1990-01-01T09:00", "edge-low"), ("2100-12-31T09:00", "edge-high")):
        calls = await env.send(ADD.format(start=start).replace("id=far", f"id={event_id}"), user_id=SECRETARIAT)
        assert calls[-1].buttons, calls[-1].text       # a preview with Confirm / Cancel
        await env.press(calls[-1].buttons[0]["callback_data"], user_id=SECRETARIAT)
        assert store.get_event(env.db, event_id) is not None


@pytest.mark.parametrize("offsets", ["99999d", "0d", "abc", "3661d"])
async def test_event_add_with_offsets_out_of_range_names_the_limit(env, caplog, offsets):
    text = one_text(await env.send(ADD.format(start="2016-06-01T09:00") + f" offsets={offsets}", user_id=SECRETARIAT))
    assert "at most 3660d" in text
    assert store.get_event(env.db, "far") is None
    no_traceback(caplog)


@pytest.mark.parametrize("args", ["0001-01-01T00:00", "9999-12-31T23:00", "2016-06-04T09:00 9999-12-31T23:00"])
async def test_event_move_outside_the_range_names_it(env, caplog, args):
    before = store.get_event(env.db, "ws-konya")
    text = one_text(await env.send(f"/event move ws-konya {args}", user_id=SECRETARIAT))
    assert "between 1990-01-01 and 2100-12-31" in text
    after = store.get_event(env.db, "ws-konya")
    assert (after.start, after.version) == (before.start, before.version)
    no_traceback(caplog)


async def test_events_yaml_with_a_date_out_of_range_is_refused_with_its_line(tmp_path):
    path = tmp_path / "events.yaml"
    path.write_text("events:\n  - id: far\n    kind: workshop\n    start: 9999-12-31T09:00\n    timezone: UTC\n"
                    "    title: {en: a, fr: a, es: a, ru: a, ar: a, zh: a}\n    audience: {all: true}\n", encoding="utf-8")
    with pytest.raises(DataError) as caught:
        load_events(path)
    assert f"{path}:4: far: start 9999-12-31 is outside 1990-01-01..2100-12-31" in [str(p) for p in caught.value.problems]


def test_parse_event_accepts_the_edges():
    titles = {lang: "t" for lang in ("en", "fr", "es", "ru", "ar", "zh")}
    for start in ("1990-01-01T00:00", "2100-12-31T23:59"):
        event = parse_event({"id": "e", "kind": "deadline", "start": start, "timezone": "Pacific/Kiritimati", "title": titles,
                             "audience": {"all": True}})
        assert event.start_utc.year in (1989, 1990, 2100)


HUGE = "9" * 30


@pytest.mark.parametrize("data", [f"v1:rem:snz:{HUGE}:1h", "v1:rem:snz:²:1h", f"v1:rem:snz:{2**63}:1d", "v1:rem:snz:1:99999d",
                                  f"v1:bc:go:{HUGE}", "v1:bc:no:²", f"v1:bc:go:{2**63}"])
async def test_forged_buttons_with_numbers_out_of_range_are_answered(env, caplog, data):
    await person(env, 501, "KEN")
    user = SECRETARIAT if ":bc:" in data else 501
    calls = await env.press(data, user_id=user)
    [answer] = [c.params.get("text", "") for c in calls if c.method == "answerCallbackQuery"]
    assert "out of date" in answer or "not allowed" in answer
    no_traceback(caplog)


@pytest.mark.parametrize("arg", [HUGE, "²", str(2**63)])
async def test_broadcast_status_with_an_id_out_of_range(env, caplog, arg):
    text = one_text(await env.send(f"/broadcast status {arg}", user_id=SECRETARIAT))
    assert "broadcast" in text.lower()
    no_traceback(caplog)


async def test_generated_dates_and_offsets_always_get_an_answer_and_no_traceback(env, caplog):
    """Dates from year 1 to 9999 and around the accepted range (and offsets from 0 minutes to 10^7 days), drawn with a fixed seed:
    every /event add and /event move gets one answer, a preview or a refusal, and the log stays clean."""
    rng = random.Random(15)
    for n in range(25):
        low, high = (dt.date(1, 1, 1), dt.date(9999, 12, 31)) if n % 2 else (dt.date(1985, 1, 1), dt.date(2105, 12, 31))
        day = low + dt.timedelta(days=rng.randrange((high - low).days + 1))
        start = f"{day.isoformat()}T{rng.randrange(24):02d}:{rng.randrange(60):02d}"
        offset = f"{rng.randrange(10 ** rng.randrange(1, 8))}{rng.choice('mhdw')}"
        add = await env.send(ADD.format(start=start).replace("id=far", f"id=gen-{n}") + f" offsets={offset}", user_id=SECRETARIAT)
        move = await env.send(f"/event move ws-konya {start}", user_id=SECRETARIAT)
        in_range = dt.date(1990, 1, 1) <= day <= dt.date(2100, 12, 31)
        try:
            offset_ok = parse_duration(offset) > dt.timedelta(0)
        except DurationError:
            offset_ok = False
        [add_answer] = [c for c in add if c.method == "sendMessage"]
        [move_answer] = [c for c in move if c.method == "sendMessage"]
        for answer, previewed in ((add_answer, in_range and offset_ok), (move_answer, in_range)):
            if previewed:
                assert answer.buttons, (start, offset, answer.text)
            elif not in_range:
                assert "between 1990-01-01 and 2100-12-31" in answer.text
            else:
                assert "at most 3660d" in answer.text
    no_traceback(caplog)
