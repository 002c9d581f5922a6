"""Webhook mode through the real Application: the secret token is checked on every request."""
from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from bot.config import config_from_text
from bot.runner import WebhookConfigError, webhook_settings
from tests.operations.util import free_port

pytest.importorskip("tornado")
from bot.webhook import WebhookReceiver  # noqa: E402 - needs the webhooks extra

SECRET = "s3cret-Token_for_tests"


def update(update_id: int, user_id: int = 4711, text: str = "/start") -> dict:
    return {"update_id": update_id,
            "message": {"message_id": update_id, "date": int(time.time()), "text": text,
                        "entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}],
                        "chat": {"id": user_id, "type": "private", "first_name": "Webhook"},
                        "from": {"id": user_id, "is_bot": False, "first_name": "Webhook", "language_code": "fr"}}}


async def wait_for(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.05)
    return predicate()


async def test_webhook_accepts_the_secret_and_rejects_anything_else(env, config):
    port = free_port()
    cfg = config.with_overrides(telegram={"webhook": {"url": "https://bot.example.org/ldn-hook", "listen": "127.0.0.1",
                                                      "port": port, "path": "ldn-hook", "secret_token": SECRET}})
    settings = webhook_settings(cfg)
    app = env.app
    receiver = WebhookReceiver(app, settings)
    await receiver.start()
    await app.start()
    try:
        registered = env.api.last("setWebhook")
        assert registered.params["url"] == "https://bot.example.org/ldn-hook"
        assert registered.params["secret_token"] == SECRET
        url = f"http://127.0.0.1:{port}/ldn-hook"
        async with httpx.AsyncClient(timeout=10) as client:
            # the right secret: accepted and processed (the bot answers /start in French)
            ok = await client.post(url, json=update(1, user_id=4711), headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
            assert ok.status_code == 200
            assert await wait_for(lambda: env.api.sent("sendMessage", chat_id=4711))
            assert "Bonjour" in env.api.sent("sendMessage", chat_id=4711)[0].text
            # a wrong secret, or none: 403 and never processed
            bad = await client.post(url, json=update(2, user_id=4712), headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"})
            missing = await client.post(url, json=update(3, user_id=4713))
            assert (bad.status_code, missing.status_code) == (403, 403)
            await asyncio.sleep(0.3)
            assert not env.api.sent("sendMessage", chat_id=4712) and not env.api.sent("sendMessage", chat_id=4713)
            # another path is not the webhook
            other = await client.post(f"http://127.0.0.1:{port}/elsewhere", json=update(4, user_id=4714),
                                      headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
            assert other.status_code == 404
        # the update was seen: last_update_at recorded
        assert env.db.execute("SELECT value FROM bot_state WHERE key = 'last_update_at'").fetchone()
    finally:
        await receiver.stop()
        await app.stop()


def test_webhook_settings_from_config_and_environment():
    cfg = config_from_text("telegram:\n  webhook:\n    url: https://bot.example.org/tg\n    port: 8443\n",
                           env={"LDN_WEBHOOK_SECRET": "abc_DEF-123"})
    s = webhook_settings(cfg)
    assert (s.url, s.port, s.path, s.secret_token, s.secret_generated) == ("https://bot.example.org/tg", 8443, "telegram", "abc_DEF-123", False)
    assert "abc_DEF-123" not in str(s.loggable())
    # the flat key of the issue text is accepted too; no secret configured: a random one for this run
    flat = webhook_settings(config_from_text("telegram:\n  webhook_url: https://bot.example.org/x\n"))
    assert flat.url == "https://bot.example.org/x" and flat.secret_generated and len(flat.secret_token) >= 32
    assert flat.secret_token != webhook_settings(config_from_text("telegram:\n  webhook_url: https://bot.example.org/x\n")).secret_token


@pytest.mark.parametrize("text, message", [
    ("telegram: {}\n", "telegram.webhook.url"),
    ("telegram:\n  webhook:\n    url: http://bot.example.org/tg\n", "https"),
    ("telegram:\n  webhook:\n    url: https://bot.example.org/tg\n    secret_token: 'has spaces'\n", "secret_token"),
    ("telegram:\n  webhook:\n    url: https://bot.example.org/tg\n    port: 70000\n", "port"),
])
def test_webhook_settings_explain_what_to_fix(text, message):
    with pytest.raises(WebhookConfigError, match=message):
        webhook_settings(config_from_text(text))


def test_a_second_bot_on_the_same_database_refuses_to_start(env, config, capsys):
    from bot import runner
    from bot.backup import RunLock

    lock = RunLock(config.db_path)
    assert lock.acquire()
    try:
        assert runner.run(env.app, config) == 1
    finally:
        lock.release()
    assert "already running" in capsys.readouterr().err


def test_the_startup_line_says_what_started_and_nothing_secret(env):
    from bot.runner import startup_fields

    fields = startup_fields(env.services, "polling")
    assert fields["mode"] == "polling" and fields["countries"] == 95 and fields["faq_entries"] > 0
    assert fields["events"] >= 9 and fields["pending_reminders"] == 0 and fields["schema"] >= 7
    assert set(fields) == {"version", "mode", "db", "schema", "countries", "faq_entries", "events", "pending_reminders"}
