"""Bulk update from a spreadsheet (``ldn-bot milestones import FILE.csv``): all rows valid and
applied in one transaction, or nothing.

Three steps, each refusing what it cannot read with ``line N: what is wrong`` (N counted in
the file, the header is line 1):

1. the file: binary content and a byte-order mark in the middle are refused before anything
   is read (:func:`file_problem`);
2. the header: column names mapped to the fields (aliases allowed, each field once), the
   delimiter the header uses (:func:`map_header`);
3. each row: cells parsed and checked (country, step, status, dates within
   :data:`knowledge.isotime.MIN_DATE`..:data:`~knowledge.isotime.MAX_DATE`, note, evidence,
   due date), a quote left open or a row in another delimiter refused (:func:`parse_row`);

then the changes against the current rows are applied together (:func:`apply_plan`).
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from typing import Any

from bot.csvcell import unguard_cell
from bot.milestones.changes import CLEAR, NOTE_LIMIT, parse_link
from bot.milestones.states import STATUSES, local_today
from knowledge.checklist import Step, Template, parse_date
from knowledge.isotime import DateRangeError, check_range
from storage import milestones as store
from storage.db import transaction

DELIMITERS = (",", ";", "\t")
VALUE_COLUMNS = ("status", "date", "note", "evidence", "due")
_FILE_EVIDENCE = re.compile(r"^(document|photo):([A-Za-z0-9_\-]{8,200})$")
_DATE_START = re.compile(r"^\d{4}-\d{2}-\d{2}")
_STEP_NUMBER = re.compile(r"^[0-9]{1,6}$")
# C0 controls other than tab, line feed and carriage return; DEL. No spreadsheet writes them in a CSV.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_STATUS_WORDS = {
    "not started": "not_started", "to do": "not_started", "todo": "not_started", "no": "not_started",
    "⬜": "not_started",
    "in progress": "in_progress", "ongoing": "in_progress", "started": "in_progress", "🔄": "in_progress",
    "done": "done", "complete": "done", "completed": "done", "yes": "done", "✅": "done",
    "not applicable": "not_applicable", "n/a": "not_applicable", "na": "not_applicable", "➖": "not_applicable",
}
_HEADER_ALIASES = {"iso": "iso3", "iso_3": "iso3", "country_code": "iso3", "code": "iso3", "step_id": "step",
                   "milestone": "step", "status_date": "date", "due_date": "due", "link": "evidence"}
_LEAVE = object()  # a due cell that leaves the due date as it is


@dataclass
class ImportResult:
    rows: int = 0
    changed: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_json(self) -> dict:
        return {"ok": self.ok, "rows": self.rows, "changed": self.changed, "unchanged": self.unchanged, "errors": self.errors}


def parse_status(text: str) -> str | None:
    """A status as people write it in a spreadsheet (``done``, ``In progress``, ``not_applicable``, ``n/a``), or None."""
    key = " ".join(text.strip().lower().replace("_", " ").replace("-", " ").split())
    return _STATUS_WORDS.get(key)


def _line_of(text: str, position: int) -> int:
    return text.count("\n", 0, position) + 1


# -- 1. the file ----------------------------------------------------------------------------

def file_problem(text: str) -> str | None:
    """``line N: ...`` for content no spreadsheet saves as CSV, else None. (A byte-order mark at
    the very start is allowed: spreadsheets write one; the caller strips it.)"""
    control = _CONTROL.search(text)
    if control:
        return (f"line {_line_of(text, control.start())}: binary content (control character "
                f"U+{ord(control.group()):04X}); save the sheet as CSV (UTF-8)")
    bom = text.find("\ufeff")
    if bom >= 0:
        return f"line {_line_of(text, bom)}: a byte-order mark (U+FEFF) in the middle of the file (two files pasted together?)"
    return None


# -- 2. the header ----------------------------------------------------------------------------

def sniff_delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _column(name: str) -> str:
    key = "_".join(name.strip().lower().split())
    return _HEADER_ALIASES.get(key, key)


def map_header(header: list[str], delimiter: str) -> tuple[list[str], list[str]]:
    """The field each column holds (``iso3``, ``step``, ``status`` ...; other names as they are),
    and the header's problems (``line 1: ...``)."""
    columns = [_column(name) for name in header]
    problems = []
    mixed = sorted({d for name in header for d in DELIMITERS if d != delimiter and d in name})
    if mixed:
        shown = " and ".join(repr(d) for d in [delimiter, *mixed])
        problems.append(f"line 1: the header mixes delimiters ({shown}); use one of them throughout")
    first: dict[str, int] = {}
    for number, (name, column) in enumerate(zip(header, columns, strict=True), start=1):
        if not column:
            continue
        if column in first:
            earlier = first[column]
            problems.append(f"line 1: column {column!r} appears twice (column {earlier} {header[earlier - 1].strip()!r} "
                            f"and column {number} {name.strip()!r}); keep one")
        else:
            first[column] = number
    missing = []
    if "iso3" not in columns and "country" not in columns:
        missing.append("iso3 (or country)")
    if "step" not in columns:
        missing.append("step")
    if missing:
        found = ", ".join(h.strip() for h in header) or "none"
        problems.append(f"line 1: missing column(s) {', '.join(missing)}; found {found}")
    elif not set(VALUE_COLUMNS) & set(columns):
        problems.append("line 1: nothing to import: add at least one of the columns " + ", ".join(VALUE_COLUMNS))
    return columns, problems


