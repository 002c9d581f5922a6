"""The dashboard's SQLite guard: every connection refuses writes, and secret columns read as NULL.

Installed on each of Datasette's connections (``prepare_connection``), so it holds for table
pages, canned queries *and* any SQL typed into the browser.
"""
from __future__ import annotations

import sqlite3

from bot.dashboard.metadata import SECRET_COLUMNS

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


