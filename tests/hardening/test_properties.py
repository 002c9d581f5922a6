"""Property tests: generated dates, durations and numbers fed to every command and button that parses
them, through the real Application. Each input gets a reply (a message, or the button's answer) and
the log holds no ERROR and no traceback; a date, duration or number outside the accepted range gets
a translated error naming that range. Examples are drawn deterministically (``derandomize``), so a
failure is reproduced by the next run."""
from __future__ import annotations

import datetime as dt
import logging

import pytest

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot import cli
from knowledge.durations import MAX_DURATION, DurationError, format_duration, parse_duration
from knowledge.isotime import MAX_DATE, MIN_DATE
from tests.pipeline.util import problems
from tests.reminders.util import person
from tests.util import EXPERT, FOCAL_KEN, SECRETARIAT, texts

PROPERTY = settings(max_examples=40, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# -- what is generated ---------------------------------------------------------------------------

#: Any date a datetime can hold, and dates around the accepted range (where the edges are).
DATES = st.one_of(st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31)),
                  st.dates(MIN_DATE.date() - dt.timedelta(days=40) if isinstance(MIN_DATE, dt.datetime) else MIN_DATE - dt.timedelta(days=40),
                           dt.date(2100, 12, 31) + dt.timedelta(days=40)))
TIMES = st.tuples(st.integers(0, 23), st.integers(0, 59))
#: Numbers as people type them: huge, negative, with signs, exponents or digits ``int`` refuses.
NUMBERS = st.one_of(st.integers(-10**30, 10**30).map(str), st.integers(0, 50).map(str),
                    st.text(alphabet="0123456789²٣߂-+.e#", min_size=1, max_size=25))
UNITS = st.sampled_from(["m", "h", "d", "w", "", "s", "y", "min", "days", "D"])
DURATIONS = st.one_of(st.builds(lambda n, u: f"{n}{u}", st.integers(-10**12, 10**12), UNITS),
                      st.builds(lambda n, u: f"{n}{u}", NUMBERS, UNITS), st.text(min_size=1, max_size=12).filter(lambda s: s.strip() == s and " " not in s and "," not in s))


def _date(value) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


LOW, HIGH = _date(MIN_DATE), _date(MAX_DATE)


def out_of_range(day: dt.date) -> bool:
    return not LOW <= day <= HIGH


def names_the_range(text: str) -> bool:
    return LOW.isoformat() in text and HIGH.isoformat() in text


def is_duration(text: str) -> bool:
    try:
        parse_duration(text)
    except DurationError:
        return False
    return True


# -- helpers -----------------------------------------------------------------------------------

async def _setup(env) -> None:
    if env.db.execute("SELECT count(*) FROM users WHERE user_id = ?", [FOCAL_KEN]).fetchone()[0]:
        return
    await person(env, FOCAL_KEN, "KEN")
    await person(env, EXPERT, None, role="expert")
    await person(env, SECRETARIAT, None, role=None)
    await env.send("/ask How do we compute the LDN baseline for Kenya's drylands?", user_id=FOCAL_KEN)
    assert env.db.execute("SELECT count(*) FROM queries").fetchone()[0] >= 1  # /query 1, /assign 1 … name a real query


async def said(env, caplog, text: str, user_id: int) -> str:
    """Send ``text``; the bot's reply (all of it), after checking there is one and the log is clean."""
    caplog.clear()
    replies = texts(await env.send(text, user_id=user_id), user_id)
    assert replies, f"no reply to {text!r}"
    assert problems(caplog) == [], text
    return "\n".join(replies)


async def pressed(env, caplog, data: str, user_id: int) -> None:
    """Press a button with ``data`` (when Telegram would accept it); it is answered and the log is clean."""
    if len(data.encode()) > 64:
        return
    caplog.clear()
    calls = await env.press(data, user_id=user_id)
    assert [c for c in calls if c.method == "answerCallbackQuery"], f"no answer to {data!r}"
    assert problems(caplog) == [], data


# -- /event add and /event move: dates and reminder offsets -------------------------------------

@PROPERTY
@given(day=DATES, at=TIMES, offset=DURATIONS)
async def test_event_add_dates_and_offsets(env, caplog, day, at, offset):
    caplog.set_level(logging.INFO)
    await _setup(env)
    start = f"{day.isoformat()}T{at[0]:02d}:{at[1]:02d}"
    text = await said(env, caplog, f"/event add id=prop-x kind=deadline start={start} tz=UTC audience=all title=x offsets={offset}",
                      SECRETARIAT)
    if out_of_range(day):
        assert names_the_range(text), text
    elif not is_duration(offset):
        assert format_duration(MAX_DURATION) in text, text


