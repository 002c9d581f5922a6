"""One source for each fact: ``ldn-bot check`` fails with file:line when an FAQ answer states a date
the calendar contradicts, uses an unknown placeholder or refers to an unknown event."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.cli import main
from knowledge.events import load_events
from knowledge.placeholders import date_problems, stated_dates

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def knowledge(tmp_path, monkeypatch):
    monkeypatch.setenv("LDN_DB", str(tmp_path / "cli.db"))
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.chdir(ROOT)
    copy = tmp_path / "knowledge"
    shutil.copytree(ROOT / "knowledge", copy, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    (tmp_path / "config.yaml").write_text(f"knowledge:\n  dir: {copy}\n")
    return copy


def _line_of(path: Path, needle: str) -> int:
    text = path.read_text()
    return text[: text.index(needle)].count("\n") + 1


def test_the_shipped_faq_passes(knowledge, capsys):
    assert main(["check", "--config", str(knowledge.parent / "config.yaml")]) == 0
    assert "FAQ answers checked against the calendar 108" in capsys.readouterr().out


def test_a_restated_date_that_contradicts_the_calendar_fails_with_file_and_line(knowledge, capsys):
    faq = knowledge / "faq" / "b_process.yaml"
    text = faq.read_text()
    wrong = "was held in Konya, Turkey, on 27–29 May 2016."
    faq.write_text(text.replace("was held in Konya, Turkey, on {event:ws-konya}.", wrong, 1))
    zh_wrong = "的区域启动讲习班于2016年5月27日至29日在土耳其科尼亚举行"
    faq.write_text(faq.read_text().replace("的区域启动讲习班于{event:ws-konya}在土耳其科尼亚举行", zh_wrong, 1))
    assert main(["check", "--config", str(knowledge.parent / "config.yaml")]) == 1
    err = capsys.readouterr().err
    assert f"{faq}:{_line_of(faq, wrong)}: workshop-konya (en): the answer states '27–29 May 2016'" in err
    assert "ws-konya 2016-05-28..2016-05-30" in err and "write {event:ws-konya} instead" in err
    assert f"{faq}:{_line_of(faq, zh_wrong)}: workshop-konya (zh): the answer states '2016年5月27日至29日'" in err


def test_a_wrong_reporting_deadline_fails_too(knowledge, capsys):
    faq = knowledge / "faq" / "d_targets.yaml"
    text = faq.read_text()
    wrong = "La date limite de soumission était le 30 avril 2018,"
    faq.write_text(text.replace("La date limite de soumission était le {event:reporting-2018},", wrong, 1))
    assert main(["check", "--config", str(knowledge.parent / "config.yaml")]) == 1
    err = capsys.readouterr().err
    assert f"{faq}:{_line_of(faq, wrong)}: reporting-2018-when (fr): the answer states '30 avril 2018'" in err


def test_unknown_placeholders_and_events_fail_with_file_and_line(knowledge, capsys):
    faq = knowledge / "faq" / "f_personal.yaml"
    text = faq.read_text()
    faq.write_text(text.replace("Your next step: {next_step}.", "Your next step: {nxt_step}, see {event:ws-mars}.", 1))
    assert main(["check", "--config", str(knowledge.parent / "config.yaml")]) == 1
    err = capsys.readouterr().err
    line = _line_of(faq, "Your next step: {nxt_step}")
    assert f"{faq}:{line}: our-next-step (en): unknown placeholder {{nxt_step}}" in err
    assert f"{faq}:{line}: our-next-step (en): {{event:ws-mars}} refers to an unknown event" in err


@pytest.mark.parametrize("text,start,end", [
    ("Konya, 28–30 May 2016", "2016-05-28", "2016-05-30"),
    ("s'est tenu à Bangkok du 12 au 13 juillet 2016", "2016-07-12", "2016-07-13"),
    ("se celebró los días 12 y 13 de julio de 2016", "2016-07-12", "2016-07-13"),
    ("прошёл 6–7 июня 2016 г.", "2016-06-06", "2016-06-07"),
    ("في 28-30 أيار/مايو 2016", "2016-05-28", "2016-05-30"),
    ("于2016年7月20日至21日举行", "2016-07-20", "2016-07-21"),
    ("due 2018-03-31", "2018-03-31", "2018-03-31"),
])
def test_dates_are_read_in_every_language(text, start, end):
    (found,) = stated_dates(text)
    assert (found.start.isoformat(), found.end.isoformat()) == (start, end)


def test_a_line_about_no_event_is_not_checked():
    events = load_events()
    assert date_problems("CRIC 17 met in Georgetown, 28–30 January 2019.", events) == []
    assert date_problems("CRIC 15 met in Nairobi on 18–20 October 2016.", events) == []
    assert date_problems("CRIC 15 met in Nairobi on 19–21 October 2016.", events)[0][0] == 0
