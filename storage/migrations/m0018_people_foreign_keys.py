"""A query's asker and assignee are declared foreign keys to ``users`` (issue #18), so that
Datasette links a query to the people it concerns, by name.

m0015 left people out because their parent row was not guaranteed. It is now, by construction:

* :func:`storage.helpdesk.insert_query` and :func:`storage.helpdesk.update_query` give an asker
  or assignee the bot has not stored yet (an expert who takes a query in the experts' group
  before writing to the bot) a row of their own, known by id only and inactive (no reminder
  or broadcast goes to them) until they write to the bot (:func:`storage.users.touch_user`);
* forgetting a person (``/forgetme``, ``ldn-bot user forget``) deletes their row and sets
  ``asker_id`` to 0 and ``assignee_id`` to NULL (:mod:`storage.privacy`): user 0 is the row
  of "a forgotten person" (no name, inactive), added by the first forget that needs it;
* rows written before this migration that point nowhere (0 included) get such an id-only row.

The keys are ``DEFERRABLE INITIALLY DEFERRED`` like m0015's: checked when the transaction
commits. ``queries`` is rebuilt the way m0015 rebuilds a table (key checks off meanwhile,
``PRAGMA foreign_key_check`` clean before commit). ``first_response_by`` and the actors of
audit rows stay linked by the dashboard only (:data:`storage.dashboard.LINKS`).
"""
from __future__ import annotations

import datetime as dt

from storage.migrations.m0015_foreign_keys import _rebuild, keys_off

KEYS = [("asker_id", "users", "user_id"), ("assignee_id", "users", "user_id")]


def _stamp() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def apply(db) -> None:
    """Same transaction handling as m0015 (``PRAGMA foreign_keys`` only changes outside one)."""
    with keys_off(db, "m0018"):
        stamp = _stamp()
        for column, _, _ in KEYS:
            db.execute(f"INSERT OR IGNORE INTO users (user_id, active, created_at, updated_at) "
                       f"SELECT DISTINCT {column}, 0, ?, ? FROM queries WHERE {column} IS NOT NULL", [stamp, stamp])
        _rebuild(db, "queries", KEYS)
