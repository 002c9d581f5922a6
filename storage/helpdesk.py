"""All SQL of the helpdesk: queries, tags, the (chat, message) ↔ query routing table,
attachments, the audit trail and ratings. Tables: ``storage/migrations/m0003_helpdesk.py``.

Functions take the sqlite-utils ``Database`` first and run on the store's thread
(``await services.store.run(fn, ...)``). Multi-statement changes are made by
the services of :mod:`bot.helpdesk`, each called in one transaction (``Store.run``).
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Any, Iterable, overload

from storage.db import utcnow_iso
from knowledge.vocabulary import FOLLOWABLE_STATES, UNANSWERED_STATES, QueryState


QUERY_FIELDS = {
    "asker_id", "country", "lang", "text", "source", "candidates", "state", "priority", "assignee_id",
    "created_at", "updated_at", "first_response_at", "first_response_by", "pending_since", "paused_seconds",
    "resolved_at", "closed_at", "nudged_at", "warned_first", "warned_resolution", "breached_first",
    "breached_resolution", "overdue", "expert_chat_id", "expert_thread_id", "expert_message_id",
    "ack_message_id", "posted_at", "post_attempts",
}


def _rows(db, sql: str, args: Iterable[Any] = ()) -> list[dict]:
    return list(db.query(sql, list(args)))


@overload
def _decode(row: dict) -> dict: ...
@overload
def _decode(row: None) -> None: ...
@overload
def _decode(row: dict | None) -> dict | None: ...
def _decode(row: dict | None) -> dict | None:
    """A query row as the services read it (its candidates decoded); None stays None."""
    if row is None:
        return None
    row = dict(row)
    try:
        row["candidates"] = json.loads(row.get("candidates") or "[]")
    except ValueError:
        row["candidates"] = []
    return row


# -- queries ---------------------------------------------------------------------------


def known_person(db, user_id: int, stamp: str) -> None:
    """The parent row a query's asker or assignee needs (m0018's keys): one known by id only,
    inactive until they write to the bot, if the bot has not stored them yet."""
    db.execute("INSERT OR IGNORE INTO users (user_id, active, created_at, updated_at) VALUES (?, 0, ?, ?)",
               [user_id, stamp, stamp])


# the region /stats groups by (m0022), copied from the country table with the country
_ANNEX_OF_COUNTRY = "(SELECT annex FROM ref_countries WHERE iso3 = ?)"


def insert_query(db, *, asker_id: int, country: str | None, lang: str, text: str, source: str,
                 candidates: list[str], now: dt.datetime, priority: str = "normal") -> int:
    stamp = utcnow_iso(now)
    known_person(db, asker_id, stamp)
    cur = db.execute(
        f"""INSERT INTO queries (asker_id, country, annex, lang, text, source, candidates, state, priority, created_at, updated_at)
           VALUES (?, ?, {_ANNEX_OF_COUNTRY}, ?, ?, ?, ?, 'new', ?, ?, ?)""",
        [asker_id, country, country, lang, text, source, json.dumps(list(candidates), ensure_ascii=False), priority, stamp, stamp],
    )
    return cur.lastrowid


def get_query(db, query_id: int) -> dict | None:
    rows = _rows(db, "SELECT * FROM queries WHERE id = ?", [query_id])
    row = _decode(rows[0] if rows else None)
    if row is not None:
        row["tags"] = tags_of(db, query_id)
    return row


def update_query(db, query_id: int, now: dt.datetime, *, expect_state: str | Iterable[str] | None = None, **fields: Any) -> bool:
    """Set ``fields`` (and ``updated_at``); only if the state is ``expect_state`` when given. True if changed."""
    unknown = set(fields) - QUERY_FIELDS
    if unknown:
        raise ValueError(f"unknown query fields: {sorted(unknown)}")
    fields["updated_at"] = utcnow_iso(now)
    for person in ("asker_id", "assignee_id"):
        if fields.get(person) is not None:
            known_person(db, fields[person], fields["updated_at"])
    sets = ", ".join(f"{name} = ?" for name in fields)
    args = list(fields.values())
    if "country" in fields:
        sets += f", annex = {_ANNEX_OF_COUNTRY}"
        args.append(fields["country"])
    sql = f"UPDATE queries SET {sets} WHERE id = ?"
    args.append(query_id)
    if expect_state is not None:
        states = [expect_state] if isinstance(expect_state, str) else list(expect_state)
        sql += f" AND state IN ({','.join('?' * len(states))})"
        args.extend(states)
    return db.execute(sql, args).rowcount == 1


def set_posted(db, query_id: int, now: dt.datetime, *, chat_id: int, message_id: int, thread_id: int | None) -> None:
    db.execute(
        "UPDATE queries SET expert_chat_id = ?, expert_message_id = ?, expert_thread_id = coalesce(?, expert_thread_id), posted_at = ? WHERE id = ?",
        [chat_id, message_id, thread_id, utcnow_iso(now), query_id],
    )


def note_post_attempt(db, query_id: int) -> int:
    db.execute("UPDATE queries SET post_attempts = post_attempts + 1 WHERE id = ?", [query_id])
    return db.execute("SELECT post_attempts FROM queries WHERE id = ?", [query_id]).fetchone()[0]


def set_thread(db, query_id: int, chat_id: int, thread_id: int, now: dt.datetime) -> None:
    db.execute("UPDATE queries SET expert_chat_id = ?, expert_thread_id = ? WHERE id = ?", [chat_id, thread_id, query_id])


def unposted(db, limit: int = 50) -> list[dict]:
    return [_decode(r) for r in _rows(db, "SELECT * FROM queries INDEXED BY idx_queries_unposted WHERE posted_at IS NULL AND state != ? "
                                      "ORDER BY id LIMIT ?",
                                      [QueryState.CLOSED.value, limit])]


def asker_queries(db, asker_id: int, country: str | None, limit: int = 20) -> list[dict]:
    """The asker's own queries in ``country`` (a focal point never sees another country's), newest first."""
    return [_decode(r) for r in _rows(
        db, "SELECT * FROM queries WHERE asker_id = ? AND country IS ? ORDER BY id DESC LIMIT ?", [asker_id, country, limit])]


def followable(db, asker_id: int, country: str | None) -> list[dict]:
    """Queries a new message of the asker may continue: active or resolved (not closed), newest first."""
    return [_decode(r) for r in _rows(
        db,
        f"SELECT * FROM queries WHERE asker_id = ? AND country IS ? AND state IN ({','.join('?' * len(FOLLOWABLE_STATES))}) ORDER BY id DESC",
        [asker_id, country, *FOLLOWABLE_STATES],
    )]


def queue(db, *, states: Iterable[str] | None = None, country: str | None = None, tag: str | None = None,
          assignee_id: int | None = None, overdue: bool = False, limit: int = 10, offset: int = 0) -> tuple[list[dict], int]:
    """Queries matching the filters, newest first, and the total count."""
    where: list[str] = ["1=1"]
    args: list[Any] = []
    if states:
        states = list(states)
        where.append(f"q.state IN ({','.join('?' * len(states))})")
        args.extend(states)
    if country:
        where.append("q.country = ?")
        args.append(country)
    if tag:
        where.append("EXISTS (SELECT 1 FROM query_tags t WHERE t.query_id = q.id AND t.tag = ?)")
        args.append(tag)
    if assignee_id is not None:
        where.append("q.assignee_id = ?")
        args.append(assignee_id)
    if overdue:
        where.append("q.overdue = 1")
    cond = " AND ".join(where)
    total = db.execute(f"SELECT count(*) FROM queries q WHERE {cond}", args).fetchone()[0]
    rows = [_decode(r) for r in _rows(db, f"SELECT q.* FROM queries q WHERE {cond} ORDER BY q.id DESC LIMIT ? OFFSET ?", [*args, limit, offset])]
    for row in rows:
        row["tags"] = tags_of(db, row["id"])
    return rows, total


def queue_counts(db, *, states: Iterable[str] | None = None, country: str | None = None, tag: str | None = None,
                 assignee_id: int | None = None, overdue: bool = False, active: Iterable[str] = (),
                 oldest: int = 5) -> tuple[list[dict], list[dict], list[dict]]:
    """What /queue counts above its page, for the filters of :func:`queue`: ``(by_state,
    by_priority, late)``: one row per (state, overdue) with its count ``n`` (the (state, overdue)
    index answers it alone), one per priority of the queries in an ``active`` state, and the
    ``oldest`` overdue queries in an ``active`` state (oldest first)."""
    where: list[str] = ["1=1"]
    args: list[Any] = []
    if states:
        states = list(states)
        where.append(f"q.state IN ({','.join('?' * len(states))})")
        args.extend(states)
    if country:
        where.append("q.country = ?")
        args.append(country)
    if tag:
        where.append("EXISTS (SELECT 1 FROM query_tags t WHERE t.query_id = q.id AND t.tag = ?)")
        args.append(tag)
    if assignee_id is not None:
        where.append("q.assignee_id = ?")
        args.append(assignee_id)
    if overdue:
        where.append("q.overdue = 1")
    cond = " AND ".join(where)
    by_state = _rows(db, f"SELECT q.state, q.overdue, count(*) AS n FROM queries q WHERE {cond} GROUP BY q.state, q.overdue", args)
    active = list(active) or [QueryState.NEW]
    live = f"{cond} AND q.state IN ({','.join('?' * len(active))})"
    by_priority = _rows(db, f"SELECT q.priority, count(*) AS n FROM queries q WHERE {live} GROUP BY q.priority", [*args, *active])
    late = _rows(db, f"SELECT q.id, q.country, q.priority, q.state, q.created_at FROM queries q WHERE {live} AND q.overdue = 1 "
                     "ORDER BY q.created_at, q.id LIMIT ?", [*args, *active, oldest])
    return by_state, by_priority, late


def in_states(db, states: Iterable[str]) -> list[dict]:
    states = list(states)
    return [_decode(r) for r in _rows(db, f"SELECT * FROM queries INDEXED BY idx_queries_state WHERE state IN ({','.join('?' * len(states))}) ORDER BY id",
                                      states)]  # the index: with statistics SQLite preferred reading every query in id order


def all_queries(db, since: dt.datetime | None = None) -> list[dict]:
    if since is None:
        rows = _rows(db, "SELECT * FROM queries ORDER BY id")
    else:
        rows = _rows(db, "SELECT * FROM queries WHERE created_at >= ? ORDER BY id", [utcnow_iso(since)])
    return [_decode(r) for r in rows]


# -- tags ------------------------------------------------------------------------------


def tags_of(db, query_id: int) -> list[str]:
    return [r["tag"] for r in _rows(db, "SELECT tag FROM query_tags WHERE query_id = ? ORDER BY tag", [query_id])]


def all_tags(db) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for r in _rows(db, "SELECT query_id, tag FROM query_tags ORDER BY query_id, tag"):
        out.setdefault(r["query_id"], []).append(r["tag"])
    return out


def add_tag(db, query_id: int, tag: str) -> bool:
    return db.execute("INSERT OR IGNORE INTO query_tags (query_id, tag) VALUES (?, ?)", [query_id, tag]).rowcount == 1


def remove_tag(db, query_id: int, tag: str) -> bool:
    return db.execute("DELETE FROM query_tags WHERE query_id = ? AND tag = ?", [query_id, tag]).rowcount == 1


# -- events (the audit trail) -------------------------------------------------------------


def add_event(db, query_id: int, now: dt.datetime, actor_id: int | None, kind: str,
              from_value: Any = None, to_value: Any = None, detail: str | None = None) -> int:
    cur = db.execute(
        "INSERT INTO query_events (query_id, at, actor_id, kind, from_value, to_value, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [query_id, utcnow_iso(now), actor_id, kind,
         None if from_value is None else str(from_value), None if to_value is None else str(to_value), detail],
    )
    return cur.lastrowid


def events(db, query_id: int) -> list[dict]:
    return _rows(db, "SELECT * FROM query_events WHERE query_id = ? ORDER BY id", [query_id])


# -- the routing table ----------------------------------------------------------------------


def add_message(db, query_id: int, *, chat_id: int, message_id: int, role: str, now: dt.datetime,
                author_id: int | None = None, kind: str = "text", text: str | None = None,
                delivery_status: str | None = None) -> bool:
    """Record that (chat_id, message_id) belongs to the query; False if that message was already recorded."""
    cur = db.execute(
        """INSERT INTO query_messages (query_id, chat_id, message_id, role, author_id, kind, text, delivery_status, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(chat_id, message_id) DO NOTHING""",
        [query_id, chat_id, message_id, role, author_id, kind, text, delivery_status, utcnow_iso(now)],
    )
    return cur.rowcount == 1


def route(db, chat_id: int, message_id: int) -> dict | None:
    """The routing row of a message (``query_id``, ``role`` ...), or None."""
    rows = _rows(db, "SELECT * FROM query_messages WHERE chat_id = ? AND message_id = ?", [chat_id, message_id])
    return rows[0] if rows else None


def messages(db, query_id: int, roles: Iterable[str] | None = None) -> list[dict]:
    if roles is None:
        return _rows(db, "SELECT * FROM query_messages WHERE query_id = ? ORDER BY id", [query_id])
    roles = list(roles)
    return _rows(db, f"SELECT * FROM query_messages WHERE query_id = ? AND role IN ({','.join('?' * len(roles))}) ORDER BY id",
                 [query_id, *roles])


def set_ack_message(db, query_id: int, message_id: int) -> None:
    """The bot's acknowledgement to the asker (its buttons are edited later)."""
    db.execute("UPDATE queries SET ack_message_id = ? WHERE id = ?", [message_id, query_id])


SLA_FLAGS = ("warned_first", "warned_resolution", "breached_first", "breached_resolution")


def set_flag_once(db, query_id: int, flag: str, now: dt.datetime) -> bool:
    """Set one SLA flag (while the query is new or open; a breach also marks it overdue)
    or ``nudged_at`` (while it is pending); True only for the call that set it."""
    if flag in SLA_FLAGS:
        extra = ", overdue = 1" if flag.startswith("breached") else ""
        cur = db.execute(f"UPDATE queries SET {flag} = 1{extra} WHERE id = ? AND {flag} = 0 AND state IN (?, ?)",
                         [query_id, *UNANSWERED_STATES])
    elif flag == "nudged_at":
        cur = db.execute("UPDATE queries SET nudged_at = ? WHERE id = ? AND state = ? AND nudged_at IS NULL",
                         [utcnow_iso(now), query_id, QueryState.PENDING.value])
    else:
        raise ValueError(flag)
    return cur.rowcount == 1


def set_delivery_status(db, chat_id: int, message_id: int, status: str) -> None:
    db.execute("UPDATE query_messages SET delivery_status = ? WHERE chat_id = ? AND message_id = ?", [status, chat_id, message_id])


def pending_followups(db, limit: int = 100) -> list[dict]:
    """The asker's follow-ups not yet copied to the experts' chat, of queries already posted there."""
    return _rows(db, """SELECT m.* FROM query_messages m JOIN queries q ON q.id = m.query_id
                        WHERE m.role = 'asker' AND m.delivery_status = 'pending' AND q.posted_at IS NOT NULL
                        ORDER BY m.id LIMIT ?""", [limit])


def undelivered_expert_messages(db, limit: int = 50) -> list[dict]:
    return _rows(db, "SELECT * FROM query_messages WHERE role = 'expert' AND delivery_status = 'failed' ORDER BY id LIMIT ?", [limit])


# -- attachments ------------------------------------------------------------------------------


def add_attachment(db, query_id: int, *, chat_id: int, message_id: int, kind: str, file_id: str, now: dt.datetime,
                   author_id: int | None = None, file_unique_id: str | None = None, file_name: str | None = None,
                   mime_type: str | None = None, file_size: int | None = None) -> int | None:
    cur = db.execute(
        """INSERT INTO query_attachments (query_id, chat_id, message_id, author_id, kind, file_id, file_unique_id,
                                          file_name, mime_type, file_size, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(chat_id, message_id) DO NOTHING""",
        [query_id, chat_id, message_id, author_id, kind, file_id, file_unique_id, file_name, mime_type, file_size, utcnow_iso(now)],
    )
    return cur.lastrowid if cur.rowcount == 1 else None


def attachments(db, query_id: int) -> list[dict]:
    return _rows(db, "SELECT * FROM query_attachments WHERE query_id = ? ORDER BY id", [query_id])


def attachment_counts(db) -> dict[int, int]:
    return {r["query_id"]: r["n"] for r in _rows(db, "SELECT query_id, count(*) AS n FROM query_attachments GROUP BY query_id")}


# -- ratings ------------------------------------------------------------------------------------


def rating_asked(db, query_id: int, user_id: int, now: dt.datetime) -> bool:
    """Record that the rating was asked; False if it had been asked before (it is asked once)."""
    cur = db.execute("INSERT INTO query_ratings (query_id, user_id, asked_at) VALUES (?, ?, ?) ON CONFLICT(query_id) DO NOTHING",
                     [query_id, user_id, utcnow_iso(now)])
    return cur.rowcount == 1


def get_rating(db, query_id: int) -> dict | None:
    rows = _rows(db, "SELECT * FROM query_ratings WHERE query_id = ?", [query_id])
    return rows[0] if rows else None


def set_score(db, query_id: int, score: int, now: dt.datetime) -> bool:
    """Store the score if none was given yet; True if stored."""
    return db.execute("UPDATE query_ratings SET score = ?, rated_at = ? WHERE query_id = ? AND score IS NULL",
                      [score, utcnow_iso(now), query_id]).rowcount == 1


def set_comment(db, query_id: int, comment: str, now: dt.datetime) -> bool:
    return db.execute("UPDATE query_ratings SET comment = ?, commented_at = ? WHERE query_id = ? AND score IS NOT NULL AND comment IS NULL",
                      [comment, utcnow_iso(now), query_id]).rowcount == 1


def all_ratings(db) -> dict[int, dict]:
    return {r["query_id"]: r for r in _rows(db, "SELECT * FROM query_ratings")}


# -- the delivery ledger rows of helpdesk answers (retried by the helpdesk tick) ----------------


def delivery_for(db, kind: str, ref: str) -> dict | None:
    rows = _rows(db, "SELECT * FROM deliveries WHERE kind = ? AND ref = ?", [kind, ref])
    return rows[0] if rows else None


def requeue_delivery(db, delivery_id: int) -> bool:
    """A failed helpdesk delivery back to pending (transient errors only; the tick retries it)."""
    return db.execute("UPDATE deliveries SET status = 'pending' WHERE id = ? AND status = 'failed'", [delivery_id]).rowcount == 1
