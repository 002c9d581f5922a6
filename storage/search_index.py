"""The stored FAQ search index and the parsed FAQ files: table ``faq_search_index`` (m0011)
and a cache directory beside the database.

The index is an opaque blob here (built and read by :mod:`knowledge.index`), keyed by
the digest of the entries it was built from; only the newest is kept. A copy also goes
to ``.ldn-cache/`` next to the database file, with the parsed FAQ files keyed by their
fingerprint, so that a *fresh* database in the same place (a test run, a restore, a
new deployment) starts without parsing the YAML or building the index again. Both are
derived data: deleting them only costs one rebuild.
"""
from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path

import sqlite_utils

from storage.db import CACHE_DIR, cache_dir, transaction, utcnow_iso

__all__ = ["CACHE_DIR", "cache_dir"]  # defined in storage.db (the schema template lives there too), named here as before


def _read(path: Path | None) -> bytes | None:
    try:
        return path.read_bytes() if path is not None else None
    except OSError:
        return None


def _write(path: Path, data: bytes, prefix: str) -> None:
    """Write atomically (a reader sees the old file or the new one), dropping older files
    of the same kind; a read-only place is not an error (the cache is an optimisation)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
        for other in path.parent.glob(prefix + "*"):
            if other != path:
                other.unlink(missing_ok=True)
    except OSError:
        pass


def load_index(db: sqlite_utils.Database, digest: str) -> bytes | None:
    """The stored index built from the entries with this digest (database, else the
    cache directory), or None."""
    row = db.execute("SELECT data FROM faq_search_index WHERE digest = ?", [digest]).fetchone()
    if row is not None:
        return bytes(row[0])
    folder = cache_dir(db)
    return _read(folder / f"search-{digest}.idx" if folder else None)


def has_index(db: sqlite_utils.Database, digest: str) -> bool:
    """Whether the database holds the index of this digest (without reading it)."""
    return db.execute("SELECT 1 FROM faq_search_index WHERE digest = ?", [digest]).fetchone() is not None


def save_index(db: sqlite_utils.Database, digest: str, data: bytes, now: dt.datetime | None = None) -> None:
    """Store ``data`` as the index of ``digest``, replacing any other (one transaction),
    and copy it to the cache directory."""
    stamp = utcnow_iso(now or dt.datetime.now(dt.timezone.utc))
    with transaction(db):
        db.execute("DELETE FROM faq_search_index WHERE digest != ?", [digest])
        db.execute(
            "INSERT INTO faq_search_index (digest, built_at, size, data) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(digest) DO UPDATE SET built_at = excluded.built_at, size = excluded.size, data = excluded.data",
            [digest, stamp, len(data), data],
        )
    folder = cache_dir(db)
    if folder is not None:
        _write(folder / f"search-{digest}.idx", data, "search-")


def load_parsed_faq(db: sqlite_utils.Database, fingerprint: str) -> bytes | None:
    """The parsed FAQ files with this fingerprint, as saved by :func:`save_parsed_faq`, or None."""
    folder = cache_dir(db)
    return _read(folder / f"faq-{fingerprint}.json" if folder else None)


def save_parsed_faq(db: sqlite_utils.Database, fingerprint: str, data: bytes) -> None:
    """Keep the parsed FAQ files (validated entries as JSON) beside the database."""
    folder = cache_dir(db)
    if folder is not None:
        _write(folder / f"faq-{fingerprint}.json", data, "faq-")


def load_cached(db: sqlite_utils.Database, kind: str, fingerprint: str) -> bytes | None:
    """Derived data of ``kind`` (e.g. ``strings``: the validated translations) saved by
    :func:`save_cached` for files with this fingerprint, or None."""
    folder = cache_dir(db)
    return _read(folder / f"{kind}-{fingerprint}.json" if folder else None)


def save_cached(db: sqlite_utils.Database, kind: str, fingerprint: str, data: bytes) -> None:
    """Keep derived data of ``kind`` beside the database (older fingerprints are dropped)."""
    folder = cache_dir(db)
    if folder is not None:
        _write(folder / f"{kind}-{fingerprint}.json", data, f"{kind}-")


def _folder_beside(db_path: str) -> Path | None:
    """The cache directory beside the database file at ``db_path`` (no connection needed),
    or None for an in-memory database or a folder that does not exist."""
    if not db_path or db_path == ":memory:" or db_path.startswith("file:"):
        return None
    parent = Path(db_path).resolve().parent
    return parent / CACHE_DIR if parent.is_dir() else None


def load_cached_beside(db_path: str, kind: str, fingerprint: str) -> bytes | None:
    """:func:`load_cached` for a database given by its path (``ldn-bot check`` opens none)."""
    folder = _folder_beside(db_path)
    return _read(folder / f"{kind}-{fingerprint}.json" if folder else None)


def save_cached_beside(db_path: str, kind: str, fingerprint: str, data: bytes) -> None:
    """:func:`save_cached` for a database given by its path."""
    folder = _folder_beside(db_path)
    if folder is not None:
        _write(folder / f"{kind}-{fingerprint}.json", data, f"{kind}-")
