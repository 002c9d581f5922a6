"""Who is reminded when: offsets, exactly once, restarts, the grace window, crashes, retries, time zones."""
from __future__ import annotations

import logging

from bot.reminders import get_reminders
from storage import deliveries, groups, users
from tests.reminders.util import at, ledger, messages, person, stop_app, tick
from tests.util import FOCAL_KEN

KONYA_3D = "2016-05-25T06:00:00Z"   # ws-konya starts 2016-05-28 09:00 Europe/Istanbul = 06:00 UTC
KONYA_1D = "2016-05-27T06:00:00Z"
BANGKOK_3D = "2016-07-09T02:00:00Z"  # ws-bangkok starts 2016-07-12 09:00 Asia/Bangkok = 02:00 UTC


async def test_each_offset_is_sent_once_in_local_time(env):
    await person(env, FOCAL_KEN, "KEN")
    env.clock.set(KONYA_3D)
    result = await tick(env)
    assert result["sent"] == 1
    [call] = messages(env, FOCAL_KEN)
    assert "Workshop" in call.text and "in 3 days" in call.text and "Konya, Turkey" in call.text
    assert "28 May 2016, 09:00 (Africa/Nairobi, UTC+03:00)" in call.text  # Nairobi = Istanbul (summer) = UTC+3
    assert [b["callback_data"].rsplit(":", 1)[-1] for b in call.buttons[:2]] == ["1h", "1d"]
    # ticks later within the grace window (and a restart of the planner) send nothing more
    env.clock.advance(hours=1)
    await tick(env)
    get_reminders(env.services).loaded = False
    await tick(env)
    assert len(messages(env, FOCAL_KEN)) == 1
    env.clock.set(KONYA_1D)
    await tick(env)
    assert "tomorrow" in messages(env, FOCAL_KEN)[-1].text
    assert len(messages(env, FOCAL_KEN)) == 2


async def test_audience_is_the_events_region(env):
    await person(env, FOCAL_KEN, "KEN")
    await person(env, 601, "THA")          # annex II: Bangkok, not Konya
    await person(env, 602, "SEN", lang="fr")  # a pilot of annex I: Konya, in French
    await person(env, 603, None, role=None)   # a guest: no reminders
    env.clock.set(KONYA_3D)
    await tick(env)
    assert messages(env, FOCAL_KEN) and not messages(env, 601) and not messages(env, 603)
    assert "Atelier" in messages(env, 602)[0].text and "dans 3 jours" in messages(env, 602)[0].text


async def test_no_reminder_before_the_event_was_known(env):
    # the bot first saw the calendar on 2016-05-20 08:00: the 14d reminder of Konya (05-14) is never sent
    await person(env, FOCAL_KEN, "KEN")
    await tick(env)
    assert not messages(env)
    rows = ledger(env, kind="reminder")
    assert all("14d" not in r["ref"] for r in rows)


async def test_half_hour_and_quarter_hour_zones_and_own_timezone(env):
    await person(env, 701, "LKA")   # Asia/Colombo, UTC+05:30
    await person(env, 702, "NPL")   # Asia/Kathmandu, UTC+05:45
    await person(env, 703, "IRN")   # Asia/Tehran, UTC+04:30 in July 2016 (summer time)
    await person(env, 704, "THA", tz="America/Argentina/Buenos_Aires")  # /timezone wins over the country
    env.clock.set(BANGKOK_3D)
    await tick(env)
    assert "12 July 2016, 07:30 (Asia/Colombo, UTC+05:30)" in messages(env, 701)[0].text
    assert "12 July 2016, 07:45 (Asia/Kathmandu, UTC+05:45)" in messages(env, 702)[0].text
    assert "12 July 2016, 06:30 (Asia/Tehran, UTC+04:30)" in messages(env, 703)[0].text
    text = messages(env, 704)[0].text
    assert "11 July 2016, 23:00 (America/Argentina/Buenos_Aires, UTC-03:00)" in text
    assert "Local time of the event: 12 July 2016, 09:00 (Asia/Bangkok, UTC+07:00)" in text


async def test_restart_rebuilds_the_schedule_and_sends_what_was_missed_within_grace(env, app_factory):
    await person(env, FOCAL_KEN, "KEN")
    await tick(env)                       # 2016-05-20 08:00: nothing due, last tick recorded
    await stop_app(env)
    env.clock.set("2016-05-25T09:00:00Z")  # down over the 3d reminder (06:00), back 3 h later (grace 6 h)
    second = await app_factory()          # post_init -> on_startup -> tick
    [call] = messages(second, FOCAL_KEN)
    assert "in 3 days" in call.text and "28 May 2016, 09:00" in call.text  # 2 days 21 h: rounded
    assert second.app.job_queue.get_jobs_by_name("reminders.tick")
    await stop_app(second)
    third = await app_factory()
    assert not messages(third)
    assert [r["status"] for r in ledger(third, kind="reminder")] == ["sent"]


