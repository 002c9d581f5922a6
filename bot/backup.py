"""Back up and restore the database, safely while the bot runs; know whether a bot is running.

* :func:`backup` copies the live database with SQLite's online backup API from its own
  connection: in WAL mode the copy is one consistent snapshot even while the bot writes.
  The copy is checked (``PRAGMA quick_check``), made a single self-contained file (journal
  mode DELETE), readable by its owner only, and ``last_backup_at`` is recorded.
* :func:`restore` refuses to overwrite the database of a running bot (the run lock is held,
  or a recent heartbeat without a clean stop), refuses a file that is not an ldn-bot database
  or comes from a newer version, keeps a copy of the database it replaces, then copies the
  backup in. Migrations bring an older backup up to date when the bot next starts.
* :class:`RunLock` is the lock file ``<database>.lock`` that ``ldn-bot run`` holds
  (``fcntl.flock``) for as long as it runs; two bots cannot share a database.
* :func:`prune` keeps the newest ``backup_keep`` files of the daily backup job.
"""
from __future__ import annotations

import datetime as dt
import os
import shutil
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

from storage import dbfile, privacy
from storage.db import latest_version, parse_iso, utcnow_iso

try:  # POSIX; on other systems the lock is a no-op and the heartbeat alone protects restore
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

HEARTBEAT_SECONDS = 60
HEARTBEAT_STALE = dt.timedelta(seconds=3 * HEARTBEAT_SECONDS)
BACKUP_PREFIX = "ldn-"
BACKUP_SUFFIX = ".db"


class BackupError(Exception):
    """A backup or restore that was refused or failed; the message says why, for the operator."""


# -- settings --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class OpsSettings:
    backup_dir: Path
    backup_daily: bool = False
    backup_keep: int = 7
    backup_hour_utc: int = 2


def ops_settings(config) -> OpsSettings:
    """The ``operations`` section of config.yaml, with defaults; raises BackupError on bad values."""
    section = config.section("operations")
    db_path = Path(config.db_path)
    backup_dir = Path(section.get("backup_dir") or (db_path.parent / "backups"))
    try:
        keep = int(section.get("backup_keep", 7))
        hour = int(section.get("backup_hour_utc", 2))
    except (TypeError, ValueError) as exc:
        raise BackupError("operations.backup_keep and operations.backup_hour_utc must be whole numbers") from exc
    if keep < 1:
        raise BackupError("operations.backup_keep must be at least 1")
    if not 0 <= hour <= 23:
        raise BackupError("operations.backup_hour_utc must be between 0 and 23")
    return OpsSettings(backup_dir=backup_dir, backup_daily=bool(section.get("backup_daily", False)),
                       backup_keep=keep, backup_hour_utc=hour)


# -- the run lock ----------------------------------------------------------------------------------

def lock_path(db_path: str | Path) -> Path:
    return Path(str(db_path) + ".lock")


class RunLock:
    """``<database>.lock``, held with ``flock`` by the running bot (released by the OS if it dies)."""

    def __init__(self, db_path: str | Path):
        self.path = lock_path(db_path)
        self._fd: int | None = None

    def acquire(self) -> bool:
        """Take the lock without waiting; False if another process holds it."""
        if fcntl is None:  # pragma: no cover
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            finally:
                os.close(self._fd)
                self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self):
        if not self.acquire():
            raise BackupError(f"the database is in use by a running bot (lock {self.path} is held)")
        return self

    def __exit__(self, *exc):
        self.release()
        return False


def lock_held(db_path: str | Path) -> bool:
    """True if a running bot (another process) holds the database's run lock."""
    if fcntl is None or not lock_path(db_path).exists():  # pragma: no cover - trivial
        return False
    probe = RunLock(db_path)
    if probe.acquire():
        probe.release()
        return False
    return True


_state = dbfile.read_state


def heartbeat_evidence(db_path: str | Path, now: dt.datetime) -> str | None:
    """A heartbeat younger than :data:`HEARTBEAT_STALE` and no clean stop since: a bot may be running."""
    if not Path(db_path).exists():
        return None
    conn = _connect(db_path, readonly=True)
    try:
        beat, stopped = parse_iso(_state(conn, "heartbeat")), parse_iso(_state(conn, "stopped_at"))
    finally:
        conn.close()
    if beat and now - beat < HEARTBEAT_STALE and not (stopped and stopped >= beat):
        return f"its heartbeat is recent ({utcnow_iso(beat)}): a bot on another host may be running"
    return None


