"""One-time confirmations for destructive buttons.

* ``confirmations`` - a nonce the bot put on a "yes, do it" button (forget me, send the
  broadcast, cancel the event, restore), bound to the person who asked and to the request
  (``action`` and ``subject``), with an expiry. Pressing the button redeems the nonce once;
  a forged, copied, replayed or expired button finds nothing to redeem.
"""
from __future__ import annotations


def apply(db) -> None:
    db.execute(
        """CREATE TABLE confirmations (
            nonce TEXT PRIMARY KEY,           -- random, URL-safe, on the button
            user_id INTEGER NOT NULL,         -- the only person who may press it
            action TEXT NOT NULL,             -- what it confirms: forget | broadcast | event_cancel | restore
            subject TEXT NOT NULL DEFAULT '', -- which request (a broadcast id, an event id, ...)
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            used_at TEXT                      -- set when redeemed: a second press finds it used
        )"""
    )
    db.execute("CREATE INDEX confirmations_by_user ON confirmations (user_id)")
