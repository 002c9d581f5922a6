"""Changes to one country's step: status, note, evidence, due date. Each is one service call
(``services.store.run(set_status, ...)``): the new state row and its history row are written
together or not at all, and the outcome carries the state as it is now."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from bot.milestones.states import STATUSES, StepState, local_today, step_state
from knowledge.checklist import Step, Template
from storage import milestones as store
from storage.db import transaction

NOTE_LIMIT = 1000
LINK_LIMIT = 500
CLEAR = "-"  # a note, evidence or due date of "-" clears it
_LINK = re.compile(r"^https?://\S+$", re.IGNORECASE)


def parse_link(text: str | None) -> str | None:
    """A single http(s) link, or None."""
    text = (text or "").strip()
    return text if _LINK.match(text) and len(text) <= LINK_LIMIT else None


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
    if problem or step is None:
        return Outcome(problem or "unknown_step")
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


def set_evidence(db, template: Template, registry, iso3: str, step_id: str, kind: str | None, value: str | None,
                 now: dt.datetime, by: int | None, name: str | None = None, via: str = "chat") -> Outcome:
    """Attach evidence: ``kind`` link (``value`` a URL), document or photo (``value`` a file_id); None clears."""
    values: dict[str, str | None]
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
