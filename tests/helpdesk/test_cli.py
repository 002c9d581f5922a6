"""``ldn-bot helpdesk stats|list`` and the export function the operations CLI wires to ``export queries``."""
from __future__ import annotations

import datetime as dt
import json

from bot import helpdesk as hd
from bot.cli import main
from storage.db import migrate, open_db

T0 = dt.datetime(2016, 6, 1, 9, 0, tzinfo=dt.timezone.utc)


def seed(path):
    db = open_db(path)
    migrate(db, T0)
    a = hd.create_query(db, asker_id=501, country="KEN", lang="en", text="Kenya baseline?", source="ask", now=T0)
    hd.create_query(db, asker_id=502, country="SEN", lang="fr", text="Cible NDT ?", source="ask", now=T0)
    hd.record_expert_reply(db, a, 800, chat_id=-1, message_id=1, kind="text", text="Use 2000-2015.", attachment=None,
                           now=T0 + dt.timedelta(hours=6))
    db.conn.close()


def test_stats_and_list(tmp_path, monkeypatch, capsys):
    path = tmp_path / "ldn.db"
    seed(path)
    monkeypatch.setenv("LDN_DB", str(path))
    assert main(["helpdesk", "stats", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["total"] == 2 and data["by_state"]["open"] == 1 and data["overall"]["median_first_response_hours"] == 6.0
    assert data["by_region"]["I"]["count"] == 2
    assert main(["helpdesk", "list", "--country", "SEN"]) == 0
    out = capsys.readouterr().out
    assert "Cible NDT" in out and "Kenya" not in out
    assert main(["helpdesk", "list", "--country", "XXX"]) == 2


def test_export_function_for_the_cli(tmp_path):
    path = tmp_path / "ldn.db"
    seed(path)
    db = open_db(path)
    text = hd.export_queries_csv(db, None)
    assert text.splitlines()[0].startswith("id,created_at,country")
    assert "Use 2000-2015." in text and text.count("\n") == 3
    assert hd.export_queries_csv(db, T0 + dt.timedelta(days=1)).count("\n") == 1
    db.conn.close()
