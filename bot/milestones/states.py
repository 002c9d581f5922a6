"""Where each country stands on each step: the state rows read with the template's defaults,
what is overdue (in the country's own time zone), what is still pending."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

from knowledge.checklist import Step, Template, parse_date
from storage import figures
from storage import milestones as store

STATUSES = ("not_started", "in_progress", "done", "not_applicable")
CLOSED = ("done", "not_applicable")
ICONS = {"done": "✅", "in_progress": "🔄", "not_started": "⬜", "not_applicable": "➖"}
OVERDUE_ICON = "⚠️"


# -- state of a country's steps ----------------------------------------------------

def local_today(registry, iso3: str, now: dt.datetime) -> dt.date:
    """Today's date in the country's time zone (UTC for an unknown country)."""
    country = registry.get(iso3)
    zone = _zone(country.timezone) if country else dt.timezone.utc
    return now.astimezone(zone).date()


@lru_cache(maxsize=512)
def _zone(name: str) -> ZoneInfo:
    """A time zone, read from disk once (``ZoneInfo`` keeps only the last few it built)."""
    return ZoneInfo(name)


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
           for states in all_states(db, template, registry, now).values() for s in states
           if not s.closed and s.due is not None]
    out.sort(key=lambda p: (p.due, p.iso3, order[p.step_id]))
    return out


def checklist_dates(template: Template, registry, now: dt.datetime,
                    iso3s: list[str] | None = None) -> tuple[list[str], dict[str, str], dict[str, str]]:
    """The countries (registry order), each step's template due date and each country's local
    date, as the SQL of :mod:`storage.figures` takes them."""
    countries = [c.iso3 for c in registry] if iso3s is None else list(dict.fromkeys(c for c in iso3s if registry.get(c)))
    steps = {step.id: step.due.isoformat() for step in template}
    return countries, steps, {iso3: local_today(registry, iso3, now).isoformat() for iso3 in countries}


def overdue_by_country(db, template: Template, registry, now: dt.datetime, iso3s: list[str] | None = None) -> dict[str, list[StepState]]:
    """Overdue steps grouped by country (countries without any are left out), registry order.

    SQLite finds the overdue steps; only those become :class:`StepState` objects.
    """
    countries, steps, today = checklist_dates(template, registry, now, iso3s)
    cells = {(row["iso3"], row["step_id"]): row for row in figures.overdue_cells(db, steps, today)}
    out: dict[str, list[StepState]] = {}
    for iso3 in countries:
        found = [_state(iso3, step, cells[(iso3, step.id)], dt.date.fromisoformat(today[iso3]))
                 for step in template if (iso3, step.id) in cells]
        if found:
            out[iso3] = found
    return out
