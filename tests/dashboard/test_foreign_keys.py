"""m0015: the schema declares its foreign keys; rows written before it keep their data and get a parent."""
from __future__ import annotations

import datetime as dt

import pytest

from storage.db import migrate, open_db, transaction

T0 = dt.datetime(2016, 5, 20, tzinfo=dt.timezone.utc)
STAMP = "2016-05-20T00:00:00Z"


def keys(db, table: str) -> set[tuple[str, str, str]]:
    return {(r[3], r[2], r[4]) for r in db.execute(f"PRAGMA foreign_key_list({table})")}


@pytest.fixture
def old_db(tmp_path):
    """A database of m0014 with a query, a milestone and a focal point, some pointing nowhere."""
    db = open_db(str(tmp_path / "old.db"))
    migrate(db, T0, upto=14)
    db.execute("INSERT INTO ref_countries VALUES ('KEN', 'Kenya', 'I', 'Africa', 'africa', 1, 'konya', 'Africa/Nairobi', ?)",
               [STAMP])
    db.execute("INSERT INTO milestone_steps (step_id, position, phase, default_due, title, active, synced_at) "
               "VALUES ('working_group', 1, 'prepare', '2016-10-31', 'Working group', 1, ?)", [STAMP])
    db.execute("INSERT INTO users (user_id, first_name, role, country, created_at, updated_at) "
               "VALUES (501, 'Wanjiru', 'focal_point', 'KEN', ?, ?)", [STAMP, STAMP])
    db.execute("INSERT INTO queries (id, asker_id, country, lang, text, source, state, priority, created_at, updated_at, assignee_id) "
               "VALUES (7, 501, 'XKX', 'en', 'Where is the baseline?', 'ask', 'open', 'normal', ?, ?, 4242)", [STAMP, STAMP])
    db.execute("INSERT INTO query_events (query_id, at, actor_id, kind) VALUES (7, ?, 501, 'open')", [STAMP])
    db.execute("INSERT INTO milestones (iso3, step_id, status, changed_via, changed_at) VALUES ('KEN', 'working_group', 'done', 'cli', ?)",
               [STAMP])
    db.execute("INSERT INTO milestones (iso3, step_id, status, changed_via, changed_at) VALUES ('KEN', 'old_step', 'done', 'cli', ?)",
               [STAMP])
    yield db
    db.conn.close()


def test_keys_are_declared_and_every_row_is_kept(old_db):
    db = old_db
    assert migrate(db, T0)[0] == "m0015_foreign_keys"  # then the later ones (m0017 indexes)
    assert ("country", "ref_countries", "iso3") in keys(db, "queries")
    # m0018: a query's asker and assignee point to users; one the bot never stored got a row known by id only
    assert {("asker_id", "users", "user_id"), ("assignee_id", "users", "user_id")} <= keys(db, "queries")
    assert db.execute("SELECT first_name, active FROM users WHERE user_id = 4242").fetchone() == (None, 0)
    assert keys(db, "milestones") == {("iso3", "ref_countries", "iso3"), ("step_id", "milestone_steps", "step_id")}
    assert keys(db, "milestone_history") == {("iso3", "ref_countries", "iso3"), ("step_id", "milestone_steps", "step_id")}
    assert keys(db, "users") == {("country", "ref_countries", "iso3")}
    assert ("query_id", "queries", "id") in keys(db, "query_events")  # m0003's key still points to the rebuilt table
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    # the rows are all there; a code or step that pointed nowhere got a row
    assert db.execute("SELECT text, country, assignee_id FROM queries WHERE id = 7").fetchone() == ("Where is the baseline?", "XKX", 4242)
    assert db.execute("SELECT name, region FROM ref_countries WHERE iso3 = 'XKX'").fetchone() == ("XKX", "(not in the registry)")
    assert db.execute("SELECT title, active FROM milestone_steps WHERE step_id = 'old_step'").fetchone() == ("old_step", 0)
    assert db.execute("SELECT count(*) FROM milestones").fetchone()[0] == 2
    assert db.execute("SELECT count(*) FROM query_events WHERE query_id = 7").fetchone()[0] == 1
    indexes = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'queries'")}
    assert {"idx_queries_country", "idx_queries_state"} <= indexes
    assert migrate(db, T0) == []


def test_the_keys_hold_at_commit_and_allow_a_parent_to_be_replaced_within_a_transaction(old_db):
    db = old_db
    migrate(db, T0)
    with pytest.raises(Exception, match="FOREIGN KEY"):
        with transaction(db):
            db.execute("INSERT INTO milestones (iso3, step_id, status, changed_via, changed_at) "
                       "VALUES ('ZZZ', 'working_group', 'done', 'cli', ?)", [STAMP])
    assert db.execute("SELECT count(*) FROM milestones WHERE iso3 = 'ZZZ'").fetchone()[0] == 0
    with transaction(db):  # a parent replaced within one transaction (checked at commit)
        db.execute("DELETE FROM ref_countries WHERE iso3 = 'KEN'")
        db.execute("INSERT INTO ref_countries VALUES ('KEN', 'Kenya', 'I', 'Africa', 'africa', 1, 'konya', 'Africa/Nairobi', ?)",
                   [STAMP])
    assert db.execute("SELECT count(*) FROM milestones WHERE iso3 = 'KEN'").fetchone()[0] == 2


def test_a_new_database_starts_with_the_registry_and_the_steps(tmp_path):
    db = open_db(str(tmp_path / "new.db"))
    migrate(db, T0)
    assert db.execute("SELECT count(*) FROM ref_countries").fetchone()[0] == 95
    assert db.execute("SELECT count(*) FROM milestone_steps").fetchone()[0] >= 10
    db.conn.close()


def test_the_registry_sync_keeps_the_codes_rows_still_point_to(old_db):
    from knowledge.countries import load_countries
    from storage.ops import sync_countries

    db = old_db
    migrate(db, T0)  # XKX (a query's country) got a row of its own
    db.execute("INSERT INTO ref_countries VALUES ('ZZZ', 'Nowhere', '?', '?', '', 0, '', 'UTC', ?)", [STAMP])
    assert sync_countries(db, load_countries(), T0) == 95
    codes = {r[0] for r in db.execute("SELECT iso3 FROM ref_countries")}
    assert "XKX" in codes and "ZZZ" not in codes and "KEN" in codes and len(codes) == 96
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
