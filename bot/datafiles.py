"""Validate every data file the bot serves (``ldn-bot check`` and the start of ``ldn-bot run``).

Each validator loads one kind of file and raises ``DataError`` with every problem as
``file:line: what is wrong``; this module collects them all.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot import backup, datacache, helpdesk, intake, reminders
from bot.config import Config
from bot.i18n import load_strings
from knowledge.checklist import load_checklist
from knowledge.countries import load_countries
from knowledge.events import load_events
from knowledge.faq import load_faq_dir
from knowledge.placeholders import check_faq_dir
from knowledge.yamlfile import DataError, Problem

# (label, loader, path relative to the knowledge directory)
VALIDATORS: list[tuple[str, Callable[[Path], Any], str]] = [
    ("strings", load_strings, "strings"),
    ("countries", load_countries, "countries.yaml"),
    ("FAQ entries", load_faq_dir, "faq"),
    ("checklist steps", load_checklist, "checklist.yaml"),
    ("events", load_events, "events.yaml"),
    ("FAQ answers checked against the calendar", check_faq_dir, "faq"),
]


def validate_all(config: Config) -> tuple[list[Problem], dict[str, int]]:
    """Every problem of the data files and feature settings, and the count of each kind of item.
    Start-up: unchanged files that were clean are not validated again (:mod:`bot.datacache`)."""
    key = datacache.fingerprint(config.knowledge_dir)
    counts = datacache.checked_counts(config.db_path, key)
    problems: list[Problem] = []
    if counts is None:
        problems, counts = _validate_files(Path(config.knowledge_dir))
        if not problems:
            datacache.remember(config.db_path, key, counts)
    problems.extend(_settings_problems(config))
    return problems, counts


def _validate_files(base: Path) -> tuple[list[Problem], dict[str, int]]:
    problems: list[Problem] = []
    counts: dict[str, int] = {}
    for label, load, rel in VALIDATORS:
        try:
            loaded = load(base / rel)
        except DataError as exc:
            problems.extend(exc.problems)
            continue
        counts[label] = len(loaded)
    return problems, counts


def _settings_problems(config: Config) -> list[Problem]:
    """Feature settings that are only read later (reminders, operations) are checked here too."""
    found: list[Problem] = []
    where = str(config.path or "config.yaml")
    checks: list[Callable[[], Any]] = [
        lambda: reminders.Settings.from_section(config.section("reminders"), where),
        lambda: backup.ops_settings(config),
        lambda: helpdesk.settings_from(config.section("helpdesk")),
        lambda: intake.settings_from(config.section("helpdesk")),
    ]
    for check in checks:
        try:
            check()
        except DataError as exc:
            found.extend(exc.problems)
        except Exception as exc:  # noqa: BLE001 - each feature raises its own settings error
            found.append(Problem(where, 1, str(exc)))
    return found
