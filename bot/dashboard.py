"""``ldn-bot dashboard``: the database, read-only, in the browser (Datasette, the ``dashboard`` extra).

* Bound to 127.0.0.1 by default: Datasette has no login here; reach it from elsewhere
  through an SSH tunnel (``ssh -L 8001:127.0.0.1:8001 server``), not by binding 0.0.0.0.
* Read-only twice over: Datasette opens the file with ``mode=ro``, and every connection it
  makes gets an SQLite authorizer that refuses any write.
* Secrets never show: the same authorizer makes secret columns read as NULL, in table pages
  *and* in any SQL typed into the browser (:data:`SECRET_COLUMNS`: invite token hashes, the
  delivery ledger's message payloads); tables holding only secrets are hidden; downloading
  the database file is switched off.
* :func:`build_metadata` describes every table and column (from the migrations' own comments
  plus :data:`TABLE_DOCS`/:data:`COLUMN_DOCS`) and adds canned queries for the secretariat's
  everyday questions; a query is only offered when the tables it needs exist.
"""
from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from typing import Any

TITLE = "LDN Target Setting Programme — bot data"
PLUGIN_NAME = "ldn_bot_dashboard_guard"

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


def canned_queries(tables: set[str], working_group_step: str = WORKING_GROUP_STEP) -> dict[str, dict[str, Any]]:
    """The secretariat's everyday questions, each only when its tables exist."""
    out: dict[str, dict[str, Any]] = {}

    def add(name: str, needs: set[str], title: str, description: str, sql: str) -> None:
        if needs <= tables:
            out[name] = {"title": title, "description": description, "sql": sql.strip()}

    add("overdue_queries_by_region", {"queries", "ref_countries"}, "Overdue helpdesk queries by region",
        "Unresolved queries past their SLA, per UNCCD region, with their numbers.",
        """
SELECT coalesce(c.region, '(no country)') AS region,
       count(*) AS overdue_queries,
       min(q.created_at) AS oldest,
       group_concat('#' || q.id, ' ') AS queries
FROM queries q LEFT JOIN ref_countries c ON c.iso3 = q.country
WHERE q.overdue = 1 AND q.state IN ('new', 'open', 'pending')
GROUP BY region
ORDER BY overdue_queries DESC, region
""")
    add("open_queries_by_region", {"queries", "ref_countries"}, "Open helpdesk queries by region and state",
        "New, open and pending queries per region.",
        """
SELECT coalesce(c.region, '(no country)') AS region,
       sum(q.state = 'new') AS new, sum(q.state = 'open') AS open, sum(q.state = 'pending') AS pending,
       sum(q.overdue = 1) AS overdue
FROM queries q LEFT JOIN ref_countries c ON c.iso3 = q.country
WHERE q.state IN ('new', 'open', 'pending')
GROUP BY region ORDER BY region
""")
    add("working_group_not_established", {"ref_countries", "milestones"},
        "Countries whose national working group is not established",
        f"Countries where the checklist step '{working_group_step}' is neither done nor marked not applicable.",
        f"""
SELECT c.iso3, c.name, c.region, c.pilot,
       coalesce(m.status, 'not_started') AS status, m.status_date, m.due, m.note, m.changed_at
FROM ref_countries c
LEFT JOIN milestones m ON m.iso3 = c.iso3 AND m.step_id = '{working_group_step}'
WHERE coalesce(m.status, 'not_started') NOT IN ('done', 'not_applicable')
ORDER BY c.region, c.name
""")
    add("faq_gaps_by_language", {"faq_misses"}, "FAQ gaps by language",
        "Questions the FAQ could not answer (abstain) or answered unhelpfully, per language.",
        """
SELECT coalesce(lang, '?') AS lang,
       count(*) AS misses,
       sum(kind = 'abstain') AS unanswered,
       sum(kind = 'not_helpful') AS not_helpful,
       count(DISTINCT country) AS countries,
       max(created_at) AS latest
FROM faq_misses
GROUP BY lang
ORDER BY misses DESC
""")
    add("faq_gaps_latest", {"faq_misses"}, "Latest FAQ gaps",
        "The 200 most recent questions without a (helpful) answer, to write new FAQ entries from.",
        """
SELECT created_at, lang, kind, country, query, round(best_score, 2) AS best_score, entry_id
FROM faq_misses ORDER BY id DESC LIMIT 200
""")
    add("satisfaction_by_topic", {"faq_feedback", "faq_entries"}, "FAQ satisfaction by topic",
        "Helpful / not helpful votes on FAQ answers per topic, least satisfying first.",
        """
SELECT coalesce(e.topic, '(removed entry)') AS topic,
       count(*) AS votes,
       sum(f.helpful) AS helpful,
       count(*) - sum(f.helpful) AS not_helpful,
       round(100.0 * sum(f.helpful) / count(*), 1) AS helpful_pct
FROM faq_feedback f
LEFT JOIN (SELECT id, max(topic) AS topic FROM faq_entries GROUP BY id) e ON e.id = f.entry_id
GROUP BY topic
ORDER BY helpful_pct, votes DESC
""")
    add("helpdesk_satisfaction_by_tag", {"query_ratings", "query_tags"}, "Helpdesk satisfaction by topic (tag)",
        "Askers' ratings (1-5) of the experts' answers per query tag.",
        """
SELECT coalesce(t.tag, '(untagged)') AS topic,
       count(r.score) AS ratings,
       round(avg(r.score), 2) AS average,
       sum(r.score <= 2) AS unhappy
FROM query_ratings r LEFT JOIN query_tags t ON t.query_id = r.query_id
WHERE r.score IS NOT NULL
GROUP BY topic
ORDER BY average, ratings DESC
""")
    add("countries_without_focal_point", {"ref_countries", "users"}, "Countries without a registered focal point",
        "Participating countries where no active focal point is registered yet.",
        """
SELECT c.iso3, c.name, c.region, c.pilot
FROM ref_countries c
WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.role = 'focal_point' AND u.country = c.iso3 AND u.active = 1)
ORDER BY c.region, c.name
""")
    add("failed_deliveries", {"deliveries"}, "Failed deliveries",
        "Messages that did not arrive: blocked by the user, bot removed from a group, retries exhausted.",
        """
SELECT id, kind, ref, chat_id, status, attempts, error, due_at
FROM deliveries WHERE status IN ('failed', 'blocked', 'uncertain', 'skipped')
ORDER BY id DESC LIMIT 500
""")
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


