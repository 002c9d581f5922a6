"""SQL on a database *file* opened with plain sqlite3: a backup being made, checked or restored.

The live database goes through :mod:`storage.db`; backups and restores work on other files
and connections (the online backup API), so they use these small helpers instead.
"""
from __future__ import annotations

import sqlite3


def integrity(conn: sqlite3.Connection) -> str:
    """``ok``, or what ``PRAGMA quick_check`` found wrong."""
    return conn.execute("PRAGMA quick_check").fetchone()[0]


def tables(conn: sqlite3.Connection) -> set[str]:
    return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def schema_version_of(conn: sqlite3.Connection) -> int:
    """Highest migration recorded in the file (0 when it has none or cannot say)."""
    try:
        row = conn.execute("SELECT max(version) FROM _migrations").fetchone()
    except sqlite3.DatabaseError:
        return 0
    return (row[0] or 0) if row else 0


def read_state(conn: sqlite3.Connection, key: str) -> str | None:
    try:
        row = conn.execute("SELECT value FROM bot_state WHERE key = ?", [key]).fetchone()
    except sqlite3.DatabaseError:
        return None
    return row[0] if row else None


def write_state(conn: sqlite3.Connection, key: str, value: str, stamp: str) -> None:
    conn.execute(
        "INSERT INTO bot_state (key, value, updated_at) VALUES (?, ?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        [key, value, stamp])


def delete_state(conn: sqlite3.Connection, key: str) -> None:
    conn.execute("DELETE FROM bot_state WHERE key = ?", [key])
