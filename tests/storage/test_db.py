"""The database: WAL, idempotent numbered migrations, the delivery ledger's guarantees."""
from __future__ import annotations

import datetime as dt

from storage import deliveries
from storage.db import latest_version, migrate, open_db, schema_version

NOW = dt.datetime(2016, 5, 20, 8, 0, tzinfo=dt.timezone.utc)


def test_migrations_apply_once_and_database_uses_wal(tmp_path):
    db = open_db(tmp_path / "x.db")
    applied = migrate(db, NOW)
    assert applied and schema_version(db) == latest_version()
    assert migrate(db, NOW) == []
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert {"users", "invites", "deliveries", "_migrations"} <= set(db.table_names())


def test_ledger_row_is_unique_per_recipient_and_claimed_once(tmp_path):
    db = open_db(tmp_path / "x.db")
    migrate(db, NOW)
    first = deliveries.enqueue(db, kind="reminder", ref="ev:1:1d", chat_id=5, method="sendMessage", payload={"text": "hi"}, due_at=NOW, now=NOW)
    again = deliveries.enqueue(db, kind="reminder", ref="ev:1:1d", chat_id=5, method="sendMessage", payload={"text": "hi"}, due_at=NOW, now=NOW)
    assert first == again
    assert deliveries.claim(db, first, NOW) is True
    assert deliveries.claim(db, first, NOW) is False
    assert deliveries.mark_in_flight_uncertain(db, NOW) == {"uncertain": 1, "resend": 0}
    assert deliveries.get(db, first)["status"] == "uncertain"
    assert deliveries.due(db, NOW + dt.timedelta(days=1)) == []
