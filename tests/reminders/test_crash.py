"""kill -9 in the middle of a fan-out, then a restart: every recipient gets the reminder exactly once,
except at most the messages in flight at the kill instant (marked uncertain, never sent twice)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.reminders import get_reminders
from tests.reminders.util import ledger, messages, person, stop_app

CHILD = Path(__file__).with_name("crash_child.py")
ROOT = Path(__file__).resolve().parents[2]
KONYA_3D = "2016-05-25T06:00:00Z"

pytestmark = pytest.mark.process


async def test_kill_9_during_fan_out_then_restart(env, config, app_factory):
    annex_i = [c.iso3 for c in env.services.countries.by_annex("I")]
    recipients = [10_000 + i for i in range(30)]
    for i, uid in enumerate(recipients):
        await person(env, uid, annex_i[i % len(annex_i)])
    await stop_app(env)                                   # the database is now on disk; the bot stops

    proc = subprocess.Popen([sys.executable, str(CHILD), config.db_path, KONYA_3D, "12"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sent_before: list[int] = []
    hanging: list[int] = []
    deadline = time.monotonic() + 60
    try:
        for line in proc.stdout:
            word, _, value = line.strip().partition(" ")
            if word == "SENT":
                sent_before.append(int(value))
            elif word == "HANG":
                hanging.append(int(value))
                break
            assert time.monotonic() < deadline, "the child never reached the hang"
        time.sleep(0.2)                                   # let the other in-flight calls reach the hang too
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    assert proc.returncode == -signal.SIGKILL
    assert len(sent_before) == 12 and hanging

    env.clock.set("2016-05-25T06:05:00Z")                # restarted five minutes later
    second = await app_factory()                          # post_init: claimed -> uncertain; tick: the rest
    rows = {r["chat_id"]: r for r in ledger(second, kind="reminder")}
    assert set(rows) == set(recipients)
    uncertain = {c for c, r in rows.items() if r["status"] == "uncertain"}
    after = [c.chat_id for c in messages(second)]
    assert uncertain and len(uncertain) <= get_reminders(second.services).settings.concurrency
    assert set(hanging) <= uncertain
    assert not set(after) & set(sent_before)              # nothing sent twice
    assert not set(after) & uncertain                     # in doubt: never resent
    assert len(after) == len(set(after))
    assert set(sent_before) | set(after) | uncertain == set(recipients)
    assert all(rows[c]["status"] == "sent" for c in set(recipients) - uncertain)
