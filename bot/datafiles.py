"""Validate every data file the bot serves (``ldn-bot check`` and the start of ``ldn-bot run``).

Each validator loads one kind of file and raises ``DataError`` with every problem as
``file:line: what is wrong``; this module collects them all.
"""
from __future__ import annotations

import importlib
from pathlib import Path

from bot.config import Config
from knowledge.yamlfile import DataError, Problem

# (label, "module:function", relative path). Missing modules are skipped while a feature is being built.
VALIDATORS = [
    ("strings", "bot.i18n:load_strings", "strings"),
    ("countries", "knowledge.countries:load_countries", "countries.yaml"),
    ("FAQ entries", "knowledge.faq:load_faq_dir", "faq"),
    ("checklist steps", "knowledge.checklist:load_checklist", "checklist.yaml"),
    ("events", "knowledge.events:load_events", "events.yaml"),
    ("FAQ answers checked against the calendar", "knowledge.placeholders:check_faq_dir", "faq"),
]


def validate_all(config: Config) -> tuple[list[Problem], dict[str, int]]:
    problems: list[Problem] = []
    counts: dict[str, int] = {}
    base = Path(config.knowledge_dir)
    for label, target, rel in VALIDATORS:
        module_name, func_name = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            if exc.name == module_name:
                continue
            raise
        func = getattr(module, func_name, None)
        if func is None:
            continue
        try:
            loaded = func(base / rel)
        except DataError as exc:
            problems.extend(exc.problems)
            continue
        counts[label] = len(loaded)
    problems.extend(_settings_problems(config))
    return problems, counts


def _settings_problems(config: Config) -> list[Problem]:
    """Feature settings that are only read later (reminders, operations) are checked here too."""
    found: list[Problem] = []
    where = str(config.path or "config.yaml")
    checks = [("bot.reminders", lambda m: m.Settings.from_section(config.section("reminders"), where)),
              ("bot.backup", lambda m: m.ops_settings(config)),
              ("bot.helpdesk", lambda m: m.settings_from(config.section("helpdesk")))]
    for module_name, check in checks:
        try:
            module = importlib.import_module(module_name)
            check(module)
        except ImportError:
            continue
        except DataError as exc:
            found.extend(exc.problems)
        except Exception as exc:  # noqa: BLE001 - each feature raises its own settings error
            found.append(Problem(where, 1, str(exc)))
    return found
