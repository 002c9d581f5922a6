"""What the dashboard says about the database: table and column descriptions, canned queries.

* :func:`build_metadata` describes every table and column (from the migrations' own comments
  plus :data:`TABLE_DOCS`/:data:`COLUMN_DOCS`) and adds canned queries for the secretariat's
  everyday questions; a query is only offered when the tables it needs exist.
"""
from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

from knowledge.checklist import load_checklist
from knowledge.faq import load_topics
from storage.dashboard import CANNED, LABELS, table_names, topic_names_sql

TITLE = "LDN Target Setting Programme — bot data"

# (table, column) pairs that are never readable through the dashboard.
SECRET_COLUMNS = frozenset({
    ("invites", "token_hash"),
    ("deliveries", "payload"),
})
HIDDEN_TABLES = frozenset({"_migrations", "faq_search_index", "faq_state", "invites"})

TABLE_DOCS: dict[str, str] = {
    "users": "Everyone who talked to the bot: Telegram user id, name, language, role and country (focal points).",
    "role_events": "Every role granted or revoked: by whom, how (invite, command line, chat) and when.",
    "invites": "One-time focal point invitations (only a hash of each token is stored; hidden here).",
    "deliveries": "The outbound ledger: every reminder, broadcast and relayed answer, with its status and error "
                  "(message bodies are not shown).",
    "bot_state": "Small key/value state of the running bot: start time, heartbeat, last update received, last backup.",
    "faq_entries": "The FAQ: one row per entry and language (yaml = from knowledge/faq, promoted = approved helpdesk answers).",
    "faq_misses": "Questions the FAQ could not answer (abstain) or whose answer was marked not helpful: the FAQ's gaps.",
    "faq_feedback": "Helpful / not helpful votes on FAQ answers.",
    "faq_asked": "How often each FAQ entry was given as an answer.",
    "faq_drafts": "Helpdesk answers proposed as new FAQ entries, until approved or rejected.",
    "queries": "Helpdesk queries from focal points to the experts (#N), with state, priority and SLA bookkeeping.",
    "query_tags": "Free tags of helpdesk queries (baseline, soc ...).",
    "query_messages": "Every Telegram message that belongs to a query (routing of replies).",
    "query_attachments": "Files attached to queries (Telegram file ids; never downloaded).",
    "query_events": "The helpdesk audit trail: who changed what, when.",
    "query_ratings": "Askers' 1-5 ratings of the experts' answers, with optional comments.",
    "milestone_steps": "The checklist template's steps (from knowledge/checklist.yaml).",
    "milestones": "Each country's current state of each checklist step (no row = not started).",
    "milestone_history": "Every change of a country's checklist, never edited.",
    "calendar_events": "The programme's calendar (from knowledge/events.yaml, plus edits made in chat).",
    "calendar_event_log": "Every change of the calendar.",
    "reminder_mutes": "Reminder categories users muted.",
    "broadcasts": "The secretariat's broadcasts to segments of users.",
    "group_chats": "Group chats the bot is in, and the peer-exchange circle each is linked to.",
    "directory_optins": "Focal points who chose to be listed in the peer directory.",
    "ref_countries": "The 95 participating countries with their region (UNCCD annex), list group, pilot flag and workshop.",
    "privacy_log": "When personal data were forgotten (/forgetme, ldn-bot user forget): counts only, never whose.",
    "_migrations": "Schema migrations applied to this database.",
}

COLUMN_DOCS: dict[str, dict[str, str]] = {
    "faq_entries": {"id": "entry id (stable across languages)", "lang": "language of this row", "topic": "topic id",
                    "source": "where the answer comes from (document, section)", "q": "the question", "alts": "other phrasings (JSON list)",
                    "a": "the answer", "origin": "yaml | promoted", "position": "order in its file"},
    "faq_misses": {"kind": "abstain (no answer) | not_helpful (an answer was voted down)", "query": "the question as typed",
                   "lang": "language of the asker", "best_score": "search score of the best candidate (0-1)",
                   "country": "ISO3 of the asker, if a focal point", "user_id": "Telegram user id (NULL once forgotten)",
                   "entry_id": "the entry voted down (not_helpful)"},
    "faq_feedback": {"entry_id": "FAQ entry", "helpful": "1 helpful, 0 not helpful", "user_id": "Telegram user id (NULL once forgotten)",
                     "query": "the question that led to the answer"},
    "faq_asked": {"count": "times given as an answer", "last_asked_at": "last time"},
    "faq_drafts": {"texts": "the proposed entry (JSON, per language)", "status": "pending | approved | rejected",
                   "ref": "the helpdesk query it came from"},
    "deliveries": {"payload": "message body (hidden in the dashboard)"},
    "invites": {"token_hash": "SHA-256 of the token (hidden in the dashboard)"},
    "bot_state": {"key": "started_at, heartbeat, stopped_at, last_update_at, last_backup_at ...", "value": "ISO-8601 UTC time or text"},
}

