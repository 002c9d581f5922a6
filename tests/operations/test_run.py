"""The real ``ldn-bot run --webhook`` process: startup line, secret check, run lock, status and restore
seen from outside while it runs, clean stop on SIGTERM."""
from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.loopback_api import LoopbackBotAPI
from tests.operations.util import free_port
from tests.util import ROOT, TOKEN, ldn_bot_command, start_update, stop, wait_for

pytest.importorskip("tornado")
pytestmark = pytest.mark.process

SECRET = "webhook-SECRET_0123456789"


def _env(tmp_path: Path, api: LoopbackBotAPI, port: int) -> dict:
    return dict(os.environ, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=api.base_url, LDN_DB=str(tmp_path / "run.db"),
                PYTHONUNBUFFERED="1", LDN_WEBHOOK_SECRET=SECRET,
                LDN_CFG__TELEGRAM__WEBHOOK__URL="https://bot.example.org/hook",
                LDN_CFG__TELEGRAM__WEBHOOK__LISTEN="127.0.0.1",
                LDN_CFG__TELEGRAM__WEBHOOK__PORT=str(port),
                LDN_CFG__TELEGRAM__WEBHOOK__PATH="hook")


def _cli(args, env) -> subprocess.CompletedProcess:
    return subprocess.run(ldn_bot_command() + args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_ldn_bot_run_webhook(tmp_path):
    port = free_port()
    with LoopbackBotAPI(TOKEN) as api:
        env = _env(tmp_path, api, port)
        proc = subprocess.Popen(ldn_bot_command() + ["run", "--webhook"], cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert wait_for(lambda: api.sent("setWebhook"), proc), f"no setWebhook; exit={proc.poll()}"
            registered = api.sent("setWebhook")[0]
            assert registered["url"] == "https://bot.example.org/hook" and registered["secret_token"] == SECRET
            url = f"http://127.0.0.1:{port}/hook"
            # the server may need a moment after setWebhook
            assert wait_for(lambda: _post(url, start_update(31337), SECRET) == 200, proc, timeout=20)
            assert wait_for(lambda: api.sent("sendMessage"), proc)
            assert int(api.sent("sendMessage")[0]["chat_id"]) == 31337
            assert _post(url, start_update(31338), "not-the-secret") == 403
            assert _post(url, start_update(31339), None) == 403
            time.sleep(0.5)
            assert {int(p["chat_id"]) for p in api.sent("sendMessage")} == {31337}

            # seen from outside while it runs
            second = _cli(["run", "--webhook"], env)
            assert second.returncode == 1 and "already running" in second.stderr
            status = _cli(["status", "--json"], env)
            assert status.returncode == 0, status.stderr
            data = json.loads(status.stdout)
            assert data["running"] is True and data["last_update_at"] and data["uptime_seconds"] is not None
            assert _cli(["status", "--check"], env).returncode == 0
            backup = _cli(["backup", str(tmp_path / "live.db")], env)
            assert backup.returncode == 0, backup.stderr
            restore = _cli(["restore", str(tmp_path / "live.db")], env)
            assert restore.returncode == 1 and "running bot" in restore.stderr
        finally:
            out, err = stop(proc)
    assert proc.returncode == 0, err[-3000:]
    start = [json.loads(line) for line in err.splitlines() if '"bot.start"' in line]
    assert len(start) == 1
    line = start[0]
    assert line["mode"] == "webhook" and line["countries"] == 95 and line["faq_entries"] > 0
    assert line["db"].endswith("run.db") and "events" in line and "pending_reminders" in line and line["version"]
    assert line["webhook_host"] == "bot.example.org" and line["secret"] == "configured"
    for secret in (TOKEN, TOKEN.split(":")[1], SECRET):
        assert secret not in err and secret not in out
    # stopped cleanly: the lock is free, stopped_at recorded, a restore is now allowed
    status = json.loads(_cli(["status", "--json"], env).stdout)
    assert status["running"] is False and status["stopped_at"]
    assert _cli(["status", "--check"], env).returncode == 1
    restore = _cli(["restore", str(tmp_path / "live.db")], env)
    assert restore.returncode == 0, restore.stderr


def _post(url: str, update: dict, secret: str | None) -> int:
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
    try:
        return httpx.post(url, json=dict(update, update_id=int(time.time() * 1000) % 10**9), headers=headers, timeout=5).status_code
    except httpx.HTTPError:
        return 0


def test_webhook_without_url_is_refused_with_advice(tmp_path):
    env = dict(os.environ, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL="http://127.0.0.1:9/bot", LDN_DB=str(tmp_path / "x.db"))
    env.pop("LDN_CFG__TELEGRAM__WEBHOOK__URL", None)
    result = _cli(["run", "--webhook"], env)
    assert result.returncode == 2 and "telegram.webhook.url" in result.stderr
    assert TOKEN not in result.stderr

