"""All SQL of the groups feature: group chats, their settings and circles, directory opt-ins.

Tables are created by ``storage/migrations/m0006_groups.py``. ``settings`` is read and
written as the JSON object it is stored as: what the switches mean, and their defaults,
are rules of ``bot/groups.py`` (which also picks a reminder's recipients among
:func:`linked_groups`).
"""
from __future__ import annotations

import datetime as dt
import json

from storage.db import parse_iso, transaction, utcnow_iso


def _now(now: dt.datetime | None) -> str:
    return utcnow_iso(now or dt.datetime.now(dt.timezone.utc))


def _decode(row: dict) -> dict:
    row = dict(row)
    try:
        row["countries"] = json.loads(row.get("countries") or "[]")
    except ValueError:
        row["countries"] = []
    try:
        settings = json.loads(row.get("settings") or "{}")
    except ValueError:
        settings = {}
    row["settings"] = settings if isinstance(settings, dict) else {}
    return row


def get_group(db, chat_id: int) -> dict | None:
    """The group's row with ``countries`` (list) and ``settings`` (dict, as stored) decoded."""
    rows = list(db.query("SELECT * FROM group_chats WHERE chat_id = ?", [int(chat_id)]))
    return _decode(rows[0]) if rows else None


def record_group(db, chat_id: int, *, title: str | None, chat_type: str | None, lang: str | None,
                 added_by: int | None, now: dt.datetime, muted: bool = False, settings: dict | None = None) -> dict:
    """The bot was added (or re-added): create the row or reactivate it. Settings, language and
    circle of a known group are kept; a new group gets ``lang`` and ``settings``."""
    stamp = _now(now)
    db.execute(
        """INSERT INTO group_chats (chat_id, title, type, lang, settings, active, muted, added_by, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?)
           ON CONFLICT(chat_id) DO UPDATE SET title = excluded.title, type = excluded.type, active = 1,
             muted = excluded.muted, added_by = excluded.added_by, updated_at = excluded.updated_at""",
        [int(chat_id), title, chat_type, lang, json.dumps(settings or {}, sort_keys=True), int(muted), added_by, stamp, stamp],
    )
    return _decode(next(iter(db.query("SELECT * FROM group_chats WHERE chat_id = ?", [int(chat_id)]))))


def touch_group(db, chat_id: int, *, title: str | None, chat_type: str | None, lang: str | None,
                now: dt.datetime, settings: dict | None = None) -> dict:
    """A group we hear from: create its row if the bot was added before this feature existed;
    otherwise keep it, with a changed title updated. Only a member receives a group's updates,
    so a row marked inactive (e.g. after a stray 403) is active again."""
    row = get_group(db, chat_id)
    if row is None:
        return record_group(db, chat_id, title=title, chat_type=chat_type, lang=lang, added_by=None, now=now,
                            settings=settings)
    if (title and row.get("title") != title) or not row.get("active"):
        db.execute("UPDATE group_chats SET title = ?, active = 1, updated_at = ? WHERE chat_id = ?",
                   [title or row.get("title"), _now(now), int(chat_id)])
        row["title"], row["active"] = title or row.get("title"), 1
    return row


def set_active(db, chat_id: int, active: bool, now: dt.datetime | None = None) -> None:
    db.execute("UPDATE group_chats SET active = ?, updated_at = ? WHERE chat_id = ?",
               [int(active), _now(now), int(chat_id)])


def mark_group_inactive(db, chat_id: int, now: dt.datetime | None = None) -> None:
    """The bot was removed from the group, or Telegram answered 403: no more sends there."""
    set_active(db, chat_id, False, now)


def set_muted(db, chat_id: int, muted: bool, now: dt.datetime | None = None) -> None:
    """The bot may not (1) / may again (0) send messages in the group."""
    db.execute("UPDATE group_chats SET muted = ?, updated_at = ? WHERE chat_id = ?",
               [int(muted), _now(now), int(chat_id)])


def set_lang(db, chat_id: int, lang: str, now: dt.datetime | None = None) -> None:
    db.execute("UPDATE group_chats SET lang = ?, updated_at = ? WHERE chat_id = ?", [lang, _now(now), int(chat_id)])


def set_settings(db, chat_id: int, settings: dict, now: dt.datetime | None = None) -> None:
    db.execute("UPDATE group_chats SET settings = ?, updated_at = ? WHERE chat_id = ?",
               [json.dumps(settings, sort_keys=True), _now(now), int(chat_id)])


