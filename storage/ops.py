"""All SQL of the operations feature: status figures, failed deliveries, the country reference table.

Every function takes the sqlite-utils ``Database`` first. Other features' tables may be
absent (a feature not installed, an old database): each figure then reads as ``None``
("not available"), never as an error.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

from storage.db import transaction, utcnow_iso

ANNEX_REGIONS = {"I": "Africa", "II": "Asia", "III": "Latin America and the Caribbean",
                 "IV": "Northern Mediterranean", "V": "Central and Eastern Europe"}
OPEN_QUERY_STATES = ("new", "open", "pending")


def has_table(db, name: str) -> bool:
    return db.execute("SELECT 1 FROM sqlite_master WHERE type IN ('table', 'view') AND name = ?", [name]).fetchone() is not None


def columns(db, table: str) -> list[str]:
    return [row[1] for row in db.execute(f'PRAGMA table_info("{table}")').fetchall()]


def _scalar(db, sql: str, args: list | tuple = ()) -> Any:
    row = db.execute(sql, list(args)).fetchone()
    return row[0] if row else None


# -- the country reference table -------------------------------------------------------------

def sync_countries(db, registry, now: dt.datetime) -> int:
    """Replace ``ref_countries`` with the registry (derived data, rebuilt at every start)."""
    if not has_table(db, "ref_countries"):
        return 0
    stamp = utcnow_iso(now)
    rows = [(c.iso3, c.name("en"), c.annex, ANNEX_REGIONS.get(c.annex, c.annex), c.list_group, int(c.pilot),
             c.workshop, c.timezone, stamp) for c in registry]
    with transaction(db):  # rows other tables still point to (m0015's foreign keys) stay
        db.conn.executemany("INSERT OR REPLACE INTO ref_countries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        stale = f"iso3 NOT IN ({','.join('?' * len(rows)) or 'NULL'})"
        if db.execute(f"SELECT 1 FROM ref_countries WHERE {stale} LIMIT 1", [r[0] for r in rows]).fetchone():
            used = [f'SELECT "{fk[3]}" FROM "{t}" WHERE "{fk[3]}" IS NOT NULL' for t in db.table_names()
                    for fk in db.execute(f'PRAGMA foreign_key_list("{t}")').fetchall() if fk[2] == "ref_countries"]
            db.execute(f"DELETE FROM ref_countries WHERE {stale}" + "".join(f" AND iso3 NOT IN ({sql})" for sql in used),
                       [r[0] for r in rows])
    return len(rows)


# -- figures for the startup line and /status ---------------------------------------------------

def faq_entry_count(db) -> int | None:
    if not has_table(db, "faq_entries"):
        return None
    return _scalar(db, "SELECT count(DISTINCT id) FROM faq_entries")


def event_count(db) -> int | None:
    """Events of the programme's calendar, when the reminders feature keeps them in the database."""
    if has_table(db, "calendar_events"):
        if "status" in columns(db, "calendar_events"):
            return _scalar(db, "SELECT count(*) FROM calendar_events WHERE status = 'active'")
        return _scalar(db, "SELECT count(*) FROM calendar_events")
    return None


def pending_reminders(db) -> int:
    """Reminders waiting to be sent: the ledger's pending rows of kind ``reminder`` and ``snooze``."""
    return _scalar(db, "SELECT count(*) FROM deliveries WHERE status = 'pending' AND kind IN ('reminder', 'snooze')") or 0


def query_queue(db) -> dict[str, int] | None:
    """Helpdesk queue sizes: new, open, pending and overdue (among the unresolved)."""
    if not has_table(db, "queries"):
        return None
    counts = {state: 0 for state in OPEN_QUERY_STATES}
    for row in db.execute("SELECT state, count(*) FROM queries WHERE state IN ('new', 'open', 'pending') GROUP BY state"):
        counts[row[0]] = row[1]
    cols = columns(db, "queries")
    if "overdue" in cols:
        counts["overdue"] = _scalar(db, "SELECT count(*) FROM queries WHERE state IN ('new', 'open', 'pending') AND overdue = 1") or 0
    return counts


#: The ledger's statuses other than ``sent``: what ``status`` counts (sent rows are the bulk of a
#: year's ledger and are never counted, so the count reads the index, not the table).
UNSENT_STATUSES = ("pending", "claimed", "failed", "blocked", "uncertain", "skipped", "cancelled")


def delivery_counts(db) -> dict[str, int]:
    """Rows of the ledger by status, for every status but ``sent``."""
    marks = ",".join("?" * len(UNSENT_STATUSES))
    return {row[0]: row[1] for row in db.execute(
        f"SELECT status, count(*) FROM deliveries WHERE status IN ({marks}) GROUP BY status", UNSENT_STATUSES)}


def user_counts(db) -> dict[str, int]:
    out = {"users": 0, "active": 0, "focal_points": 0}
    row = db.execute("SELECT count(*), sum(active), sum(role = 'focal_point') FROM users").fetchone()
    if row:
        out = {"users": row[0] or 0, "active": row[1] or 0, "focal_points": row[2] or 0}
    out["countries_with_focal_point"] = _scalar(
        db, "SELECT count(DISTINCT country) FROM users WHERE role = 'focal_point' AND country IS NOT NULL AND active = 1") or 0
    return out


