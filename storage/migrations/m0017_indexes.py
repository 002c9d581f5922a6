"""Indexes for the hot paths on a database of a year of heavy use (issue #16).

* ``idx_queries_overdue``: the overdue count of ``status`` and ``/stats`` reads the
  unresolved queries flagged overdue, not every query;
* ``idx_deliveries_status_kind``: the pending reminders of ``status`` and the ledger's
  counts of rows not sent are found by status, never by reading the sent rows (the bulk);
* ``idx_queries_unposted``: the helpdesk tick's queries whose card is not posted yet (a
  partial index: it holds those rows only).
"""
from __future__ import annotations


def apply(db) -> None:
    db.execute("CREATE INDEX IF NOT EXISTS idx_queries_overdue ON queries(state, overdue)")
    db.execute("CREATE INDEX IF NOT EXISTS idx_queries_unposted ON queries(id) WHERE posted_at IS NULL")
    db.execute("CREATE INDEX IF NOT EXISTS idx_deliveries_status_kind ON deliveries(status, kind)")
