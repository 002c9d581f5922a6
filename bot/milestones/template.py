"""The checklist template of a running bot: loaded once, configured due dates applied,
recorded in the database."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from knowledge.checklist import Template, load_checklist, parse_date
from knowledge.isotime import parse_instant
from knowledge.yamlfile import DataError, Problem
from storage import milestones as store

REPORT_STEP = "national_report_2018"  # follows the configured 2018 reporting deadline


def load_template(config) -> Template:
    """The checklist of ``config.knowledge_dir``, with configured default due dates applied.

    ``milestones: {default_due: {national_report_2018: 2018-07-31}}`` in config.yaml replaces a
    step's default due date. Without it, the 2018 national report follows the configured 2018
    reporting deadline (``reminders: {reporting_deadline: ...}``) when one is set.
    """
    template = load_checklist(Path(config.knowledge_dir) / "checklist.yaml")
    overrides = (config.section("milestones") or {}).get("default_due") or {}
    problems, parsed = [], {}
    where = str(config.path or "config.yaml")
    if not isinstance(overrides, dict):
        raise DataError([Problem(where, 1, "milestones.default_due must map step ids to dates")])
    deadline = _instant_date((config.section("reminders") or {}).get("reporting_deadline"))
    if deadline is not None and REPORT_STEP in template:
        parsed[REPORT_STEP] = deadline
    for step_id, value in overrides.items():
        due = parse_date(value)
        if step_id not in template:
            problems.append(Problem(where, 1, f"milestones.default_due: unknown step {step_id!r}"))
        elif due is None:
            problems.append(Problem(where, 1, f"milestones.default_due.{step_id}: {value!r} is not a date (YYYY-MM-DD)"))
        else:
            parsed[step_id] = due
    if problems:
        raise DataError(problems)
    return template.with_due(parsed) if parsed else template


def _instant_date(value: Any) -> dt.date | None:
    """The (UTC) date of a configured instant such as ``2018-03-31T23:59:00Z``; None if absent or unreadable."""
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return (value.astimezone(dt.timezone.utc) if value.tzinfo else value).date()
    if isinstance(value, dt.date):
        return value
    try:
        instant = parse_instant(str(value))
    except ValueError:
        return None
    return instant.date() if instant else None


def get_template(services) -> Template:
    """The running bot's template (loaded once, kept in ``services.checklist``)."""
    if services.checklist is None:
        services.checklist = load_template(services.config)
    return services.checklist


def sync_template(db, template: Template, now: dt.datetime) -> dict:
    """Record the template's steps in the database (new steps added, removed ones kept inactive)."""
    return store.sync_steps(db, template, now)


def step_title(template: Template, step_id: str, lang: str = "en") -> str:
    step = template.get(step_id)
    return step.title_in(lang) if step else step_id
