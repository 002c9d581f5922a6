"""SQL of the reminders feature: the calendar, mutes, broadcasts, and reminder rows of the ledger."""
from __future__ import annotations

import datetime as dt
import json
from typing import Callable, Iterable

from knowledge.events import LOCAL_FORMAT, Audience, Event
from storage import deliveries
from storage.deliveries import AT_MOST_ONCE
from knowledge.vocabulary import REMINDER_DELIVERY_KINDS
from storage.db import parse_iso, transaction, utcnow_iso

# -- the calendar ------------------------------------------------------------------

def event_of_row(row: dict) -> Event:
    offsets = json.loads(row["offsets"]) if row.get("offsets") else None
    return Event(
        id=row["id"], kind=row["kind"],
        start=dt.datetime.strptime(row["start_local"], LOCAL_FORMAT), end=dt.datetime.strptime(row["end_local"], LOCAL_FORMAT),
        timezone=row["timezone"], title=json.loads(row["title"]), place=json.loads(row["place"] or "{}"),
        audience=Audience.from_dict(json.loads(row["audience"])), offsets=tuple(offsets) if offsets is not None else None,
        cancelled=row["status"] == "cancelled", version=row["version"], since=parse_iso(row["since"]), source=row["source"],
    )


def event_rows(db) -> list[dict]:
    return list(db.query("SELECT * FROM calendar_events ORDER BY start_utc, id"))


def list_events(db, *, include_cancelled: bool = True) -> list[Event]:
    sql = "SELECT * FROM calendar_events" + ("" if include_cancelled else " WHERE status = 'active'") + " ORDER BY start_utc, id"
    return [event_of_row(r) for r in db.query(sql)]


def get_event(db, event_id: str) -> Event | None:
    found = get_event_and_hash(db, event_id)
    return found[0] if found else None


def get_event_and_hash(db, event_id: str) -> tuple[Event, str | None] | None:
    """The event and the digest of the YAML it came from (None if added in chat)."""
    rows = list(db.query("SELECT * FROM calendar_events WHERE id = ?", [event_id]))
    return (event_of_row(rows[0]), rows[0]["yaml_hash"]) if rows else None


def event_count(db) -> int:
    return db.execute("SELECT count(*) FROM calendar_events").fetchone()[0]


def save_event(db, event: Event, *, now: dt.datetime, source: str, version: int, since: dt.datetime,
               yaml_hash: str | None = None, by: int | None = None) -> None:
    """Insert or replace the whole row of ``event``."""
    stamp = utcnow_iso(now)
    db.execute(
        """INSERT INTO calendar_events (id, kind, start_local, end_local, timezone, start_utc, end_utc, title, place, audience,
               offsets, status, source, version, since, yaml_hash, updated_by, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT(id) DO UPDATE SET kind = excluded.kind, start_local = excluded.start_local, end_local = excluded.end_local,
               timezone = excluded.timezone, start_utc = excluded.start_utc, end_utc = excluded.end_utc, title = excluded.title,
               place = excluded.place, audience = excluded.audience, offsets = excluded.offsets, status = excluded.status,
               source = excluded.source, version = excluded.version, since = excluded.since, yaml_hash = excluded.yaml_hash,
               updated_by = excluded.updated_by, updated_at = excluded.updated_at""",
        [event.id, event.kind, event.start.strftime(LOCAL_FORMAT), event.end.strftime(LOCAL_FORMAT), event.timezone,
         utcnow_iso(event.start_utc), utcnow_iso(event.end_utc), json.dumps(event.title, ensure_ascii=False),
         json.dumps(event.place or {}, ensure_ascii=False), json.dumps(event.audience.to_dict()),
         json.dumps(list(event.offsets)) if event.offsets is not None else None,
         "cancelled" if event.cancelled else "active", source, version, utcnow_iso(since), yaml_hash, by, stamp, stamp],
    )


