"""The planner is pure: a Snapshot and a window in, the reminders due out (no database, no clock)."""
from __future__ import annotations

import dataclasses
import datetime as dt

from bot.reminders import planner
from bot.reminders.planner import Recipient, Snapshot, Step
from bot.reminders.settings import Settings
from knowledge.events import Audience, Event

UTC = dt.timezone.utc
EVENT = Event("ws-test", "workshop", dt.datetime(2016, 6, 1, 9), dt.datetime(2016, 6, 2, 17), "Africa/Nairobi",
              {"en": "Test workshop", "fr": "Atelier test"}, audience=Audience(countries=("KEN",)), offsets=("3d", "1d"))
KEN = Recipient(501, "en", "Africa/Nairobi", "KEN", "focal_point")
SEN = Recipient(502, "fr", "Africa/Dakar", "SEN", "focal_point")
GROUP = {"chat_id": -100500, "lang": "fr"}


DEFAULT = Settings()


def plan(env, snapshot, lo, hi, settings=DEFAULT):
    return planner.plan(snapshot, env.services.i18n, settings, env.services.countries, "en", lambda step, lang: f"step {step}",
                        lo, hi, lo)


async def test_event_reminders_for_the_audience_with_mutes_and_groups(env):
    due = dt.datetime(2016, 5, 29, 6, tzinfo=UTC)           # 3 days before 09:00 Nairobi
    snapshot = Snapshot([EVENT], [KEN, SEN], {EVENT.id: [GROUP]}, {501: {"workshops"}})
    found = plan(env, snapshot, due - dt.timedelta(minutes=1), due + dt.timedelta(minutes=1))
    assert [(p.ref, p.chat_id, p.muted, p.buttons) for p in found] == [
        ("ev:ws-test:v1:3d", 501, True, True), ("ev:ws-test:v1:3d", -100500, False, False)]
    assert "Test workshop" in found[0].text and "Atelier test" in found[1].text
    assert plan(env, dataclasses.replace(snapshot, events=[dataclasses.replace(EVENT, since=due)]),
                due - dt.timedelta(minutes=1), due + dt.timedelta(minutes=1)) == []   # not before the event's 'since'


async def test_overdue_steps_stop_after_overdue_max(env):
    snapshot = Snapshot([], [KEN], steps=[Step("KEN", "working_group", dt.date(2016, 10, 31))])
    lo, hi = dt.datetime(2016, 10, 1, tzinfo=UTC), dt.datetime(2017, 6, 1, tzinfo=UTC)
    labels = [p.ref.rsplit(":", 1)[1] for p in plan(env, snapshot, lo, hi, Settings(overdue_max=3))]
    assert labels == ["7d", "1d", "od0", "od1", "od2"]
    assert [p.ref.rsplit(":", 1)[1] for p in plan(env, snapshot, lo, hi, Settings(overdue_max=0))] == ["7d", "1d"]
