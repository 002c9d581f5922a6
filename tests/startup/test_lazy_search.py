"""Start-up: ``run`` does not load a stored search index before it is needed (numpy and the
index stay out of an idle bot) but builds one that is not stored yet; one-off commands that
never search neither build nor load it. Each is observed in a process of its own."""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys

import pytest

from tests.util import ROOT, ldn_bot_command

pytestmark = pytest.mark.process

CHILD = ROOT / "tests" / "startup" / "run_child.py"
QUESTION = "What is land degradation neutrality?"


def _run_child(db_path) -> dict[str, dict]:
    done = subprocess.run([sys.executable, str(CHILD), str(db_path), QUESTION], cwd=ROOT, capture_output=True,
                          text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return {line["stage"]: line for line in lines}


def _index_rows(db_path) -> int:
    with sqlite3.connect(db_path) as conn:
        return conn.execute("SELECT count(*) FROM faq_search_index").fetchone()[0]


def test_an_index_is_built_at_the_start_after_new_content_and_left_to_the_first_question_after(tmp_path, template_db):
    db_path = tmp_path / "bot.db"
    shutil.copyfile(template_db, db_path)
    with sqlite3.connect(db_path) as conn:
        conn.execute("DELETE FROM faq_search_index")  # as after new FAQ content: no index stored for it
    first = _run_child(db_path)
    assert first["idle"]["knowledge.index"]  # built while the bot polls, before anyone asks
    assert _index_rows(db_path) == 1
    assert "What is land degradation neutrality (LDN)?" in first["answered"]["replies"][0]

    again = _run_child(db_path)  # the next start: the index is stored
    assert not again["idle"]["numpy"] and not again["idle"]["knowledge.index"]
    # no e-mail channel configured: its modules (parsing, composing, SMTP) are not imported either
    assert not again["idle"]["bot.mail.channel"] and not again["idle"]["smtplib"]
    assert not again["idle"]["rapidfuzz"]  # nothing is folded before the first question
    answered = again["answered"]
    assert answered["numpy"] and answered["knowledge.index"]
    assert "What is land degradation neutrality (LDN)?" in answered["replies"][0]


def test_commands_that_do_not_search_build_no_index(tmp_path):
    db_path = tmp_path / "fresh.db"
    env = dict(os.environ, LDN_DB=str(db_path))
    env.pop("TELEGRAM_BOT_TOKEN", None)
    commands = [["invite", "--country", "KEN"], ["status"], ["helpdesk", "stats"], ["progress", "--json"], ["calendar"],
                ["check"], ["countries"]]  # invite first: it creates the database
    for command in commands:
        done = subprocess.run(ldn_bot_command() + command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, (command, done.stderr[-2000:])
    assert _index_rows(db_path) == 0
    assert not any((tmp_path / ".ldn-cache").glob("search-*"))
    assert any((tmp_path / ".ldn-cache").glob("faq-*"))  # the FAQ was loaded (and kept) all the same
