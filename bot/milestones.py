"""The milestone checklists as plain rules: each country's progress through the Target Setting
Programme's steps, who may change what, what is overdue, progress by region, CSV in and out.

No Telegram objects here; ``now`` is always passed in. Functions take the sqlite-utils
database first so that handlers can run them with ``services.store.run(fn, ...)``.

For other features:

* :func:`pending_steps` - every (country, step) not done / not applicable, with its
  effective due date and whether it is overdue (reminders and weekly nudges).
* :func:`step_title` - a step's title in a language.
* :func:`get_template` - the loaded checklist template of a running bot.
* :func:`export_milestones_csv` / :func:`import_milestones_csv` - the spreadsheet interface.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from bot.clock import parse_instant
from bot.csvcell import guard_cell, unguard_cell
from knowledge.checklist import Step, Template, load_checklist, parse_date
from knowledge.yamlfile import DataError, Problem
from storage import milestones as store
from storage.db import transaction

STATUSES = ("not_started", "in_progress", "done", "not_applicable")
CLOSED = ("done", "not_applicable")
ICONS = {"done": "✅", "in_progress": "🔄", "not_started": "⬜", "not_applicable": "➖"}
OVERDUE_ICON = "⚠️"
NOTE_LIMIT = 1000
LINK_LIMIT = 500
ANNEX_NAMES = {"I": "Africa", "II": "Asia", "III": "Latin America and the Caribbean",
               "IV": "Northern Mediterranean", "V": "Central and Eastern Europe"}
CSV_COLUMNS = ["iso3", "country", "step", "status", "date", "note", "evidence", "due", "changed_by", "changed_at"]
REPORT_STEP = "national_report_2018"  # follows the configured 2018 reporting deadline
_LINK = re.compile(r"^https?://\S+$", re.IGNORECASE)
_FILE_EVIDENCE = re.compile(r"^(document|photo):([A-Za-z0-9_\-]{8,200})$")


# -- the template ---------------------------------------------------------------

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
        return parse_instant(str(value)).date()
    except ValueError:
        return None


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


# -- state of a country's steps ----------------------------------------------------

def local_today(registry, iso3: str, now: dt.datetime) -> dt.date:
    """Today's date in the country's time zone (UTC for an unknown country)."""
    country = registry.get(iso3)
    zone = ZoneInfo(country.timezone) if country else dt.timezone.utc
    return now.astimezone(zone).date()


@dataclass
class StepState:
    iso3: str
    step: Step
    status: str = "not_started"
    status_date: dt.date | None = None
    note: str | None = None
    evidence_kind: str | None = None
    evidence: str | None = None
    evidence_name: str | None = None
    due: dt.date | None = None
    custom_due: bool = False
    changed_by: int | None = None
    changed_via: str | None = None
    changed_at: str | None = None
    overdue: bool = False
    changed_by_name: str | None = None

    @property
    def step_id(self) -> str:
        return self.step.id

    @property
    def icon(self) -> str:
        return OVERDUE_ICON if self.overdue else ICONS[self.status]

    @property
    def closed(self) -> bool:
        return self.status in CLOSED


def _state(iso3: str, step: Step, row: dict | None, today: dt.date) -> StepState:
    row = row or {}
    custom = parse_date(row.get("due"))
    due = custom or step.due
    status = row.get("status") or "not_started"
    return StepState(
        iso3=iso3, step=step, status=status, status_date=parse_date(row.get("status_date")),
        note=row.get("note"), evidence_kind=row.get("evidence_kind"), evidence=row.get("evidence"),
        evidence_name=row.get("evidence_name"), due=due, custom_due=custom is not None,
        changed_by=row.get("changed_by"), changed_via=row.get("changed_via"), changed_at=row.get("changed_at"),
        overdue=status not in CLOSED and due < today,
    )


def all_states(db, template: Template, registry, now: dt.datetime, iso3s: list[str] | None = None) -> dict[str, list[StepState]]:
    """Every step of every (or the given) country, in registry and template order."""
    countries = [c.iso3 for c in registry] if iso3s is None else [c for c in iso3s if registry.get(c)]
    rows = store.states(db, None if iso3s is None else countries)
    result: dict[str, list[StepState]] = {}
    for iso3 in countries:
        today = local_today(registry, iso3, now)
        result[iso3] = [_state(iso3, step, rows.get((iso3, step.id)), today) for step in template]
    return result


def country_steps(db, template: Template, registry, iso3: str, now: dt.datetime) -> list[StepState]:
    """One country's checklist, with the names of who changed each step."""
    steps = all_states(db, template, registry, now, [iso3]).get(iso3, [])
    names = store.user_names(db, [s.changed_by for s in steps])
    for s in steps:
        s.changed_by_name = names.get(s.changed_by) if s.changed_by is not None else None
    return steps