# -- 3. each row -----------------------------------------------------------------------------

@dataclass
class Sheet:
    """What every row is read against."""

    template: Template
    registry: Any
    now: dt.datetime
    columns: list[str]
    delimiter: str
    names: dict[str, str] = field(default_factory=dict)


@dataclass
class ParsedRow:
    iso3: str
    step: Step
    status: str | None
    date: dt.date | None
    note: str  # "" leaves the note, CLEAR clears it
    evidence: dict | None  # None leaves the evidence
    due: Any  # _LEAVE, None (the template's date) or an ISO date


def country_index(registry) -> dict[str, str]:
    """Country names in every language (and the parts of "Name (Other name)") to ISO3."""
    index: dict[str, str] = {}
    for c in registry:
        for name in c.names.values():
            name = name.casefold().strip()
            index.setdefault(name, c.iso3)
            if " (" in name and name.endswith(")"):
                outer, inner = name[:-1].split(" (", 1)
                index.setdefault(outer.strip(), c.iso3)
                index.setdefault(inner.strip(), c.iso3)
    return index


def _shape_problem(sheet: Sheet, raw: list[str]) -> str | None:
    """A row of another delimiter than the header's, or with more cells than columns."""
    columns = len(sheet.columns)
    if len(raw) > columns and any(cell.strip() for cell in raw[columns:]):
        return f"{len(raw)} cells but the header has {columns} columns"
    if len(raw) < columns:
        joined = sheet.delimiter.join(raw)
        for other in DELIMITERS:
            if other != sheet.delimiter and len(joined.split(other)) > len(raw):
                return f"cells separated by {other!r} but the header by {sheet.delimiter!r}; use one delimiter throughout"
    return None


def _swallowed(sheet: Sheet, row: dict[str, str], start: int) -> str | None:
    """A cell running over several lines: allowed in a note, unless a line in it reads like a
    row of its own (a quote left open swallowed the rows after it)."""
    for column, value in row.items():
        if "\n" not in value:
            continue
        if column != "note":
            return f"a line break inside the {column} cell (a quote left open?)"
        for offset, line in enumerate(value.split("\n")[1:], start=1):
            code = line.split(sheet.delimiter, 1)[0].strip().strip('"')
            if sheet.delimiter in line and sheet.registry.get(code) is not None:
                return f"the note runs over line {start + offset}, which reads like a row of its own (a quote left open?)"
    return None


def _country(sheet: Sheet, row: dict[str, str]) -> tuple[str | None, str | None]:
    if row.get("iso3"):
        country = sheet.registry.get(row["iso3"])
        return (country.iso3, None) if country else (None, f"unknown country code {row['iso3']!r}")
    if row.get("country"):
        iso3 = sheet.names.get(row["country"].casefold())
        return (iso3, None) if iso3 else (None, f"unknown country {row['country']!r} (use the ISO3 code)")
    return None, "no country (iso3 is empty)"


