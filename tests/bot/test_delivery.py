"""Exactly-once delivery through the real bot: retries on 429/5xx/timeouts, 403 recorded."""
from __future__ import annotations

import datetime as dt

from storage import deliveries, users


async def send(env, ref="r1", chat_id=4242):
    return await env.services.deliverer.send_now(env.app.bot, kind="test", ref=ref, chat_id=chat_id,
                                                 method="sendMessage", payload={"text": "Reminder"})


async def test_sent_once_even_if_asked_twice(env):
    first = await send(env)
    second = await send(env)
    assert first.status == "sent" and second.status == "sent"
    assert len(env.api.sent("sendMessage", 4242)) == 1
    assert first.message_id == second.message_id


async def test_429_honours_retry_after_then_sends(env):
    env.api.fail_next("sendMessage", 429, "Too Many Requests: retry after 7", retry_after=7)
    outcome = await send(env)
    assert outcome.status == "sent" and outcome.retries == 1
    assert env.sleeps == [7.0]
    assert len([c for c in env.api.sent("sendMessage", 4242)]) == 2  # the refused try and the real one


async def test_5xx_and_timeouts_back_off_then_send(env):
    env.api.fail_next("sendMessage", 502, "Bad Gateway")
    env.api.fail_next("sendMessage", "connect_timeout")
    outcome = await send(env)
    assert outcome.status == "sent" and outcome.retries == 2
    assert env.sleeps == [1.0, 2.0]


async def test_a_read_timeout_is_uncertain_and_not_resent(env):
    env.api.fail_next("sendMessage", "timeout")
    outcome = await send(env)
    assert outcome.status == "uncertain" and outcome.error == "read timeout"
    assert len(env.api.sent("sendMessage", 4242)) == 1
    assert env.sleeps == []
    assert deliveries.find(env.db, "test", "r1", 4242)["status"] == "uncertain"


async def test_retries_are_bounded(env):
    env.api.fail_next("sendMessage", 500, "Internal Server Error", times=10)
    outcome = await send(env)
    assert outcome.status == "failed" and "network" in outcome.error
    assert deliveries.find(env.db, "test", "r1", 4242)["status"] == "failed"


async def test_blocked_recipient_is_recorded_and_marked_inactive(env):
    users.touch_user(env.db, 4242, "Ana", None, env.clock.now())
    env.api.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
    outcome = await send(env)
    assert outcome.status == "blocked"
    assert users.get_user(env.db, 4242)["active"] == 0
    assert len(env.sleeps) == 0


async def test_claimed_rows_become_uncertain_on_restart_and_are_not_resent(env, config, clock):
    from bot.app import build_application
    from bot.offline import OfflineBotAPI

    row = deliveries.enqueue(env.db, kind="test", ref="crash", chat_id=99, method="sendMessage", payload={"text": "x"},
                             due_at=clock.now(), now=clock.now())
    deliveries.claim(env.db, row, clock.now())  # the process dies here, before the Bot API call
    api = OfflineBotAPI()
    app = build_application(config, request=api, clock=clock, rate_limit=False)
    await app.initialize()
    await app.post_init(app)
    services = app.bot_data["services"]
    outcomes = await services.deliverer.flush_due(app.bot, grace=dt.timedelta(hours=6))
    assert outcomes == [] and api.sent("sendMessage", 99) == []
    assert deliveries.get(services.store.db, row)["status"] == "uncertain"
    await app.shutdown()
    services.store.close()


async def test_missed_within_grace_sent_once_older_skipped(env):
    now = env.clock.now()
    recent = deliveries.enqueue(env.db, kind="test", ref="recent", chat_id=1, method="sendMessage", payload={"text": "a"},
                                due_at=now - dt.timedelta(hours=2), now=now)
    old = deliveries.enqueue(env.db, kind="test", ref="old", chat_id=2, method="sendMessage", payload={"text": "b"},
                             due_at=now - dt.timedelta(hours=9), now=now)
    await env.services.deliverer.flush_due(env.app.bot, grace=dt.timedelta(hours=6))
    await env.services.deliverer.flush_due(env.app.bot, grace=dt.timedelta(hours=6))
    assert len(env.api.sent("sendMessage", 1)) == 1 and env.api.sent("sendMessage", 2) == []
    assert deliveries.get(env.db, recent)["status"] == "sent"
    assert deliveries.get(env.db, old)["status"] == "skipped"
