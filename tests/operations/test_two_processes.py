"""Two processes, one database: the bot answers under load while an operator runs the command
line next to it. No "database is locked" reaches a user or an operator (busy timeout, short
write transactions)."""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.util import FOCAL_KEN, GUEST

pytestmark = pytest.mark.process

ROOT = Path(__file__).resolve().parents[2]


def cli(args: list[str], db_path: str, cwd: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in ("TELEGRAM_BOT_TOKEN", "LDN_NOW")}
    env["LDN_DB"] = db_path
    return subprocess.Popen([sys.executable, "-m", "bot.cli", *args], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


async def test_the_command_line_runs_beside_a_busy_bot(env, tmp_path, caplog):
    db_path = env.services.config.db_path
    await env.send("/start", user_id=GUEST, first_name="Olu", username="olu_x")
    csv = tmp_path / "update.csv"
    csv.write_text("iso3,step,status,note\nKEN,working_group,in_progress,set up in May\n", encoding="utf-8")
    commands = [["export", "all", str(tmp_path / "export")], ["backup", str(tmp_path / "b.db")], ["status", "--json"],
                ["milestones", "import", str(csv)], ["user", "forget", str(GUEST)], ["helpdesk", "stats"]]
    procs = [cli(args, db_path, tmp_path) for args in commands]
    questions = ["what is land degradation neutrality?", "how do we set the baseline?", "what is the LDN Fund?",
                 "where do soil carbon data come from?", "/help", "/checklist"]
    answered = 0
    while any(p.poll() is None for p in procs) or answered < 60:
        calls = await env.send(questions[answered % len(questions)], user_id=FOCAL_KEN + answered % 7)
        assert any(c.method == "sendMessage" for c in calls)
        answered += 1
        await asyncio.sleep(0)
    for args, proc in zip(commands, procs, strict=True):
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, (args, err)
        assert "database is locked" not in (out + err).lower(), (args, err)
    assert not [r for r in caplog.records if "database is locked" in r.getMessage().lower()]
    assert (tmp_path / "b.db").exists() and any((tmp_path / "export").iterdir())
    row = env.db.execute("SELECT status FROM milestones WHERE iso3 = 'KEN' AND step_id = 'working_group'").fetchone()
    assert row == ("in_progress",)
