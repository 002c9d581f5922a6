"""Run by test_crash.py in a subprocess: start the bot over a database, let some reminders go out, then
hang inside the Bot API call (claimed, not marked) until the parent kills this process with SIGKILL.

    python crash_child.py DB_PATH NOW SEND_BEFORE_HANG

Prints ``SENT <chat_id>`` once Telegram (the offline API) accepted a message, ``HANG <chat_id>`` when a
call is left in flight."""
from __future__ import annotations

import asyncio
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bot.app import build_application  # noqa: E402
from bot.clock import FakeClock  # noqa: E402
from bot.config import config_from_text  # noqa: E402
from bot.offline import OfflineBotAPI  # noqa: E402
from tests.util import CONFIG_TEXT  # noqa: E402


class HangingAPI(OfflineBotAPI):
    def __init__(self, send_before_hang: int):
        super().__init__()
        self.left = send_before_hang

    async def do_request(self, url, method, request_data=None, **kwargs):
        if not url.endswith("/sendMessage"):
            return await super().do_request(url, method, request_data, **kwargs)
        chat_id = request_data.parameters.get("chat_id")
        if self.left <= 0:
            print(f"HANG {chat_id}", flush=True)
            await asyncio.sleep(3600)
        self.left -= 1
        result = await super().do_request(url, method, request_data, **kwargs)
        print(f"SENT {chat_id}", flush=True)
        return result


async def main(db_path: str, now: str, send_before_hang: int) -> None:
    config = config_from_text(CONFIG_TEXT).with_overrides(storage={"path": db_path})
    app = build_application(config, request=HangingAPI(send_before_hang), clock=FakeClock(now), rate_limit=False)
    await app.initialize()
    print("READY", flush=True)
    await app.post_init(app)  # on_startup: the tick plans and sends the due reminders
    print("DONE", flush=True)
    await asyncio.sleep(3600)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
