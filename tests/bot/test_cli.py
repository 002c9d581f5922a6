"""The command line as operators use it: check, countries, role, invite, console."""
from __future__ import annotations

import asyncio
import io
import json
import shutil
from pathlib import Path

import pytest

from bot.cli import main
from storage import users
from storage.db import open_db

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cli_env(tmp_path, monkeypatch):
    monkeypatch.setenv("LDN_DB", str(tmp_path / "cli.db"))
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.chdir(ROOT)
    return tmp_path


def test_check_prints_counts(cli_env, capsys):
    assert main(["check"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("OK:") and "countries 95" in out and "FAQ entries" in out


def test_check_reports_file_and_line_of_each_problem(cli_env, capsys, tmp_path):
    knowledge = tmp_path / "knowledge"
    shutil.copytree(ROOT / "knowledge", knowledge, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    countries = knowledge / "countries.yaml"
    text = countries.read_text()
    countries.write_text(text.replace("timezone: Africa/Nairobi", "timezone: Mars/Olympus", 1))
    (knowledge / "strings" / "core.yaml").write_text((knowledge / "strings" / "core.yaml").read_text() + "broken: [\n")
    config = tmp_path / "config.yaml"
    config.write_text(f"knowledge:\n  dir: {knowledge}\n")
    assert main(["check", "--config", str(config)]) == 1
    err = capsys.readouterr().err
    line = text[: text.index("timezone: Africa/Nairobi")].count("\n") + 1
    assert f"{countries}:{line}: KEN: unknown time zone 'Mars/Olympus'" in err
    assert f"{knowledge / 'strings' / 'core.yaml'}:" in err and "invalid YAML" in err
    # run refuses to start on the same data, with the same messages
    assert main(["run", "--config", str(config)]) == 1


def test_countries_json_is_the_registry(cli_env, capsys):
    assert main(["countries", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data) == 95
    ken = next(c for c in data if c["iso3"] == "KEN")
    assert ken["annex"] == "I" and ken["workshop"] == "konya" and ken["names"]["fr"] == "Kenya"
    assert sum(c["pilot"] for c in data) == 14
    assert {c["iso3"] for c in data if c["annex"] == "II"} >= {"CHN", "THA", "BTN", "IDN"}
    assert {c["iso3"] for c in data if c["annex"] == "III"} >= {"ARG", "CHL", "MEX"}


def test_role_grant_and_invite(cli_env, capsys):
    assert main(["role", "grant", "4711", "expert"]) == 0
    db = open_db(cli_env / "cli.db")
    assert users.get_user(db, 4711)["role"] == "expert"
    assert main(["role", "grant", "4712", "focal_point"]) == 2
    assert main(["invite", "--country", "ken"]) == 0
    link = capsys.readouterr().out.strip().splitlines()[-1]
    assert link.startswith("https://t.me/ldn_tsp_bot?start=i")
    assert db.execute("SELECT country FROM invites").fetchone()[0] == "KEN"
    assert main(["invite", "--country", "XXX"]) == 2


def test_console_drives_the_same_handlers(config):
    from bot.console import run_console

    stdin = io.StringIO("/start\nwhat is the LDN fund\n/language\n2\n/quit\n")
    out = io.StringIO()
    assert asyncio.run(run_console(config, user_id=1234, lang="en", stream_in=stdin, out=out)) == 0
    text = out.getvalue()
    assert "offline console" in text and "Hello" in text
    assert "[1] English" in text and "[pressed: Français]" in text and "Langue : français" in text
    assert "Source:" in text


def test_run_without_a_token_explains_and_opens_the_console(cli_env, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("/start\n/quit\n"))
    assert main(["run"]) == 0
    out = capsys.readouterr().out
    assert "No TELEGRAM_BOT_TOKEN" in out and "@BotFather" in out
    assert "offline console" in out and "Hello" in out
