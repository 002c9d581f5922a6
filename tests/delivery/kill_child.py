"""Run by test_kill.py in a subprocess: the delivery ledger of a real database sending through
a real HTTP Bot API (the parent's loopback server) until nothing is due, as a bot's delivery
run does. The parent kills it with SIGKILL at a random point, then runs it again to finish.

    python kill_child.py DB_PATH BASE_URL NOW

Prints ``READY`` after the restart recovery (in-flight rows made uncertain or queued again)
and ``DONE`` when nothing is due any more."""
from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from telegram import Bot  # noqa: E402

from bot.clock import FakeClock  # noqa: E402
from bot.delivery import Deliverer, RetryPolicy  # noqa: E402
from bot.i18n import load_translator  # noqa: E402
from storage import deliveries  # noqa: E402
from storage.db import Store, open_db  # noqa: E402


async def main(db_path: str, base_url: str, now: str) -> None:
    store = Store(open_db(db_path))
    clock = FakeClock(now)
    deliverer = Deliverer(store, clock, RetryPolicy(attempts=3, base_delay=0.01), i18n=load_translator())
    counts = await deliverer.recover_after_restart()
    print(f"READY {counts['uncertain']} {counts['resend']}", flush=True)
    async with Bot(os.environ["TELEGRAM_BOT_TOKEN"], base_url=base_url) as bot:
        while await store.read(deliveries.due, clock.now(), 1):
            await deliverer.flush_due(bot, concurrency=8)
    print("DONE", flush=True)
    store.close()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
