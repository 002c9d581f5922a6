"""Helpers of the reminders tests: ticks, registered people, a second Application over the same
database (a restart), and reading back what the offline Bot API received."""
from __future__ import annotations

import datetime as dt

from bot.app import build_application
from bot.offline import OfflineBotAPI, UpdateFactory
from handlers.reminders import reminders_tick
from storage import users
from tests.util import BotEnv

UTC = dt.timezone.utc


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


async def tick(env) -> dict:
    return await reminders_tick(env.app)


async def person(env, user_id: int, iso3: str | None = None, *, role: str = "focal_point", lang: str | None = None,
                 tz: str | None = None, name: str = "Amina") -> None:
    """A user known to the bot (as after /start), optionally with a role, language and time zone."""
    def setup(db):
        users.touch_user(db, user_id, name, None, env.clock.now())
        if role:
            users.set_role(db, user_id, role, iso3, env.clock.now(), None, "cli")
        if lang:
            users.set_lang(db, user_id, lang, env.clock.now())
        if tz:
            users.set_timezone(db, user_id, tz, env.clock.now())

    await env.services.store.run(setup)


def messages(env, chat_id: int | None = None, contains: str | None = None) -> list:
    """sendMessage calls (to ``chat_id``, containing ``contains``)."""
    return [c for c in env.api.sent("sendMessage", chat_id) if contains is None or contains in c.text]


def ledger(env, **where) -> list[dict]:
    sql = "SELECT * FROM deliveries" + (" WHERE " + " AND ".join(f"{k} = ?" for k in where) if where else "") + " ORDER BY id"
    return list(env.db.query(sql, list(where.values())))


async def start_app(config, clock, api: OfflineBotAPI | None = None, sleeps: list | None = None) -> BotEnv:
    """A fresh Application over ``config``'s database file, started like the real bot (post_init)."""
    api = api or OfflineBotAPI()
    sleeps = sleeps if sleeps is not None else []

    async def fake_sleep(seconds):
        sleeps.append(seconds)

    app = build_application(config, request=api, clock=clock, rate_limit=False, sleep=fake_sleep)
    await app.initialize()
    await app.post_init(app)
    return BotEnv(app, api, UpdateFactory(app.bot), clock, sleeps)


async def stop_app(env: BotEnv) -> None:
    if getattr(env, "stopped", False):
        return
    env.stopped = True
    rem = env.services.reminders
    if rem is not None:
        await rem.drain()
    await env.app.shutdown()
    env.services.store.close()


async def drain(env) -> None:
    await env.services.reminders.drain()
