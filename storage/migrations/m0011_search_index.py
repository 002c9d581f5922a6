"""The FAQ search index, stored so that a start loads it instead of rebuilding it.

* ``faq_search_index`` - one row per built index: the digest of the entries it was
  built from (and of the index format), when, its size, and the blob written by
  ``knowledge.index.SearchIndex.to_bytes``. Derived data: only the newest row is kept,
  and deleting it only costs one rebuild.
* ``faq_strings`` and its FTS5 index ``faq_strings_fts`` (m0002) are dropped: the search
  computes bm25 from its own postings (the same figures), and keeping FTS5 up to date
  cost more than the rest of loading the FAQ (a quarter of a second for today's 84
  entries on a fresh database, half a minute at a few thousand).
"""
from __future__ import annotations


def apply(db) -> None:
    for trigger in ("faq_strings_ai", "faq_strings_ad", "faq_strings_au"):
        db.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    db.execute("DROP TABLE IF EXISTS faq_strings_fts")
    db.execute("DROP TABLE IF EXISTS faq_strings")
    db.execute(
        """CREATE TABLE faq_search_index (
            digest TEXT PRIMARY KEY,          -- sha256 of the entries and the index format
            built_at TEXT NOT NULL,
            size INTEGER NOT NULL,            -- bytes of data
            data BLOB NOT NULL
        )"""
    )