@PROPERTY
@given(day=DATES, at=TIMES, end=st.one_of(st.none(), DATES))
async def test_event_move_dates(env, caplog, day, at, end):
    caplog.set_level(logging.INFO)
    await _setup(env)
    args = f"{day.isoformat()}T{at[0]:02d}:{at[1]:02d}" + (f" {end.isoformat()}T23:00" if end else "")
    text = await said(env, caplog, f"/event move ws-konya {args}", SECRETARIAT)
    if out_of_range(day) and (end is None or end >= day):
        assert names_the_range(text), text


@PROPERTY
@given(word=st.one_of(st.text(min_size=1, max_size=30), NUMBERS, DURATIONS))
async def test_event_move_unreadable_words(env, caplog, word):
    caplog.set_level(logging.INFO)
    await _setup(env)
    if word.strip() and not word.startswith("/"):
        await said(env, caplog, f"/event move ws-konya {word}", SECRETARIAT)


# -- /due: a country's due date for a step -------------------------------------------------------

@PROPERTY
@given(day=DATES, step=st.one_of(st.integers(-3, 12).map(str), NUMBERS))
async def test_due_dates_and_step_numbers(env, caplog, day, step):
    caplog.set_level(logging.INFO)
    await _setup(env)
    text = await said(env, caplog, f"/due KEN {step} {day.isoformat()}", SECRETARIAT)
    if step in {str(n) for n in range(1, 11)} and out_of_range(day):
        assert names_the_range(text), text


# -- /timezone, /query N, /assign N, /priority N ----------------------------------------------------

@PROPERTY
@given(arg=st.one_of(NUMBERS, DURATIONS, st.builds(lambda s, h: f"UTC{s}{h}", st.sampled_from("+-"), NUMBERS),
                     st.text(min_size=1, max_size=40)))
async def test_timezone_arguments(env, caplog, arg):
    caplog.set_level(logging.INFO)
    await _setup(env)
    if arg.strip():
        await said(env, caplog, f"/timezone {arg}", FOCAL_KEN)


@PROPERTY
@example(number="²", command="/query {n}")
@example(number="²", command="/assign 1 {n}")
@example(number="9" * 25, command="/assign 1 {n}")
@given(number=NUMBERS, command=st.sampled_from(["/query {n}", "/assign {n} me", "/assign {n} @nobody", "/priority {n} high",
                                                "/priority {n} {n}", "/tag {n} baseline", "/assign 1 {n}"]))
async def test_query_numbers_in_staff_commands(env, caplog, number, command):
    caplog.set_level(logging.INFO)
    await _setup(env)
    await said(env, caplog, command.format(n=number), EXPERT)


# -- buttons: snooze durations, page numbers, row ids ----------------------------------------------

@PROPERTY
@given(row=NUMBERS, duration=DURATIONS, page=NUMBERS)
@example(row="²", duration="1h", page="²")
@example(row=str(2**63), duration="99999999d", page="9" * 30)
async def test_numbers_and_durations_in_buttons(env, caplog, row, duration, page):
    caplog.set_level(logging.INFO)
    await _setup(env)
    await pressed(env, caplog, f"v1:rem:snz:{row}:{duration}", FOCAL_KEN)
    await pressed(env, caplog, f"v1:hd:qp:{page}:active:-:-", EXPERT)
    await pressed(env, caplog, f"v1:faq:topics:{page}", FOCAL_KEN)
    await pressed(env, caplog, f"v1:faq:topic:land:{page}", FOCAL_KEN)
    await pressed(env, caplog, f"v1:hd:q:{row}", EXPERT)
    await pressed(env, caplog, f"v1:bc:no:{row}", SECRETARIAT)


# -- the CLI: --days ------------------------------------------------------------------------------------

@settings(max_examples=25, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(days=st.one_of(st.integers(-10**12, 10**12), st.integers(-3, 400)))
def test_invite_days(config, capsys, days):
    """``ldn-bot invite --days N``: a link for N in the accepted range, else exit 2 naming the range; never a traceback."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LDN_DB", str(config.db_path))
        try:
            status = cli.main(["invite", "--country", "KEN", "--days", str(days)])
        except SystemExit as exc:  # argparse refuses the argument
            status = exc.code
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    if 1 <= days <= cli.MAX_INVITE_DAYS:
        assert status == 0 and "start=" in out, err
    else:
        assert status == 2 and "--days" in err and f"from 1 to {cli.MAX_INVITE_DAYS}" in err, err
