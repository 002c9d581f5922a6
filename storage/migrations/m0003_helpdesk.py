"""Helpdesk: queries, their tags, the (chat, message) routing table, attachments, the audit trail, ratings.

* ``queries`` - one row per question a focal point put to the experts; ``id`` is the
  number shown as ``#N``. State ``new → open → pending → resolved → closed``;
  SLA bookkeeping (pause time, warnings, breaches) lives on the row.
* ``query_tags`` - free tags (``baseline``, ``soc`` ...), one row per tag.
* ``query_messages`` - every Telegram message that belongs to a query, keyed by
  ``(chat_id, message_id)``: the asker's messages, the card and copies posted in the
  experts' chat, the forum topic of the query, experts' replies and the copies
  delivered to the asker. Replies are routed with this table, never by parsing text.
* ``query_attachments`` - photos and documents by ``file_id`` (never downloaded).
* ``query_events`` - the audit trail: who changed what, when, from → to.
* ``query_ratings`` - the asker's 1-5 rating and optional comment (asked once).
"""
from __future__ import annotations


def apply(db) -> None:
    db.execute(
        """CREATE TABLE queries (
            id INTEGER PRIMARY KEY,            -- the query number, shown as #N
            asker_id INTEGER NOT NULL,         -- Telegram user id of the focal point
            country TEXT,                      -- ISO3 of the asker when asked
            lang TEXT NOT NULL,                -- language of the question
            text TEXT NOT NULL,                -- the question
            source TEXT NOT NULL,              -- ask | faq | file | deeplink | followup
            candidates TEXT NOT NULL DEFAULT '[]', -- JSON list of FAQ entry ids shown or suggested
            state TEXT NOT NULL DEFAULT 'new', -- new | open | pending | resolved | closed
            priority TEXT NOT NULL DEFAULT 'normal', -- low | normal | high | urgent
            assignee_id INTEGER,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            first_response_at TEXT,
            first_response_by INTEGER,
            pending_since TEXT,                -- set while pending (SLA clock paused)
            paused_seconds INTEGER NOT NULL DEFAULT 0, -- total time spent pending
            resolved_at TEXT,
            closed_at TEXT,
            nudged_at TEXT,                    -- the asker was reminded during this pending period
            warned_first INTEGER NOT NULL DEFAULT 0,
            warned_resolution INTEGER NOT NULL DEFAULT 0,
            breached_first INTEGER NOT NULL DEFAULT 0,
            breached_resolution INTEGER NOT NULL DEFAULT 0,
            overdue INTEGER NOT NULL DEFAULT 0,
            expert_chat_id INTEGER,            -- where the card was posted
            expert_thread_id INTEGER,          -- forum topic of the query (forum supergroups)
            expert_message_id INTEGER,         -- the card (with the buttons)
            ack_message_id INTEGER,            -- "Query #N logged" in the asker's chat
            posted_at TEXT,
            post_attempts INTEGER NOT NULL DEFAULT 0
        )"""
    )
    db.execute("CREATE INDEX idx_queries_asker ON queries(asker_id, state)")
    db.execute("CREATE INDEX idx_queries_state ON queries(state)")
    db.execute("CREATE INDEX idx_queries_country ON queries(country)")
    db.execute(
        """CREATE TABLE query_tags (
            query_id INTEGER NOT NULL REFERENCES queries(id),
            tag TEXT NOT NULL,
            PRIMARY KEY (query_id, tag)
        )"""
    )
    db.execute("CREATE INDEX idx_query_tags_tag ON query_tags(tag)")
    db.execute(
        """CREATE TABLE query_messages (
            id INTEGER PRIMARY KEY,
            query_id INTEGER NOT NULL REFERENCES queries(id),
            chat_id INTEGER NOT NULL,
            message_id INTEGER NOT NULL,       -- for role 'topic': the forum topic's message_thread_id
            role TEXT NOT NULL,                -- asker | ack | card | topic | relay | expert | answer | notice
            author_id INTEGER,
            kind TEXT NOT NULL DEFAULT 'text', -- text | photo | document | other
            text TEXT,                         -- text or caption (what an expert wrote is never lost)
            delivery_status TEXT,              -- for 'expert' rows: sent | blocked | failed | held
            created_at TEXT NOT NULL,
            UNIQUE (chat_id, message_id)
        )"""
    )
    db.execute("CREATE INDEX idx_query_messages_query ON query_messages(query_id)")
    db.execute(
        """CREATE TABLE query_attachments (
            id INTEGER PRIMARY KEY,
            query_id INTEGER NOT NULL REFERENCES queries(id),
            chat_id INTEGER NOT NULL,          -- where the file was sent
            message_id INTEGER NOT NULL,
            author_id INTEGER,
            kind TEXT NOT NULL,                -- photo | document
            file_id TEXT NOT NULL,
            file_unique_id TEXT,
            file_name TEXT,
            mime_type TEXT,
            file_size INTEGER,
            created_at TEXT NOT NULL,
            UNIQUE (chat_id, message_id)
        )"""
    )
    db.execute("CREATE INDEX idx_query_attachments_query ON query_attachments(query_id)")
    db.execute(
        """CREATE TABLE query_events (
            id INTEGER PRIMARY KEY,
            query_id INTEGER NOT NULL REFERENCES queries(id),
            at TEXT NOT NULL,
            actor_id INTEGER,                  -- NULL: the bot itself (SLA, auto-resolve)
            kind TEXT NOT NULL,                -- created | state | priority | assign | tag | untag | reply | followup ...
            from_value TEXT,
            to_value TEXT,
            detail TEXT
        )"""
    )
    db.execute("CREATE INDEX idx_query_events_query ON query_events(query_id)")
    db.execute(
        """CREATE TABLE query_ratings (
            query_id INTEGER PRIMARY KEY REFERENCES queries(id),
            user_id INTEGER NOT NULL,
            asked_at TEXT NOT NULL,
            score INTEGER CHECK (score BETWEEN 1 AND 5),
            rated_at TEXT,
            comment TEXT,
            commented_at TEXT
        )"""
    )
