"""Fixtures of the intake tests: a bot that can be restarted on the same database (and the same
offline Bot API, whose message numbers go on as Telegram's do)."""
from __future__ import annotations

import pytest

from tests.intake.util import IntakeBot
from tests.util import FOCAL_FRA_SPEAKER, FOCAL_KEN


async def _start(config, clock, **helpdesk):
    bot = IntakeBot(config.with_overrides(helpdesk=helpdesk) if helpdesk else config, clock)
    await bot.start()
    await bot.env.make_focal_point(FOCAL_KEN, "KEN")
    await bot.env.make_focal_point(FOCAL_FRA_SPEAKER, "SEN")
    return bot


@pytest.fixture
async def bot(config, clock):
    started = await _start(config, clock)
    yield started
    await started.stop()


@pytest.fixture
async def visitors_ask(config, clock):
    started = await _start(config, clock, visitors="ask", daily_query_limit=2)
    yield started
    await started.stop()