def _step(sheet: Sheet, text: str) -> tuple[Step | None, str | None]:
    template = sheet.template
    if not text:
        return None, "no step"
    step = template.get(text.lower())
    if step is None and _STEP_NUMBER.match(text):
        number = int(text)
        if not 1 <= number <= len(template):
            return None, f"step number {number} is outside 1..{len(template)}"
        step = template.by_order(number)
    if step is None:
        return None, f"unknown step {text!r} (expected one of {', '.join(template.ids)})"
    return step, None


def _date(name: str, text: str, *, whole: bool) -> tuple[dt.date | None, str | None]:
    """A ``YYYY-MM-DD`` cell (``whole``: nothing after it) within the accepted range."""
    matched = re.match(r"^\d{4}-\d{2}-\d{2}$", text) if whole else _DATE_START.match(text)
    value = parse_date(text[:10]) if matched else None
    if value is None:
        return None, f"{name} {text!r} is not a date (YYYY-MM-DD)"
    try:
        check_range(value)
    except DateRangeError as exc:
        return None, f"{name} {exc}"
    return value, None


def _status_date(sheet: Sheet, text: str, iso3: str | None) -> tuple[dt.date | None, str | None]:
    if not text:
        return None, None
    value, problem = _date("date", text, whole=False)
    if value is not None and iso3 and value > local_today(sheet.registry, iso3, sheet.now):
        return None, f"date {value} is in the future"
    return value, problem


def _evidence(text: str) -> tuple[dict | None, str | None]:
    if not text:
        return None, None
    if text == CLEAR:
        return {"evidence_kind": None, "evidence": None, "evidence_name": None}, None
    link = parse_link(text)
    if link:
        return {"evidence_kind": "link", "evidence": link, "evidence_name": None}, None
    match = _FILE_EVIDENCE.match(text)
    if match:
        return {"evidence_kind": match.group(1), "evidence": match.group(2)}, None
    return None, f"evidence {text[:60]!r} must be a link (http:// or https://), document:FILE_ID or -"


def _due(text: str, step: Step | None) -> tuple[Any, str | None]:
    if text.lower() in (CLEAR, "default"):
        return None, None
    if not text:
        return _LEAVE, None
    value, problem = _date("due", text, whole=True)
    if value is None or step is None:
        return _LEAVE, problem
    return (None if value == step.due else value.isoformat()), None


def parse_row(sheet: Sheet, raw: list[str], start: int) -> tuple[ParsedRow | None, list[str]]:
    """One data row (starting on line ``start``): what it asks for (None when its country or
    step is unknown) and its problems (the row is applied only without any)."""
    shape = _shape_problem(sheet, raw)
    if shape:
        return None, [shape]
    row = {col: (raw[i].strip() if i < len(raw) else "") for i, col in enumerate(sheet.columns)}
    swallowed = _swallowed(sheet, row, start)
    if swallowed:
        return None, [swallowed]
    iso3, country_problem = _country(sheet, row)
    step, step_problem = _step(sheet, row.get("step", ""))
    status = parse_status(row["status"]) if row.get("status") else None
    status_problem = (f"unknown status {row['status']!r} (expected {', '.join(STATUSES)})"
                      if row.get("status") and status is None else None)
    date, date_problem = _status_date(sheet, row.get("date") or "", iso3)
    note = row.get("note") or ""
    note = note if note == CLEAR else unguard_cell(note)
    note_problem = f"note is longer than {NOTE_LIMIT} characters" if len(note) > NOTE_LIMIT else None
    evidence, evidence_problem = _evidence(row.get("evidence") or "")
    due, due_problem = _due(row.get("due") or "", step)
    problems = [p for p in (country_problem, step_problem, status_problem, date_problem, note_problem,
                            evidence_problem, due_problem) if p]
    if iso3 is None or step is None:
        return None, problems
    return ParsedRow(iso3, step, status, date, note, evidence, due), problems


# -- applying ----------------------------------------------------------------------------------