def set_circle(db, chat_id: int, circle: str | None, countries: list[str], by_user: int | None,
               now: dt.datetime | None = None) -> None:
    """Link the group to a circle (``None`` and ``[]`` unlink it)."""
    db.execute(
        "UPDATE group_chats SET circle = ?, countries = ?, linked_by = ?, updated_at = ? WHERE chat_id = ?",
        [circle, json.dumps(sorted({c.upper() for c in countries})), by_user, _now(now), int(chat_id)],
    )


def last_auto_answer(db, chat_id: int) -> dt.datetime | None:
    row = db.execute("SELECT last_auto_at FROM group_chats WHERE chat_id = ?", [int(chat_id)]).fetchone()
    return parse_iso(row[0]) if row else None


def note_auto_answer(db, chat_id: int, now: dt.datetime) -> None:
    db.execute("UPDATE group_chats SET last_auto_at = ? WHERE chat_id = ?", [_now(now), int(chat_id)])


def migrate_group(db, old_id: int, new_id: int, now: dt.datetime | None = None) -> dict | None:
    """A basic group became a supergroup: the new chat id keeps the settings, language and
    circle. Idempotent (Telegram announces a migration in both chats). Returns the new row."""
    old_id, new_id = int(old_id), int(new_id)
    if old_id == new_id:
        return get_group(db, new_id)
    stamp = _now(now)
    with transaction(db):
        old = get_group(db, old_id)
        if old is None:
            return get_group(db, new_id)
        new = get_group(db, new_id)
        if new is None:
            db.execute(
                "UPDATE group_chats SET chat_id = ?, type = 'supergroup', migrated_from = ?, active = 1, updated_at = ? "
                "WHERE chat_id = ?",
                [new_id, old_id, stamp, old_id],
            )
        else:
            # The new supergroup was recorded first (a membership update overtook the migration):
            # the old group's configuration wins, it is what its admins chose.
            db.execute(
                """UPDATE group_chats SET lang = ?, circle = ?, countries = ?, settings = ?, linked_by = ?,
                   added_by = COALESCE(added_by, ?), migrated_from = ?, active = 1, type = 'supergroup',
                   created_at = ?, updated_at = ? WHERE chat_id = ?""",
                [old["lang"] or new["lang"], old["circle"], json.dumps(old["countries"]), json.dumps(old["settings"]),
                 old["linked_by"], old["added_by"], old_id, old["created_at"], stamp, new_id],
            )
            db.execute("DELETE FROM group_chats WHERE chat_id = ?", [old_id])
    return get_group(db, new_id)


def active_groups(db) -> list[dict]:
    return [_decode(row) for row in db.query("SELECT * FROM group_chats WHERE active = 1 ORDER BY chat_id")]


def linked_groups(db, countries: list[str]) -> list[dict]:
    """Active, unmuted groups linked to a circle that includes at least one of ``countries``
    (decoded rows, by chat id)."""
    wanted = {str(c).upper() for c in countries or []}
    if not wanted:
        return []
    rows = db.query("SELECT * FROM group_chats WHERE active = 1 AND muted = 0 AND circle IS NOT NULL ORDER BY chat_id")
    return [row for row in map(_decode, rows) if wanted.intersection(row["countries"])]


# -- the peer directory -----------------------------------------------------------------

def set_directory(db, user_id: int, listed: bool, now: dt.datetime | None = None) -> None:
    db.execute(
        "INSERT INTO directory_optins (user_id, listed, updated_at) VALUES (?, ?, ?) "
        "ON CONFLICT(user_id) DO UPDATE SET listed = excluded.listed, updated_at = excluded.updated_at",
        [int(user_id), int(listed), _now(now)],
    )


def is_listed(db, user_id: int) -> bool:
    row = db.execute("SELECT listed FROM directory_optins WHERE user_id = ?", [int(user_id)]).fetchone()
    return bool(row and row[0])


def listed_peers(db, countries: list[str], *, exclude_user: int | None = None) -> list[dict]:
    """Focal points of ``countries`` who opted in and have a public username:
    ``user_id, username, country``, by country then username. Nobody else, ever."""
    wanted = sorted({str(c).upper() for c in countries or []})
    if not wanted:
        return []
    sql = (
        "SELECT u.user_id, u.username, u.country FROM users u JOIN directory_optins d ON d.user_id = u.user_id "
        "WHERE d.listed = 1 AND u.role = 'focal_point' AND u.active = 1 "
        "AND u.username IS NOT NULL AND u.username != '' "
        f"AND u.country IN ({','.join('?' * len(wanted))})"
    )
    args: list = list(wanted)
    if exclude_user is not None:
        sql += " AND u.user_id != ?"
        args.append(int(exclude_user))
    sql += " ORDER BY u.country, lower(u.username)"
    return list(db.query(sql, args))
