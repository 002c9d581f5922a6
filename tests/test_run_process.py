"""The real ``ldn-bot run`` process against a loopback Bot API server: /start is answered,
SIGTERM stops it cleanly, the token never appears in its output."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.loopback_api import LoopbackBotAPI

pytestmark = pytest.mark.process

ROOT = Path(__file__).resolve().parent.parent
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


def test_ldn_bot_run_answers_start_and_stops_on_sigterm(tmp_path):
    with LoopbackBotAPI(TOKEN) as api:
        api.push(start_update())
        env = dict(os.environ, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=api.base_url,
                   LDN_DB=str(tmp_path / "run.db"), PYTHONUNBUFFERED="1")
        proc = subprocess.Popen(ldn_bot_command() + ["run"], cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not api.sent("sendMessage"):
                if proc.poll() is not None:
                    break
                time.sleep(0.1)
            replies = api.sent("sendMessage")
            assert replies, f"no reply; exit={proc.poll()} stderr={proc.stderr.read() if proc.poll() is not None else ''}"
            assert int(replies[0]["chat_id"]) == 31337
            assert "Hola" in replies[0]["text"]  # Spanish from the user's language_code
        finally:
            out, err = stop(proc)
        assert proc.returncode == 0, err[-2000:]
        assert TOKEN not in out and TOKEN not in err
        assert TOKEN.split(":")[1] not in err
        assert "bot.start" in err  # the structured startup line
        assert any(m == "setMyCommands" for m, _ in api.calls)
