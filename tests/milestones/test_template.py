"""The checklist template: the real file is valid, and every kind of mistake is reported with its line."""
from __future__ import annotations

import datetime as dt

import pytest

from bot.config import config_from_text
from bot.datafiles import validate_all
from knowledge.checklist import LANGS, PHASES, load_checklist
from knowledge.yamlfile import DataError

TITLES = "\n".join(f"      {lang}: \"Title {lang}\"" for lang in LANGS)
HELPS = "\n".join(f"      {lang}: \"Help {lang}\"" for lang in LANGS)


def step_yaml(sid="baseline", order=1, phase="implementation", due="2017-02-28", extra=""):
    return (f"  - id: {sid}\n    order: {order}\n    phase: {phase}\n    due: {due}\n{extra}"
            f"    title:\n{TITLES}\n    help:\n{HELPS}\n")


def write(tmp_path, body):
    path = tmp_path / "checklist.yaml"
    path.write_text("steps:\n" + body, encoding="utf-8")
    return path


def test_the_real_template_follows_the_programme(template):
    assert len(template) == 10
    assert template.ids[0] == "working_group" and template.ids[-1] == "national_report_2018"
    assert [s.order for s in template] == sorted(s.order for s in template)
    for step in template:
        assert step.phase in PHASES
        start, end = PHASES[step.phase]
        assert start <= step.due <= end
        assert all(step.title[lang] and step.help[lang] for lang in LANGS)
    assert {s.phase for s in template} == {"implementation", "consolidation", "reporting"}
    assert template.get("baseline").due == dt.date(2017, 2, 28)
    assert "土地退化零增长" in template.get("baseline").title_in("zh")


def test_callback_data_for_every_step_fits_telegram(template):
    from handlers.common import cb

    for step in template:
        for status in ("not_started", "in_progress", "done", "not_applicable"):
            assert len(cb("ms", "set", "KEN", step.id, status).encode()) <= 64


def test_check_counts_the_checklist(config):
    problems, counts = validate_all(config)
    assert not [p for p in problems if "checklist" in p.file]
    assert counts["checklist steps"] == 10


def test_mistakes_are_reported_with_their_lines(tmp_path):
    body = (step_yaml("working_group", 1)
            + step_yaml("working_group", 2)                 # duplicate id
            + step_yaml("Bad-Id", 3)                          # bad id
            + step_yaml("targets", 1)                         # order reused
            + step_yaml("measures", 5, phase="later")         # unknown phase
            + step_yaml("report", 6, due="2019-05-01", phase="reporting")  # outside its phase
            + step_yaml("leverage", 7, due="soon")            # not a date
            + step_yaml("typo", 8, extra="    tittle: x\n"))  # unknown key
    path = write(tmp_path, body)
    with pytest.raises(DataError) as err:
        load_checklist(path)
    messages = [(p.line, p.message) for p in err.value.problems]
    assert all(str(path) in str(p) for p in err.value.problems)
    assert any("duplicate step id 'working_group'" in m for _, m in messages)
    assert any("Bad-Id" in m for _, m in messages)
    assert any("order 1 is already used" in m for _, m in messages)
    assert any("phase must be one of" in m for _, m in messages)
    assert any("outside the reporting phase" in m for _, m in messages)
    assert any("due must be a date" in m for _, m in messages)
    assert any("unknown key 'tittle'" in m for _, m in messages)
    lines = path.read_text().splitlines()
    for line, message in messages:
        assert line >= 1
        if "duplicate step id" in message:
            assert lines[line - 1].strip() == "- id: working_group" and line > 2
        if "unknown phase" in message or "phase must be one of" in message:
            assert "phase: later" in lines[line - 1]


def test_a_missing_language_is_reported(tmp_path):
    body = step_yaml().replace('      ar: "Title ar"\n', "")
    with pytest.raises(DataError) as err:
        load_checklist(write(tmp_path, body))
    assert "title missing language(s) ar" in str(err.value)


def test_a_file_without_steps_is_an_error(tmp_path):
    path = tmp_path / "checklist.yaml"
    path.write_text("stops: []\n", encoding="utf-8")
    with pytest.raises(DataError) as err:
        load_checklist(path)
    assert "steps" in str(err.value)


def test_configured_default_due_replaces_the_templates(tmp_path):
    from bot.milestones import load_template

    cfg = config_from_text("milestones:\n  default_due:\n    national_report_2018: 2018-07-31\n")
    template = load_template(cfg)
    assert template.get("national_report_2018").due == dt.date(2018, 7, 31)
    bad = config_from_text("milestones:\n  default_due:\n    nonsense: 2018-07-31\n")
    with pytest.raises(DataError):
        load_template(bad)


def test_the_2018_report_follows_the_configured_reporting_deadline():
    from bot.milestones import load_template

    cfg = config_from_text("reminders:\n  reporting_deadline: 2018-04-30T12:00:00Z\n")
    assert load_template(cfg).get("national_report_2018").due == dt.date(2018, 4, 30)
    both = config_from_text("reminders:\n  reporting_deadline: 2018-04-30T12:00:00Z\n"
                            "milestones:\n  default_due:\n    national_report_2018: 2018-06-30\n")
    assert load_template(both).get("national_report_2018").due == dt.date(2018, 6, 30)  # the explicit setting wins
    assert load_template(config_from_text("")).get("national_report_2018").due == dt.date(2018, 3, 31)
