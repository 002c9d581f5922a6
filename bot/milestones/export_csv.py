"""Every country's checklist as one CSV spreadsheet (``/export milestones``, ``ldn-bot
milestones export``); :mod:`bot.milestones.import_csv` reads it back unchanged."""
from __future__ import annotations

import csv
import datetime as dt
import io

from bot.csvcell import guard_cell
from bot.milestones.states import all_states
from knowledge.checklist import Template
from storage import milestones as store

CSV_COLUMNS = ["iso3", "country", "step", "status", "date", "note", "evidence", "due", "changed_by", "changed_at"]


def evidence_cell(kind: str | None, value: str | None) -> str:
    """Evidence as one cell: the link itself, or ``document:FILE_ID`` / ``photo:FILE_ID``."""
    if not kind or not value:
        return ""
    return value if kind == "link" else f"{kind}:{value}"


def export_milestones_csv(db, template: Template, registry, now: dt.datetime | None = None) -> str:
    """Every country and step as CSV (columns :data:`CSV_COLUMNS`), the effective due date included.

    Notes that start like a spreadsheet formula (``=``, ``+``, ``-``, ``@``) are written with a
    leading ``'`` (so a spreadsheet shows them as text); the import removes it again.
    """
    states = all_states(db, template, registry, now or dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc))
    names = store.user_names(db, [s.changed_by for steps in states.values() for s in steps])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for iso3, steps in states.items():
        country = registry.get(iso3).name("en")
        for s in steps:
            if s.changed_by is not None:
                who = f"{names[s.changed_by]} ({s.changed_by})" if s.changed_by in names else str(s.changed_by)
            else:
                who = s.changed_via or ""
            writer.writerow([iso3, country, s.step.id, s.status, s.status_date.isoformat() if s.status_date else "",
                             guard_cell(s.note), evidence_cell(s.evidence_kind, s.evidence), s.due.isoformat() if s.due else "",
                             who, s.changed_at or ""])
    return out.getvalue()
