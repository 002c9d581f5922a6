"""Helpers of the pipeline tests: an Application that polls a loopback Bot API over HTTP, as ``ldn-bot run`` does."""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging


from bot.app import build_application
from bot.clock import FakeClock

TOKEN = "123456789:PIPEtokenPIPEtokenPIPEtokenPIPEtoken"


@contextlib.asynccontextmanager
async def polling_bot(config, api, **kwargs):
    """``build_application`` on the real HTTP transport, polling ``api`` (a LoopbackBotAPI)."""
    cfg = dataclasses.replace(config.with_overrides(telegram={"api_base_url": api.base_url}), token=TOKEN)
    app = build_application(cfg, clock=FakeClock("2016-05-20T08:00:00Z"), **kwargs)
    await app.initialize()
    await app.updater.start_polling(poll_interval=0.0, timeout=1)
    await app.start()
    try:
        yield app
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
        app.bot_data["services"].store.close()


async def wait_until(predicate, what: str, seconds: float = 120.0, detail=None) -> None:
    """Wait for ``predicate()``; fail naming ``what`` if it never holds (a bound, not a timing assertion)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"never happened: {what}" + (f" ({detail()})" if detail else ""))
        await asyncio.sleep(0.05)


def problems(caplog) -> list[str]:
    """Log records an operator would have to look at: ERROR and above, or any traceback."""
    return [f"{r.levelname} {r.name} {r.getMessage()}" + (f" {r.exc_info[1]!r}" if r.exc_info else "")
            for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
