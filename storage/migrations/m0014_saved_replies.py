"""Saved replies of the helpdesk's experts (``/saved add NAME``): one text per language.

* ``saved_replies`` - one row per name (lower case, unique): the texts as a JSON object
  ``{"en": ..., "fr": ...}`` (English is required), who saved it and when. Saving a
  name again replaces its texts.
"""
from __future__ import annotations


def apply(db) -> None:
    db.execute(
        """CREATE TABLE saved_replies (
            name TEXT PRIMARY KEY,            -- lower case: letters, digits, '-' and '_'
            texts TEXT NOT NULL,              -- JSON {lang: text}, "en" always present
            created_by INTEGER,
            created_at TEXT NOT NULL,
            updated_by INTEGER,
            updated_at TEXT NOT NULL
        )"""
    )
