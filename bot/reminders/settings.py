"""The ``reminders`` section of config.yaml, read once and checked at start."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from knowledge.durations import DurationError, parse_duration
from knowledge.events import canonical_offsets
from knowledge.isotime import parse_instant
from knowledge.yamlfile import DataError, Problem

UTC = dt.timezone.utc

DEFAULTS: dict[str, Any] = {
    "offsets": ["14d", "3d", "1d", "2h"],   # before each event, unless the event says otherwise
    "grace": "6h",                          # missed reminders younger than this are still sent
    "reporting_deadline": None,             # e.g. 2018-03-31T23:59:00Z: overrides the reporting-2018 event
    "tick_seconds": 60,                     # how often the schedule is checked
    "milestone_offsets": ["7d", "1d"],      # before a checklist step's due date
    "overdue_every": "7d",                  # nudge while a step is overdue
    "overdue_max": 4,                       # ... at most this many times per step
    "milestone_hour": 9,                    # local hour (country's zone) of milestone reminders
    "concurrency": 8,                       # parallel sends (Telegram's limits are applied by the rate limiter)
}
#: (key, type, lowest, highest) of the numeric settings.
_NUMBERS: tuple[tuple[str, type, float, float], ...] = (
    ("tick_seconds", float, 1, 86400), ("milestone_hour", int, 0, 23), ("concurrency", int, 1, 1000),
    ("overdue_max", int, 0, 1000))


@dataclass(frozen=True)
class Settings:
    offsets: tuple[str, ...] = ("14d", "3d", "1d", "2h")
    grace: dt.timedelta = dt.timedelta(hours=6)
    reporting_deadline: dt.datetime | None = None
    tick_seconds: float = 60.0
    milestone_offsets: tuple[str, ...] = ("7d", "1d")
    overdue_every: dt.timedelta = dt.timedelta(days=7)
    overdue_max: int = 4
    milestone_hour: int = 9
    concurrency: int = 8

    @classmethod
    def from_section(cls, section: dict | None, where: str = "config.yaml") -> "Settings":
        """The ``reminders`` section of the config, with defaults; every problem raised as DataError."""
        raw = {**DEFAULTS, **(section or {})}
        problems: list[Problem] = []

        def bad(key: str, message: str) -> None:
            problems.append(Problem(where, 1, f"reminders.{key}: {message}"))

        values: dict[str, Any] = {}
        for key in ("offsets", "milestone_offsets"):
            value = raw[key]
            if isinstance(value, str):
                value = [v for v in value.replace(",", " ").split() if v]
            try:
                if not isinstance(value, list) or not value:
                    raise ValueError("must be a list like [14d, 3d, 1d, 2h]")
                values[key] = canonical_offsets(value)
            except ValueError as exc:
                bad(key, str(exc))
        for key in ("grace", "overdue_every"):
            try:
                values[key] = parse_duration(raw[key])
            except DurationError as exc:
                bad(key, str(exc))
        deadline = raw.get("reporting_deadline")
        if deadline not in (None, ""):
            try:
                values["reporting_deadline"] = deadline.astimezone(UTC) if isinstance(deadline, dt.datetime) and deadline.tzinfo \
                    else parse_instant(str(deadline))
            except ValueError:
                bad("reporting_deadline", f"{deadline!r} is not an instant like 2018-03-31T23:59:00Z")
        for key, kind, low, high in _NUMBERS:
            try:
                values[key] = kind(raw[key])
                if not low <= values[key] <= high:
                    raise ValueError
            except (TypeError, ValueError):
                bad(key, f"{raw[key]!r} is out of range ({low:g}..{high:g})")
        if problems:
            raise DataError(problems)
        return cls(**values)
