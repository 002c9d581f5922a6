"""The Datasette dashboard on a test database: canned queries answer, secrets stay hidden, nothing is writable."""
from __future__ import annotations

import json
import sqlite3

import pytest

from bot import dashboard
from bot.cli import main
from storage import faq as faq_store
from storage import helpdesk as hd_store
from storage import users
from storage.db import utcnow_iso

datasette = pytest.importorskip("datasette")


async def populate(env):
    db, now = env.db, env.clock.now()
    stamp = utcnow_iso(now)

    def query(country, state="open", overdue=0):
        qid = hd_store.insert_query(db, asker_id=501, country=country, lang="en", text=f"question from {country}",
                                    source="ask", candidates=[], now=now)
        db.execute("UPDATE queries SET state = ?, overdue = ? WHERE id = ?", [state, overdue, qid])
        return qid

    overdue_ken = [query("KEN", overdue=1), query("KEN", "new", overdue=1)]
    query("ARG", "pending", overdue=1)
    query("KEN", "open", overdue=0)          # not overdue
    query("THA", "resolved", overdue=1)      # resolved: no longer counts
    for qid, score, tag in ((overdue_ken[0], 2, "soc"), (overdue_ken[1], 5, "baseline")):
        db.execute("INSERT INTO query_ratings (query_id, user_id, asked_at, score, rated_at) VALUES (?, 501, ?, ?, ?)",
                   [qid, stamp, score, stamp])
        db.execute("INSERT INTO query_tags VALUES (?, ?)", [qid, tag])
    # the working group: done in Kenya, not applicable in Chile, in progress in Argentina
    for iso3, status in (("KEN", "done"), ("CHL", "not_applicable"), ("ARG", "in_progress")):
        db.execute("INSERT INTO milestones (iso3, step_id, status, changed_via, changed_at) VALUES (?, 'working_group', ?, 'cli', ?)",
                   [iso3, status, stamp])
    faq_store.log_miss(db, "question sans réponse", lang="fr", best_score=0.1, country="SEN", user_id=502, now=now)
    faq_store.log_miss(db, "autre question", lang="fr", best_score=0.2, country="SEN", user_id=502, now=now)
    faq_store.log_miss(db, "unanswered", lang="en", best_score=0.2, now=now)
    entry = db.execute("SELECT id, topic FROM faq_entries LIMIT 1").fetchone()
    for helpful in (True, True, False):
        faq_store.record_feedback(db, entry[0], helpful, lang="en", user_id=777, query="q", now=now)
    users.insert_invite(db, "f" * 64, "KEN", 900, now, now)
    db.execute("""INSERT INTO deliveries (kind, ref, chat_id, method, payload, status, due_at, created_at, error)
                  VALUES ('broadcast', 'b1', 501, 'sendMessage', '{"text": "private words"}', 'blocked', ?, ?, '403 blocked')""",
               [stamp, stamp])
    return entry[1]


@pytest.fixture
async def ds(env):
    topic = await populate(env)
    instance = dashboard.make_datasette(env.services.config.db_path, config=env.services.config)
    await instance.invoke_startup()
    instance.topic = topic
    return instance


async def rows(ds, path):
    response = await ds.client.get(path)
    assert response.status_code == 200, response.text[:500]
    return response.json()


async def test_canned_queries_answer_the_everyday_questions(ds):
    overdue = await rows(ds, "/ldn/overdue_queries_by_region.json?_shape=array")
    by_region = {r["region"]: r["overdue_queries"] for r in overdue}
    assert by_region == {"Africa": 2, "Latin America and the Caribbean": 1}

    missing_wg = await rows(ds, "/ldn/working_group_not_established.json?_shape=array&_size=max")
    iso3s = {r["iso3"] for r in missing_wg}
    assert len(missing_wg) == 93 and "KEN" not in iso3s and "CHL" not in iso3s and "ARG" in iso3s
    assert next(r for r in missing_wg if r["iso3"] == "ARG")["status"] == "in_progress"

    gaps = {r["lang"]: r for r in await rows(ds, "/ldn/faq_gaps_by_language.json?_shape=array")}
    assert gaps["fr"]["misses"] == 2 and gaps["fr"]["unanswered"] == 2
    assert gaps["en"]["misses"] == 2 and gaps["en"]["not_helpful"] == 1  # one abstention, one vote down

    satisfaction = await rows(ds, "/ldn/satisfaction_by_topic.json?_shape=array")
    assert satisfaction == [{"topic": ds.topic, "votes": 3, "helpful": 2, "not_helpful": 1, "helpful_pct": 66.7}]
    helpdesk = {r["topic"]: r["average"] for r in await rows(ds, "/ldn/helpdesk_satisfaction_by_tag.json?_shape=array")}
    assert helpdesk == {"soc": 2.0, "baseline": 5.0}

    for name in ("open_queries_by_region", "faq_gaps_latest", "countries_without_focal_point", "failed_deliveries"):
        await rows(ds, f"/ldn/{name}.json?_shape=array")


