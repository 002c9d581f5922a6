"""E-mail fixtures: a real SMTP server receiving what the bot sends, and the bot (a real
Application on the offline Bot API) with its e-mail channel listening on a loopback port."""
from __future__ import annotations

import shutil

import pytest

from bot.config import config_from_text
from tests.mail.util import HELPDESK, MailEnv, start_sink
from tests.util import CONFIG_TEXT, start_env

MAIL_VARS = ("LDN_SMTP_URL", "LDN_SMTP_PASSWORD", "LDN_MAIL_LISTEN", "LDN_IMAP_URL", "LDN_IMAP_PASSWORD")


@pytest.fixture
def outbox():
    """An aiosmtpd server in this process: the bot's outgoing SMTP server in the tests."""
    controller, sink = start_sink()
    sink.port = controller.port
    yield sink
    controller.stop()


@pytest.fixture
def mail_settings():
    """The ``mail:`` section of the test configuration (a test may change it before ``menv``)."""
    return {"from": HELPDESK, "max_message_mb": 1, "max_attachment_mb": 0.5}


@pytest.fixture
def mail_vars(monkeypatch, outbox):
    for name in MAIL_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LDN_SMTP_URL", f"smtp://127.0.0.1:{outbox.port}")
    monkeypatch.setenv("LDN_MAIL_LISTEN", "127.0.0.1:0")
    return monkeypatch


@pytest.fixture
async def menv(tmp_path, template_db, clock, outbox, mail_vars, mail_settings):
    shutil.copyfile(template_db, tmp_path / "ldn.db")
    config = config_from_text(CONFIG_TEXT).with_overrides(storage={"path": str(tmp_path / "ldn.db")}, mail=mail_settings)
    bot_env = await start_env(config, clock)
    app = bot_env.app
    env = MailEnv(bot_env, outbox)
    yield env
    await env.channel.close()
    await app.shutdown()
    app.bot_data["services"].store.close()
