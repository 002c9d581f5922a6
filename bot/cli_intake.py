"""``ldn-bot user block ID`` / ``ldn-bot user unblock ID``: stop (or allow again) a person who
abuses the bot. Their private messages then get one short answer and nothing else; each block
and unblock is recorded (table ``block_events``). In chat: ``/block N`` blocks the asker of query N."""
from __future__ import annotations

import datetime as dt
import sys

from bot import intake
from storage.db import open_db, transaction


def _run(config, now: dt.datetime, fn, user_id: int) -> intake.Block | None:
    path = config.db_path
    db = open_db(path)
    try:
        if "blocked_users" not in db.table_names():
            print(f"the database at {path} predates blocking: start the bot once to migrate it", file=sys.stderr)
            return None
        with transaction(db):
            return fn(db, user_id, by_user=None, how="cli", now=now)
    finally:
        db.conn.close()


def block(config, now: dt.datetime, user_id: int) -> int:
    result = _run(config, now, intake.block_user, user_id)
    if result is None:
        return 1
    print(f"user {user_id}: blocked" if result.done else f"user {user_id}: was blocked already")
    return 0


def unblock(config, now: dt.datetime, user_id: int) -> int:
    result = _run(config, now, intake.unblock_user, user_id)
    if result is None:
        return 1
    print(f"user {user_id}: unblocked" if result.done else f"user {user_id}: was not blocked")
    return 0