def changes(sheet: Sheet, parsed: ParsedRow, existing: dict) -> dict:
    """The fields of the stored row that the parsed row changes (empty: nothing to do)."""
    values: dict[str, Any] = {}
    if parsed.status and parsed.status != existing["status"]:
        values["status"] = parsed.status
        values["status_date"] = (parsed.date or local_today(sheet.registry, parsed.iso3, sheet.now)).isoformat()
    elif parsed.date and parsed.date.isoformat() != existing["status_date"]:
        values["status_date"] = parsed.date.isoformat()
    if parsed.note == CLEAR:
        if existing["note"] is not None:
            values["note"] = None
    elif parsed.note and parsed.note != existing["note"]:
        values["note"] = parsed.note
    evidence = parsed.evidence
    if evidence is not None and (evidence["evidence"], evidence["evidence_kind"]) != (existing["evidence"],
                                                                                      existing["evidence_kind"]):
        values.update({"evidence_name": None, **evidence})
    if parsed.due is not _LEAVE and parsed.due != existing["due"]:
        values["due"] = parsed.due
    return values


def apply_plan(db, plan: list[tuple[str, str, dict]], now: dt.datetime, by: int | None) -> None:
    """Write every change with its history row, in one transaction."""
    with transaction(db):
        for iso3, step_id, values in plan:
            store.write_state(db, iso3, step_id, values, action="import", now=now, by=by, via="import")


# -- the whole import ---------------------------------------------------------------------------

def _read_header(text: str, result: ImportResult):
    """The csv reader positioned after the header and the sheet's columns, or None (errors noted)."""
    delimiter = sniff_delimiter(text.splitlines()[0])
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, strict=True)
    try:
        header = next(reader)
    except csv.Error as exc:
        result.errors.append(f"line 1: cannot read the header ({exc})")
        return None
    columns, problems = map_header(header, delimiter)
    result.errors.extend(problems)
    return None if problems else (reader, columns, delimiter)


def _row_error(exc: csv.Error, start: int) -> str:
    if "unexpected end of data" in str(exc):
        return f"line {start}: a quote opened on this row is never closed"
    return f"line {start}: cannot read this row ({exc}); a quote left open?"


def import_milestones_csv(db, template: Template, registry, text: str, now: dt.datetime, by: int | None) -> ImportResult:
    """Bulk update from a spreadsheet: all rows valid and applied in one transaction, or nothing.

    Needed columns: ``iso3`` (or ``country``, a name) and ``step`` (id or order number); any of
    ``status``, ``date``, ``note``, ``evidence``, ``due`` may follow. An empty cell leaves the
    field as it is; ``-`` clears a note, evidence or a country due date (``default`` too).
    Other columns (``changed_by``, ``changed_at`` ...) are ignored, so an export imports back
    unchanged. Errors read ``line N: what is wrong`` (N counted in the file, header = line 1).
    """
    result = ImportResult()
    text = (text or "").removeprefix("\ufeff")
    if not text.strip():
        result.errors.append("line 1: the file is empty")
        return result
    problem = file_problem(text)
    if problem:
        result.errors.append(problem)
        return result
    header = _read_header(text, result)
    if header is None:
        return result
    reader, columns, delimiter = header
    sheet = Sheet(template, registry, now, columns, delimiter, country_index(registry))
    current = store.states(db)
    plan: list[tuple[str, str, dict]] = []
    seen: dict[tuple[str, str], int] = {}
    line = reader.line_num
    while True:
        start = line + 1
        try:
            raw = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            result.errors.append(_row_error(exc, start))
            break
        line = reader.line_num
        if not any(cell.strip() for cell in raw):
            continue
        result.rows += 1
        parsed, problems = parse_row(sheet, raw, start)
        if parsed is not None:
            key = (parsed.iso3, parsed.step.id)
            if key in seen:
                problems.append(f"{parsed.iso3} {parsed.step.id} appears twice (first on line {seen[key]})")
            seen.setdefault(key, start)
        if problems or parsed is None:
            result.errors.extend(f"line {start}: {p}" for p in problems)
            continue
        values = changes(sheet, parsed, current.get((parsed.iso3, parsed.step.id)) or store.EMPTY_STATE)
        if values:
            plan.append((parsed.iso3, parsed.step.id, values))
        else:
            result.unchanged += 1
    if not result.errors:
        apply_plan(db, plan, now, by)
        result.changed = len(plan)
    return result
