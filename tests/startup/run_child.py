"""Run by test_lazy_search.py in a subprocess, so that what this process imported is its own:
start the bot as ``ldn-bot run`` does (index not loaded before polling), report what the idle
bot holds, then answer one question and report again.

    python run_child.py DB_PATH QUESTION

Prints one JSON line after the start (``idle``) and one after the answer (``answered``)."""
from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bot.app import build_application  # noqa: E402
from bot.clock import FakeClock  # noqa: E402
from bot.config import config_from_text  # noqa: E402
from bot.offline import OfflineBotAPI, UpdateFactory  # noqa: E402
from tests.util import CONFIG_TEXT, GUEST  # noqa: E402


def report(stage: str, **extra) -> None:
    held = {name: name in sys.modules for name in ("numpy", "knowledge.index", "knowledge.search", "bot.mail.channel",
                                                   "smtplib", "rapidfuzz")}
    print(json.dumps({"stage": stage, **held, **extra}), flush=True)


async def main(db_path: str, question: str) -> None:
    config = config_from_text(CONFIG_TEXT).with_overrides(storage={"path": db_path})
    api = OfflineBotAPI()
    app = build_application(config, request=api, clock=FakeClock("2016-05-20T08:00:00Z"), rate_limit=False,
                            warm_search_later=True)
    await app.initialize()
    await app.post_init(app)
    await app.bot_data["search_warm"]
    report("idle")
    api.clear()
    await app.process_update(UpdateFactory(app.bot).message(question, user_id=GUEST))
    report("answered", replies=api.texts())
    await app.shutdown()
    app.bot_data["services"].store.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
