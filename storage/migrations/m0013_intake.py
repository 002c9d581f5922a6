"""The intake of private messages (issue #14).

* ``awaited_inputs`` - what the bot asked a person to type next ("type your question now",
  "type your note for step X"): who, what is awaited (a registered input name), for which
  object (a query number, a country and step ...), the rest of the prompt's data, and when the
  prompt expires. One per person; it survives restarts and is cancelled by ``/cancel`` or by
  any other command.
* ``intake_offers`` - a private message the bot offered choices for ("➕ Add to query #N",
  "🆕 New question to the experts", "Ask an expert"): the buttons name the message, the row
  keeps what it said, so a press after a restart still knows.
* ``blocked_users`` / ``block_events`` - people whose messages get one short answer and no
  service (``ldn-bot user block ID``, ``/block N``), and the record of every block and unblock.
* ``queries.unverified`` - the asker was a visitor (``helpdesk.visitors: ask``), not a focal point.
"""
from __future__ import annotations


def apply(db) -> None:
    db.execute(
        """CREATE TABLE awaited_inputs (
            user_id INTEGER PRIMARY KEY,      -- who is to type it
            name TEXT NOT NULL,               -- what is awaited: a registered input (hd_question, ms_note ...)
            subject TEXT NOT NULL DEFAULT '', -- for which object (a query number, ISO3:step ...)
            data TEXT NOT NULL DEFAULT '{}',  -- the prompt's other details (JSON)
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL
        )"""
    )
    db.execute(
        """CREATE TABLE intake_offers (
            user_id INTEGER NOT NULL,
            chat_id INTEGER NOT NULL,
            message_id INTEGER NOT NULL,      -- the person's message the buttons are about
            kind TEXT NOT NULL DEFAULT 'text',
            text TEXT NOT NULL DEFAULT '',    -- its text or caption (a file may come without)
            lang TEXT,
            candidates TEXT NOT NULL DEFAULT '[]', -- FAQ entries the search found (JSON)
            attachment TEXT,                  -- the photo or document of the message (JSON), if any
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            PRIMARY KEY (user_id, message_id)
        )"""
    )
    db.execute(
        """CREATE TABLE blocked_users (
            user_id INTEGER PRIMARY KEY,
            blocked_at TEXT NOT NULL,
            blocked_by INTEGER,               -- NULL: the command line
            query_id INTEGER                  -- the query /block N named, if any
        )"""
    )
    db.execute(
        """CREATE TABLE block_events (
            id INTEGER PRIMARY KEY,
            user_id INTEGER NOT NULL,
            action TEXT NOT NULL,             -- block | unblock
            by_user INTEGER,                  -- NULL: the command line
            how TEXT NOT NULL,                -- cli | chat
            query_id INTEGER,
            at TEXT NOT NULL
        )"""
    )
    db.execute("ALTER TABLE queries ADD COLUMN unverified INTEGER NOT NULL DEFAULT 0")
