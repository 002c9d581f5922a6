"""Core tables: users and their roles, invitations, the outbound delivery ledger, bot state."""


def apply(db):
    db.execute(
        """CREATE TABLE users (
            user_id INTEGER PRIMARY KEY,      -- Telegram user id
            first_name TEXT,
            username TEXT,
            lang TEXT,                        -- chosen language (en fr es ru ar zh); NULL = from Telegram
            role TEXT,                        -- focal_point | expert | secretariat | NULL (guest)
            country TEXT,                     -- ISO3, for focal points
            timezone TEXT,                    -- IANA zone chosen with /timezone; NULL = country's
            active INTEGER NOT NULL DEFAULT 1,-- 0 once the user blocked the bot
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX idx_users_country ON users(country)")
    db.execute(
        """CREATE TABLE role_events (
            id INTEGER PRIMARY KEY,
            user_id INTEGER NOT NULL,
            role TEXT,
            country TEXT,
            by_user INTEGER,                  -- who granted it (NULL = command line)
            how TEXT NOT NULL,                -- invite | cli | chat
            at TEXT NOT NULL
        )"""
    )
    db.execute(
        """CREATE TABLE invites (
            id INTEGER PRIMARY KEY,
            token_hash TEXT NOT NULL UNIQUE,  -- sha256 of the token; the token itself is never stored
            country TEXT NOT NULL,
            created_by INTEGER,
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            used_by INTEGER,
            used_at TEXT
        )"""
    )
    db.execute(
        """CREATE TABLE deliveries (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,               -- reminder | broadcast | answer | notice ...
            ref TEXT NOT NULL,                -- what is delivered (reminder id, query message id ...)
            chat_id INTEGER NOT NULL,         -- recipient
            method TEXT NOT NULL,             -- Bot API method: sendMessage, copyMessage, sendDocument
            payload TEXT NOT NULL,            -- JSON arguments of the method
            status TEXT NOT NULL DEFAULT 'pending', -- pending | claimed | sent | failed | blocked | uncertain | skipped | cancelled
            due_at TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            claimed_at TEXT,
            sent_at TEXT,
            message_id INTEGER,               -- id of the message sent
            error TEXT,
            UNIQUE (kind, ref, chat_id)
        )"""
    )
    db.execute("CREATE INDEX idx_deliveries_status_due ON deliveries(status, due_at)")
    db.execute(
        """CREATE TABLE bot_state (
            key TEXT PRIMARY KEY,
            value TEXT,
            updated_at TEXT NOT NULL
        )"""
    )