async def test_reminders_missed_beyond_grace_are_logged_and_skipped(env, app_factory, caplog):
    await person(env, FOCAL_KEN, "KEN")
    await tick(env)
    await stop_app(env)
    env.clock.set("2016-05-25T13:00:00Z")  # 7 h after the 3d reminder: too late
    with caplog.at_level(logging.WARNING, logger="ldn.reminders"):
        second = await app_factory()
    assert not messages(second)
    [row] = ledger(second, kind="reminder")
    assert row["status"] == "skipped" and "grace" in row["error"]
    assert any(r.getMessage() == "reminders.missed_skipped" for r in caplog.records)
    second.clock.set(KONYA_1D)             # the next one still comes
    await tick(second)
    assert "tomorrow" in messages(second, FOCAL_KEN)[0].text


async def test_crash_between_claim_and_send_is_never_resent(env, app_factory):
    for uid, iso3 in ((501, "KEN"), (502, "SEN"), (503, "NGA")):
        await person(env, uid, iso3)
    env.clock.set(KONYA_3D)
    rem = get_reminders(env.services)
    await env.services.store.run(rem.materialise, env.clock.now(), None)
    rows = ledger(env, kind="reminder")
    assert len(rows) == 3
    in_flight = rows[0]
    assert deliveries.claim(env.db, in_flight["id"], env.clock.now())  # claimed, the process dies before the API call
    await stop_app(env)                    # (nothing else happens: no mark)
    second = await app_factory()           # post_init: claimed -> uncertain; tick: plans (no duplicate) and flushes
    statuses = {r["chat_id"]: r["status"] for r in ledger(second, kind="reminder")}
    assert statuses[in_flight["chat_id"]] == "uncertain"
    assert [c.chat_id for c in messages(second)] == [r["chat_id"] for r in rows[1:]]
    await tick(second)
    assert len(messages(second)) == 2


async def test_429_is_retried_after_retry_after(env):
    await person(env, FOCAL_KEN, "KEN")
    env.api.fail_next("sendMessage", 429, "Too Many Requests: retry after 3", retry_after=3)
    env.clock.set(KONYA_3D)
    result = await tick(env)
    assert result["sent"] == 1 and 3 in env.sleeps
    assert len([c for c in env.api.sent("sendMessage", FOCAL_KEN)]) == 2  # the refused call and the retry
    assert ledger(env, kind="reminder")[0]["status"] == "sent"


async def test_5xx_and_timeouts_are_retried_with_backoff(env):
    await person(env, FOCAL_KEN, "KEN")
    env.api.fail_next("sendMessage", 502, "Bad Gateway", times=2)
    env.api.fail_next("sendMessage", "connect_timeout")
    env.clock.set(KONYA_3D)
    result = await tick(env)
    assert result["sent"] == 1
    assert env.sleeps == [1.0, 2.0, 4.0]
    assert len(env.api.sent("sendMessage", FOCAL_KEN)) == 4


async def test_403_marks_blocked_and_inactive_and_stops_reminders(env):
    await person(env, FOCAL_KEN, "KEN")
    env.api.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
    env.clock.set(KONYA_3D)
    result = await tick(env)
    assert result.get("blocked") == 1
    assert users.get_user(env.db, FOCAL_KEN)["active"] == 0
    env.clock.set(KONYA_1D)
    await tick(env)
    assert len(env.api.sent("sendMessage", FOCAL_KEN)) == 1  # only the refused one


async def test_linked_groups_get_their_circles_reminders(env):
    now = env.clock.now()
    for chat_id, circle, iso3s in ((-100777, "annex:I", ["KEN"]), (-100778, "annex:II", ["THA"])):
        groups.record_group(env.db, chat_id, title="Peers", chat_type="supergroup", lang="fr", added_by=900, now=now)
        groups.set_circle(env.db, chat_id, circle, iso3s, 900, now)
    env.clock.set(KONYA_3D)
    await tick(env)
    [call] = messages(env, -100777)
    assert "Atelier" in call.text and not call.buttons  # no snooze buttons in a group
    assert not messages(env, -100778)                   # Konya is for annex I: not Thailand's circle


