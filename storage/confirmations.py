"""SQL of one-time confirmations (table ``confirmations``, migration m0009)."""
from __future__ import annotations

import datetime as dt

from storage.db import utcnow_iso


def insert(db, nonce: str, user_id: int, action: str, subject: str, now: dt.datetime, expires: dt.datetime) -> None:
    db.execute(
        "INSERT INTO confirmations (nonce, user_id, action, subject, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
        [nonce, user_id, action, subject, utcnow_iso(now), utcnow_iso(expires)],
    )


def use(db, nonce: str, user_id: int, action: str, now: dt.datetime) -> str | None:
    """Mark the nonce used if it is this person's, for this action, unused and unexpired;
    return its subject, or None (nothing changes then)."""
    row = db.execute(
        "UPDATE confirmations SET used_at = ? WHERE nonce = ? AND user_id = ? AND action = ? AND used_at IS NULL"
        " AND expires_at >= ? RETURNING subject",
        [utcnow_iso(now), nonce, user_id, action, utcnow_iso(now)],
    ).fetchone()
    return row[0] if row else None


def prune(db, now: dt.datetime) -> int:
    """Delete confirmations that expired (used or not)."""
    return db.execute("DELETE FROM confirmations WHERE expires_at < ?", [utcnow_iso(now)]).rowcount
