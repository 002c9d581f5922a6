"""Reminders, calendar and broadcasts.

* ``calendar_events`` - the programme's calendar: loaded from ``knowledge/events.yaml`` at start
  (``source = 'yaml'``) and edited in chat by the secretariat (``source = 'chat'``). Local wall-clock
  times with their IANA zone, plus the UTC instants for sorting. ``version`` is bumped whenever the
  time changes (reminder refs carry it, so a moved event gets fresh reminders); ``since`` is when the
  current version took effect (reminders that were due before it are never sent). ``yaml_hash`` is
  the file's definition last applied: an unchanged file never undoes an edit made in chat.
* ``calendar_event_log`` - every add, move, cancel and reload (never updated or deleted).
* ``reminder_mutes`` - a user's muted categories: all | workshops | milestones | deadlines.
* ``broadcasts`` - secretariat broadcasts: the segment, the text, the progress message.

The reminders and broadcasts themselves are rows of the core ``deliveries`` ledger
(kind ``reminder``, ``snooze``, ``event_notice``, ``broadcast``).
"""
from __future__ import annotations


def apply(db) -> None:
    db.execute(
        """CREATE TABLE calendar_events (
            id TEXT PRIMARY KEY,              -- e.g. ws-konya (lower-case, digits, '-')
            kind TEXT NOT NULL,               -- workshop | milestone | meeting | deadline
            start_local TEXT NOT NULL,        -- 2016-05-28T09:00, wall clock in timezone
            end_local TEXT NOT NULL,
            timezone TEXT NOT NULL,           -- IANA zone
            start_utc TEXT NOT NULL,          -- ISO-8601 UTC (derived, for sorting and queries)
            end_utc TEXT NOT NULL,
            title TEXT NOT NULL,              -- JSON {lang: text}
            place TEXT NOT NULL DEFAULT '{}', -- JSON {lang: text}
            audience TEXT NOT NULL,           -- JSON, as in events.yaml
            offsets TEXT,                     -- JSON list, NULL = configured defaults
            status TEXT NOT NULL DEFAULT 'active', -- active | cancelled
            source TEXT NOT NULL,             -- yaml | chat
            version INTEGER NOT NULL DEFAULT 1,
            since TEXT NOT NULL,
            yaml_hash TEXT,
            updated_by INTEGER,               -- secretariat user id (NULL = file)
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX idx_calendar_events_start ON calendar_events(status, start_utc)")
    db.execute(
        """CREATE TABLE calendar_event_log (
            id INTEGER PRIMARY KEY,
            event_id TEXT NOT NULL,
            action TEXT NOT NULL,             -- added | moved | updated | cancelled | removed
            by_user INTEGER,                  -- NULL = events.yaml
            at TEXT NOT NULL,
            details TEXT                      -- JSON (old and new times ...)
        )"""
    )
    db.execute(
        """CREATE TABLE reminder_mutes (
            user_id INTEGER NOT NULL,
            category TEXT NOT NULL,           -- all | workshops | milestones | deadlines
            created_at TEXT NOT NULL,
            PRIMARY KEY (user_id, category)
        )"""
    )
    db.execute(
        """CREATE TABLE broadcasts (
            id INTEGER PRIMARY KEY,
            created_by INTEGER NOT NULL,
            segment TEXT NOT NULL,            -- all | annex:I+II | pilots | countries:KEN,UGA | role:expert | groups[:circle]
            text TEXT,                        -- HTML as typed
            status TEXT NOT NULL DEFAULT 'draft', -- draft | sending | done | cancelled
            recipients INTEGER NOT NULL DEFAULT 0,
            progress_chat_id INTEGER,
            progress_message_id INTEGER,
            created_at TEXT NOT NULL,
            started_at TEXT,
            finished_at TEXT
        )"""
    )