async def test_every_canned_query_runs(ds):
    meta = (await ds.client.get("/-/metadata.json")).json()
    queries = meta["databases"]["ldn"]["queries"]
    assert len(queries) >= 8
    for name in queries:
        await rows(ds, f"/ldn/{name}.json?_shape=array")


async def test_secrets_are_hidden_even_from_custom_sql(ds):
    invites = await rows(ds, "/ldn/invites.json?_shape=array")
    assert invites and all(r["token_hash"] is None for r in invites) and invites[0]["country"] == "KEN"
    custom = await rows(ds, "/ldn.json?_shape=array&sql=" + "select token_hash, upper(token_hash) as u from invites")
    assert custom == [{"token_hash": None, "u": None}]
    probe = await rows(ds, "/ldn.json?_shape=array&sql=" + "select count(*) as n from invites where token_hash like 'f%'")
    assert probe == [{"n": 0}]
    payloads = await rows(ds, "/ldn.json?_shape=array&sql=select payload, error from deliveries")
    assert payloads and all(r["payload"] is None for r in payloads) and payloads[0]["error"] == "403 blocked"
    page = await ds.client.get("/ldn/deliveries")
    assert "private words" not in page.text
    # the database file cannot be downloaded, and the secret tables are not listed
    assert (await ds.client.get("/ldn.db")).status_code in (403, 404)
    listing = (await ds.client.get("/ldn.json")).json()
    hidden = {t["name"] for t in listing["tables"] if t["hidden"]}
    assert "invites" in hidden


async def test_nothing_is_writable(ds, env):
    response = await ds.client.get("/ldn.json?sql=" + "delete from users")
    assert response.status_code != 200 or "error" in response.text.lower()
    assert env.db.execute("SELECT count(*) FROM users").fetchone()[0] >= 0
    conn = sqlite3.connect(env.services.config.db_path)
    dashboard.guard(conn)
    with pytest.raises(sqlite3.DatabaseError, match="not authorized"):
        conn.execute("DELETE FROM users")
    with pytest.raises(sqlite3.DatabaseError, match="not authorized"):
        conn.execute("CREATE TABLE evil (x)")
    assert conn.execute("SELECT token_hash FROM invites").fetchone() == (None,)
    conn.close()


async def test_metadata_describes_tables_and_columns(ds):
    meta = (await ds.client.get("/-/metadata.json")).json()
    tables = meta["databases"]["ldn"]["tables"]
    assert "Helpdesk queries" in tables["queries"]["description"]
    assert "Telegram user id of the focal point" in tables["queries"]["columns"]["asker_id"]  # from the migration's comment
    assert tables["faq_misses"]["columns"]["kind"].startswith("abstain")
    assert "hidden" in tables["invites"]["columns"]["token_hash"]
    assert tables["ref_countries"]["description"]
    page = await ds.client.get("/ldn/queries")
    assert page.status_code == 200 and "Telegram user id of the focal point" in page.text


def test_write_metadata_command(env, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LDN_DB", env.services.config.db_path)
    out = tmp_path / "metadata.json"
    assert main(["dashboard", "--write-metadata", str(out)]) == 0
    meta = json.loads(out.read_text())
    db = meta["databases"]["ldn"]
    assert "overdue_queries_by_region" in db["queries"]
    assert db["tables"]["invites"]["allow"] is False  # without the guard, plain datasette refuses the table


def test_column_comments_are_read_from_create_statements():
    sql = """CREATE TABLE t (
        id INTEGER PRIMARY KEY,            -- the number
        name TEXT NOT NULL,                -- who, in English
        plain TEXT,
        PRIMARY KEY (id)                   -- not a column
    )"""
    assert dashboard.column_comments(sql) == {"id": "the number", "name": "who, in English"}
