"""A new database is a copy of the schema template kept beside it (storage/db.py): the same
schema and rows as migrating step by step, its migrations dated now; the template is made by
the first new database and never from one already used."""
from __future__ import annotations

import datetime as dt
import sqlite3

from storage import db as storage_db
from storage.db import CACHE_DIR, latest_version, migrate, open_db

NOW = dt.datetime(2026, 12, 4, 20, 0, tzinfo=dt.timezone.utc)
LATER = dt.datetime(2026, 12, 5, 9, 30, tzinfo=dt.timezone.utc)
DATED = {"synced_at", "applied_at"}  # when the rows were written: the one thing a copy does not share


def _contents(path) -> tuple[list, dict]:
    conn = sqlite3.connect(path)
    try:
        schema = sorted(conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"))
        rows = {}
        for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"):
            columns = [c[1] for c in conn.execute(f'PRAGMA table_info("{table}")') if c[1] not in DATED]
            listed = ", ".join(f'"{c}"' for c in columns)
            rows[table] = sorted(conn.execute(f'SELECT {listed} FROM "{table}"'), key=repr)
        return schema, rows
    finally:
        conn.close()


def _templates(folder) -> list:
    return sorted((folder / CACHE_DIR).glob("schema-*.db"))


def test_the_second_new_database_is_the_templates_copy_with_the_same_schema_and_rows(tmp_path):
    first = open_db(tmp_path / "first.db")
    applied = migrate(first, NOW)
    first.conn.close()
    assert len(applied) >= 19 and len(_templates(tmp_path)) == 1

    second = open_db(tmp_path / "second.db")
    assert migrate(second, LATER) == applied  # reported as applied, from the template
    assert second.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert {row[0] for row in second.execute("SELECT applied_at FROM _migrations")} == {"2026-12-05T09:30:00Z"}
    assert second.execute("SELECT max(version) FROM _migrations").fetchone()[0] == latest_version()
    assert migrate(second, LATER) == []  # idempotent as ever
    second.conn.close()
    assert _contents(tmp_path / "second.db") == _contents(tmp_path / "first.db")


def test_a_used_database_makes_no_template_and_a_damaged_one_is_migrated_step_by_step(tmp_path):
    used = open_db(tmp_path / "used.db")
    migrate(used, NOW, upto=3)  # part of the way: an older database
    assert _templates(tmp_path) == []
    migrate(used, NOW)
    assert _templates(tmp_path) == []  # brought up to date, not new: no template from it
    used.conn.close()

    (tmp_path / CACHE_DIR).mkdir(exist_ok=True)
    fresh = open_db(tmp_path / "fresh.db")
    storage_db._template_path(fresh).write_bytes(b"not a database")
    assert len(migrate(fresh, NOW)) >= 19  # step by step, then a good template
    fresh.conn.close()
    template = _templates(tmp_path)
    assert len(template) == 1 and template[0].read_bytes()[:15] == b"SQLite format 3"
    assert _contents(tmp_path / "fresh.db") == _contents(tmp_path / "used.db")
