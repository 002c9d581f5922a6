"""The real ``ldn-bot run`` process against a loopback Bot API server: /start is answered,
SIGTERM stops it cleanly, the token never appears in its output."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

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
            # a fresh database: the search index is built once polling has begun, and answers
            question = start_update(user_id=4242)
            question["message"].update(message_id=2, text="What is land degradation neutrality?", entities=[])
            question["message"]["from"]["language_code"] = "en"
            api.push(question)
            while time.monotonic() < deadline and not _replies_to(api, 4242) and proc.poll() is None:
                time.sleep(0.1)
            assert any("Source:" in text and "neutral" in text.lower() for text in _replies_to(api, 4242))
            # the menus go out once polling has begun (bot/app.py): all of them, in every language
            while time.monotonic() < deadline and len(_public_menus(api)) < 12 and proc.poll() is None:
                time.sleep(0.1)
            assert _public_menus(api) == {(scope, lang) for scope in ("all_private_chats", "all_group_chats")
                                          for lang in ("", "fr", "es", "ru", "ar", "zh")}  # "": English, the default
        finally:
            out, err = stop(proc)
        assert proc.returncode == 0, err[-2000:]
        assert TOKEN not in out and TOKEN not in err
        assert TOKEN.split(":")[1] not in err
        assert "bot.start" in err  # the structured startup line
        assert any(m == "setMyCommands" for m, _ in api.calls)


def _replies_to(api: LoopbackBotAPI, chat_id: int) -> list[str]:
    return [p.get("text", "") for p in api.sent("sendMessage") if int(p["chat_id"]) == chat_id]


def _public_menus(api: LoopbackBotAPI) -> set[tuple[str, str]]:
    """(scope type, language) of every setMyCommands the bot sent for everyone (not a staff member's own)."""
    found = set()
    for params in api.sent("setMyCommands"):
        scope = params.get("scope") or {}
        if isinstance(scope, str):
            scope = json.loads(scope)
        if scope.get("type") in ("all_private_chats", "all_group_chats"):
            found.add((scope["type"], params.get("language_code", "")))
    return found


def _knowledge_copy(tmp_path: Path) -> Path:
    target = tmp_path / "knowledge"
    shutil.copytree(ROOT / "knowledge", target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


def _run_and_check(tmp_path: Path, knowledge: Path, api_url: str) -> tuple[subprocess.CompletedProcess, subprocess.CompletedProcess]:
    env = dict(os.environ, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=api_url, LDN_DB=str(tmp_path / "refused.db"),
               LDN_CFG__KNOWLEDGE__DIR=str(knowledge), PYTHONUNBUFFERED="1")
    run = subprocess.run(ldn_bot_command() + ["run"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    check = subprocess.run(ldn_bot_command() + ["check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    return run, check


def _problem_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line and not line.startswith("{")]  # not the JSON log lines


def test_ldn_bot_run_refuses_a_corrupted_events_file_with_the_messages_of_check(tmp_path):
    knowledge = _knowledge_copy(tmp_path)
    events = knowledge / "events.yaml"
    text = events.read_text(encoding="utf-8")
    text = text.replace("start: 2016-05-28T09:00", "start: 2016-13-45T09:00", 1)
    text = text.replace("timezone: Europe/Istanbul", "timezone: Mars/Olympus_Mons", 1)
    events.write_text(text, encoding="utf-8")
    with LoopbackBotAPI(TOKEN) as api:
        run, check = _run_and_check(tmp_path, knowledge, api.base_url)
        assert api.calls == []  # it never got as far as Telegram
    assert run.returncode == 1 and check.returncode == 1
    problems = _problem_lines(check.stderr)
    assert problems and all(line.startswith(str(events) + ":") for line in problems), check.stderr
    assert _problem_lines(run.stderr) == problems
    assert '"event": "bot.refused"' in run.stderr and "bot.start" not in run.stderr


def test_ldn_bot_run_refuses_several_broken_files_listing_all_of_them_as_check_does(tmp_path):
    knowledge = _knowledge_copy(tmp_path)
    (knowledge / "events.yaml").write_text("events:\n  - id: x\n    start: [unclosed\n", encoding="utf-8")
    (knowledge / "checklist.yaml").write_text("steps: {not: a list}\n", encoding="utf-8")
    with LoopbackBotAPI(TOKEN) as api:
        run, check = _run_and_check(tmp_path, knowledge, api.base_url)
    problems = _problem_lines(check.stderr)
    assert {line.split(":")[0] for line in problems} == {str(knowledge / "events.yaml"), str(knowledge / "checklist.yaml")}
    assert run.returncode == 1 and _problem_lines(run.stderr) == problems
