"""All SQL of the intake: awaited inputs, offers on a person's message, blocked people, and the
two helpdesk facts the intake reads (a person's queries of the day, their active queries).
Tables: ``storage/migrations/m0013_intake.py``. The rules are in :mod:`bot.intake`."""
from __future__ import annotations

import datetime as dt
import json
from typing import Any, Iterable

from knowledge.vocabulary import ACTIVE_STATES
from storage.db import utcnow_iso


def _rows(db, sql: str, args: Iterable[Any] = ()) -> list[dict]:
    return list(db.query(sql, list(args)))


# -- awaited inputs --------------------------------------------------------------------------------


def put_awaited(db, user_id: int, name: str, subject: str, data: dict, now: dt.datetime, expires: dt.datetime) -> None:
    """The person's one awaited input (a new prompt replaces the previous one)."""
    db.execute(
        """INSERT INTO awaited_inputs (user_id, name, subject, data, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT(user_id) DO UPDATE SET name = excluded.name, subject = excluded.subject, data = excluded.data,
           created_at = excluded.created_at, expires_at = excluded.expires_at""",
        [user_id, name, subject, json.dumps(data, ensure_ascii=False, default=str), utcnow_iso(now), utcnow_iso(expires)])


def _awaited(row: dict) -> dict:
    try:
        data = json.loads(row.get("data") or "{}")
    except ValueError:
        data = {}
    return {**row, "data": data if isinstance(data, dict) else {}}


def get_awaited(db, user_id: int) -> dict | None:
    rows = _rows(db, "SELECT * FROM awaited_inputs WHERE user_id = ?", [user_id])
    return _awaited(rows[0]) if rows else None


def delete_awaited(db, user_id: int) -> bool:
    return db.execute("DELETE FROM awaited_inputs WHERE user_id = ?", [user_id]).rowcount == 1


def live_awaited(db, now: dt.datetime) -> list[dict]:
    """Every prompt still waiting for its answer (the bot restores them at start-up)."""
    return [_awaited(r) for r in _rows(db, "SELECT * FROM awaited_inputs WHERE expires_at > ? ORDER BY user_id", [utcnow_iso(now)])]


def drop_expired(db, now: dt.datetime) -> int:
    cur = db.execute("DELETE FROM awaited_inputs WHERE expires_at <= ?", [utcnow_iso(now)])
    cur2 = db.execute("DELETE FROM intake_offers WHERE expires_at <= ?", [utcnow_iso(now)])
    return cur.rowcount + cur2.rowcount


# -- offers -------------------------------------------------------------------------------------------


def put_offer(db, *, user_id: int, chat_id: int, message_id: int, kind: str, text: str, lang: str | None,
              candidates: list[str], attachment: dict | None, now: dt.datetime, expires: dt.datetime) -> None:
    db.execute(
        """INSERT INTO intake_offers (user_id, chat_id, message_id, kind, text, lang, candidates, attachment, created_at, expires_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(user_id, message_id) DO UPDATE SET text = excluded.text,
           kind = excluded.kind, lang = excluded.lang, candidates = excluded.candidates, attachment = excluded.attachment,
           expires_at = excluded.expires_at""",
        [user_id, chat_id, message_id, kind, text, lang, json.dumps(list(candidates)),
         json.dumps(attachment) if attachment else None, utcnow_iso(now), utcnow_iso(expires)])


def take_offer(db, user_id: int, message_id: int, now: dt.datetime) -> dict | None:
    """The offer on the person's message (once: it is removed), None if gone or expired."""
    rows = _rows(db, "SELECT * FROM intake_offers WHERE user_id = ? AND message_id = ?", [user_id, message_id])
    if not rows:
        return None
    db.execute("DELETE FROM intake_offers WHERE user_id = ? AND message_id = ?", [user_id, message_id])
    row = dict(rows[0])
    if row["expires_at"] <= utcnow_iso(now):
        return None
    try:
        row["candidates"] = json.loads(row.get("candidates") or "[]")
        row["attachment"] = json.loads(row["attachment"]) if row.get("attachment") else None
    except ValueError:
        row["candidates"], row["attachment"] = [], None
    return row


