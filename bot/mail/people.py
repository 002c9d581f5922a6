"""People by e-mail: invitations sent by e-mail, confirming an address (which binds it to the
same person record and role as Telegram), and where a person's reminders go.

Service functions ``fn(db, ...)``, each run by ``services.store.run`` (one transaction).
A person invited by e-mail who confirms before opening the Telegram link gets an
e-mail-only record (numbered from ``storage.mail.MAIL_PERSON_BASE``, marked inactive on
Telegram so no Telegram send is tried); once they open the link and use /channels, the
address and its queries join their Telegram record.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass
from enum import StrEnum

from bot import invites
from knowledge.isotime import parse_instant
from knowledge.vocabulary import LANGS, ReminderChannel, Role
from storage import mail as store
from storage import users

_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_RE = re.compile(r"\b([A-HJ-NP-Z2-9]{4})-([A-HJ-NP-Z2-9]{4})\b")


def code_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def new_code() -> str:
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


def find_code(text: str | None) -> str | None:
    match = CODE_RE.search((text or "").upper())
    return f"{match.group(1)}-{match.group(2)}" if match else None


@dataclass(frozen=True)
class EmailInvite:
    token: str          # the Telegram invitation (deep link payload)
    code: str           # the e-mail confirmation code
    expires: dt.datetime


def invite_by_email(db, *, address: str, country: str, lang: str, created_by: int | None, now: dt.datetime,
                    ttl_days: int) -> EmailInvite:
    """A Telegram invitation and an e-mail confirmation code for ``address``, stored together."""
    token, expires = invites.create_invite(db, country, created_by, now, ttl_days)
    code = new_code()
    store.insert_invite(db, address=address, country=country, lang=lang if lang in LANGS else "en", code_hash=code_hash(code),
                        invite_hash=code_hash(token), now=now, expires=expires)
    return EmailInvite(token, code, expires)


class Confirmed(StrEnum):
    BOUND = "bound"
    ALREADY = "already"
    EXPIRED = "expired"
    INVALID = "invalid"       # no such code, or not sent to this address


@dataclass(frozen=True)
class Confirmation:
    outcome: Confirmed
    user_id: int | None = None
    country: str | None = None
    lang: str = "en"


def confirm(db, code: str, address: str, display_name: str | None, now: dt.datetime) -> Confirmation:
    """The invited address answered with its code: bind it (to the Telegram record if the
    invitation was opened in Telegram already, else to a new e-mail-only person)."""
    invite = store.invite_by_code(db, code_hash(code))
    if invite is None or invite["address"] != address.lower():
        return Confirmation(Confirmed.INVALID)
    lang = invite["lang"]
    if invite["confirmed_at"]:
        return Confirmation(Confirmed.ALREADY, invite["user_id"], invite["country"], lang)
    expires = parse_instant(invite["expires_at"])
    if expires is None or expires <= now:
        return Confirmation(Confirmed.EXPIRED, None, invite["country"], lang)
    telegram = users.get_invite(db, invite["invite_hash"]) if invite["invite_hash"] else None
    if telegram and telegram["used_by"] is not None:
        user_id = int(telegram["used_by"])
    else:
        existing = store.person_by_address(db, address)
        user_id = existing["user_id"] if existing else store.next_person_id(db)
        users.touch_user(db, user_id, display_name, None, now)
        users.set_active(db, user_id, False, now)  # nobody to reach on Telegram
        users.set_lang(db, user_id, lang, now)
        users.set_role(db, user_id, Role.FOCAL_POINT, invite["country"], now, None, "email")
    store.bind_address(db, user_id, address, display_name, secrets.token_hex(12), now)
    store.confirm_invite(db, invite["id"], user_id, now)
    return Confirmation(Confirmed.BOUND, user_id, invite["country"], lang)


def sender(db, address: str) -> dict | None:
    """The person record bound to this address (with ``address`` and ``channel``), or None."""
    return store.person_by_address(db, address)


def bind_visitor(db, address: str, display_name: str | None, now: dt.datetime) -> dict:
    """An unknown sender under ``helpdesk.visitors: ask``: an e-mail-only person without a role."""
    user_id = store.next_person_id(db)
    users.touch_user(db, user_id, display_name, None, now)
    users.set_active(db, user_id, False, now)
    store.bind_address(db, user_id, address, display_name, secrets.token_hex(12), now)
    return store.person_by_address(db, address) or {}


@dataclass(frozen=True)
class Channels:
    address: str | None
    channel: ReminderChannel | None
    joined: bool = False      # an e-mail-only record joined this Telegram record just now


def _adopt(db, user_id: int, now: dt.datetime) -> bool:
    """The Telegram user redeemed an invitation that was confirmed by e-mail first: the
    address (and the e-mail person's queries) join the Telegram record."""
    for invite_hash in store.invites_used_by(db, user_id):
        invite = store.confirmed_invite_for_telegram(db, invite_hash)
        if invite is None or invite["user_id"] == user_id:
            continue
        other = store.person_by_id(db, invite["user_id"])
        if other is None:
            continue
        store.move_queries(db, other["user_id"], user_id)
        users.set_role(db, other["user_id"], None, None, now, None, "email-joined")
        store.bind_address(db, user_id, other["address"], other.get("display_name"), other["unsubscribe_token"], now)
        return True
    return False


def channels_of(db, user_id: int, now: dt.datetime) -> Channels:
    """/channels: the person's bound address and where their reminders go."""
    joined = False
    row = store.person_by_id(db, user_id)
    if row is None:
        joined = _adopt(db, user_id, now)
        row = store.person_by_id(db, user_id)
    if row is None:
        return Channels(None, None)
    return Channels(row["address"], ReminderChannel(row["channel"]), joined)


def set_channel(db, user_id: int, channel: str) -> Channels:
    """Choose where reminders go; the new choice (unchanged when there is no bound address)."""
    if channel in set(ReminderChannel):
        store.set_channel(db, user_id, channel)
    row = store.person_by_id(db, user_id)
    return Channels(row["address"], ReminderChannel(row["channel"])) if row else Channels(None, None)


def unsubscribe(db, token: str) -> bool:
    """One-click unsubscribe: reminders and digests go to Telegram only (if anywhere)."""
    row = store.person_by_unsubscribe(db, token)
    if row is None:
        return False
    store.set_channel(db, row["user_id"], ReminderChannel.TELEGRAM)
    return True
