"""The e-mail channel: addresses bound to person records, e-mail invitations, the threads of
queries asked by e-mail and every message carried, and the senders answered once a day.

* ``mail_people`` - one bound address per person (``user_id`` is the person record of
  ``users``: a Telegram user, or an e-mail-only person numbered from 2**53 up), the channel
  reminders go to (``telegram | email | both``), the one-click unsubscribe token.
* ``mail_invites`` - an invitation sent by e-mail: the address, the hash of the confirmation
  code, the Telegram invitation it came with, when it was confirmed and by which person.
* ``mail_threads`` - a query asked by e-mail: the asker's address, the subject, the token of
  its reply address (``helpdesk+q<N>-<token>@...``).
* ``mail_messages`` - every e-mail of a query, in and out, by its ``Message-ID`` (threading
  by ``In-Reply-To``/``References`` looks up this table; a message seen twice is ignored).
* ``mail_files`` - the files of an incoming e-mail, kept with the query (committed with it)
  until they are posted to the experts' chat; then their content is dropped.
* ``mail_notices`` - the last automatic answer to an address (unknown senders, size limit):
  at most one a day.
"""
from __future__ import annotations


def apply(db) -> None:
    db.execute(
        """CREATE TABLE mail_people (
            user_id INTEGER PRIMARY KEY,
            address TEXT NOT NULL UNIQUE,          -- lower case
            display_name TEXT,
            channel TEXT NOT NULL DEFAULT 'both',  -- where reminders go: telegram | email | both
            unsubscribe_token TEXT NOT NULL UNIQUE,
            confirmed_at TEXT NOT NULL,
            digest_sent_week TEXT                  -- ISO week of the last weekly digest (YYYY-Www)
        )"""
    )
    db.execute(
        """CREATE TABLE mail_invites (
            id INTEGER PRIMARY KEY,
            address TEXT NOT NULL,
            country TEXT NOT NULL,
            lang TEXT NOT NULL,
            code_hash TEXT NOT NULL UNIQUE,        -- sha256 of the confirmation code
            invite_hash TEXT,                      -- the Telegram invitation sent with it
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            confirmed_at TEXT,
            user_id INTEGER                        -- the person the address was bound to
        )"""
    )
    db.execute("CREATE INDEX idx_mail_invites_address ON mail_invites(address)")
    db.execute(
        """CREATE TABLE mail_threads (
            query_id INTEGER PRIMARY KEY REFERENCES queries(id),
            address TEXT NOT NULL,
            subject TEXT NOT NULL,
            token TEXT NOT NULL
        )"""
    )
    db.execute(
        """CREATE TABLE mail_messages (
            id INTEGER PRIMARY KEY,
            message_id TEXT NOT NULL UNIQUE,       -- the Message-ID header, without <>
            query_id INTEGER REFERENCES queries(id),
            direction TEXT NOT NULL,               -- in | out
            address TEXT NOT NULL,                 -- sender (in) or recipient (out)
            fate TEXT NOT NULL,                    -- query | followup | rating | confirm | ignored | refused | sent
            detail TEXT,
            at TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX idx_mail_messages_query ON mail_messages(query_id)")
    db.execute(
        """CREATE TABLE mail_notices (
            address TEXT NOT NULL,
            kind TEXT NOT NULL,
            day TEXT NOT NULL,                     -- YYYY-MM-DD (UTC) of the last answer
            PRIMARY KEY (address, kind)
        )"""
    )
    db.execute(
        """CREATE TABLE mail_files (
            id INTEGER PRIMARY KEY,
            query_id INTEGER NOT NULL REFERENCES queries(id),
            mail_message INTEGER NOT NULL REFERENCES mail_messages(id),
            name TEXT NOT NULL,
            mime_type TEXT NOT NULL,
            size INTEGER NOT NULL,
            content BLOB,                          -- NULL once posted (or refused)
            state TEXT NOT NULL DEFAULT 'waiting', -- waiting | posted | refused (over the limits) | told (the experts were told)
            reason TEXT
        )"""
    )
    db.execute("CREATE INDEX idx_mail_files_state ON mail_files(state)")
