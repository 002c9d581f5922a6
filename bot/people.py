"""People as the bot knows them: first contact, language, the bookkeeping marks a running
bot leaves for ``ldn-bot status``. Service functions: ``fn(db, ...)``, called through
``services.store.run`` (one transaction each)."""
from __future__ import annotations

import datetime as dt

from storage import ops, users
from storage.db import utcnow_iso


def meet(db, user_id: int, first_name: str | None, username: str | None, now: dt.datetime) -> dict:
    """The person's row, created on first contact and kept up to date with their Telegram name."""
    return users.touch_user(db, user_id, first_name, username, now)


def profile(db, user_id: int) -> dict | None:
    """The stored row, or None for someone the bot never met."""
    return users.get_user(db, user_id)


def set_language(db, user_id: int, lang: str, now: dt.datetime) -> None:
    users.set_lang(db, user_id, lang, now)


def mark_update_received(db, now: dt.datetime) -> None:
    """``last_update_at``: what ``ldn-bot status`` reads to tell a live bot from a stuck one."""
    users.set_state(db, "last_update_at", utcnow_iso(now), now)


def mark_heartbeat(db, now: dt.datetime) -> None:
    users.set_state(db, "heartbeat", utcnow_iso(now), now)


def sync_country_registry(db, registry, now: dt.datetime) -> int:
    """Copy the country registry into ``ref_countries`` (for the dashboard's joins)."""
    return ops.sync_countries(db, registry, now)


def grant_role(db, user_id: int, role: str | None, country: str | None, now: dt.datetime, how: str) -> None:
    """Give (or with ``role=None`` take away) a role, recorded in ``role_events``."""
    users.set_role(db, user_id, role, country, now, None, how)
