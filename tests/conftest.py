"""Shared fixtures: a fresh database and a real Application on the offline Bot API per test."""
from __future__ import annotations

import shutil
from dataclasses import dataclass, field

import pytest

from bot.app import build_application
from bot.clock import FakeClock
from bot.config import config_from_text
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


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock("2016-05-20T08:00:00Z")


@pytest.fixture(scope="session")
def template_db(tmp_path_factory):
    """A migrated database with the FAQ loaded, built once; each test gets a fresh copy of it."""
    from bot.app import build_services

    path = tmp_path_factory.mktemp("template") / "template.db"
    cfg = config_from_text(CONFIG_TEXT).with_overrides(storage={"path": str(path)})
    services = build_services(cfg, clock=FakeClock("2016-01-01T00:00:00Z"))
    services.store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    services.store.close()
    return path


@pytest.fixture
def config(tmp_path, template_db):
    """Test configuration with a fresh database (a copy of the template) in ``tmp_path``."""
    shutil.copyfile(template_db, tmp_path / "ldn.db")
    cfg = config_from_text(CONFIG_TEXT)
    return cfg.with_overrides(storage={"path": str(tmp_path / "ldn.db")})


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




@pytest.fixture
async def env(config, clock):
    api = OfflineBotAPI()
    sleeps: list[float] = []

    async def fake_sleep(seconds):
        sleeps.append(seconds)

    app = build_application(config, request=api, clock=clock, rate_limit=False, sleep=fake_sleep)
    await app.initialize()
    await app.post_init(app)
    api.clear()
    yield BotEnv(app, api, UpdateFactory(app.bot), clock, sleeps)
    await app.shutdown()
    app.bot_data["services"].store.close()


def texts(calls, chat_id=None) -> list[str]:
    return [c.text for c in calls if c.method in ("sendMessage", "editMessageText", "sendDocument", "sendPhoto")
            and (chat_id is None or c.chat_id == chat_id)]


def one_text(calls, chat_id=None) -> str:
    found = texts(calls, chat_id)
    assert found, f"nothing sent; calls: {[(c.method, c.params) for c in calls]}"
    return "\n".join(found)