# -- failed deliveries ----------------------------------------------------------------------------

RETRYABLE_SQL = "status = 'failed' AND (error IS NULL OR error NOT LIKE '400 %')"


def reason(row: dict) -> str:
    """Why a delivery did not arrive, in plain words for the operator."""
    status, error, chat_id = row.get("status"), row.get("error") or "", row.get("chat_id") or 0
    if status == "blocked":
        return ("the bot was removed from the group" if chat_id < 0 else "the user blocked the bot") + f" ({error})"
    if status == "uncertain":
        return "in flight when the bot stopped: may have arrived, never resent"
    if status == "skipped":
        return f"not sent: {error}"
    if error.startswith("400 "):
        return f"rejected by Telegram, not retryable ({error})"
    return f"retries exhausted ({error or 'unknown error'})"


def failed_deliveries(db, limit: int = 100) -> list[dict]:
    """Deliveries that did not arrive (failed, blocked, uncertain, skipped), newest first, with a reason."""
    rows = list(db.query(
        """SELECT id, kind, ref, chat_id, status, attempts, error, due_at, created_at FROM deliveries
           WHERE status IN ('failed', 'blocked', 'uncertain', 'skipped') ORDER BY id DESC LIMIT ?""", [limit]))
    for row in rows:
        row["reason"] = reason(row)
        row["retryable"] = row["status"] == "failed" and not (row["error"] or "").startswith("400 ")
    return rows


def retryable_ids(db) -> list[int]:
    return [row[0] for row in db.execute(f"SELECT id FROM deliveries WHERE {RETRYABLE_SQL} ORDER BY id")]


def requeue(db, ids: list[int], now: dt.datetime) -> list[int]:
    """Put these failed rows back to pending, due now (only those still failed); return the ids requeued.

    Due now, so that a running bot's delivery run sends them (it skips rows older than its grace window).
    """
    done = []
    with transaction(db):
        for delivery_id in ids:
            cur = db.execute(
                f"UPDATE deliveries SET status = 'pending', due_at = ?, error = 'requeued by operator; was: ' || coalesce(error, '') "
                f"WHERE id = ? AND {RETRYABLE_SQL}", [utcnow_iso(now), delivery_id])
            if cur.rowcount == 1:
                done.append(delivery_id)
    return done


# -- bot_state helpers ----------------------------------------------------------------------------

def state_values(db, keys: list[str]) -> dict[str, str | None]:
    if not has_table(db, "bot_state"):
        return {key: None for key in keys}
    marks = ",".join("?" * len(keys))
    found = {row[0]: row[1] for row in db.execute(f"SELECT key, value FROM bot_state WHERE key IN ({marks})", keys)}
    return {key: found.get(key) for key in keys}


# -- the privacy log ------------------------------------------------------------------------------

def log_forget(db, now: dt.datetime, how: str, detail: dict[str, int]) -> None:
    if not has_table(db, "privacy_log"):
        return
    db.execute("INSERT INTO privacy_log (at, how, rows_changed, detail) VALUES (?, ?, ?, ?)",
               [utcnow_iso(now), how, sum(detail.values()), json.dumps(detail, sort_keys=True)])


# -- archive exports (``ldn-bot export all``) ------------------------------------------------------

ARCHIVE_QUERIES = {
    "query_events": "SELECT id, query_id, at, actor_id, kind, from_value, to_value, detail FROM query_events ORDER BY id",
    "milestone_history": (
        "SELECT id, iso3, step_id, action, previous_status, status, status_date, note, evidence_kind, evidence, "
        "evidence_name, due, changed_by, changed_via, changed_at FROM milestone_history ORDER BY id"),
    "faq_misses": "SELECT id, created_at, kind, lang, country, query, best_score, entry_id FROM faq_misses ORDER BY id",
    "faq_feedback": (
        "SELECT f.id, f.created_at, f.entry_id, e.topic, f.helpful, f.lang, f.country, f.query "
        "FROM faq_feedback f LEFT JOIN faq_entries e ON e.id = f.entry_id AND e.lang = 'en' ORDER BY f.id"),
}


def archive_rows(db, table: str) -> tuple[list[str], list[tuple]]:
    """(column names, rows) of one archived table, in the columns the CSV keeps."""
    cur = db.execute(ARCHIVE_QUERIES[table])
    return [d[0] for d in cur.description], cur.fetchall()


def focal_point_rows(db) -> list[tuple]:
    """Focal points with the time they registered (no chat data beyond the public username)."""
    return db.execute(
        """SELECT u.user_id, u.first_name, u.username, u.country, u.lang, u.timezone, u.active, u.created_at,
                  (SELECT max(at) FROM role_events r WHERE r.user_id = u.user_id AND r.role = 'focal_point') AS registered_at
           FROM users u WHERE u.role = 'focal_point' ORDER BY u.country, u.user_id""").fetchall()


def calendar_event_rows(db) -> list[tuple]:
    return db.execute(
        """SELECT id, kind, status, start_local, end_local, timezone, start_utc, end_utc, title, place, audience,
                  source, version, updated_at FROM calendar_events ORDER BY start_utc, id""").fetchall()