def step_state(db, template: Template, registry, iso3: str, step_id: str, now: dt.datetime) -> StepState | None:
    for s in country_steps(db, template, registry, iso3, now):
        if s.step.id == step_id:
            return s
    return None


class PendingStep(NamedTuple):
    iso3: str
    step_id: str
    due: dt.date
    overdue: bool


def pending_steps(db, template: Template, registry, now: dt.datetime) -> list[PendingStep]:
    """Every (country, step) neither done nor not applicable, with its effective due date.

    ``overdue`` is True when the due date is before today in the country's time zone.
    Sorted by due date, then country, then the template's order.
    """
    order = {s.id: s.order for s in template}
    out = [PendingStep(s.iso3, s.step.id, s.due, s.overdue)
           for states in all_states(db, template, registry, now).values() for s in states if not s.closed]
    out.sort(key=lambda p: (p.due, p.iso3, order[p.step_id]))
    return out


def overdue_by_country(db, template: Template, registry, now: dt.datetime, iso3s: list[str] | None = None) -> dict[str, list[StepState]]:
    """Overdue steps grouped by country (countries without any are left out), registry order."""
    return {iso3: [s for s in states if s.overdue]
            for iso3, states in all_states(db, template, registry, now, iso3s).items()
            if any(s.overdue for s in states)}


# -- changes ----------------------------------------------------------------------

@dataclass
class Outcome:
    """What a change did: ``code`` is ok | same | unknown_country | unknown_step | invalid."""

    code: str
    state: StepState | None = None
    previous: str | None = None

    @property
    def ok(self) -> bool:
        return self.code == "ok"


def _check(template: Template, registry, iso3: str, step_id: str) -> tuple[str | None, Step | None, str | None]:
    country = registry.get(iso3)
    if country is None:
        return None, None, "unknown_country"
    step = template.get(step_id)
    if step is None:
        return country.iso3, None, "unknown_step"
    return country.iso3, step, None


def _change(db, template, registry, iso3, step_id, now, by, via, action, make_values) -> Outcome:
    """Validate country and step, compute the new values from the current row, write them with history."""
    iso3, step, problem = _check(template, registry, iso3, step_id)
    if problem:
        return Outcome(problem)
    with transaction(db):
        raw = store.get_state(db, iso3, step.id) or store.EMPTY_STATE
        values = make_values(raw, iso3)
        if values == "same" or all(raw[k] == v for k, v in values.items()):
            return Outcome("same", step_state(db, template, registry, iso3, step.id, now), raw["status"])
        store.write_state(db, iso3, step.id, values, action=action, now=now, by=by, via=via)
    return Outcome("ok", step_state(db, template, registry, iso3, step.id, now), raw["status"])


def set_status(db, template: Template, registry, iso3: str, step_id: str, status: str, now: dt.datetime,
               by: int | None, via: str = "chat") -> Outcome:
    """Move a step to ``status`` (dated today in the country's time zone). Same status: ``same``."""
    if status not in STATUSES:
        return Outcome("invalid")

    def values(raw: dict, iso: str):
        if raw["status"] == status:
            return "same"
        return {"status": status, "status_date": local_today(registry, iso, now).isoformat()}

    return _change(db, template, registry, iso3, step_id, now, by, via, "status", values)


def set_note(db, template: Template, registry, iso3: str, step_id: str, note: str | None, now: dt.datetime,
             by: int | None, via: str = "chat") -> Outcome:
    note = (note or "").strip() or None
    if note is not None and len(note) > NOTE_LIMIT:
        return Outcome("invalid")
    return _change(db, template, registry, iso3, step_id, now, by, via, "note", lambda cur, iso: {"note": note})


def parse_link(text: str | None) -> str | None:
    """A single http(s) link, or None."""
    text = (text or "").strip()
    return text if _LINK.match(text) and len(text) <= LINK_LIMIT else None


