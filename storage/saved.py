"""Saved replies (m0014): the rows only; the rules are in bot/helpdesk/saved.py."""
from __future__ import annotations

import json

from storage.db import utcnow_iso


def put(db, name: str, texts: dict[str, str], by: int | None, now) -> bool:
    """Save ``texts`` under ``name``; True if the name is new, False if its texts were replaced."""
    stamp = utcnow_iso(now)
    data = json.dumps(texts, ensure_ascii=False, sort_keys=True)
    old = db.execute("SELECT 1 FROM saved_replies WHERE name = ?", [name]).fetchone()
    if old:
        db.execute("UPDATE saved_replies SET texts = ?, updated_by = ?, updated_at = ? WHERE name = ?", [data, by, stamp, name])
        return False
    db.execute("INSERT INTO saved_replies (name, texts, created_by, created_at, updated_by, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
               [name, data, by, stamp, by, stamp])
    return True


def get(db, name: str) -> dict[str, str] | None:
    row = db.execute("SELECT texts FROM saved_replies WHERE name = ?", [name]).fetchone()
    return json.loads(row[0]) if row else None


def names(db) -> list[tuple[str, list[str]]]:
    """Every saved reply's name and languages, by name."""
    return [(name, sorted(json.loads(texts))) for name, texts in db.execute("SELECT name, texts FROM saved_replies ORDER BY name")]
