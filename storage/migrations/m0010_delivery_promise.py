"""The delivery promise of each ledger row.

* ``deliveries.promise`` - what happens when the outcome of a send is unknown (a read
  timeout after the request was written, a kill while it was in flight):
  ``at_most_once`` rows stay ``uncertain`` and are never resent (broadcasts, ordinary
  reminders, notices); ``at_least_once`` rows are sent again, once, with a discreet note
  (an expert's answer, a deadline reminder): a possible duplicate is better than a lost
  answer. See bot/delivery.py.
* ``deliveries.resends`` - how many times the row was sent again after an unknown outcome.
"""
from __future__ import annotations


def apply(db) -> None:
    db.execute("ALTER TABLE deliveries ADD COLUMN promise TEXT NOT NULL DEFAULT 'at_most_once'")
    db.execute("ALTER TABLE deliveries ADD COLUMN resends INTEGER NOT NULL DEFAULT 0")
    db.execute("CREATE INDEX idx_deliveries_chat_status ON deliveries(chat_id, status)")
