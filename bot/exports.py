"""``ldn-bot export``: CSV for the secretariat's archive.

``export all DIR`` writes one CSV per record the secretariat would keep, plus
``manifest.json`` (when, which version, how many rows each):

================================  ===========================================================
``queries.csv``                   helpdesk queries (the helpdesk's own export)
``query_events.csv``              the helpdesk audit trail
``milestones.csv``                every country and step (the milestones' own export)
``milestone_history.csv``         every change of a checklist
``events.csv``                    the programme's calendar
``focal_points.csv``              focal points: name, @username, country, language — no secrets
``faq_misses.csv``                questions the FAQ could not answer
``faq_feedback.csv``              helpful / not helpful votes
``countries.csv``                 the participating countries with their region
================================  ===========================================================

A feature that is not installed (or whose tables are absent) is skipped and reported.
Invite tokens (only their hashes are stored) and message payloads are never exported.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from bot import __version__
from bot.csvcell import guard_cell
from bot.helpdesk.reports import export_queries_csv
from bot.milestones.export_csv import export_milestones_csv
from bot.milestones.template import load_template
from storage import ops
from storage.db import schema_version, utcnow_iso


def rows_csv(columns: list[str], rows: list[Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        values = [row[c] for c in columns] if isinstance(row, dict) else list(row)
        writer.writerow([guard_cell(v) for v in values])
    return out.getvalue()


# -- single exports (shared with `export queries` / `export milestones`) -----------------------------

def queries_csv(db, since: dt.datetime | None = None) -> str:
    return export_queries_csv(db, since)


def milestones_csv(db, config, registry) -> str:
    return export_milestones_csv(db, load_template(config), registry)


def focal_points_csv(db, registry) -> str:
    rows = ops.focal_point_rows(db)
    columns = ["user_id", "name", "username", "country", "country_name", "region", "lang", "timezone", "active",
               "first_seen_at", "registered_at"]
    out = []
    for uid, name, username, country, lang, tz, active, created, registered in rows:
        c = registry.get(country)
        out.append([uid, name or "", username or "", country or "", c.name("en") if c else "",
                    ops.ANNEX_REGIONS.get(c.annex, "") if c else "", lang or "", tz or (c.timezone if c else ""),
                    active, created, registered or ""])
    return rows_csv(columns, out)


def events_csv(db, config) -> str:
    """The calendar as the bot holds it (events.yaml synced, plus edits made in chat)."""
    event_rows = ops.calendar_event_rows(db)
    columns = ["id", "kind", "status", "start_local", "end_local", "timezone", "start_utc", "end_utc", "title_en",
               "place_en", "audience", "source", "version", "updated_at"]
    out = []
    for row in event_rows:
        cells = list(row)
        for i in (8, 9):  # title, place: JSON {lang: text} -> English (full JSON kept in the database)
            try:
                cells[i] = (json.loads(cells[i] or "{}") or {}).get("en", "")
            except ValueError:
                pass
        out.append(cells)
    return rows_csv(columns, out)


def countries_csv(registry) -> str:
    columns = ["iso3", "name", "annex", "region", "list_group", "pilot", "workshop", "timezone"]
    return rows_csv(columns, [[c.iso3, c.name("en"), c.annex, ops.ANNEX_REGIONS.get(c.annex, ""), c.list_group,
                               int(c.pilot), c.workshop, c.timezone] for c in registry])


# -- export all --------------------------------------------------------------------------------------

@dataclass
class ExportResult:
    directory: Path
    files: dict[str, int] = field(default_factory=dict)     # file name -> data rows
    skipped: dict[str, str] = field(default_factory=dict)   # file name -> why


def _count_rows(text: str) -> int:
    return max(0, sum(1 for _ in csv.reader(io.StringIO(text))) - 1)


def export_all(db, config, registry, directory: str | Path, now: dt.datetime) -> ExportResult:
    """Write every archive CSV into ``directory`` (created if needed) and a manifest."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    result = ExportResult(folder)
    jobs: list[tuple[str, Callable[[], str]]] = [
        ("queries.csv", lambda: queries_csv(db)),
        ("query_events.csv", lambda: _table_csv(db, "query_events")),
        ("milestones.csv", lambda: milestones_csv(db, config, registry)),
        ("milestone_history.csv", lambda: _table_csv(db, "milestone_history")),
        ("events.csv", lambda: events_csv(db, config)),
        ("focal_points.csv", lambda: focal_points_csv(db, registry)),
        ("faq_misses.csv", lambda: _table_csv(db, "faq_misses")),
        ("faq_feedback.csv", lambda: _table_csv(db, "faq_feedback")),
        ("countries.csv", lambda: countries_csv(registry)),
    ]
    for name, make in jobs:
        text = make()
        (folder / name).write_text(text, encoding="utf-8")
        result.files[name] = _count_rows(text)
    manifest = {"generated_at": utcnow_iso(now), "ldn_bot": __version__, "schema_version": schema_version(db),
                "files": result.files, "skipped": result.skipped}
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return result


def _table_csv(db, table: str) -> str:
    return rows_csv(*ops.archive_rows(db, table))
