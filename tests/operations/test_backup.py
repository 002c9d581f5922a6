"""Backups of a live database while it is written to; restore's refusals and checks; retention."""
from __future__ import annotations

import datetime as dt
import sqlite3
import threading
import time

import pytest

from bot import backup as bk
from bot.cli import main
from storage.db import latest_version, migrate, open_db, schema_version, transaction, utcnow_iso
from tests.util import CONFIG_TEXT

NOW = dt.datetime(2016, 5, 20, 8, 0, tzinfo=dt.timezone.utc)


def make_db(path, rows: int = 0):
    db = open_db(path)
    migrate(db, NOW)
    db.execute("CREATE TABLE IF NOT EXISTS pairs (n INTEGER NOT NULL, half INTEGER NOT NULL, pad TEXT)")
    with transaction(db):
        for n in range(rows):
            db.execute("INSERT INTO pairs VALUES (?, 0, ?)", [n, "x" * 200])
            db.execute("INSERT INTO pairs VALUES (?, 1, ?)", [n, "x" * 200])
    return db


def consistent(path) -> tuple[int, int]:
    """(pairs, broken pairs) in a backup: every transaction wrote both halves of a pair."""
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one self-contained file
        pairs = conn.execute("SELECT count(DISTINCT n) FROM pairs").fetchone()[0]
        broken = conn.execute("SELECT count(*) FROM (SELECT n FROM pairs GROUP BY n HAVING count(*) != 2)").fetchone()[0]
        return pairs, broken
    finally:
        conn.close()


def test_backup_of_a_live_database_while_writes_happen(tmp_path):
    live = tmp_path / "live.db"
    db = make_db(live, rows=3000)
    stop = threading.Event()
    written = [3000]
    errors: list[Exception] = []

    def writer():
        conn = open_db(live)
        n = 3000
        try:
            while not stop.is_set():
                with transaction(conn):
                    conn.execute("INSERT INTO pairs VALUES (?, 0, ?)", [n, "y" * 200])
                    conn.execute("INSERT INTO pairs VALUES (?, 1, ?)", [n, "y" * 200])
                n += 1
                written[0] = n
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            conn.conn.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        results = []
        for i in range(5):
            while written[0] < 3000 + 50 * (i + 1):  # let some writes land between backups
                time.sleep(0.005)
            results.append(bk.backup(live, tmp_path / f"copy{i}.db", NOW))
    finally:
        stop.set()
        thread.join(10)
    assert not errors, errors
    seen = []
    for result in results:
        pairs, broken = consistent(result.path)
        assert broken == 0
        assert result.schema_version == latest_version()
        assert (result.path.stat().st_mode & 0o777) == 0o600
        seen.append(pairs)
    assert seen == sorted(seen) and seen[-1] > seen[0] >= 3000  # each a later snapshot, writes went on
    assert not list(tmp_path.glob("*.partial"))
    assert db.execute("SELECT value FROM bot_state WHERE key = 'last_backup_at'").fetchone()[0] == utcnow_iso(NOW)
    db.conn.close()


def test_backup_refuses_to_overwrite_the_database_itself(tmp_path):
    make_db(tmp_path / "a.db").conn.close()
    with pytest.raises(bk.BackupError):
        bk.backup(tmp_path / "a.db", tmp_path / "a.db", NOW)
    with pytest.raises(bk.BackupError, match="no database"):
        bk.backup(tmp_path / "missing.db", tmp_path / "b.db", NOW)


def test_restore_refuses_a_running_bot(tmp_path):
    live = tmp_path / "live.db"
    make_db(live, rows=1).conn.close()
    copy = bk.backup(live, tmp_path / "copy.db", NOW).path
    lock = bk.RunLock(live)
    assert lock.acquire()
    try:
        assert bk.lock_held(live)
        assert bk.RunLock(live).acquire() is False  # a second bot cannot start either
        with pytest.raises(bk.BackupError, match="running bot"):
            bk.restore(copy, live, NOW)
    finally:
        lock.release()
    assert not bk.lock_held(live)


