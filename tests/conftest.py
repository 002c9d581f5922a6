"""Shared fixtures: a fresh database and a real Application on the offline Bot API per test."""
from __future__ import annotations

import shutil

import pytest

from bot.clock import FakeClock
from bot.config import config_from_text
from tests.util import CONFIG_TEXT, start_env


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


@pytest.fixture
async def env(config, clock):
    bot_env = await start_env(config, clock)
    app = bot_env.app
    yield bot_env
    await app.shutdown()
    app.bot_data["services"].store.close()