def set_evidence(db, template: Template, registry, iso3: str, step_id: str, kind: str | None, value: str | None,
                 now: dt.datetime, by: int | None, name: str | None = None, via: str = "chat") -> Outcome:
    """Attach evidence: ``kind`` link (``value`` a URL), document or photo (``value`` a file_id); None clears."""
    if kind is None:
        values = {"evidence_kind": None, "evidence": None, "evidence_name": None}
    elif kind == "link":
        link = parse_link(value)
        if link is None:
            return Outcome("invalid")
        values = {"evidence_kind": "link", "evidence": link, "evidence_name": None}
    elif kind in ("document", "photo") and value:
        values = {"evidence_kind": kind, "evidence": value, "evidence_name": (name or None) and name[:200]}
    else:
        return Outcome("invalid")
    return _change(db, template, registry, iso3, step_id, now, by, via, "evidence", lambda cur, iso: values)


def set_due(db, template: Template, registry, iso3: str, step_id: str, due: dt.date | None, now: dt.datetime,
            by: int | None, via: str = "chat") -> Outcome:
    """A country-specific due date for a step (None, or the template's date, restores the default)."""
    step = template.get(step_id)
    raw = None if due is None or (step is not None and due == step.due) else due.isoformat()
    return _change(db, template, registry, iso3, step_id, now, by, via, "due", lambda cur, iso: {"due": raw})


# -- progress -----------------------------------------------------------------------

@dataclass
class CountryProgress:
    iso3: str
    annex: str
    pilot: bool
    list_group: str
    total: int
    done: int
    in_progress: int
    not_applicable: int
    overdue: int

    @property
    def applicable(self) -> int:
        return self.total - self.not_applicable

    @property
    def share(self) -> float:
        return self.done / self.applicable if self.applicable else 1.0


@dataclass
class GroupProgress:
    key: str
    countries: list[CountryProgress] = field(default_factory=list)

    @property
    def done(self) -> int:
        return sum(c.done for c in self.countries)

    @property
    def applicable(self) -> int:
        return sum(c.applicable for c in self.countries)

    @property
    def share(self) -> float:
        return self.done / self.applicable if self.applicable else 0.0

    @property
    def overdue(self) -> int:
        return sum(c.overdue for c in self.countries)

    @property
    def overdue_countries(self) -> int:
        return sum(1 for c in self.countries if c.overdue)

    @property
    def complete_countries(self) -> int:
        return sum(1 for c in self.countries if c.applicable and c.done == c.applicable)

    def to_json(self) -> dict:
        return {"key": self.key, "countries": len(self.countries), "done": self.done, "applicable": self.applicable,
                "share": round(self.share, 4), "overdue": self.overdue, "overdue_countries": self.overdue_countries}


@dataclass
class Progress:
    as_of: dt.datetime
    steps: int
    countries: list[CountryProgress]
    by_annex: list[GroupProgress]
    pilots: GroupProgress
    others: GroupProgress
    total: GroupProgress

    def country(self, iso3: str) -> CountryProgress | None:
        return next((c for c in self.countries if c.iso3 == iso3), None)

    def to_json(self) -> dict:
        return {
            "as_of": self.as_of.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "steps": self.steps,
            "total": self.total.to_json(),
            "regions": [dict(g.to_json(), name=ANNEX_NAMES[g.key]) for g in self.by_annex],
            "pilots": self.pilots.to_json(),
            "non_pilots": self.others.to_json(),
            "countries": [{"iso3": c.iso3, "annex": c.annex, "pilot": c.pilot, "done": c.done, "in_progress": c.in_progress,
                           "not_applicable": c.not_applicable, "applicable": c.applicable, "total": c.total,
                           "share": round(c.share, 4), "overdue": c.overdue} for c in self.countries],
        }


