"""kill -9 at random points of a fan-out and of relays, then a restart: the promise of each
kind holds in every run (bot/delivery.py):

* at most once (broadcasts, ordinary reminders): never received twice; a recipient who got
  nothing is one whose row is ``uncertain`` (shown by ``ldn-bot deliveries``);
* at least once (expert answers, deadline reminders): never lost; a second copy only where
  the first one's outcome was unknown, and it says it was sent again.

The figures of every run (lost, duplicated, uncertain) are written to
``test-artifacts/kill-figures.json``."""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from storage import deliveries
from storage.db import Store, migrate, open_db
from storage.deliveries import AT_LEAST_ONCE, AT_MOST_ONCE
from tests.loopback_api import LoopbackBotAPI

pytestmark = pytest.mark.process

ROOT = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).with_name("kill_child.py")
TOKEN = "123:kill-test"
NOW = "2016-05-20T08:00:00Z"
ARTIFACTS = ROOT / "test-artifacts"
FIGURES: list[dict] = []


class SlowAPI(LoopbackBotAPI):
    """Each send takes a little while, so a kill finds some of them in flight."""

    def answer(self, method, params):
        if method in ("sendMessage", "copyMessage"):
            if "chat_id" not in params:  # the body never arrived whole: the sender was killed mid-request
                return 400, {"ok": False, "error_code": 400, "description": "Bad Request: chat_id is empty"}
            time.sleep(0.004)
            return 200, {"message_id": len(self.calls), "date": int(time.time()),
                         "chat": {"id": int(params["chat_id"]), "type": "private", "first_name": "U"}}
        return super().answer(method, params)


def seed(path: Path, rows: list[tuple[str, int, str, str]]) -> None:
    db = open_db(path)
    migrate(db)
    from knowledge.isotime import parse_instant

    now = parse_instant(NOW)
    for kind, chat_id, method, promise in rows:
        payload = {"text": f"{kind} for {chat_id}"} if method == "sendMessage" else {"from_chat_id": -100, "message_id": chat_id}
        deliveries.enqueue(db, kind=kind, ref=f"{kind}:{chat_id}", chat_id=chat_id, method=method, payload=payload,
                           due_at=now, now=now, promise=promise)
    Store(db).close()


def run_child(path: Path, api: LoopbackBotAPI, kill_after: int | None) -> str:
    env = dict(os.environ, TELEGRAM_BOT_TOKEN=TOKEN)
    proc = subprocess.Popen([sys.executable, str(CHILD), str(path), api.base_url, NOW], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        if kill_after is None:
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
            assert "DONE" in out
            return out
        deadline = time.monotonic() + 60
        while len(api.sends()) < kill_after:
            assert proc.poll() is None, proc.communicate()[1]
            assert time.monotonic() < deadline, "the child never got that far"
            time.sleep(0.001)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        assert proc.returncode == -signal.SIGKILL
        return ""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def check_promise(path: Path, api: LoopbackBotAPI, rows, label: str) -> dict:
    received = Counter(int(p["chat_id"]) for p in api.sends() if not str(p.get("text", "")).startswith("<i>↻"))
    notes = Counter(int(p["chat_id"]) for p in api.sends() if "Sent again" in str(p.get("text", "")))
    db = open_db(path)
    ledger = {r["chat_id"]: r for r in db.query("SELECT chat_id, status, resends, promise FROM deliveries")}
    db.conn.close()
    lost = duplicated = 0
    for kind, chat_id, _method, promise in rows:
        row, got = ledger[chat_id], received[chat_id]
        if promise == AT_MOST_ONCE:
            assert got <= 1, (label, kind, chat_id, "received twice")
            assert got == 1 or row["status"] == "uncertain", (label, kind, chat_id, "lost without being shown uncertain")
            lost += got == 0
        else:
            assert got >= 1 or row["status"] == "uncertain" and row["resends"] == 1, (label, kind, chat_id, "lost")
            assert got <= 2, (label, kind, chat_id)
            if got == 2:
                assert row["resends"] == 1 and notes[chat_id] == 1, (label, kind, chat_id, "a duplicate that does not say so")
                duplicated += 1
            lost += got == 0
    uncertain = sum(r["status"] == "uncertain" for r in ledger.values())
    assert uncertain <= 8, (label, "more in doubt than sends in flight")
    return {"run": label, "lost": lost, "duplicated": duplicated, "uncertain": uncertain, "recipients": len(rows)}


def fan_out_rows() -> list[tuple[str, int, str, str]]:
    rows = [("broadcast", 1000 + i, "sendMessage", AT_MOST_ONCE) for i in range(30)]
    rows += [("reminder", 2000 + i, "sendMessage", AT_LEAST_ONCE) for i in range(15)]  # deadline reminders
    rows += [("reminder", 3000 + i, "sendMessage", AT_MOST_ONCE) for i in range(15)]   # workshop reminders
    return rows


@pytest.mark.parametrize("run", range(20))
def test_kill_9_during_a_fan_out_keeps_each_kinds_promise(tmp_path, run):
    rows = fan_out_rows()
    path = tmp_path / "ldn.db"
    seed(path, rows)
    kill_after = random.Random(run).randint(3, len(rows) - 5)
    with SlowAPI(TOKEN) as api:
        run_child(path, api, kill_after)
        run_child(path, api, None)
        FIGURES.append(check_promise(path, api, rows, f"fan-out {run} (kill after {kill_after})"))


@pytest.mark.parametrize("run", range(5))
def test_kill_9_during_relays_loses_no_expert_answer(tmp_path, run):
    rows = [("answer", 4000 + i, "copyMessage", AT_LEAST_ONCE) for i in range(12)]
    path = tmp_path / "ldn.db"
    seed(path, rows)
    kill_after = random.Random(100 + run).randint(1, len(rows) - 2)
    with SlowAPI(TOKEN) as api:
        run_child(path, api, kill_after)
        run_child(path, api, None)
        figures = check_promise(path, api, rows, f"relay {run} (kill after {kill_after})")
        assert figures["lost"] == 0
        FIGURES.append(figures)


def teardown_module():
    if FIGURES:
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / f"kill-figures-{os.getpid()}.json").write_text(json.dumps(FIGURES, indent=1))
