"""Open the SQLite database and bring its schema up to date.

One connection per process, used from one worker thread (see :class:`Store`) so that
blocking SQLite work never runs on the asyncio event loop. WAL mode lets readers
(``ldn-bot status``, Datasette, backups) look while the bot writes.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import functools
import hashlib
import importlib
import os
import pkgutil
import sqlite3
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, TypeVar

import sqlite_utils

from knowledge.isotime import format_instant, parse_instant

T = TypeVar("T")


CACHE_DIR = ".ldn-cache"
"""Derived data kept beside the database file (search index, parsed files, the schema template)."""

# The one ISO-8601 reader and writer (knowledge/isotime.py), under the names storage uses.
utcnow_iso = format_instant
parse_iso = parse_instant


def open_db(path: str | Path | None = None) -> sqlite_utils.Database:
    """Open (creating if needed) the database at ``path``; ``None`` or ``":memory:"`` is in-memory."""
    if path is None or str(path) == ":memory:":
        conn = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
    else:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA secure_delete=ON")  # deleted rows are overwritten, not left in free pages
    conn.execute("PRAGMA busy_timeout=30000")
    conn.execute("PRAGMA synchronous=NORMAL")
    # no sqlite-utils plugins on the bot's connection: none is used, and looking for them scans
    # every installed package's entry points (~20 ms on each start)
    db = sqlite_utils.Database(conn, execute_plugins=False)
    return db


def _migration_modules() -> list[tuple[int, str, Any]]:
    from storage import migrations

    found = []
    for info in pkgutil.iter_modules(migrations.__path__):
        if not info.name.startswith("m") or "_" not in info.name:
            continue
        number = info.name[1:].split("_", 1)[0]
        if not number.isdigit():
            continue
        module = importlib.import_module(f"storage.migrations.{info.name}")
        found.append((int(number), info.name, module))
    found.sort()
    numbers = [n for n, _, _ in found]
    if len(numbers) != len(set(numbers)):
        raise RuntimeError(f"duplicate migration numbers: {numbers}")
    return found


def schema_version(db: sqlite_utils.Database) -> int:
    """Highest migration applied (0 for a new database)."""
    if "_migrations" not in db.table_names():
        return 0
    row = db.execute("SELECT max(version) FROM _migrations").fetchone()
    return row[0] or 0


def latest_version() -> int:
    """Highest migration this code knows."""
    modules = _migration_modules()
    return modules[-1][0] if modules else 0


def migrate(db: sqlite_utils.Database, now: dt.datetime | None = None, *, upto: int | None = None) -> list[str]:
    """Apply every migration not yet applied (up to number ``upto`` if given), each in its own
    transaction. Idempotent.

    A migration module ``storage/migrations/mNNNN_name.py`` defines ``apply(db)``.
    Returns the names applied now.
    """
    now = now or dt.datetime.now(dt.timezone.utc)
    tables = db.table_names()
    fresh = upto is None and not tables and cache_dir(db) is not None
    if fresh and _from_template(db, now):
        return [name for _, name, _ in _migration_modules()]
    if "_migrations" not in tables:
        db.execute(
            "CREATE TABLE IF NOT EXISTS _migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
    done = {row[0] for row in db.execute("SELECT version FROM _migrations").fetchall()}
    applied = []
    for number, name, module in _migration_modules():
        if number in done or (upto is not None and number > upto):
            continue
        with transaction(db):
            module.apply(db)
            db.execute(
                "INSERT INTO _migrations (version, name, applied_at) VALUES (?, ?, ?)",
                [number, name, utcnow_iso(now)],
            )
        applied.append(name)
    if fresh:
        _save_template(db)
    return applied


# -- a new database from the schema template ---------------------------------------------------
# Start-up: the migrations of a new database take some 40-90 ms (m0015 rebuilds tables to add
# foreign keys). Their outcome depends only on their source, on the default countries and
# checklist files m0015 loads and on SQLite, so the first new database's schema is kept beside
# it (``.ldn-cache/schema-<fingerprint>.db``) and the next new database is a page-by-page copy of
# it (SQLite's backup API, a few milliseconds), its ``_migrations`` dated now. A change to any
# of these makes another fingerprint; the stepwise path stays the reference
# (tests/storage/test_schema_template.py compares the two).


def cache_dir(db: sqlite_utils.Database) -> Path | None:
    """The cache directory beside the database file (None for an in-memory database)."""
    row = db.execute("PRAGMA database_list").fetchone()
    return Path(row[2]).parent / CACHE_DIR if row and row[2] else None


@functools.cache
def _template_fingerprint() -> str:
    from storage import migrations

    digest = hashlib.sha256(sqlite3.sqlite_version.encode() + b"\0")
    for path in sorted(Path(migrations.__path__[0]).glob("m*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    package = Path(__file__).resolve().parent.parent / "knowledge"
    for name in ("countries.yaml", "checklist.yaml"):  # what m0015 loads
        file = package / name
        digest.update(name.encode() + b"\0" + (file.read_bytes() if file.exists() else b"") + b"\0")
    return digest.hexdigest()


def _template_path(db: sqlite_utils.Database) -> Path | None:
    folder = cache_dir(db)
    return folder / f"schema-{_template_fingerprint()}.db" if folder is not None else None


def _from_template(db: sqlite_utils.Database, now: dt.datetime) -> bool:
    path = _template_path(db)
    if path is None or not path.exists():
        return False
    try:
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            source.backup(db.conn)
        finally:
            source.close()
    except sqlite3.Error:
        return False  # a damaged template: migrate step by step (and keep a new one)
    db.conn.execute("PRAGMA journal_mode=WAL")
    db.execute("UPDATE _migrations SET applied_at = ?", [utcnow_iso(now)])
    return True


def _save_template(db: sqlite_utils.Database) -> None:
    """Keep a copy of a database that was just created and migrated (nothing else in it yet)."""
    path = _template_path(db)
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-schema-")
        os.close(fd)
        target = sqlite3.connect(tmp)
        try:
            db.conn.backup(target)
            target.execute("PRAGMA journal_mode=DELETE")  # one file, readable without -wal/-shm
        finally:
            target.close()
        os.replace(tmp, path)
        for other in path.parent.glob("schema-*.db"):
            if other != path:
                other.unlink(missing_ok=True)
    except (OSError, sqlite3.Error):
        pass  # the template is an optimisation: a read-only place is not an error


class transaction:
    """``with transaction(db):`` runs the block in one SQLite transaction (nested use is a no-op).

    The connection is in autocommit mode (``isolation_level=None``); :meth:`Store.run` puts
    every service call in one of these, and code outside the bot (CLI commands, migrations)
    uses it directly.
    """

    def __init__(self, db: sqlite_utils.Database):
        self.conn = db.conn
        self.owner = False

    def __enter__(self):
        if not self.conn.in_transaction:
            self.conn.execute("BEGIN IMMEDIATE")
            self.owner = True
        return self

    def __exit__(self, exc_type, exc, tb):
        if self.owner:
            if exc_type is None:
                try:
                    self.conn.execute("COMMIT")
                except sqlite3.Error:  # e.g. a deferred foreign key: the transaction is still open
                    if self.conn.in_transaction:
                        self.conn.execute("ROLLBACK")
                    raise
            else:
                self.conn.execute("ROLLBACK")
        return False


class Store:
    """The database plus the single worker thread that all SQLite work runs on.

    ``await store.run(fn, *args)`` calls ``fn(db, *args)`` on the worker thread **in one
    transaction** (``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled back if ``fn`` raises) and
    returns its result, as Datasette's ``execute_write_fn(transaction=True)`` does: a
    service call's writes are all or nothing. ``transaction=False`` runs ``fn`` in
    autocommit mode, for work that manages its own transactions or cannot run inside one
    (``VACUUM``). ``await store.read(fn, *args)`` is for functions that only read: no write
    lock is taken, so other processes (the CLI, Datasette, backups) are never kept waiting.

    One thread means one writer: writes never interleave, and the event loop never blocks
    on disk I/O.
    """

    def __init__(self, db: sqlite_utils.Database):
        self.db = db
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")

    async def run(self, fn: Callable[..., T], *args: Any, transaction: bool = True, **kwargs: Any) -> T:
        call = functools.partial(_in_transaction if transaction else _plain, self.db, fn, args, kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._executor, call)

    async def read(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        call = functools.partial(_plain, self.db, fn, args, kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._executor, call)

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        self.db.conn.close()


def _in_transaction(db: sqlite_utils.Database, fn: Callable[..., T], args: tuple, kwargs: dict) -> T:
    with transaction(db):
        return fn(db, *args, **kwargs)


def _plain(db: sqlite_utils.Database, fn: Callable[..., T], args: tuple, kwargs: dict) -> T:
    return fn(db, *args, **kwargs)