def progress(db, template: Template, registry, now: dt.datetime, iso3s: list[str] | None = None) -> Progress:
    """Share of steps done (not-applicable steps left out) per country, region (annex) and pilot group."""
    states = all_states(db, template, registry, now, iso3s)
    countries = []
    for iso3, steps in states.items():
        c = registry.get(iso3)
        countries.append(CountryProgress(
            iso3=iso3, annex=c.annex, pilot=c.pilot, list_group=c.list_group, total=len(steps),
            done=sum(s.status == "done" for s in steps), in_progress=sum(s.status == "in_progress" for s in steps),
            not_applicable=sum(s.status == "not_applicable" for s in steps), overdue=sum(s.overdue for s in steps)))
    by_annex = []
    for annex in ANNEX_NAMES:
        members = [c for c in countries if c.annex == annex]
        if members:
            by_annex.append(GroupProgress(annex, members))
    return Progress(as_of=now, steps=len(template), countries=countries, by_annex=by_annex,
                    pilots=GroupProgress("pilots", [c for c in countries if c.pilot]),
                    others=GroupProgress("others", [c for c in countries if not c.pilot]),
                    total=GroupProgress("all", countries))


# -- CSV ----------------------------------------------------------------------------

def _evidence_cell(kind: str | None, value: str | None) -> str:
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
                             guard_cell(s.note), _evidence_cell(s.evidence_kind, s.evidence), s.due.isoformat(),
                             who, s.changed_at or ""])
    return out.getvalue()


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


_STATUS_WORDS = {
    "not started": "not_started", "to do": "not_started", "todo": "not_started", "no": "not_started",
    "⬜": "not_started",
    "in progress": "in_progress", "ongoing": "in_progress", "started": "in_progress", "🔄": "in_progress",
    "done": "done", "complete": "done", "completed": "done", "yes": "done", "✅": "done",
    "not applicable": "not_applicable", "n/a": "not_applicable", "na": "not_applicable", "➖": "not_applicable",
}
_HEADER_ALIASES = {"iso": "iso3", "iso_3": "iso3", "country_code": "iso3", "code": "iso3", "step_id": "step",
                   "milestone": "step", "status_date": "date", "due_date": "due", "link": "evidence"}
CLEAR = "-"


def parse_status(text: str) -> str | None:
    """A status as people write it in a spreadsheet (``done``, ``In progress``, ``not_applicable``, ``n/a``), or None."""
    key = " ".join(text.strip().lower().replace("_", " ").replace("-", " ").split())
    return _STATUS_WORDS.get(key)


def _country_index(registry) -> dict[str, str]:
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