# -- backup ----------------------------------------------------------------------------------------

@dataclass
class BackupResult:
    path: Path
    size: int
    schema_version: int
    seconds: float


def _connect(path: str | Path, *, readonly: bool = False) -> sqlite3.Connection:
    if readonly:
        conn = sqlite3.connect(f"file:{Path(path).resolve()}?mode=ro", uri=True, timeout=30)
    else:
        conn = sqlite3.connect(str(path), timeout=30)
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


def backup_name(now: dt.datetime) -> str:
    return f"{BACKUP_PREFIX}{now.astimezone(dt.timezone.utc):%Y%m%d-%H%M%S}{BACKUP_SUFFIX}"


_version = dbfile.schema_version_of


def backup(db_path: str | Path, dest: str | Path, now: dt.datetime, *, record: bool = True) -> BackupResult:
    """Copy the database at ``db_path`` (live or not) to ``dest`` (a file, or a directory for a dated name)."""
    source = Path(db_path)
    if str(db_path) == ":memory:" or not source.exists():
        raise BackupError(f"no database at {db_path}")
    dest = Path(dest)
    if dest.is_dir() or str(dest).endswith(os.sep):
        dest = dest / backup_name(now)
    if dest.resolve() == source.resolve():
        raise BackupError("the backup must not replace the database itself")
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(dest.name + ".partial")
    partial.unlink(missing_ok=True)
    started = time.monotonic()
    src = _connect(source)
    try:
        old_umask = os.umask(0o077)
        try:
            dst = sqlite3.connect(str(partial))
        finally:
            os.umask(old_umask)
        try:
            src.backup(dst)  # one step: a consistent snapshot even while the bot writes (WAL)
            dst.execute("PRAGMA journal_mode=DELETE")
            check = dbfile.integrity(dst)
            if check != "ok":
                raise BackupError(f"the copy failed its integrity check: {check}")
            version = _version(dst)
        finally:
            dst.close()
        os.chmod(partial, 0o600)
        os.replace(partial, dest)
        if record:
            try:
                dbfile.write_state(src, "last_backup_at", utcnow_iso(now), utcnow_iso(now))
                src.commit()
            except sqlite3.DatabaseError:
                pass  # not an ldn-bot database with bot_state: the copy is still good
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        src.close()
    return BackupResult(dest, dest.stat().st_size, version, time.monotonic() - started)


