"""Open the SQLite database and bring its schema up to date.

One connection per process, used from one worker thread (see :class:`Store`) so that
blocking SQLite work never runs on the asyncio event loop. WAL mode lets readers
(``ldn-bot status``, Datasette, backups) look while the bot writes.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import functools
import importlib
import pkgutil
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, TypeVar

import sqlite_utils

from knowledge.isotime import format_instant, parse_instant

T = TypeVar("T")


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
    if "_migrations" not in db.table_names():
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
    return applied


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