def _tables(conn: sqlite3.Connection) -> dict[str, str | None]:
    return {name: sql for name, sql in conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'")}


def build_metadata(conn: sqlite3.Connection, db_name: str, *, working_group_step: str = WORKING_GROUP_STEP) -> dict[str, Any]:
    """Datasette metadata for this database: descriptions, hidden tables and canned queries."""
    tables = _tables(conn)
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
                "queries": canned_queries(set(tables), working_group_step),
            }
        },
    }


def working_group_step_from(config) -> str:
    """The checklist step meaning "working group established" (falls back to the first step)."""
    try:
        from knowledge.checklist import load_checklist

        template = load_checklist(Path(config.knowledge_dir) / "checklist.yaml")
        ids = [s.id for s in template]
    except Exception:  # noqa: BLE001 - the dashboard still works without the checklist
        return WORKING_GROUP_STEP
    if WORKING_GROUP_STEP in ids or not ids:
        return WORKING_GROUP_STEP
    return next((i for i in ids if "working" in i), ids[0])


# -- the guard: read-only, secrets unreadable -------------------------------------------------------

_WRITES = {getattr(sqlite3, name) for name in (
    "SQLITE_INSERT", "SQLITE_UPDATE", "SQLITE_DELETE", "SQLITE_CREATE_INDEX", "SQLITE_CREATE_TABLE",
    "SQLITE_CREATE_TEMP_INDEX", "SQLITE_CREATE_TEMP_TABLE", "SQLITE_CREATE_TEMP_TRIGGER", "SQLITE_CREATE_TEMP_VIEW",
    "SQLITE_CREATE_TRIGGER", "SQLITE_CREATE_VIEW", "SQLITE_DROP_INDEX", "SQLITE_DROP_TABLE", "SQLITE_DROP_TEMP_INDEX",
    "SQLITE_DROP_TEMP_TABLE", "SQLITE_DROP_TEMP_TRIGGER", "SQLITE_DROP_TEMP_VIEW", "SQLITE_DROP_TRIGGER",
    "SQLITE_DROP_VIEW", "SQLITE_ALTER_TABLE", "SQLITE_ATTACH", "SQLITE_DETACH", "SQLITE_CREATE_VTABLE",
    "SQLITE_DROP_VTABLE", "SQLITE_REINDEX", "SQLITE_ANALYZE") if hasattr(sqlite3, name)}