# step id of "national LDN working group established" in knowledge/checklist.yaml
WORKING_GROUP_STEP = "working_group"


def canned_queries(tables: set[str], working_group_step: str = WORKING_GROUP_STEP,
                   topics: dict[str, str] | None = None) -> dict[str, dict[str, Any]]:
    """The secretariat's everyday questions (SQL in :mod:`storage.dashboard`), each only when its tables exist.

    Every query is shown by its title with its SQL folded away (``hide_sql``), and its
    result's ``iso3`` and ``query`` columns link to the country's and the query's page;
    ``topics`` (id -> English name) turns FAQ topic ids into their names.
    """
    out: dict[str, dict[str, Any]] = {}
    for name, spec in CANNED.items():
        if spec["needs"] <= tables:
            out[name] = {"title": spec["title"], "hide_sql": True,
                         "description": spec["description"].replace("{step}", working_group_step),
                         "sql": spec["sql"].strip().replace("{step}", working_group_step)
                                           .replace("{topics}", topic_names_sql(topics or {}))}
    return out


_COMMENT = re.compile(r'^\s*"?([A-Za-z_][A-Za-z0-9_]*)"?\s+[A-Za-z]+.*?--\s*(.+?)\s*$')


def column_comments(create_sql: str | None) -> dict[str, str]:
    """``name TYPE ..., -- comment`` lines of a CREATE TABLE statement."""
    docs: dict[str, str] = {}
    for line in (create_sql or "").splitlines():
        match = _COMMENT.match(line)
        if match and match.group(1).upper() not in ("PRIMARY", "UNIQUE", "CHECK", "FOREIGN", "CONSTRAINT"):
            docs[match.group(1)] = match.group(2)
    return docs


def database_name(db_path: str | Path) -> str:
    return Path(db_path).stem


def build_metadata(conn: sqlite3.Connection, db_name: str, *, working_group_step: str = WORKING_GROUP_STEP,
                   topics: dict[str, str] | None = None) -> dict[str, Any]:
    """Datasette metadata for this database: descriptions, hidden tables and canned queries."""
    tables = table_names(conn)
    tmeta: dict[str, Any] = {}
    for name, sql in sorted(tables.items()):
        if name.startswith("sqlite_"):
            continue
        entry: dict[str, Any] = {}
        if name in TABLE_DOCS:
            entry["description"] = TABLE_DOCS[name]
        cols = column_comments(sql)
        cols.update(COLUMN_DOCS.get(name, {}))
        for table, column in SECRET_COLUMNS:
            if table == name:
                cols[column] = (cols.get(column, "") + " — hidden: always NULL in the dashboard").lstrip(" —")
        if cols:
            entry["columns"] = cols
        if name in HIDDEN_TABLES:
            entry["hidden"] = True
        if name in LABELS:
            entry["label_column"] = LABELS[name]
        if entry:
            tmeta[name] = entry
    return {
        "title": TITLE,
        "description": "Read-only view of the LDN TSP bot's database. Secrets (invite token hashes, message bodies) "
                       "are hidden. Canned queries below answer the secretariat's everyday questions.",
        "databases": {
            db_name: {
                "description": "The bot's database (SQLite). Times are UTC.",
                "tables": tmeta,
                "queries": canned_queries(set(tables), working_group_step, topics),
            }
        },
    }


def working_group_step_from(config) -> str:
    """The checklist step meaning "working group established" (falls back to the first step)."""
    try:
        template = load_checklist(Path(config.knowledge_dir) / "checklist.yaml")
        ids = [s.id for s in template]
    except Exception:  # noqa: BLE001 - the dashboard still works without the checklist
        return WORKING_GROUP_STEP
    if WORKING_GROUP_STEP in ids or not ids:
        return WORKING_GROUP_STEP
    return next((i for i in ids if "working" in i), ids[0])


def topic_names_from(config) -> dict[str, str]:
    """FAQ topic id -> English name, from the configured ``topics.yaml`` (empty without one)."""
    path = Path(config.knowledge_dir) / "topics.yaml" if config is not None else None
    try:
        return {tid: names.get("en") or tid for tid, names in load_topics(path).items()}
    except Exception:  # noqa: BLE001 - the dashboard still works without the names
        return {}
