"""Milestones: each country's progress through the checklist, with every change kept.

* ``milestone_steps`` - the template's steps as last loaded (readable in Datasette).
  Synced from ``knowledge/checklist.yaml`` at start: new steps are added, steps removed
  from the template are kept with ``active = 0`` (their recorded progress stays).
* ``milestones`` - the current state of one step for one country: status, the date of
  that status, a note, evidence (a link or a Telegram file_id), a country-specific due
  date (NULL = the template's), who changed it last and when. A missing row means
  "not started, nothing recorded".
* ``milestone_history`` - one row per change (status, note, evidence, due date, import),
  with the state after the change and the status before it. Never updated or deleted.
"""
from __future__ import annotations


def apply(db) -> None:
    db.execute(
        """CREATE TABLE milestone_steps (
            step_id TEXT PRIMARY KEY,
            position INTEGER NOT NULL,        -- the template's order
            phase TEXT NOT NULL,              -- inception | implementation | consolidation | reporting
            default_due TEXT NOT NULL,        -- YYYY-MM-DD
            title TEXT NOT NULL,              -- English title
            active INTEGER NOT NULL DEFAULT 1,-- 0 once removed from the template (progress kept)
            synced_at TEXT NOT NULL
        )"""
    )
    db.execute(
        """CREATE TABLE milestones (
            iso3 TEXT NOT NULL,
            step_id TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'not_started'
                CHECK (status IN ('not_started', 'in_progress', 'done', 'not_applicable')),
            status_date TEXT,                 -- YYYY-MM-DD the status was reached (country's local date)
            note TEXT,
            evidence_kind TEXT CHECK (evidence_kind IS NULL OR evidence_kind IN ('link', 'document', 'photo')),
            evidence TEXT,                    -- URL, or Telegram file_id for document/photo
            evidence_name TEXT,               -- file name shown for a document
            due TEXT,                         -- YYYY-MM-DD country-specific due date; NULL = template's
            changed_by INTEGER,               -- Telegram user id; NULL = command line
            changed_via TEXT NOT NULL,        -- chat | import | cli
            changed_at TEXT NOT NULL,
            PRIMARY KEY (iso3, step_id)
        )"""
    )
    db.execute("CREATE INDEX idx_milestones_step ON milestones(step_id, status)")
    db.execute(
        """CREATE TABLE milestone_history (
            id INTEGER PRIMARY KEY,
            iso3 TEXT NOT NULL,
            step_id TEXT NOT NULL,
            action TEXT NOT NULL,             -- status | note | evidence | due | import
            previous_status TEXT,
            status TEXT NOT NULL,
            status_date TEXT,
            note TEXT,
            evidence_kind TEXT,
            evidence TEXT,
            evidence_name TEXT,
            due TEXT,
            changed_by INTEGER,
            changed_via TEXT NOT NULL,
            changed_at TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX idx_milestone_history_country ON milestone_history(iso3, step_id, id)")
