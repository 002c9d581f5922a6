"""Helpers and constants the tests share: the fixture users and chats, the test configuration,
BotEnv (what the ``env`` fixture gives), reading what the bot sent, and running ``ldn-bot`` as a process.
Fixtures stay in the conftest files; everything a test imports lives here."""
from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bot.clock import FakeClock
from bot.offline import OfflineBotAPI, UpdateFactory

SECRETARIAT = 900
EXPERT = 800
EXPERT_CHAT = -1001234567890
FOCAL_KEN = 501
FOCAL_FRA_SPEAKER = 502  # focal point of Senegal, writes French
GUEST = 777

CONFIG_TEXT = f"""
telegram:
  api_base_url: http://127.0.0.1:9/bot
roles:
  secretariat: [{SECRETARIAT}]
  experts: [{EXPERT}]
helpdesk:
  expert_chat_id: {EXPERT_CHAT}
"""


@dataclass
class BotEnv:
    """A running Application, its offline Bot API and helpers to talk to it as users would."""

    app: object
    api: OfflineBotAPI
    updates: UpdateFactory
    clock: FakeClock
    sleeps: list = field(default_factory=list)

    @property
    def services(self):
        return self.app.bot_data["services"]

    @property
    def db(self):
        return self.services.store.db

    async def send(self, text, *, user_id=GUEST, **kwargs):
        """Process a message; return the Bot API calls it caused."""
        before = len(self.api.calls)
        await self.app.process_update(self.updates.message(text, user_id=user_id, **kwargs))
        return self.api.calls[before:]

    async def press(self, data, *, user_id=GUEST, **kwargs):
        before = len(self.api.calls)
        await self.app.process_update(self.updates.callback(data, user_id=user_id, **kwargs))
        return self.api.calls[before:]

    async def process(self, update):
        before = len(self.api.calls)
        await self.app.process_update(update)
        return self.api.calls[before:]

    async def make_focal_point(self, user_id, iso3):
        from storage import users

        await self.services.store.run(users.set_role, user_id, "focal_point", iso3, self.clock.now(), SECRETARIAT, "cli")


async def start_env(config, clock) -> BotEnv:
    """A real Application on the offline Bot API, initialised and started up as ``run`` does;
    sleeps recorded instead of slept. Shut it down with ``await env.app.shutdown()``."""
    from bot.app import build_application

    api = OfflineBotAPI()
    sleeps: list[float] = []

    async def fake_sleep(seconds):
        sleeps.append(seconds)

    app = build_application(config, request=api, clock=clock, rate_limit=False, sleep=fake_sleep)
    await app.initialize()
    await app.post_init(app)
    api.clear()
    return BotEnv(app, api, UpdateFactory(app.bot), clock, sleeps)


def wait_for(predicate, proc: subprocess.Popen, timeout: float = 60.0) -> bool:
    """Poll ``predicate`` every 0.1 s until it holds, ``proc`` exits or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.1)
    return predicate()


def texts(calls, chat_id=None) -> list[str]:
    return [c.text for c in calls if c.method in ("sendMessage", "editMessageText", "sendDocument", "sendPhoto")
            and (chat_id is None or c.chat_id == chat_id)]


def one_text(calls, chat_id=None) -> str:
    found = texts(calls, chat_id)
    assert found, f"nothing sent; calls: {[(c.method, c.params) for c in calls]}"
    return "\n".join(found)


# -- the real ldn-bot process ------------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent  # the repository
TOKEN = "123456789:TESTtokenTESTtokenTESTtokenTESTtoken"


def ldn_bot_command() -> list[str]:
    script = Path(sys.executable).parent / "ldn-bot"
    if script.exists():
        return [str(script)]
    found = shutil.which("ldn-bot")
    return [found] if found else [sys.executable, "-m", "bot.cli"]


def stop(proc: subprocess.Popen) -> tuple[str, str]:
    """SIGTERM, as systemd or Ctrl-C would; kill only if the bot does not stop within 30 s."""
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.communicate()


def start_update(user_id: int = 31337) -> dict:
    return {"message": {"message_id": 1, "date": int(time.time()), "text": "/start",
                        "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
                        "chat": {"id": user_id, "type": "private", "first_name": "Nadia"},
                        "from": {"id": user_id, "is_bot": False, "first_name": "Nadia", "language_code": "es"}}}