def test_restore_refuses_a_fresh_heartbeat_unless_forced_or_stopped(tmp_path):
    live = tmp_path / "live.db"
    db = make_db(live, rows=1)
    copy = bk.backup(live, tmp_path / "copy.db", NOW).path
    db.execute("INSERT INTO bot_state VALUES ('heartbeat', ?, ?)", [utcnow_iso(NOW), utcnow_iso(NOW)])
    with pytest.raises(bk.BackupError, match="heartbeat"):
        bk.restore(copy, live, NOW + dt.timedelta(seconds=30))
    # an old heartbeat (a crash long ago) does not block
    assert bk.heartbeat_evidence(live, NOW + dt.timedelta(hours=1)) is None
    # a clean stop after the last heartbeat does not block
    db.execute("INSERT INTO bot_state VALUES ('stopped_at', ?, ?)", [utcnow_iso(NOW), utcnow_iso(NOW)])
    assert bk.heartbeat_evidence(live, NOW + dt.timedelta(seconds=30)) is None
    db.execute("DELETE FROM bot_state WHERE key = 'stopped_at'")
    db.conn.close()
    assert bk.restore(copy, live, NOW + dt.timedelta(seconds=30), force=True).checked.schema_version == latest_version()


def test_restore_checks_the_backup(tmp_path):
    live = tmp_path / "live.db"
    make_db(live, rows=1).conn.close()
    not_sqlite = tmp_path / "notes.txt"
    not_sqlite.write_text("hello")
    with pytest.raises(bk.BackupError, match="not an SQLite database"):
        bk.restore(not_sqlite, live, NOW)
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    with pytest.raises(bk.BackupError, match="not an ldn-bot database"):
        bk.restore(other, live, NOW)
    newer = bk.backup(live, tmp_path / "newer.db", NOW).path
    conn = sqlite3.connect(newer)
    conn.execute("INSERT INTO _migrations VALUES (9999, 'm9999_future', '2030-01-01T00:00:00Z')")
    conn.commit()
    conn.close()
    with pytest.raises(bk.BackupError, match="newer than this ldn-bot"):
        bk.restore(newer, live, NOW)
    truncated = tmp_path / "truncated.db"
    truncated.write_bytes((tmp_path / "newer.db").read_bytes()[:3000])
    with pytest.raises(bk.BackupError):
        bk.restore(truncated, live, NOW)
    with pytest.raises(bk.BackupError, match="no backup file"):
        bk.restore(tmp_path / "nothing.db", live, NOW)
    # nothing was changed by the refusals
    db = open_db(live)
    assert db.execute("SELECT count(*) FROM pairs").fetchone()[0] == 2
    db.conn.close()


def test_restore_replaces_the_data_and_keeps_the_old_database(tmp_path):
    live = tmp_path / "live.db"
    db = make_db(live, rows=5)
    copy = bk.backup(live, tmp_path / "copy.db", NOW).path
    db.execute("DELETE FROM pairs WHERE n >= 2")  # a mistake we want to undo
    db.conn.close()
    result = bk.restore(copy, live, NOW + dt.timedelta(hours=1))
    assert result.replaced_copy and result.replaced_copy.exists()
    db = open_db(live)
    assert db.execute("SELECT count(*) FROM pairs").fetchone()[0] == 10
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert schema_version(db) == latest_version() and migrate(db, NOW) == []
    assert db.execute("SELECT value FROM bot_state WHERE key = 'restored_at'").fetchone()
    db.conn.close()
    old = sqlite3.connect(result.replaced_copy)
    assert old.execute("SELECT count(*) FROM pairs").fetchone()[0] == 4
    old.close()