async def test_reporting_deadline_comes_from_config(config, clock, app_factory):
    cfg = config.with_overrides(reminders={"reporting_deadline": "2018-04-30T12:00:00Z", "grace": "2h"})
    first = await app_factory(cfg=cfg)
    await person(first, FOCAL_KEN, "KEN")
    event = get_reminders(first.services)
    stored = [e for e in await first.services.store.run(lambda db: __import__("storage.reminders", fromlist=["x"]).list_events(db))
              if e.id == "reporting-2018"][0]
    assert stored.start_utc == at("2018-04-30T12:00:00Z")
    assert event.settings.grace.total_seconds() == 7200
    first.clock.set("2018-03-31T12:00:00Z")  # 30 days before
    await tick(first)
    [call] = messages(first, FOCAL_KEN)
    assert "Deadline" in call.text and "30 April 2018, 15:00 (Africa/Nairobi, UTC+03:00)" in call.text
    assert "Local time of the event: 30 April 2018, 12:00 (UTC)" in call.text


async def test_all_audience_reaches_every_role_but_not_guests(env):
    await person(env, FOCAL_KEN, "KEN")
    await person(env, 800, None, role=None)   # configured expert id: role from the config
    await person(env, 900, None, role=None)   # configured secretariat id
    await person(env, 777, None, role=None)   # guest
    env.clock.set("2016-10-04T07:00:00Z")     # CRIC 15, 14 days before (audience: all)
    await tick(env)
    assert {c.chat_id for c in messages(env)} == {FOCAL_KEN, 800, 900}


async def test_real_linked_groups_follow_their_switches(env):
    from bot.groups import normalise_settings

    now = env.clock.now()
    for chat_id, lang, circle, iso3s in ((-100901, "fr", "annex:I", ["KEN", "SEN"]), (-100902, "en", "annex:II", ["THA"]),
                                         (-100903, "es", "annex:I", ["KEN"])):
        groups.record_group(env.db, chat_id, title="Peers", chat_type="supergroup", lang=lang, added_by=900, now=now)
        groups.set_circle(env.db, chat_id, circle, iso3s, 900, now)
    settings = normalise_settings(None)
    settings["reminders"]["workshops"] = False
    groups.set_settings(env.db, -100903, settings, now)       # this group switched workshop reminders off
    env.clock.set(KONYA_3D)
    await tick(env)
    [call] = messages(env, -100901)
    assert "Atelier" in call.text and not call.buttons        # in French; no snooze buttons in a group
    assert not messages(env, -100902) and not messages(env, -100903)


async def test_the_repeating_job_runs_the_tick(env):
    from types import SimpleNamespace

    from handlers.reminders import _tick_job

    [job] = env.app.job_queue.get_jobs_by_name("reminders.tick")
    assert job.callback is _tick_job
    await person(env, FOCAL_KEN, "KEN")
    env.clock.set(KONYA_3D)
    await _tick_job(SimpleNamespace(application=env.app))
    assert len(messages(env, FOCAL_KEN)) == 1


async def test_a_deadline_reminder_whose_outcome_is_unknown_is_sent_again_a_workshop_one_is_not(env):
    """The delivery promise (bot/delivery.py): deadline reminders at least once, others at most once."""
    await person(env, FOCAL_KEN, "KEN")
    env.clock.set(KONYA_3D)                            # ws-konya, 3 days before: a workshop reminder
    env.api.fail_next("sendMessage", "timeout")        # the Bot API carried it out, the answer was lost
    await tick(env)
    assert len(messages(env, FOCAL_KEN)) == 1
    [row] = [r for r in ledger(env, kind="reminder", chat_id=FOCAL_KEN) if r["status"] != "skipped"]
    assert (row["ref"], row["promise"], row["status"]) == ("ev:ws-konya:v1:3d", "at_most_once", "uncertain")
    env.api.clear()
    env.clock.set("2018-03-17T23:59:00Z")             # 14 days before the 2018 reporting deadline
    env.api.fail_next("sendMessage", "timeout")
    await tick(env)
    texts = [c.text for c in messages(env, FOCAL_KEN)]
    assert len(texts) == 2 and "Deadline" in texts[0] and "Sent again" in texts[1]
    [row] = [r for r in ledger(env, kind="reminder", chat_id=FOCAL_KEN) if r["ref"].startswith("ev:reporting-2018")
             and r["status"] != "skipped"]
    assert (row["promise"], row["status"], row["resends"]) == ("at_least_once", "sent", 1)