def _sniff_delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def import_milestones_csv(db, template: Template, registry, text: str, now: dt.datetime, by: int | None) -> ImportResult:
    """Bulk update from a spreadsheet: all rows valid and applied in one transaction, or nothing.

    Needed columns: ``iso3`` (or ``country``, a name) and ``step`` (id or order number); any of
    ``status``, ``date``, ``note``, ``evidence``, ``due`` may follow. An empty cell leaves the
    field as it is; ``-`` clears a note, evidence or a country due date (``default`` too).
    Other columns (``changed_by``, ``changed_at`` ...) are ignored, so an export imports back
    unchanged. Errors read ``line N: what is wrong`` (N counted in the file, header = line 1).
    """
    result = ImportResult()
    text = (text or "").lstrip("\ufeff")
    if not text.strip():
        result.errors.append("line 1: the file is empty")
        return result
    first_line = text.splitlines()[0]
    reader = csv.reader(io.StringIO(text), delimiter=_sniff_delimiter(first_line))
    try:
        header = next(reader)
    except csv.Error as exc:
        result.errors.append(f"line 1: cannot read the header ({exc})")
        return result
    columns = []
    for name in header:
        key = "_".join(name.strip().lower().split())
        columns.append(_HEADER_ALIASES.get(key, key))
    missing = []
    if "iso3" not in columns and "country" not in columns:
        missing.append("iso3 (or country)")
    if "step" not in columns:
        missing.append("step")
    if missing:
        result.errors.append(f"line 1: missing column(s) {', '.join(missing)}; found {', '.join(h.strip() for h in header) or 'none'}")
        return result
    if not {"status", "date", "note", "evidence", "due"} & set(columns):
        result.errors.append("line 1: nothing to import: add at least one of the columns status, date, note, evidence, due")
        return result

    names = _country_index(registry)
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
            result.errors.append(f"line {start}: cannot read this row ({exc})")
            break
        line = reader.line_num
        if not any(cell.strip() for cell in raw):
            continue
        result.rows += 1
        if len(raw) > len(columns) and any(cell.strip() for cell in raw[len(columns):]):
            result.errors.append(f"line {start}: {len(raw)} cells but the header has {len(columns)} columns")
            continue
        row = {col: (raw[i].strip() if i < len(raw) else "") for i, col in enumerate(columns)}
        problems: list[str] = []

        # country
        iso3 = None
        if row.get("iso3"):
            country = registry.get(row["iso3"])
            if country is None:
                problems.append(f"unknown country code {row['iso3']!r}")
            else:
                iso3 = country.iso3
        elif row.get("country"):
            iso3 = names.get(row["country"].casefold())
            if iso3 is None:
                problems.append(f"unknown country {row['country']!r} (use the ISO3 code)")
        else:
            problems.append("no country (iso3 is empty)")
        # step
        step = None
        step_text = row.get("step", "")
        if not step_text:
            problems.append("no step")
        else:
            step = template.get(step_text.lower())
            if step is None and step_text.isdigit():
                step = template.by_order(int(step_text))
            if step is None:
                problems.append(f"unknown step {step_text!r} (expected one of {', '.join(template.ids)})")
        if iso3 and step:
            key = (iso3, step.id)
            if key in seen:
                problems.append(f"{iso3} {step.id} appears twice (first on line {seen[key]})")
            else:
                seen[key] = start
        # values
        status = None
        if row.get("status"):
            status = parse_status(row["status"])
            if status is None:
                problems.append(f"unknown status {row['status']!r} (expected {', '.join(STATUSES)})")
        date = None
        if row.get("date"):
            date = parse_date(row["date"][:10]) if re.match(r"^\d{4}-\d{2}-\d{2}", row["date"]) else None
            if date is None:
                problems.append(f"date {row['date']!r} is not a date (YYYY-MM-DD)")
            elif iso3 and date > local_today(registry, iso3, now):
                problems.append(f"date {date} is in the future")
        note = unguard_cell(row.get("note") or "") if (row.get("note") or "") != CLEAR else CLEAR
        if len(note) > NOTE_LIMIT:
            problems.append(f"note is longer than {NOTE_LIMIT} characters")
        evidence = row.get("evidence") or ""
        evidence_values = None
        if evidence == CLEAR:
            evidence_values = {"evidence_kind": None, "evidence": None, "evidence_name": None}
        elif evidence:
            link = parse_link(evidence)
            match = _FILE_EVIDENCE.match(evidence)
            if link:
                evidence_values = {"evidence_kind": "link", "evidence": link, "evidence_name": None}
            elif match:
                evidence_values = {"evidence_kind": match.group(1), "evidence": match.group(2)}
            else:
                problems.append(f"evidence {evidence[:60]!r} must be a link (http:// or https://), document:FILE_ID or -")
        due_text = row.get("due") or ""
        due_raw: Any = ...  # ... = leave as it is
        if due_text.lower() in (CLEAR, "default"):
            due_raw = None
        elif due_text:
            due = parse_date(due_text[:10]) if re.match(r"^\d{4}-\d{2}-\d{2}$", due_text) else None
            if due is None:
                problems.append(f"due {due_text!r} is not a date (YYYY-MM-DD)")
            elif step:
                due_raw = None if due == step.due else due.isoformat()
        if problems:
            result.errors.extend(f"line {start}: {p}" for p in problems)
            continue

        existing = current.get((iso3, step.id)) or store.EMPTY_STATE
        values: dict[str, Any] = {}
        if status and status != existing["status"]:
            values["status"] = status
            values["status_date"] = (date or local_today(registry, iso3, now)).isoformat()
        elif date and date.isoformat() != existing["status_date"]:
            values["status_date"] = date.isoformat()
        if note == CLEAR:
            if existing["note"] is not None:
                values["note"] = None
        elif note and note != existing["note"]:
            values["note"] = note
        if evidence_values is not None:
            if evidence_values.get("evidence") == existing["evidence"] and evidence_values["evidence_kind"] == existing["evidence_kind"]:
                pass
            else:
                evidence_values.setdefault("evidence_name", None)
                values.update(evidence_values)
        if due_raw is not ... and due_raw != existing["due"]:
            values["due"] = due_raw
        if values:
            plan.append((iso3, step.id, values))
        else:
            result.unchanged += 1
    if result.errors:
        return result
    with transaction(db):
        for iso3, step_id, values in plan:
            store.write_state(db, iso3, step_id, values, action="import", now=now, by=by, via="import")
    result.changed = len(plan)
    return result
