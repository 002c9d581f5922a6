"""Webhook mode, the real ``ldn-bot run --webhook`` process: an update the library cannot parse (or a
body that is no update at all) is logged once as a WARNING with its type and update_id and skipped with
a 200 (so Telegram does not post it again); the good updates around it are answered; no ERROR, no
traceback, no content of the bad update in the log."""
from __future__ import annotations

import json
import os
import subprocess
import time

import httpx
import pytest

from tests.loopback_api import LoopbackBotAPI
from tests.operations.util import free_port
from tests.util import ROOT, TOKEN, ldn_bot_command, start_update, stop, wait_for

pytest.importorskip("tornado")
pytestmark = pytest.mark.process

SECRET = "hardening-webhook-SECRET_42"
MALFORMED_POLL = {"poll": {"id": "5012", "question": "Which year?"}}  # no options, total_voter_count, … any more


def _post(url: str, body: bytes, secret: str = SECRET) -> int:
    try:
        return httpx.post(url, content=body, headers={"X-Telegram-Bot-Api-Secret-Token": secret,
                                                      "Content-Type": "application/json"}, timeout=5).status_code
    except httpx.HTTPError:
        return 0


def _update(update_id: int, data: dict) -> bytes:
    return json.dumps({"update_id": update_id, **data}).encode()


def test_an_unparsable_update_posted_to_the_webhook_is_skipped_with_one_warning(tmp_path):
    port = free_port()
    with LoopbackBotAPI(TOKEN) as api:
        env = dict(os.environ, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=api.base_url, LDN_DB=str(tmp_path / "hook.db"),
                   PYTHONUNBUFFERED="1", LDN_WEBHOOK_SECRET=SECRET, LDN_CFG__TELEGRAM__WEBHOOK__URL="https://bot.example.org/hook",
                   LDN_CFG__TELEGRAM__WEBHOOK__LISTEN="127.0.0.1", LDN_CFG__TELEGRAM__WEBHOOK__PORT=str(port),
                   LDN_CFG__TELEGRAM__WEBHOOK__PATH="hook")
        proc = subprocess.Popen(ldn_bot_command() + ["run", "--webhook"], cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert wait_for(lambda: api.sent("setWebhook"), proc), f"no setWebhook; exit={proc.poll()}"
            url = f"http://127.0.0.1:{port}/hook"
            assert wait_for(lambda: _post(url, _update(100, start_update(7101))) == 200, proc, timeout=20)
            codes = [_post(url, _update(101, MALFORMED_POLL)),
                     _post(url, b"this is not JSON {"),
                     _post(url, b"[1, 2, 3]"),
                     _post(url, _update(104, start_update(7102)))]
            assert codes == [200, 200, 200, 200]
            assert _post(url, _update(105, start_update(7103)), secret="wrong") == 403
            assert wait_for(lambda: {int(p["chat_id"]) for p in api.sent("sendMessage")} >= {7101, 7102}, proc)
            time.sleep(0.5)
            assert {int(p["chat_id"]) for p in api.sent("sendMessage")} == {7101, 7102}
        finally:
            out, err = stop(proc)
    assert proc.returncode == 0, err[-3000:]
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    skipped = [line for line in lines if line.get("msg", line.get("message")) == "update.unparsable" or "update.unparsable" in json.dumps(line)]
    assert [(s["update_type"], s["update_id"]) for s in skipped] == [("poll", 101), ("?", None), ("?", None)], skipped
    assert all(s["level"] == "WARNING" for s in skipped), skipped
    assert "Traceback" not in err and "Which year" not in err and "not JSON" not in err
    assert not [line for line in lines if line.get("level") in ("ERROR", "CRITICAL")], err[-3000:]
