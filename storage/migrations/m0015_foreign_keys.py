"""Foreign keys declared in the schema, so that Datasette (and anyone reading the file) links rows.

SQLite cannot add a constraint to an existing table: each table below is rebuilt the way
SQLite's documentation describes (key checks off, a new table with the constraints, rows
copied, old table dropped, the new one renamed, indexes and triggers recreated), all in one
transaction, and ``PRAGMA foreign_key_check`` must find nothing before it commits.

Declared (every one ``DEFERRABLE INITIALLY DEFERRED``: checked when a transaction commits,
so that a sync may replace a parent row within its transaction):

* ``users.country`` -> ``ref_countries.iso3``
* ``queries.country`` -> ``ref_countries.iso3``
* ``milestones.iso3`` and ``milestone_history.iso3`` -> ``ref_countries.iso3``;
  ``milestones.step_id`` and ``milestone_history.step_id`` -> ``milestone_steps.step_id``
* (already declared by m0003: a query's tags, messages, attachments, events, rating -> ``queries.id``)

Not declared: references to people (``queries.asker_id``, ``assignee_id``, ``first_response_by``,
the actors of audit rows). Their parent row is not guaranteed: an expert may answer or take a
query in the experts' group before the bot stored them, and forgetting someone deletes their
row while a forgotten asker is kept as 0. A key there would turn such a write into a failed
transaction (an expert's reply lost). The dashboard links them all the same
(:data:`storage.dashboard.LINKS`); the parents declared above are derived data the bot keeps
complete (the country registry, the checklist template).

Rows that already point nowhere are kept: a country code missing from ``ref_countries``
gets a row named by its code (region "(not in the registry)"), a step missing from
``milestone_steps`` an inactive row titled by its id. An empty ``ref_countries`` (``milestone_steps``) is filled here
from the default ``knowledge/countries.yaml`` (``checklist.yaml``), so that a database is consistent from this migration on; the
bot and every command refresh it from the configured registry when they open the database
(``bot.people.sync_country_registry``, called by ``bot.wiring.build_services``; the steps
when the milestones feature starts).
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

import datetime as dt
import re

from knowledge.checklist import load_checklist
from knowledge.countries import load_countries
from storage.milestones import sync_steps
from storage.ops import sync_countries

# table -> [(column, parent table, parent column)]
FOREIGN_KEYS: dict[str, list[tuple[str, str, str]]] = {
    "users": [("country", "ref_countries", "iso3")],
    "queries": [("country", "ref_countries", "iso3")],
    "milestones": [("iso3", "ref_countries", "iso3"), ("step_id", "milestone_steps", "step_id")],
    "milestone_history": [("iso3", "ref_countries", "iso3"), ("step_id", "milestone_steps", "step_id")],
}
UNKNOWN_REGION = "(not in the registry)"

_CREATE = re.compile(r'^\s*CREATE\s+TABLE\s+"?(\w+)"?\s*\(', re.I)


def _tables(db) -> set[str]:
    return {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _stamp() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _keep_dangling_rows(db, tables: set[str]) -> None:
    """Give every code and step that points nowhere a row of its own."""
    stamp = _stamp()
    if "ref_countries" in tables:
        for table, links in FOREIGN_KEYS.items():
            for column, parent, _ in links:
                if parent == "ref_countries" and table in tables:
                    db.execute(
                        f'INSERT OR IGNORE INTO ref_countries (iso3, name, annex, region, list_group, pilot, workshop, '
                        f'timezone, synced_at) SELECT DISTINCT "{column}", "{column}", \'?\', ?, \'\', 0, \'\', \'UTC\', ? '
                        f'FROM "{table}" WHERE "{column}" IS NOT NULL', [UNKNOWN_REGION, stamp])
    if "milestone_steps" in tables:
        for table in ("milestones", "milestone_history"):
            if table in tables:
                db.execute(
                    "INSERT OR IGNORE INTO milestone_steps (step_id, position, phase, default_due, title, active, synced_at) "
                    f"SELECT DISTINCT step_id, 999, '', '9999-12-31', step_id, 0, ? FROM \"{table}\"", [stamp])


def _with_keys(create_sql: str, keys: list[tuple[str, str, str]]) -> str:
    """The table's CREATE statement with FOREIGN KEY clauses appended."""
    end = create_sql.rstrip().rindex(")")
    clauses = "".join(f'\n    , FOREIGN KEY ("{c}") REFERENCES "{p}"("{pc}") DEFERRABLE INITIALLY DEFERRED'
                      for c, p, pc in keys)
    return create_sql[:end] + clauses + "\n)"


def _rebuild(db, table: str, keys: list[tuple[str, str, str]]) -> None:
    declared = {row[3] for row in db.execute(f'PRAGMA foreign_key_list("{table}")')}
    keys = [k for k in keys if k[0] not in declared]
    if not keys:
        return
    create_sql = db.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", [table]).fetchone()[0]
    if not _CREATE.match(create_sql):
        raise RuntimeError(f"m0015: unexpected schema of {table}: {create_sql[:80]}")
    extras = [r[0] for r in db.execute(
        "SELECT sql FROM sqlite_master WHERE tbl_name = ? AND type IN ('index', 'trigger') AND sql IS NOT NULL "
        "ORDER BY type, name", [table])]
    columns = ", ".join(f'"{r[1]}"' for r in db.execute(f'PRAGMA table_info("{table}")'))
    new = f"_new_{table}"
    db.execute(_CREATE.sub(f'CREATE TABLE "{new}" (', _with_keys(create_sql, keys), count=1))
    db.execute(f'INSERT INTO "{new}" ({columns}) SELECT {columns} FROM "{table}"')
    db.execute(f'DROP TABLE "{table}"')  # its indexes and triggers go with it
    db.execute(f'ALTER TABLE "{new}" RENAME TO "{table}"')
    for sql in extras:
        db.execute(sql)



@contextlib.contextmanager
def keys_off(db, migration: str) -> Iterator[None]:
    """A transaction of its own with key checks off, for rebuilding tables; every key holds at its end.

    SQLite only lets a connection switch ``PRAGMA foreign_keys`` outside a transaction, so the
    transaction the migration runner opened (nothing written in it yet) is committed first, and a
    new one is left open for the runner to record the migration in.
    """
    conn = db.conn
    if conn.in_transaction:
        conn.execute("COMMIT")
    conn.execute("PRAGMA foreign_keys = OFF")
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
            broken = db.execute("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"{migration}: rows point nowhere after the rebuild: {broken[:10]}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    finally:
        conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("BEGIN IMMEDIATE")

def apply(db) -> None:
    """Rebuild the tables with their keys in one transaction of its own, with key checks off meanwhile.

    SQLite only lets a connection switch ``PRAGMA foreign_keys`` outside a transaction, so
    the transaction the migration runner opened (nothing written in it yet) is committed
    first, and a new one is left open for the runner to record the migration in. Should
    the process stop between the two, running again finds the keys declared and does nothing.
    """
    with keys_off(db, "m0015"):
        tables = _tables(db)
        if "ref_countries" in tables and not db.execute("SELECT 1 FROM ref_countries LIMIT 1").fetchone():
            sync_countries(db, load_countries(), dt.datetime.now(dt.timezone.utc))
        if "milestone_steps" in tables and not db.execute("SELECT 1 FROM milestone_steps LIMIT 1").fetchone():
            sync_steps(db, load_checklist(), dt.datetime.now(dt.timezone.utc))
        _keep_dangling_rows(db, tables)
        for table, keys in FOREIGN_KEYS.items():
            if table in tables:
                _rebuild(db, table, [k for k in keys if k[1] in tables])
