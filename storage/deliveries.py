"""The outbound delivery ledger: one row per (kind, ref, recipient), claimed before sending."""
from __future__ import annotations

import datetime as dt
import json

from storage.db import utcnow_iso


AT_MOST_ONCE = "at_most_once"
AT_LEAST_ONCE = "at_least_once"


def enqueue(db, *, kind: str, ref: str, chat_id: int, method: str, payload: dict, due_at: dt.datetime, now: dt.datetime,
            promise: str = AT_MOST_ONCE) -> int:
    """Insert a pending delivery unless one exists for (kind, ref, chat_id); return its id.
    ``promise``: what an unknown outcome leads to (see bot/delivery.py)."""
    db.execute(
        """INSERT INTO deliveries (kind, ref, chat_id, method, payload, status, due_at, created_at, promise)
           VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?) ON CONFLICT(kind, ref, chat_id) DO NOTHING""",
        [kind, ref, chat_id, method, json.dumps(payload, ensure_ascii=False), utcnow_iso(due_at), utcnow_iso(now), promise],
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



def mark_in_flight_uncertain(db, now: dt.datetime | None = None) -> dict[str, int]:
    """After a crash, rows still 'claimed' may or may not have reached Telegram: they become
    'uncertain'. Those promised at least once are queued again (due now, marked as a resend);
    the others stay uncertain. Returns the counts {"uncertain": n, "resend": m}."""
    stamp = utcnow_iso(now or dt.datetime.now(dt.timezone.utc))
    resend = db.execute(
        "UPDATE deliveries SET status = 'pending', due_at = ?, resends = resends + 1, error = 'in flight at shutdown or crash'"
        " WHERE status = 'claimed' AND promise = ? AND resends = 0", [stamp, AT_LEAST_ONCE]).rowcount
    uncertain = db.execute(
        "UPDATE deliveries SET status = 'uncertain', error = 'in flight at shutdown or crash' WHERE status = 'claimed'").rowcount
    return {"uncertain": uncertain, "resend": resend}


def requeue_as_resend(db, delivery_id: int, now: dt.datetime, error: str) -> bool:
    """An at-least-once row whose outcome is unknown: pending again, due now, counted as a resend."""
    return db.execute(
        "UPDATE deliveries SET status = 'pending', due_at = ?, resends = resends + 1, error = ? WHERE id = ?"
        " AND promise = ? AND resends = 0", [utcnow_iso(now), error, delivery_id, AT_LEAST_ONCE]).rowcount == 1


def uncertain_ids(db, kind: str | None = None) -> list[int]:
    sql = "SELECT id FROM deliveries WHERE status = 'uncertain'" + (" AND kind = ?" if kind else "") + " ORDER BY id"
    return [row[0] for row in db.execute(sql, [kind] if kind else [])]


def resend_uncertain(db, ids: list[int], now: dt.datetime) -> list[int]:
    """Queue uncertain rows again on purpose (``ldn-bot deliveries resend --uncertain``)."""
    done = []
    for delivery_id in ids:
        if db.execute("UPDATE deliveries SET status = 'pending', due_at = ?, resends = resends + 1 WHERE id = ?"
                      " AND status = 'uncertain'", [utcnow_iso(now), delivery_id]).rowcount:
            done.append(delivery_id)
    return done


def uncertain_by_kind(db) -> dict[str, int]:
    return {row[0]: row[1] for row in db.execute(
        "SELECT kind, count(*) FROM deliveries WHERE status = 'uncertain' GROUP BY kind ORDER BY kind")}



def cancel(db, kind: str, ref_prefix: str) -> int:
    cur = db.execute(
        "UPDATE deliveries SET status = 'cancelled' WHERE kind = ? AND ref LIKE ? AND status = 'pending'",
        [kind, ref_prefix + "%"],
    )
    return cur.rowcount


def counts(db) -> dict[str, int]:
    return {row["status"]: row["n"] for row in db.query("SELECT status, count(*) AS n FROM deliveries GROUP BY status")}
