"""The Datasette dashboard on a test database: canned queries answer, secrets stay hidden, nothing is writable."""
from __future__ import annotations

import json
import sqlite3

import pytest

from bot import dashboard
from bot.cli import main
from knowledge.faq import load_topics
from storage import faq as faq_store
from storage import helpdesk as hd_store
from storage import users
from storage.db import utcnow_iso

datasette = pytest.importorskip("datasette")


async def populate(env):
    db, now = env.db, env.clock.now()
    stamp = utcnow_iso(now)
    users.touch_user(db, 501, "Wanjiru", "wanjiru_k", now)
    users.touch_user(db, 9001, "Amina", None, now)
    db.execute("UPDATE users SET role = 'focal_point', country = 'KEN' WHERE user_id = 501")
    db.execute("UPDATE users SET role = 'expert' WHERE user_id = 9001")

    def query(country, state="open", overdue=0):
        qid = hd_store.insert_query(db, asker_id=501, country=country, lang="en", text=f"question from {country}",
                                    source="ask", candidates=[], now=now)
        db.execute("UPDATE queries SET state = ?, overdue = ? WHERE id = ?", [state, overdue, qid])
        return qid

    overdue_ken = [query("KEN", overdue=1), query("KEN", "new", overdue=1)]
    db.execute("UPDATE queries SET assignee_id = 9001, breached_first = 1 WHERE id = ?", [overdue_ken[0]])
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
    # a country-specific due date already past (the template's first due date is 2016-10-31)
    db.execute("UPDATE milestones SET due = '2016-05-01' WHERE iso3 = 'ARG'")
    db.execute("INSERT INTO milestones (iso3, step_id, status, due, changed_via, changed_at) "
               "VALUES ('SEN', 'working_group', 'in_progress', '2016-04-30', 'cli', ?)", [stamp])
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
    instance = dashboard.make_datasette(env.services.config.db_path, config=env.services.config, clock=env.clock.now)
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
    assert satisfaction == [{"topic": load_topics()[ds.topic]["en"], "votes": 3, "helpful": 2, "not_helpful": 1, "helpful_pct": 66.7}]
    helpdesk = {r["topic"]: r["average"] for r in await rows(ds, "/ldn/helpdesk_satisfaction_by_tag.json?_shape=array")}
    assert helpdesk == {"soc": 2.0, "baseline": 5.0}

    recent = await rows(ds, "/ldn/faq_gaps_recent.json?_shape=array")
    assert sorted(r["query"] for r in recent) == ["autre question", "q", "question sans réponse", "unanswered"]
    assert {r["country"] for r in recent if r["iso3"] == "SEN"} == {"Senegal"}  # names, not only codes

    late = await rows(ds, "/ldn/queries_overdue.json?_shape=array")
    assert sorted(r["iso3"] for r in late) == ["ARG", "KEN", "KEN"]
    assert {r["asker"] for r in late} == {"Wanjiru"} and {r["assignee"] for r in late} == {"Amina", "(nobody)"}

    sla = {r["region"]: r for r in await rows(ds, "/ldn/sla_by_region.json?_shape=array")}
    assert sla["Africa"]["queries"] == 3 and sla["Africa"]["first_response_met_pct"] == 66.7

    without = {r["iso3"] for r in await rows(ds, "/ldn/countries_without_focal_point.json?_shape=array&_size=max")}
    assert len(without) == 94 and "KEN" not in without

    overdue = await rows(ds, "/ldn/overdue_milestones.json?_shape=array&_size=max&region=&step=")
    assert [(r["iso3"], r["status"], r["days_overdue"]) for r in overdue] == [("SEN", "in_progress", 20),
                                                                              ("ARG", "in_progress", 19)]
    assert overdue[0]["country"] == "Senegal" and overdue[0]["step"]
    africa = await rows(ds, "/ldn/overdue_milestones.json?_shape=array&region=Africa&step=")
    assert [r["iso3"] for r in africa] == ["SEN"]

    failed = await rows(ds, "/ldn/failed_deliveries.json?_shape=array")
    assert [(r["recipient"], r["status"]) for r in failed] == [("Wanjiru", "blocked")]


async def test_every_canned_query_runs(ds):
    meta = (await ds.client.get("/-/metadata.json")).json()
    queries = meta["databases"]["ldn"]["queries"]
    named = {"overdue_milestones", "countries_without_focal_point", "queries_overdue", "sla_by_region",
             "satisfaction_by_topic", "faq_gaps_recent"}
    assert named <= set(queries)
    for name, spec in queries.items():
        assert spec["hide_sql"] is True and spec["title"]
        await rows(ds, f"/ldn/{name}.json?_shape=array")
        page = await ds.client.get(f"/ldn/{name}")
        assert page.status_code == 200 and spec["title"] in page.text
        assert 'id="sql-editor"' not in page.text and 'id="sql-query"' not in page.text  # the SQL is folded away
        assert "SELECT" not in page.text.split("</title>")[0] and "FROM " not in page.text.split("<h3>")[1].split("</form>")[0]


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
    before = env.db.execute("SELECT count(*) FROM users").fetchone()[0]
    assert before == 2
    response = await ds.client.get("/ldn.json?sql=" + "delete from users")
    assert response.status_code == 400, response.text[:300]
    assert "Statement must be a SELECT" in response.json()["error"]
    sneaky = await ds.client.get("/ldn.json?sql=" + "with x as (select 1) delete from users")
    assert sneaky.status_code == 400
    assert env.db.execute("SELECT count(*) FROM users").fetchone()[0] == before
    databases = (await ds.client.get("/-/databases.json")).json()
    assert [d["is_mutable"] for d in databases if d["name"] == "ldn"] == [False]
    assert {d["name"] for d in databases} == {"ldn"}  # no scratch in-memory database for arbitrary SQL
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
    assert page.status_code == 200
    # the notes sit in each column's menu, not as a screen of text above the table
    assert 'data-column-description="Telegram user id of the focal point"' in page.text
    css = await ds.client.get("/ldn-static/ldn.css")
    assert "dl.column-descriptions { display: none; }" in css.text


def test_write_metadata_command(env, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LDN_DB", env.services.config.db_path)
    out = tmp_path / "metadata.json"
    assert main(["dashboard", "--write-metadata", str(out)]) == 0
    meta = json.loads(out.read_text())
    db = meta["databases"]["ldn"]
    assert "overdue_queries_by_region" in db["queries"] and db["queries"]["queries_overdue"]["hide_sql"] is True
    assert db["tables"]["invites"]["allow"] is False  # without the guard, plain datasette refuses the table


def test_column_comments_are_read_from_create_statements():
    sql = """CREATE TABLE t (
        id INTEGER PRIMARY KEY,            -- the number
        name TEXT NOT NULL,                -- who, in English
        plain TEXT,
        PRIMARY KEY (id)                   -- not a column
    )"""
    assert dashboard.column_comments(sql) == {"id": "the number", "name": "who, in English"}