def authorizer(action: int, arg1: str | None, arg2: str | None, _db: str | None, _source: str | None) -> int:
    if action == sqlite3.SQLITE_READ and (arg1, arg2) in SECRET_COLUMNS:
        return sqlite3.SQLITE_IGNORE  # the column reads as NULL
    if action == sqlite3.SQLITE_UPDATE and arg1 in ("sqlite_master", "sqlite_temp_master"):
        return sqlite3.SQLITE_OK  # SQLite itself, when a full-text index is opened (the file is read-only anyway)
    if action in _WRITES:
        return sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_PRAGMA and (arg1 or "").lower() in ("writable_schema", "journal_mode", "wal_checkpoint"):
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


def guard(conn: sqlite3.Connection) -> None:
    conn.set_authorizer(authorizer)


def _register_plugin() -> None:
    """Register the guard as a Datasette plugin (a module object, as Datasette expects), once."""
    import types

    from datasette import hookimpl
    from datasette.plugins import pm

    if pm.get_plugin(PLUGIN_NAME) is not None:
        return

    @hookimpl
    def prepare_connection(conn, database, datasette):
        if database in getattr(datasette, "_ldn_guarded", ()):
            guard(conn)

    plugin = types.ModuleType(PLUGIN_NAME)
    plugin.prepare_connection = prepare_connection
    pm.register(plugin, name=PLUGIN_NAME)


def make_datasette(db_path: str | Path, metadata: dict[str, Any] | None = None, *, config=None):
    """A Datasette over the database: read-only, guarded, with :func:`build_metadata` (tests use ``.client``)."""
    try:
        from datasette.app import Datasette
    except ImportError as exc:
        raise RuntimeError("the dashboard needs Datasette: pip install 'ldn-bot[dashboard]'") from exc
    db_path = Path(db_path)
    name = database_name(db_path)
    if metadata is None:
        conn = sqlite3.connect(f"file:{db_path.resolve()}?mode=ro", uri=True)
        try:
            step = working_group_step_from(config) if config is not None else WORKING_GROUP_STEP
            metadata = build_metadata(conn, name, working_group_step=step)
        finally:
            conn.close()
    _register_plugin()
    ds = Datasette(files=[str(db_path)], metadata=metadata,
                   settings={"allow_download": False, "sql_time_limit_ms": 3000, "default_page_size": 100,
                             "allow_csv_stream": True, "suggest_facets": True})
    ds._ldn_guarded = {name}
    return ds


def write_metadata(db_path: str | Path, out: str | Path, config=None) -> Path:
    """Write the metadata as JSON (for running plain ``datasette`` yourself; it then lacks the guard)."""
    conn = sqlite3.connect(f"file:{Path(db_path).resolve()}?mode=ro", uri=True)
    try:
        step = working_group_step_from(config) if config is not None else WORKING_GROUP_STEP
        meta = build_metadata(conn, database_name(db_path), working_group_step=step)
    finally:
        conn.close()
    for db in meta["databases"].values():
        for table, _column in SECRET_COLUMNS:  # without the guard, deny the tables holding secrets instead
            db["tables"].setdefault(table, {})["allow"] = False
    Path(out).write_text(json.dumps(meta, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return Path(out)


def serve(db_path: str | Path, host: str = "127.0.0.1", port: int = 8001, config=None) -> None:  # pragma: no cover - blocking
    import asyncio

    import uvicorn

    ds = make_datasette(db_path, config=config)
    asyncio.run(ds.invoke_startup())
    uvicorn.run(ds.app(), host=host, port=port, log_level="warning", lifespan="on", workers=1)