def offer_exists(db, user_id: int, message_id: int) -> bool:
    return bool(_rows(db, "SELECT 1 FROM intake_offers WHERE user_id = ? AND message_id = ?", [user_id, message_id]))


def delete_offers(db, user_id: int) -> int:
    return db.execute("DELETE FROM intake_offers WHERE user_id = ?", [user_id]).rowcount


# -- blocked people --------------------------------------------------------------------------------


def is_blocked(db, user_id: int) -> bool:
    return bool(_rows(db, "SELECT 1 FROM blocked_users WHERE user_id = ?", [user_id]))


def blocked_ids(db) -> list[int]:
    return [r["user_id"] for r in _rows(db, "SELECT user_id FROM blocked_users ORDER BY user_id")]


def block(db, user_id: int, by_user: int | None, how: str, query_id: int | None, now: dt.datetime) -> bool:
    """Block a person (True if they were not blocked), with its event row."""
    cur = db.execute("INSERT INTO blocked_users (user_id, blocked_at, blocked_by, query_id) VALUES (?, ?, ?, ?) "
                     "ON CONFLICT(user_id) DO NOTHING", [user_id, utcnow_iso(now), by_user, query_id])
    if cur.rowcount != 1:
        return False
    _event(db, user_id, "block", by_user, how, query_id, now)
    return True


def unblock(db, user_id: int, by_user: int | None, how: str, now: dt.datetime) -> bool:
    if db.execute("DELETE FROM blocked_users WHERE user_id = ?", [user_id]).rowcount != 1:
        return False
    _event(db, user_id, "unblock", by_user, how, None, now)
    return True


def _event(db, user_id: int, action: str, by_user: int | None, how: str, query_id: int | None, now: dt.datetime) -> None:
    db.execute("INSERT INTO block_events (user_id, action, by_user, how, query_id, at) VALUES (?, ?, ?, ?, ?, ?)",
               [user_id, action, by_user, how, query_id, utcnow_iso(now)])


def block_events(db, user_id: int) -> list[dict]:
    return _rows(db, "SELECT * FROM block_events WHERE user_id = ? ORDER BY id", [user_id])


# -- what the intake reads of the helpdesk -----------------------------------------------------------


def active_queries(db, asker_id: int, country: str | None, limit: int = 3) -> list[dict]:
    """The person's new, open or pending queries (for ``country``), newest first."""
    return _rows(db, f"""SELECT id, text, state FROM queries WHERE asker_id = ? AND country IS ?
                         AND state IN ({','.join('?' * len(ACTIVE_STATES))}) ORDER BY id DESC LIMIT ?""",
                 [asker_id, country, *ACTIVE_STATES, limit])


def queries_since(db, asker_id: int, since: dt.datetime) -> int:
    """How many queries the person created since ``since``."""
    row = db.execute("SELECT count(*) FROM queries WHERE asker_id = ? AND created_at >= ?", [asker_id, utcnow_iso(since)]).fetchone()
    return int(row[0])


def mark_unverified(db, query_id: int) -> None:
    db.execute("UPDATE queries SET unverified = 1 WHERE id = ?", [query_id])


def update_asker_message(db, chat_id: int, message_id: int, text: str) -> dict | None:
    """An edited message of the asker that belongs to a query: its new text (the query's own text
    too when it was the question); the routing row, or None if the message is no query's."""
    rows = _rows(db, "SELECT * FROM query_messages WHERE chat_id = ? AND message_id = ? AND role = 'asker'", [chat_id, message_id])
    if not rows:
        return None
    row = rows[0]
    db.execute("UPDATE query_messages SET text = ? WHERE id = ?", [text, row["id"]])
    # the question itself (the message the query was made of) changes the query's text too
    db.execute("UPDATE queries SET text = ? WHERE id = ? AND text = ?", [text, row["query_id"], row["text"] or ""])
    return {**row, "text": text}
