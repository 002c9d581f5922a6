"""SQL of the stored FAQ search index (table ``faq_search_index``, migration m0011).

The index itself is an opaque blob here (built and read by :mod:`knowledge.index`);
this module only keeps the newest one, keyed by the digest of the entries it was
built from.
"""
from __future__ import annotations

import datetime as dt

import sqlite_utils

from storage.db import transaction, utcnow_iso


def load_index(db: sqlite_utils.Database, digest: str) -> bytes | None:
    """The stored index built from the entries with this digest, or None."""
    row = db.execute("SELECT data FROM faq_search_index WHERE digest = ?", [digest]).fetchone()
    return None if row is None else bytes(row[0])


def save_index(db: sqlite_utils.Database, digest: str, data: bytes, now: dt.datetime | None = None) -> None:
    """Store ``data`` as the index of ``digest``, replacing any other (one transaction)."""
    stamp = utcnow_iso(now or dt.datetime.now(dt.timezone.utc))
    with transaction(db):
        db.execute("DELETE FROM faq_search_index WHERE digest != ?", [digest])
        db.execute(
            "INSERT INTO faq_search_index (digest, built_at, size, data) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(digest) DO UPDATE SET built_at = excluded.built_at, size = excluded.size, data = excluded.data",
            [digest, stamp, len(data), data],
        )

