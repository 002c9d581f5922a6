"""Checklist steps not done: reminders before their due date, then a weekly nudge while overdue, until done."""
from __future__ import annotations

import datetime as dt

from bot import milestones
from tests.reminders.util import ledger, messages, person, tick
from tests.util import FOCAL_KEN

# working_group is due 2016-10-31; Kenya's reminders are timed from 09:00 Nairobi (06:00 UTC)
BEFORE_7D = "2016-10-24T06:00:00Z"
BEFORE_1D = "2016-10-30T06:00:00Z"
OVERDUE_1 = "2016-11-01T06:00:00Z"
OVERDUE_2 = "2016-11-08T06:00:00Z"


def set_status(env, iso3, step, status):
    template = milestones.get_template(env.services)
    outcome = milestones.set_status(env.db, template, env.services.countries, iso3, step, status, env.clock.now(), 900)
    assert outcome.ok


def step_messages(env, chat_id):
    return messages(env, chat_id, contains="📋")


async def test_before_due_then_weekly_until_done(env):
    await person(env, FOCAL_KEN, "KEN")
    title = milestones.step_title(milestones.get_template(env.services), "working_group", "en")
    env.clock.set(BEFORE_7D)
    await tick(env)
    [call] = step_messages(env, FOCAL_KEN)
    assert title in call.text and "in 7 days" in call.text and "31 October 2016" in call.text
    assert call.buttons and call.buttons[-1]["callback_data"] == "v1:rem:mute:milestones:1"
    await tick(env)
    env.clock.set(BEFORE_1D)
    await tick(env)
    assert "tomorrow" in step_messages(env, FOCAL_KEN)[-1].text
    env.clock.set(OVERDUE_1)
    await tick(env)
    assert "overdue" in step_messages(env, FOCAL_KEN)[-1].text
    env.clock.set(OVERDUE_2)
    await tick(env)
    assert len([c for c in step_messages(env, FOCAL_KEN) if title in c.text]) == 4
    set_status(env, "KEN", "working_group", "done")
    env.clock.set("2016-11-15T06:00:00Z")
    await tick(env)
    assert len([c for c in step_messages(env, FOCAL_KEN) if title in c.text]) == 4
    refs = [r["ref"] for r in ledger(env, kind="reminder") if r["ref"].startswith("ms:KEN:working_group")]
    assert refs == ["ms:KEN:working_group:20161031:7d", "ms:KEN:working_group:20161031:1d",
                    "ms:KEN:working_group:20161031:od0", "ms:KEN:working_group:20161031:od1"]


async def test_done_steps_and_muted_milestones_get_nothing(env):
    await person(env, FOCAL_KEN, "KEN")
    await person(env, 502, "SEN", lang="fr")
    await person(env, 503, "UGA")
    set_status(env, "SEN", "working_group", "done")
    await env.press("v1:rem:set:milestones:1", user_id=503)
    env.clock.set(BEFORE_7D)
    await tick(env)
    assert step_messages(env, FOCAL_KEN) and not step_messages(env, 502) and not step_messages(env, 503)


async def test_country_due_date_and_local_time(env):
    await person(env, 701, "LKA")
    template = milestones.get_template(env.services)
    import datetime as dt

    assert milestones.set_due(env.db, template, env.services.countries, "LKA", "working_group", dt.date(2016, 11, 30),
                              env.clock.now(), 900).ok
    env.clock.set(BEFORE_7D)
    await tick(env)
    assert not step_messages(env, 701)
    env.clock.set("2016-11-23T03:30:00Z")   # 09:00 in Colombo (UTC+05:30), 7 days before 30 November
    await tick(env)
    [call] = step_messages(env, 701)
    assert "30 November 2016" in call.text


def overdue_refs(env):
    return [r["ref"].rsplit(":", 1)[1] for r in ledger(env, kind="reminder")
            if r["ref"].startswith("ms:KEN:working_group") and ":od" in r["ref"]]


async def test_overdue_reminders_stop_after_overdue_max(env):
    """The default ``reminders.overdue_max`` is 4: weekly nudges od0..od3, then silence."""
    await person(env, FOCAL_KEN, "KEN")
    first = dt.datetime(2016, 11, 1, 6, tzinfo=dt.timezone.utc)      # the day after the due date, 09:00 Nairobi
    for week in range(7):
        env.clock.set(first + dt.timedelta(weeks=week))
        await tick(env)
    assert overdue_refs(env) == ["od0", "od1", "od2", "od3"]


async def test_overdue_max_from_config(config, app_factory):
    env = await app_factory(cfg=config.with_overrides(reminders={"overdue_max": 1}))
    await person(env, FOCAL_KEN, "KEN")
    for when in (OVERDUE_1, OVERDUE_2, "2016-11-15T06:00:00Z"):
        env.clock.set(when)
        await tick(env)
    assert overdue_refs(env) == ["od0"]
    assert len([c for c in step_messages(env, FOCAL_KEN) if "overdue" in c.text]) == 1


async def test_overdue_max_zero_sends_no_overdue_reminder(config, app_factory):
    env = await app_factory(cfg=config.with_overrides(reminders={"overdue_max": 0}))
    await person(env, FOCAL_KEN, "KEN")
    env.clock.set(OVERDUE_1)
    await tick(env)
    assert overdue_refs(env) == []