def log_event(db, event_id: str, action: str, by: int | None, now: dt.datetime, details: dict | None = None) -> None:
    db.execute("INSERT INTO calendar_event_log (event_id, action, by_user, at, details) VALUES (?, ?, ?, ?, ?)",
               [event_id, action, by, utcnow_iso(now), json.dumps(details or {}, ensure_ascii=False)])


def event_log(db, event_id: str | None = None, limit: int = 50) -> list[dict]:
    if event_id:
        return list(db.query("SELECT * FROM calendar_event_log WHERE event_id = ? ORDER BY id DESC LIMIT ?", [event_id, limit]))
    return list(db.query("SELECT * FROM calendar_event_log ORDER BY id DESC LIMIT ?", [limit]))


def cancel_pending_for_event(db, event_id: str) -> int:
    """Pending reminders and snoozes of an event (any version) are cancelled."""
    return sum(deliveries.cancel(db, kind, f"ev:{event_id}:") for kind in REMINDER_DELIVERY_KINDS)


# -- mutes -------------------------------------------------------------------------

def set_mute(db, user_id: int, category: str, muted: bool, now: dt.datetime) -> None:
    if muted:
        db.execute("INSERT INTO reminder_mutes (user_id, category, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                   [user_id, category, utcnow_iso(now)])
    else:
        db.execute("DELETE FROM reminder_mutes WHERE user_id = ? AND category = ?", [user_id, category])


def mutes_of(db, user_id: int) -> set[str]:
    return {r["category"] for r in db.query("SELECT category FROM reminder_mutes WHERE user_id = ?", [user_id])}


def all_mutes(db) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {}
    for row in db.query("SELECT user_id, category FROM reminder_mutes"):
        out.setdefault(row["user_id"], set()).add(row["category"])
    return out


# -- reminder rows of the ledger ---------------------------------------------------------

def add_delivery(db, *, kind: str, ref: str, chat_id: int, due_at: dt.datetime, now: dt.datetime,
                 payload: Callable[[int], dict], method: str = "sendMessage", status: str = "pending",
                 error: str | None = None, promise: str = AT_MOST_ONCE) -> tuple[int, bool]:
    """Insert a ledger row unless (kind, ref, chat_id) exists; the payload is built from the new row's id
    (its buttons name it). ``promise``: see bot/delivery.py. Returns (id, created)."""
    with transaction(db):
        cur = db.execute(
            """INSERT INTO deliveries (kind, ref, chat_id, method, payload, status, due_at, created_at, error, promise)
               VALUES (?, ?, ?, ?, '{}', ?, ?, ?, ?, ?) ON CONFLICT(kind, ref, chat_id) DO NOTHING""",
            [kind, ref, chat_id, method, status, utcnow_iso(due_at), utcnow_iso(now), error, promise],
        )
        if cur.rowcount == 1:
            new_id = cur.lastrowid
            db.execute("UPDATE deliveries SET payload = ? WHERE id = ?", [json.dumps(payload(new_id), ensure_ascii=False), new_id])
            return new_id, True
        row = db.execute("SELECT id FROM deliveries WHERE kind = ? AND ref = ? AND chat_id = ?", [kind, ref, chat_id]).fetchone()
        return row[0], False


def existing_keys(db, kinds: Iterable[str], since_due: dt.datetime) -> set[tuple[str, str, int]]:
    """(kind, ref, chat_id) of rows due since ``since_due`` (to skip planning what is already in the ledger)."""
    kinds = list(kinds)
    marks = ",".join("?" * len(kinds))
    return {(r["kind"], r["ref"], r["chat_id"]) for r in db.query(
        f"SELECT kind, ref, chat_id FROM deliveries WHERE kind IN ({marks}) AND due_at >= ?", [*kinds, utcnow_iso(since_due)])}


def pending_for_chat(db, chat_id: int, kinds: Iterable[str] = REMINDER_DELIVERY_KINDS) -> list[dict]:
    kinds = list(kinds)
    marks = ",".join("?" * len(kinds))
    return list(db.query(f"SELECT * FROM deliveries WHERE chat_id = ? AND status = 'pending' AND kind IN ({marks}) ORDER BY due_at",
                         [chat_id, *kinds]))


def cancel_pending_snoozes(db, chat_id: int, ref_prefixes: Iterable[str]) -> int:
    total = 0
    for prefix in ref_prefixes:
        cur = db.execute("UPDATE deliveries SET status = 'cancelled', error = 'muted' WHERE kind = 'snooze' AND chat_id = ? "
                         "AND status = 'pending' AND ref LIKE ?", [chat_id, prefix + "%"])
        total += cur.rowcount
    return total


def status_counts(db, kind: str, ref: str) -> dict[str, int]:
    return {r["status"]: r["n"] for r in db.query(
        "SELECT status, count(*) AS n FROM deliveries WHERE kind = ? AND ref = ? GROUP BY status", [kind, ref])}


def pending_ids(db, kind: str, ref: str, limit: int = 1000) -> list[int]:
    return [r["id"] for r in db.query(
        "SELECT id FROM deliveries WHERE kind = ? AND ref = ? AND status = 'pending' ORDER BY id LIMIT ?", [kind, ref, limit])]


# -- broadcasts ----------------------------------------------------------------------

def create_broadcast(db, created_by: int, segment: str, now: dt.datetime) -> int:
    return db["broadcasts"].insert({"created_by": created_by, "segment": segment, "status": "draft",
                                    "created_at": utcnow_iso(now)}).last_pk


def get_broadcast(db, broadcast_id: int) -> dict | None:
    rows = list(db.query("SELECT * FROM broadcasts WHERE id = ?", [broadcast_id]))
    return rows[0] if rows else None


def update_draft(db, broadcast_id: int, **values) -> bool:
    allowed = {k: v for k, v in values.items() if k in ("segment", "text", "recipients")}
    if not allowed:
        return False
    sets = ", ".join(f"{k} = ?" for k in allowed)
    cur = db.execute(f"UPDATE broadcasts SET {sets} WHERE id = ? AND status = 'draft'", [*allowed.values(), broadcast_id])
    return cur.rowcount == 1


def start_broadcast(db, broadcast_id: int, now: dt.datetime, recipients: int) -> bool:
    """draft -> sending, once (a second confirm press finds it no longer a draft)."""
    cur = db.execute("UPDATE broadcasts SET status = 'sending', started_at = ?, recipients = ? WHERE id = ? AND status = 'draft'",
                     [utcnow_iso(now), recipients, broadcast_id])
    return cur.rowcount == 1


def cancel_draft(db, broadcast_id: int) -> bool:
    cur = db.execute("UPDATE broadcasts SET status = 'cancelled' WHERE id = ? AND status = 'draft'", [broadcast_id])
    return cur.rowcount == 1


def set_progress_message(db, broadcast_id: int, chat_id: int, message_id: int | None) -> None:
    db.execute("UPDATE broadcasts SET progress_chat_id = ?, progress_message_id = ? WHERE id = ?", [chat_id, message_id, broadcast_id])


def finish_broadcast(db, broadcast_id: int, now: dt.datetime) -> bool:
    cur = db.execute("UPDATE broadcasts SET status = 'done', finished_at = ? WHERE id = ? AND status = 'sending'",
                     [utcnow_iso(now), broadcast_id])
    return cur.rowcount == 1


def broadcasts_in(db, status: str) -> list[dict]:
    return list(db.query("SELECT * FROM broadcasts WHERE status = ? ORDER BY id", [status]))


def recent_broadcasts(db, limit: int = 5) -> list[dict]:
    return list(db.query("SELECT * FROM broadcasts WHERE status != 'draft' ORDER BY id DESC LIMIT ?", [limit]))


def expire_drafts(db, before: dt.datetime) -> int:
    cur = db.execute("UPDATE broadcasts SET status = 'cancelled' WHERE status = 'draft' AND created_at < ?", [utcnow_iso(before)])
    return cur.rowcount
