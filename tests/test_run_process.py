"""The real ``ldn-bot run`` process against a loopback Bot API server: /start is answered,
SIGTERM stops it cleanly, the token never appears in its output."""
from __future__ import annotations

import os
import subprocess
import time

import pytest

from tests.loopback_api import LoopbackBotAPI
from tests.util import ROOT, TOKEN, ldn_bot_command, start_update, stop

pytestmark = pytest.mark.process


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
