"""m0018: a query's asker and assignee are foreign keys to ``users``; every write keeps them whole."""
from __future__ import annotations

import datetime as dt

from bot import helpdesk as hd
from storage import privacy, users
from storage import helpdesk as store
from storage.db import migrate, open_db, transaction

T0 = dt.datetime(2026, 3, 2, 9, tzinfo=dt.timezone.utc)


def test_an_unknown_expert_and_a_forgotten_asker_keep_the_keys_whole(tmp_path):
    db = open_db(tmp_path / "people.db")
    migrate(db, T0)
    users.touch_user(db, 501, "Wanjiru", "wanjiru_k", T0)
    with transaction(db):
        qid = hd.create_query(db, asker_id=501, country="KEN", lang="en", text="Wanjiru asks: the baseline?",
                              source="ask", now=T0)
        # an expert takes the query in the experts' group before ever writing to the bot
        assert hd.assign(db, qid, 9001, 9001, T0).ok
    assert db.execute("SELECT first_name, active FROM users WHERE user_id = 9001").fetchone() == (None, 0)
    assert [u["user_id"] for u in users.users_where(db)] == [501]  # known by id only: no reminder, no broadcast
    users.touch_user(db, 9001, "Amina", None, T0)  # once they write, they are a user like any other
    assert db.execute("SELECT first_name, active FROM users WHERE user_id = 9001").fetchone() == ("Amina", 1)

    privacy.forget_and_log(db, 501, T0, "cli")
    privacy.forget_and_log(db, 9001, T0, "cli")
    row = store.get_query(db, qid)
    assert row["asker_id"] == 0 and row["assignee_id"] is None and "Wanjiru" not in row["text"]
    assert db.execute("SELECT first_name, username, active FROM users WHERE user_id = 0").fetchone() == (None, None, 0)
    assert db.execute("SELECT count(*) FROM users WHERE user_id IN (501, 9001)").fetchone()[0] == 0
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []


def test_the_key_refuses_a_query_of_nobody(tmp_path):
    """The key is enforced (at commit): a row written past the storage functions is refused."""
    db = open_db(tmp_path / "people.db")
    migrate(db, T0)
    stamp = "2026-03-02T09:00:00Z"
    try:
        with transaction(db):
            db.execute("INSERT INTO queries (asker_id, lang, text, source, created_at, updated_at) VALUES (4242, 'en', 'x', 'ask', ?, ?)",
                       [stamp, stamp])
    except Exception as exc:  # noqa: BLE001 - sqlite3.IntegrityError
        assert "FOREIGN KEY" in str(exc)
    else:
        raise AssertionError("a query of an unknown person was stored")
    assert db.execute("SELECT count(*) FROM queries").fetchone()[0] == 0