def test_older_backup_is_accepted_and_migrated_on_start(tmp_path):
    old = tmp_path / "old.db"
    db = open_db(old)
    migrate(db, NOW, upto=6)  # a backup made before the operations migration (m0007) and later ones
    db.conn.close()
    checked = bk.check_backup(old)
    assert checked.needs_migration and checked.schema_version == 6 < latest_version()
    live = tmp_path / "live.db"
    bk.restore(old, live, NOW)
    db = open_db(live)
    assert migrate(db, NOW) and schema_version(db) == latest_version()
    db.conn.close()


def test_prune_keeps_the_newest(tmp_path):
    for day in range(1, 6):
        (tmp_path / bk.backup_name(NOW + dt.timedelta(days=day))).write_bytes(b"x")
    (tmp_path / "unrelated.db").write_bytes(b"x")
    removed = bk.prune(tmp_path, 2)
    assert len(removed) == 3
    assert [p.name for p in bk.list_backups(tmp_path)] == [bk.backup_name(NOW + dt.timedelta(days=d)) for d in (4, 5)]
    assert (tmp_path / "unrelated.db").exists()


@pytest.fixture
def config(tmp_path):
    from bot.config import config_from_text

    return config_from_text(CONFIG_TEXT).with_overrides(
        storage={"path": str(tmp_path / "ldn.db")},
        operations={"backup_dir": str(tmp_path / "backups"), "backup_daily": True, "backup_keep": 2, "backup_hour_utc": 3})


async def test_daily_backup_job_with_retention(env, tmp_path):
    from handlers.operations import daily_backup

    settings = bk.ops_settings(env.services.config)
    assert (settings.backup_daily, settings.backup_keep, settings.backup_hour_utc) == (True, 2, 3)
    for _ in range(3):
        result = await daily_backup(env.services)
        assert result is not None and result.path.parent == tmp_path / "backups"
        env.clock.advance(days=1)
    assert len(bk.list_backups(tmp_path / "backups")) == 2
    jobs = {job.name for job in env.app.job_queue.jobs()}
    assert {"ops.heartbeat", "ops.backup"} <= jobs


def test_backup_settings_are_off_by_default_and_checked():
    from bot.config import config_from_text

    settings = bk.ops_settings(config_from_text("storage:\n  path: /srv/ldn/ldn.db\n"))
    assert settings.backup_daily is False and settings.backup_keep == 7
    assert str(settings.backup_dir) == "/srv/ldn/backups"
    with pytest.raises(bk.BackupError):
        bk.ops_settings(config_from_text("operations:\n  backup_keep: 0\n"))
    with pytest.raises(bk.BackupError):
        bk.ops_settings(config_from_text("operations:\n  backup_hour_utc: 25\n"))


def test_cli_backup_and_restore(tmp_path, monkeypatch, capsys):
    live = tmp_path / "cli.db"
    make_db(live, rows=3).conn.close()
    monkeypatch.setenv("LDN_DB", str(live))
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)
    assert main(["backup", str(tmp_path / "one.db")]) == 0  # a path that is not a directory: that file
    assert (tmp_path / "one.db").exists() and str(tmp_path / "one.db") in capsys.readouterr().out
    folder = tmp_path / "dated"
    folder.mkdir()
    assert main(["backup", str(folder)]) == 0
    made = bk.list_backups(folder)
    assert len(made) == 1 and str(made[0]) in capsys.readouterr().out
    assert main(["backup", str(tmp_path / "new-dir") + "/"]) == 0  # a trailing slash: a directory, created
    assert len(bk.list_backups(tmp_path / "new-dir")) == 1
    assert main(["backup"]) == 0  # default: operations.backup_dir = next to the database
    assert len(bk.list_backups(tmp_path / "backups")) == 1
    assert main(["restore", "--check", str(made[0])]) == 0
    assert "OK, schema" in capsys.readouterr().out
    assert main(["restore", str(tmp_path / "nope.db")]) == 1
    assert "no backup file" in capsys.readouterr().err
    assert main(["restore", str(made[0])]) == 0
    out = capsys.readouterr().out
    assert "restored" in out and "before-restore" in out
    assert main(["status"]) == 0
    assert "last backup: 20" in capsys.readouterr().out
