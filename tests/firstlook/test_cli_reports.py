"""``ldn-bot helpdesk stats`` and ``ldn-bot user show`` read as sentences: no None, a header, counts by kind."""
from __future__ import annotations

import datetime as dt

from bot import helpdesk as hd
from bot.cli import main
from storage.db import migrate, open_db

T0 = dt.datetime(2016, 6, 1, 9, 0, tzinfo=dt.timezone.utc)


def test_stats_with_nothing_answered_print_no_none(tmp_path, monkeypatch, capsys):
    path = tmp_path / "ldn.db"
    db = open_db(path)
    migrate(db, T0)
    hd.create_query(db, asker_id=501, country="KEN", lang="en", text="Kenya baseline?", source="ask", now=T0)
    db.conn.close()
    monkeypatch.setenv("LDN_DB", str(path))
    assert main(["helpdesk", "stats"]) == 0
    out = capsys.readouterr().out
    assert "None" not in out
    assert "1 query: new 1" in out
    assert "median first response: none answered yet" in out and "satisfaction: no ratings yet" in out


def test_user_show_names_the_person_and_counts_each_kind(tmp_path, monkeypatch, capsys):
    path = tmp_path / "ldn.db"
    db = open_db(path)
    migrate(db, T0)
    db.execute("INSERT INTO users (user_id, first_name, lang, role, country, active, created_at, updated_at) "
               "VALUES (2001, 'Wanjiru', 'en', 'focal_point', 'KEN', 1, ?, ?)", [T0.isoformat(), T0.isoformat()])
    qid = hd.create_query(db, asker_id=2001, country="KEN", lang="en", text="Baseline?", source="ask", now=T0)
    for n in range(22):
        hd.add_followup(db, qid, 2001, chat_id=2001, message_id=10 + n, kind="text", text=f"part {n}", attachment=None,
                        now=T0 + dt.timedelta(minutes=n + 1))
    db.conn.close()
    monkeypatch.setenv("LDN_DB", str(path))
    assert main(["user", "show", "2001"]) == 0
    out = capsys.readouterr().out
    first = out.splitlines()[0]
    assert first == "User 2001: Wanjiru, focal point of Kenya (KEN)"
    assert "queries: 1 query, 22 messages" in out
    assert "record(s)" not in out and "None" not in out
