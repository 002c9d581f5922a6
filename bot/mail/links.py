"""Signed per-person links of the e-mails (RFC 8058 one-click unsubscribe).

A link token is ``<person>.<expiry day>.<signature>``: the signature is an HMAC-SHA256, under
a key the bot makes once and keeps in ``bot_state``, of the purpose, the person, the expiry
day and the person's unsubscribe token (so binding the address again voids the old links).
A token that does not verify is forged; one past its day is expired: both are refused and
change nothing.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from enum import StrEnum

from bot.mail import people
from storage import mail as store
from storage import users

KEY_STATE = "mail.link_key"
#: How long a link in an e-mail works (mail programs may call it weeks later).
LINK_DAYS = 180
UNSUBSCRIBE = "unsubscribe"
#: Where the web end (:mod:`bot.mail.web`) serves the one-click links, under ``mail.web_base_url``.
UNSUBSCRIBE_PATH = "/mail/unsubscribe/"
_EPOCH = dt.date(2000, 1, 1)


class LinkCheck(StrEnum):
    OK = "ok"
    FORGED = "forged"
    EXPIRED = "expired"


def link_key(db, now: dt.datetime) -> bytes:
    """The signing key (made on first use, then kept)."""
    value = users.get_state(db, KEY_STATE)
    if not value:
        value = secrets.token_hex(32)
        users.set_state(db, KEY_STATE, value, now)
    return bytes.fromhex(value)


def _mac(key: bytes, purpose: str, person_id: int, day: int, person_token: str) -> str:
    digest = hmac.new(key, f"{purpose}:{person_id}:{day}:{person_token}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


def sign(key: bytes, purpose: str, person: dict, now: dt.datetime) -> str:
    day = (now.date() - _EPOCH).days + LINK_DAYS
    return f"{person['user_id']}.{day}.{_mac(key, purpose, int(person['user_id']), day, person['unsubscribe_token'] or '')}"


@dataclass(frozen=True)
class Checked:
    outcome: LinkCheck
    person: dict | None = None


def check(db, key: bytes, purpose: str, token: str, now: dt.datetime) -> Checked:
    """Whose link this is, if it is genuine and not expired."""
    parts = token.split(".")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
        return Checked(LinkCheck.FORGED)
    person = store.person_by_id(db, int(parts[0]))
    if person is None:
        return Checked(LinkCheck.FORGED)
    expected = _mac(key, purpose, int(parts[0]), int(parts[1]), person["unsubscribe_token"] or "")
    if not hmac.compare_digest(expected, parts[2]):
        return Checked(LinkCheck.FORGED)
    if (now.date() - _EPOCH).days > int(parts[1]):
        return Checked(LinkCheck.EXPIRED, person)
    return Checked(LinkCheck.OK, person)


def unsubscribe_by_link(db, key: bytes, token: str, now: dt.datetime) -> Checked:
    """The one-click POST: reminders and digests no longer by e-mail (idempotent; one transaction)."""
    checked = check(db, key, UNSUBSCRIBE, token, now)
    if checked.outcome is LinkCheck.OK and checked.person is not None:
        people.unsubscribe(db, checked.person["unsubscribe_token"])
    return checked
