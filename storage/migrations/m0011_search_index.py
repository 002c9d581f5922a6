"""The FAQ search index, stored so that a start loads it instead of rebuilding it.

* ``faq_search_index`` - one row per built index: the digest of the entries it was
  built from (and of the index format), when, its size, and the blob written by
  ``knowledge.index.SearchIndex.to_bytes``. Derived data: only the newest row is kept,
  and deleting it only costs one rebuild.
"""
from __future__ import annotations


def apply(db) -> None:
    db.execute(
        """CREATE TABLE faq_search_index (
            digest TEXT PRIMARY KEY,          -- sha256 of the entries and the index format
            built_at TEXT NOT NULL,
            size INTEGER NOT NULL,            -- bytes of data
            data BLOB NOT NULL
        )"""
    )
