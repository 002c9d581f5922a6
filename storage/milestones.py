"""All SQL of the milestones feature (schema in ``migrations/m0004_milestones.py``)."""
from __future__ import annotations

import datetime as dt
from typing import Iterable

from storage.db import transaction, utcnow_iso

STATE_FIELDS = ("status", "status_date", "note", "evidence_kind", "evidence", "evidence_name", "due")
EMPTY_STATE = {"status": "not_started", "status_date": None, "note": None, "evidence_kind": None,
               "evidence": None, "evidence_name": None, "due": None}


def sync_steps(db, steps: Iterable, now: dt.datetime) -> dict:
    """Bring ``milestone_steps`` in line with the template without losing anything.

    Steps new to the template are added, known ones updated, and steps no longer in the
    template marked inactive (their progress rows stay). Returns counts.
    """
    stamp = utcnow_iso(now)
    steps = list(steps)
    present = {row["step_id"] for row in db.query("SELECT step_id FROM milestone_steps")}
    with transaction(db):
        for step in steps:
            db.execute(
                """INSERT INTO milestone_steps (step_id, position, phase, default_due, title, active, synced_at)
                   VALUES (?, ?, ?, ?, ?, 1, ?)
                   ON CONFLICT(step_id) DO UPDATE SET position = excluded.position, phase = excluded.phase,
                     default_due = excluded.default_due, title = excluded.title, active = 1,
                     synced_at = excluded.synced_at""",
                [step.id, step.order, step.phase, step.due.isoformat(), step.title["en"], stamp],
            )
        ids = [s.id for s in steps]
        retired = db.execute(
            f"UPDATE milestone_steps SET active = 0, synced_at = ? WHERE active = 1 AND step_id NOT IN ({','.join('?' * len(ids))})",
            [stamp, *ids],
        ).rowcount
    return {"added": len(set(ids) - present), "retired": retired}


def step_rows(db) -> list[dict]:
    return list(db.query("SELECT * FROM milestone_steps ORDER BY position, step_id"))


def states(db, iso3s: list[str] | None = None) -> dict[tuple[str, str], dict]:
    """Current rows keyed by (iso3, step_id), for some countries or all."""
    if iso3s is None:
        rows = db.query("SELECT * FROM milestones")
    elif not iso3s:
        return {}
    else:
        rows = db.query(f"SELECT * FROM milestones WHERE iso3 IN ({','.join('?' * len(iso3s))})", list(iso3s))
    return {(r["iso3"], r["step_id"]): r for r in rows}


def get_state(db, iso3: str, step_id: str) -> dict | None:
    rows = list(db.query("SELECT * FROM milestones WHERE iso3 = ? AND step_id = ?", [iso3, step_id]))
    return rows[0] if rows else None


def write_state(db, iso3: str, step_id: str, values: dict, *, action: str, now: dt.datetime,
                by: int | None, via: str) -> dict:
    """Set some fields of one country's step and append the change to the history, in one transaction.

    ``values`` holds only the fields that change (keys of :data:`STATE_FIELDS`). Returns the new row.
    """
    unknown = set(values) - set(STATE_FIELDS)
    if unknown:
        raise ValueError(f"unknown milestone fields {sorted(unknown)}")
    stamp = utcnow_iso(now)
    with transaction(db):
        current = get_state(db, iso3, step_id)
        state = {k: (current or EMPTY_STATE)[k] for k in STATE_FIELDS}
        previous_status = state["status"]
        state.update(values)
        db.execute(
            f"""INSERT INTO milestones (iso3, step_id, {', '.join(STATE_FIELDS)}, changed_by, changed_via, changed_at)
                VALUES (?, ?, {', '.join('?' * len(STATE_FIELDS))}, ?, ?, ?)
                ON CONFLICT(iso3, step_id) DO UPDATE SET
                  {', '.join(f'{k} = excluded.{k}' for k in STATE_FIELDS)},
                  changed_by = excluded.changed_by, changed_via = excluded.changed_via, changed_at = excluded.changed_at""",
            [iso3, step_id, *(state[k] for k in STATE_FIELDS), by, via, stamp],
        )
        db.execute(
            f"""INSERT INTO milestone_history (iso3, step_id, action, previous_status, {', '.join(STATE_FIELDS)},
                  changed_by, changed_via, changed_at)
                VALUES (?, ?, ?, ?, {', '.join('?' * len(STATE_FIELDS))}, ?, ?, ?)""",
            [iso3, step_id, action, previous_status, *(state[k] for k in STATE_FIELDS), by, via, stamp],
        )
        row = get_state(db, iso3, step_id)
    if row is None:  # cannot be: the row was written just above
        raise RuntimeError(f"milestone {iso3}/{step_id} not written")
    return row


def history(db, iso3: str, step_id: str | None = None) -> list[dict]:
    """Every recorded change of a country (or one of its steps), oldest first."""
    if step_id is None:
        return list(db.query("SELECT * FROM milestone_history WHERE iso3 = ? ORDER BY id", [iso3]))
    return list(db.query("SELECT * FROM milestone_history WHERE iso3 = ? AND step_id = ? ORDER BY id", [iso3, step_id]))


def user_names(db, user_ids: Iterable[int | None]) -> dict[int, str]:
    """First names (or @usernames) of the given users, for "changed by" columns."""
    ids = sorted({int(u) for u in user_ids if u is not None})
    if not ids:
        return {}
    rows = db.query(f"SELECT user_id, first_name, username FROM users WHERE user_id IN ({','.join('?' * len(ids))})", ids)
    return {r["user_id"]: (r["first_name"] or (f"@{r['username']}" if r["username"] else str(r["user_id"]))) for r in rows}
