"""One-time, expiring invitations that bind a Telegram user as focal point of a country.

The token travels in a deep link (``https://t.me/<bot>?start=<token>``); only its
SHA-256 is stored, so a database copy (a backup, the dashboard) cannot be used to
register. A token is used at most once, even when two people open it at the same time.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass

from storage import users
from storage.db import parse_iso, transaction

TOKEN_RE = re.compile(r"^i[A-Za-z0-9_-]{20,40}$")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_invite(db, country: str, created_by: int | None, now: dt.datetime, ttl_days: int) -> tuple[str, dt.datetime]:
    """A new token for ``country`` (ISO3) and its expiry."""
    token = "i" + secrets.token_urlsafe(18)
    expires = now + dt.timedelta(days=ttl_days)
    users.insert_invite(db, _hash(token), country, created_by, now, expires)
    return token, expires


def looks_like_token(text: str) -> bool:
    return bool(TOKEN_RE.match(text or ""))


@dataclass(frozen=True)
class Redemption:
    outcome: str  # bound | used | expired | invalid
    country: str | None = None


def redeem(db, token: str, user_id: int, now: dt.datetime) -> Redemption:
    """Bind ``user_id`` as focal point of the invite's country if the token is valid."""
    if not looks_like_token(token):
        return Redemption("invalid")
    with transaction(db):
        invite = users.get_invite(db, _hash(token))
        if invite is None:
            return Redemption("invalid")
        if invite["used_by"] is not None:
            return Redemption("used", invite["country"])
        expires = parse_iso(invite["expires_at"])
        if expires is None or expires <= now:  # NOT NULL in the table; an empty one counts as run out
            return Redemption("expired", invite["country"])
        if not users.redeem_invite(db, _hash(token), user_id, now):
            return Redemption("used", invite["country"])
        users.set_role(db, user_id, "focal_point", invite["country"], now, invite["created_by"], "invite")
    return Redemption("bound", invite["country"])
