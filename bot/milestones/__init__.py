"""The milestone checklists as plain rules: each country's progress through the Target Setting
Programme's steps, who may change what, what is overdue, progress by region, CSV in and out.

No Telegram objects here; ``now`` is always passed in. Functions take the sqlite-utils
database first so that handlers can run them with ``services.store.run(fn, ...)`` (one
transaction per call). The package, by job:

* :mod:`~bot.milestones.template` - the checklist template of a running bot (:func:`get_template`);
* :mod:`~bot.milestones.states` - where each country stands, what is overdue or pending
  (:func:`pending_steps` for reminders and weekly nudges);
* :mod:`~bot.milestones.changes` - a step's status, note, evidence, due date (state and history together);
* :mod:`~bot.milestones.progress` - shares by country, region and pilot group;
* :mod:`~bot.milestones.overview` - /overdue and /progress counted: the worst cases first;
* :mod:`~bot.milestones.export_csv` / :mod:`~bot.milestones.import_csv` - the spreadsheet interface.

Other features import the names below from ``bot.milestones``.
"""
from __future__ import annotations

from bot.milestones.changes import CLEAR, LINK_LIMIT, NOTE_LIMIT, Outcome, parse_link, set_due, set_evidence, set_note, set_status
from bot.milestones.export_csv import CSV_COLUMNS, export_milestones_csv
from bot.milestones.import_csv import ImportResult, import_milestones_csv, parse_status
from bot.milestones.overview import LateCountry, OverdueReport, ProgressReport, RegionCounts, overdue_report, progress_report
from bot.milestones.progress import ANNEX_NAMES, CountryProgress, GroupProgress, Progress, progress
from bot.milestones.states import (CLOSED, ICONS, OVERDUE_ICON, STATUSES, PendingStep, StepState, all_states, country_steps,
                                   local_today, overdue_by_country, pending_steps, step_state)
from bot.milestones.template import get_template, load_template, step_title, sync_template

__all__ = [
    "ANNEX_NAMES", "CLEAR", "CLOSED", "CSV_COLUMNS", "ICONS", "LINK_LIMIT", "NOTE_LIMIT", "OVERDUE_ICON", "STATUSES",
    "CountryProgress", "GroupProgress", "ImportResult", "Outcome", "PendingStep", "Progress", "StepState",
    "all_states", "country_steps", "export_milestones_csv", "get_template", "import_milestones_csv", "load_template",
    "local_today", "overdue_by_country", "parse_link", "parse_status", "pending_steps", "progress", "set_due",
    "set_evidence", "set_note", "set_status", "step_state", "step_title", "sync_template",
    "LateCountry", "OverdueReport", "ProgressReport", "RegionCounts", "overdue_report", "progress_report",
]
