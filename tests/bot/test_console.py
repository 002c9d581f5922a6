"""The offline console as a newcomer meets it: on the programme's calendar, people with names,
messages to others printed with their recipient, files saved, and scripted conversations."""
from __future__ import annotations

import io
from pathlib import Path

from bot.cli import main
from bot.console import run_console
from bot.config import config_from_text
from tests.util import CONFIG_TEXT

TOUR = """
# a focal point asks, an expert answers in the experts' chat, the focal point follows up
user kenya 2001 en focal_point KEN
user expert 800 en expert
user sec 900 en secretariat
kenya: /ask How do we reconcile the default SOC data with our national soil map?
expert@experts^: Use the national map where it is better documented, and report both.
kenya^: Thank you. And for the land cover map?
sec: /export milestones
sec: /query 1
clock +3d
kenya: /myqueries
"""


def console_config(tmp_path, template_db, text: str = CONFIG_TEXT):
    import shutil

    shutil.copyfile(template_db, tmp_path / "ldn.db")
    return config_from_text(text).with_overrides(storage={"path": str(tmp_path / "ldn.db")})


async def play(config, script: str, tmp_path, **kwargs) -> str:
    path = tmp_path / "tour.txt"
    path.write_text(script, encoding="utf-8")
    out = io.StringIO()
    assert await run_console(config, 1001, "en", out=out, script=path, files_dir=tmp_path / "files", **kwargs) == 0
    return out.getvalue()


async def test_the_console_starts_inside_the_programme_and_says_so(tmp_path, template_db):
    out = io.StringIO()
    config = console_config(tmp_path, template_db)
    await run_console(config, 1001, "fr", stream_in=io.StringIO("/checklist\n"), out=out)
    text = out.getvalue()
    assert "20 mai 2016" in text
    assert "3684" not in text and "overdue" not in text.lower()


async def test_console_now_from_config_moves_the_clock(tmp_path, template_db):
    config = console_config(tmp_path, template_db, CONFIG_TEXT + "console:\n  now: 2017-06-01T09:00:00Z\n")
    out = io.StringIO()
    await run_console(config, 1001, "en", stream_in=io.StringIO(""), out=out)
    assert "1 June 2017" in out.getvalue()


async def test_a_scripted_tour_shows_people_by_name_and_messages_with_their_recipient(tmp_path, template_db):
    text = await play(console_config(tmp_path, template_db), TOUR, tmp_path)
    assert "» Kenya: /ask How do we reconcile" in text
    assert "Query #1 logged" in text
    assert "→ to the experts' chat:" in text and "→ to Kenya:" in text
    assert "Added to query #1" in text
    # the expert's answer and the follow-up are copied: the console prints what was copied, to whom
    answer = text[text.index("» Expert (experts): Use the national map"):]
    assert answer.split("\n\n")[1].startswith("→ to Kenya:\nUse the national map where it is better documented")
    followup = text[text.index("» Kenya: Thank you. And for the land cover map?"):]
    assert "→ to the experts' chat:\nThank you. And for the land cover map?" in followup
    assert "copied here" not in text
    assert "Amina" not in text  # nobody is called by the console's old default name
    history = text[text.index("» Sec: /query 1"):]
    assert "Expert" in history and "9001" not in history and "(800)" not in history
    saved = list((tmp_path / "files").iterdir())
    assert saved and "file saved: files/" + saved[0].name in text
    assert "application.octet-stream" not in text


async def test_a_bad_script_line_names_its_line(tmp_path, template_db):
    import pytest

    with pytest.raises(SystemExit) as info:
        await play(console_config(tmp_path, template_db), "user kenya 2001 en\nnobody: hello\n", tmp_path)
    assert "script line 2" in str(info.value)


def test_check_warns_when_the_whole_calendar_is_past(monkeypatch, capsys):
    monkeypatch.delenv("LDN_NOW", raising=False)
    assert main(["check"]) == 0
    assert "every event of the calendar is in the past" in capsys.readouterr().err
    monkeypatch.setenv("LDN_NOW", "2016-05-20T08:00:00Z")
    assert main(["check"]) == 0
    assert "in the past" not in capsys.readouterr().err


__all__ = ["Path"]
