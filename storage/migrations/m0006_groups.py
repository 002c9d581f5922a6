"""Groups: the group chats the bot is in, and the peer directory opt-ins.

* ``group_chats`` - one row per group or supergroup the bot was added to. ``circle`` is
  the peer-exchange circle the secretariat (or a group admin) linked it to (``annex:I``,
  ``pilots``, ``KEN`` ...) and ``countries`` its ISO3 list (JSON) as resolved at link
  time. ``settings`` (JSON) holds which features are on and which reminder kinds the
  group receives. ``active = 0`` once the bot was removed (or got 403); ``muted = 1``
  while the bot may not send messages there (restricted, or 400 "not enough rights").
  A supergroup migration moves the row to the new chat id.
* ``directory_optins`` - focal points who chose to be listed by ``/peers`` (with their
  public Telegram username). No row, or ``listed = 0``: never listed.
"""
from __future__ import annotations


def apply(db) -> None:
    db.execute(
        """CREATE TABLE group_chats (
            chat_id INTEGER PRIMARY KEY,      -- Telegram chat id (negative)
            title TEXT,
            type TEXT,                        -- group | supergroup
            lang TEXT,                        -- en fr es ru ar zh: the bot's language in this group
            circle TEXT,                      -- linked peer-exchange circle; NULL = not linked
            countries TEXT NOT NULL DEFAULT '[]', -- JSON list of ISO3 codes of the circle
            settings TEXT NOT NULL DEFAULT '{}',  -- JSON: {"features": {...}, "reminders": {...}}
            active INTEGER NOT NULL DEFAULT 1,-- 0 once the bot was removed from the group
            muted INTEGER NOT NULL DEFAULT 0, -- 1 while the bot may not send messages here
            added_by INTEGER,                 -- user who added the bot
            linked_by INTEGER,                -- user who linked the circle
            last_auto_at TEXT,                -- last automatic answer (rate limit)
            migrated_from INTEGER,            -- the basic group's id before a supergroup migration
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX idx_group_chats_active ON group_chats(active, circle)")
    db.execute(
        """CREATE TABLE directory_optins (
            user_id INTEGER PRIMARY KEY,      -- a focal point's Telegram user id
            listed INTEGER NOT NULL DEFAULT 0,-- 1 = may be listed by /peers
            updated_at TEXT NOT NULL
        )"""
    )
