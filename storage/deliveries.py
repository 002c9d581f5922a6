"""The outbound delivery ledger: one row per (kind, ref, recipient), claimed before sending."""
from __future__ import annotations

import datetime as dt
import json

from storage.db import utcnow_iso


def enqueue(db, *, kind: str, ref: str, chat_id: int, method: str, payload: dict, due_at: dt.datetime, now: dt.datetime) -> int:
    """Insert a pending delivery unless one exists for (kind, ref, chat_id); return its id."""
    db.execute(
        """INSERT INTO deliveries (kind, ref, chat_id, method, payload, status, due_at, created_at)
           VALUES (?, ?, ?, ?, ?, 'pending', ?, ?) ON CONFLICT(kind, ref, chat_id) DO NOTHING""",
        [kind, ref, chat_id, method, json.dumps(payload, ensure_ascii=False), utcnow_iso(due_at), utcnow_iso(now)],
    )
    row = db.execute("SELECT id FROM deliveries WHERE kind = ? AND ref = ? AND chat_id = ?", [kind, ref, chat_id]).fetchone()
    return row[0]


def get(db, delivery_id: int) -> dict | None:
    rows = list(db.query("SELECT * FROM deliveries WHERE id = ?", [delivery_id]))
    return rows[0] if rows else None


def find(db, kind: str, ref: str, chat_id: int) -> dict | None:
    rows = list(db.query("SELECT * FROM deliveries WHERE kind = ? AND ref = ? AND chat_id = ?", [kind, ref, chat_id]))
    return rows[0] if rows else None


def claim(db, delivery_id: int, now: dt.datetime) -> bool:
    """Move a pending row to 'claimed' (committed before the Bot API call); False if not pending."""
    cur = db.execute(
        "UPDATE deliveries SET status = 'claimed', claimed_at = ?, attempts = attempts + 1 WHERE id = ? AND status = 'pending'",
        [utcnow_iso(now), delivery_id],
    )
    return cur.rowcount == 1



def mark(db, delivery_id: int, status: str, now: dt.datetime, *, message_id: int | None = None, error: str | None = None) -> None:
    db.execute(
        "UPDATE deliveries SET status = ?, sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END, message_id = coalesce(?, message_id), error = ? WHERE id = ?",
        [status, status, utcnow_iso(now), message_id, error, delivery_id],
    )


def due(db, now: dt.datetime, limit: int = 500) -> list[dict]:
    return list(db.query(
        "SELECT * FROM deliveries WHERE status = 'pending' AND due_at <= ? ORDER BY due_at, id LIMIT ?",
        [utcnow_iso(now), limit],
    ))



def mark_in_flight_uncertain(db) -> int:
    """After a crash, rows still 'claimed' may or may not have reached Telegram: never resend them."""
    cur = db.execute("UPDATE deliveries SET status = 'uncertain', error = 'in flight at shutdown or crash' WHERE status = 'claimed'")
    return cur.rowcount



def cancel(db, kind: str, ref_prefix: str) -> int:
    cur = db.execute(
        "UPDATE deliveries SET status = 'cancelled' WHERE kind = ? AND ref LIKE ? AND status = 'pending'",
        [kind, ref_prefix + "%"],
    )
    return cur.rowcount


def counts(db) -> dict[str, int]:
    return {row["status"]: row["n"] for row in db.query("SELECT status, count(*) AS n FROM deliveries GROUP BY status")}