def prune(backup_dir: str | Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` dated backups (``ldn-YYYYMMDD-HHMMSS.db``) in the directory."""
    folder = Path(backup_dir)
    if not folder.is_dir():
        return []
    files = sorted(p for p in folder.glob(f"{BACKUP_PREFIX}*{BACKUP_SUFFIX}") if p.is_file())
    doomed = files[:-keep] if keep > 0 else files
    for path in doomed:
        path.unlink(missing_ok=True)
    return doomed


def list_backups(backup_dir: str | Path) -> list[Path]:
    folder = Path(backup_dir)
    return sorted(folder.glob(f"{BACKUP_PREFIX}*{BACKUP_SUFFIX}")) if folder.is_dir() else []


# -- backups and forgotten people ----------------------------------------------------------------

def forgotten_in(backup_path: str | Path, live: sqlite3.Connection) -> list[int]:
    """The people a backup still holds although they were forgotten since it was made: in the
    backup's ``users`` but not in the live database's, or there again only as a newer record
    (they came back after being forgotten). Nothing about forgotten people is kept to find
    them: the backup itself says who they were."""
    conn = _connect(backup_path, readonly=True)
    try:
        old = dict(conn.execute("SELECT user_id, created_at FROM users").fetchall())
    except sqlite3.DatabaseError:
        return []
    finally:
        conn.close()
    now = dict(live.execute("SELECT user_id, created_at FROM users").fetchall())
    return sorted(uid for uid, created in old.items() if uid not in now or now[uid] > created)


def backups_holding_forgotten(backup_dir: str | Path, db_path: str | Path) -> list[Path]:
    """Backups in ``backup_dir`` made before someone in them was forgotten."""
    live = _connect(db_path, readonly=True)
    try:
        return [path for path in list_backups(backup_dir) if forgotten_in(path, live)]
    finally:
        live.close()


def prune_forgotten(backup_dir: str | Path, db_path: str | Path) -> list[tuple[Path, int]]:
    """Rewrite every backup that holds people forgotten since: forget them there too (the same
    scrub as in the live database), compact, and replace the file atomically. Returns
    (backup, people forgotten in it) for each file rewritten."""
    live = _connect(db_path, readonly=True)
    done = []
    try:
        for path in list_backups(backup_dir):
            people = forgotten_in(path, live)
            if not people:
                continue
            partial = path.with_name(path.name + ".partial")
            shutil.copyfile(path, partial)
            conn = sqlite3.connect(str(partial), isolation_level=None)
            try:
                conn.execute("PRAGMA secure_delete=ON")
                db = sqlite_utils.Database(conn)
                for user_id in people:
                    privacy.forget(db, user_id)
                privacy.compact(db)
            finally:
                conn.close()
            os.chmod(partial, 0o600)
            os.replace(partial, path)
            done.append((path, len(people)))
    finally:
        live.close()
    return done


# -- restore ---------------------------------------------------------------------------------------

@dataclass
class CheckedBackup:
    path: Path
    schema_version: int
    latest_version: int
    tables: int

    @property
    def needs_migration(self) -> bool:
        return self.schema_version < self.latest_version


def check_backup(path: str | Path) -> CheckedBackup:
    """Is this file an intact ldn-bot database this version can use? Raises BackupError if not."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"no backup file at {path}")
    with open(path, "rb") as fh:
        if fh.read(16) != b"SQLite format 3\x00":
            raise BackupError(f"{path} is not an SQLite database")
    conn = _connect(path, readonly=True)
    try:
        try:
            check = dbfile.integrity(conn)
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{path} cannot be read: {exc}") from exc
        if check != "ok":
            raise BackupError(f"{path} is damaged: {check}")
        tables = dbfile.tables(conn)
        if "_migrations" not in tables or "users" not in tables:
            raise BackupError(f"{path} is not an ldn-bot database (no schema version)")
        version = _version(conn)
    finally:
        conn.close()
    latest = latest_version()
    if version <= 0:
        raise BackupError(f"{path} has no schema version")
    if version > latest:
        raise BackupError(f"{path} has schema version {version}, newer than this ldn-bot ({latest}): upgrade ldn-bot first")
    return CheckedBackup(path, version, latest, len(tables))


@dataclass
class RestoreResult:
    checked: CheckedBackup
    replaced_copy: Path | None


def restore(backup_path: str | Path, db_path: str | Path, now: dt.datetime, *, force: bool = False) -> RestoreResult:
    """Replace the database at ``db_path`` with the backup (see the module docstring)."""
    if str(db_path) == ":memory:":
        raise BackupError("cannot restore into an in-memory database")
    checked = check_backup(backup_path)
    target = Path(db_path)
    if Path(backup_path).resolve() == target.resolve():
        raise BackupError("the backup is the database itself")
    with RunLock(target):  # also keeps a bot from starting while we copy
        if not force:
            evidence = heartbeat_evidence(target, now)
            if evidence:
                raise BackupError(f"refusing to restore: {evidence}. Stop the bot, or use --force if it is really stopped")
        replaced = None
        if target.exists() and target.stat().st_size > 0:
            replaced = target.with_name(f"{target.name}.before-restore-{now.astimezone(dt.timezone.utc):%Y%m%d-%H%M%S}")
            backup(target, replaced, now, record=False)
        target.parent.mkdir(parents=True, exist_ok=True)
        src = _connect(checked.path, readonly=True)
        dst = _connect(target)
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=WAL")
            dbfile.write_state(dst, "restored_at", utcnow_iso(now), utcnow_iso(now))
            dbfile.delete_state(dst, "heartbeat")
            dst.commit()
            check = dbfile.integrity(dst)
            if check != "ok":  # pragma: no cover - the source was checked
                raise BackupError(f"the restored database failed its integrity check: {check}")
        finally:
            src.close()
            dst.close()
    return RestoreResult(checked, replaced)
