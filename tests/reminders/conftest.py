"""Fixtures of the reminders tests (their helpers are in tests/reminders/util.py)."""
from __future__ import annotations

import pytest

from bot.offline import OfflineBotAPI
from tests.reminders.util import start_app, stop_app
from tests.util import BotEnv


@pytest.fixture
async def app_factory(config, clock):
    """Start Applications over the same database file (a restart is: stop_app, then make another)."""
    started: list[BotEnv] = []

    async def make(api: OfflineBotAPI | None = None, cfg=None) -> BotEnv:
        env = await start_app(cfg or config, clock, api)
        started.append(env)
        return env

    yield make
    for env in started:
        await stop_app(env)
