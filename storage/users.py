"""Users, roles and invitations."""
from __future__ import annotations

import datetime as dt
from typing import Any

from storage.db import transaction, utcnow_iso

USER_FIELDS = ("user_id", "first_name", "username", "lang", "role", "country", "timezone", "active")


def get_user(db, user_id: int) -> dict | None:
    rows = list(db.query("SELECT * FROM users WHERE user_id = ?", [user_id]))
    return rows[0] if rows else None


def get_user_by_username(db, username: str) -> dict | None:
    """The user with this public @username (case-insensitive), if the bot has seen them."""
    rows = list(db.query("SELECT * FROM users WHERE lower(username) = ?", [username.lstrip("@").lower()]))
    return rows[0] if rows else None


def touch_user(db, user_id: int, first_name: str | None, username: str | None, now: dt.datetime) -> dict:
    """Create the user on first contact; refresh name/username; mark active. Returns the row."""
    stamp = utcnow_iso(now)
    db.execute(
        """INSERT INTO users (user_id, first_name, username, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?)
           ON CONFLICT(user_id) DO UPDATE SET
             first_name = excluded.first_name, username = excluded.username, active = 1,
             updated_at = CASE WHEN users.first_name IS NOT excluded.first_name
                                 OR users.username IS NOT excluded.username
                                 OR users.active = 0 THEN excluded.updated_at ELSE users.updated_at END""",
        [user_id, first_name, username, stamp, stamp],
    )
    row = get_user(db, user_id)
    assert row is not None  # just written
    return row


def set_lang(db, user_id: int, lang: str, now: dt.datetime) -> None:
    db.execute("UPDATE users SET lang = ?, updated_at = ? WHERE user_id = ?", [lang, utcnow_iso(now), user_id])


def set_timezone(db, user_id: int, tz: str | None, now: dt.datetime) -> None:
    db.execute("UPDATE users SET timezone = ?, updated_at = ? WHERE user_id = ?", [tz, utcnow_iso(now), user_id])


def set_active(db, chat_id: int, active: bool, now: dt.datetime) -> None:
    db.execute("UPDATE users SET active = ?, updated_at = ? WHERE user_id = ?", [int(active), utcnow_iso(now), chat_id])


def set_role(db, user_id: int, role: str | None, country: str | None, now: dt.datetime, by_user: int | None, how: str) -> None:
    """Give ``user_id`` a role (creating the user row if needed) and record who did it."""
    stamp = utcnow_iso(now)
    with transaction(db):
        db.execute(
            """INSERT INTO users (user_id, role, country, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
               ON CONFLICT(user_id) DO UPDATE SET role = excluded.role, country = excluded.country,
               updated_at = excluded.updated_at""",
            [user_id, role, country, stamp, stamp],
        )
        db["role_events"].insert({"user_id": user_id, "role": role, "country": country, "by_user": by_user, "how": how, "at": stamp})


def users_where(db, *, role: str | None = None, countries: list[str] | None = None, active_only: bool = True) -> list[dict]:
    """Users filtered by role and/or country list (for reminders and broadcasts)."""
    sql, args = ["SELECT * FROM users WHERE 1=1"], []
    if role:
        sql.append("AND role = ?")
        args.append(role)
    if countries is not None:
        if not countries:
            return []
        sql.append(f"AND country IN ({','.join('?' * len(countries))})")
        args.extend(countries)
    if active_only:
        sql.append("AND active = 1")
    sql.append("ORDER BY user_id")
    return list(db.query(" ".join(sql), args))


# -- invitations -------------------------------------------------------------

def insert_invite(db, token_hash: str, country: str, created_by: int | None, now: dt.datetime, expires: dt.datetime) -> int:
    return db["invites"].insert(
        {"token_hash": token_hash, "country": country, "created_by": created_by,
         "created_at": utcnow_iso(now), "expires_at": utcnow_iso(expires)}
    ).last_pk


def get_invite(db, token_hash: str) -> dict | None:
    rows = list(db.query("SELECT * FROM invites WHERE token_hash = ?", [token_hash]))
    return rows[0] if rows else None


def redeem_invite(db, token_hash: str, user_id: int, now: dt.datetime) -> bool:
    """Mark the invite used by ``user_id`` if still unused; True if this call used it."""
    cur = db.execute(
        "UPDATE invites SET used_by = ?, used_at = ? WHERE token_hash = ? AND used_by IS NULL",
        [user_id, utcnow_iso(now), token_hash],
    )
    return cur.rowcount == 1


# -- small key/value state (last update seen, start time ...) -----------------

def set_state(db, key: str, value: Any, now: dt.datetime) -> None:
    db.execute(
        "INSERT INTO bot_state (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        [key, None if value is None else str(value), utcnow_iso(now)],
    )


def get_state(db, key: str) -> str | None:
    rows = list(db.query("SELECT value FROM bot_state WHERE key = ?", [key]))
    return rows[0]["value"] if rows else None
