"""Signed per-person links of the e-mails: RFC 8058 one-click unsubscribe, and the page where
a person chooses where reminders go (``/mail/channels?token=…``).

A link token is ``<person>.<expiry day>.<signature>``: the signature is an HMAC-SHA256, under
a key the bot makes once and keeps in ``bot_state``, of the purpose, the person, the expiry
day and the person's unsubscribe token (so binding the address again voids the old links).
A token that does not verify is forged; one past its day is expired: both are refused and
change nothing.

The channel page's form carries a one-time nonce ``<minute>.<random>.<signature>`` (signed
for the person, so it cannot be made elsewhere or used for someone else; good for
``NONCE_HOURS``): a form sent once acts once, the same form sent again changes nothing.
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
from knowledge.vocabulary import ReminderChannel
from storage import mail as store
from storage import users

KEY_STATE = "mail.link_key"
#: How long a link in an e-mail works (mail programs may call it weeks later).
LINK_DAYS = 180
UNSUBSCRIBE = "unsubscribe"
#: Where the web end (:mod:`bot.mail.web`) serves the one-click links, under ``mail.web_base_url``.
UNSUBSCRIBE_PATH = "/mail/unsubscribe/"
CHANNELS = "channels"
#: The page where a person chooses where reminders go, ``?token=<signed token>``.
CHANNELS_PATH = "/mail/channels"
FORM = "form"
#: How long the channel page's form may stay open before it is refused as too old.
NONCE_HOURS = 24
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


def _mac(key: bytes, purpose: str, person_id: int, day: int, person_token: str, extra: str = "") -> str:
    text = f"{purpose}:{person_id}:{day}:{person_token}" + (f":{extra}" if extra else "")
    digest = hmac.new(key, text.encode(), hashlib.sha256).digest()
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


def channels_url(base_url: str, token: str) -> str:
    return f"{base_url}{CHANNELS_PATH}?token={token}"


# -- the channel page ----------------------------------------------------------------------------

class FormOutcome(StrEnum):
    SAVED = "saved"              # the choice was recorded (or was already that)
    USED = "used"                # this form was sent before: nothing more changed
    STALE = "stale"              # the form is too old or not this person's: nothing changed
    UNAVAILABLE = "unavailable"  # a choice the person cannot have (no Telegram, no address)


@dataclass(frozen=True)
class ChannelsPage:
    """What the channel page shows: whose link, their choice, which choices they can make,
    a fresh nonce for the form, and (after a POST) what became of the form sent."""

    outcome: LinkCheck
    person: dict | None = None
    current: ReminderChannel | None = None
    telegram: bool = False       # the person has a Telegram record (not e-mail only)
    email: bool = False          # an address is bound to the person
    nonce: str = ""
    form: FormOutcome | None = None

    def available(self, choice: ReminderChannel) -> bool:
        return {ReminderChannel.TELEGRAM: self.telegram, ReminderChannel.EMAIL: self.email,
                ReminderChannel.BOTH: self.telegram and self.email}[choice]


def has_telegram(person: dict) -> bool:
    """A Telegram user, not an e-mail-only record (those are numbered from ``MAIL_PERSON_BASE``)."""
    return int(person["user_id"]) < store.MAIL_PERSON_BASE


def _minute(now: dt.datetime) -> int:
    return int(now.timestamp() // 60)


def new_nonce(key: bytes, person: dict, now: dt.datetime) -> str:
    minute, rand = _minute(now), secrets.token_urlsafe(12)
    return f"{minute}.{rand}.{_mac(key, FORM, int(person['user_id']), minute, person['unsubscribe_token'] or '', rand)}"


def nonce_fits(key: bytes, person: dict, nonce: str, now: dt.datetime) -> bool:
    """The nonce was made for this person's form, less than ``NONCE_HOURS`` ago."""
    parts = nonce.split(".")
    if len(parts) != 3 or not parts[0].isdigit():
        return False
    minute = int(parts[0])
    expected = _mac(key, FORM, int(person["user_id"]), minute, person["unsubscribe_token"] or "", parts[1])
    return hmac.compare_digest(expected, parts[2]) and 0 <= _minute(now) - minute <= NONCE_HOURS * 60


def _page(db, key: bytes, checked: Checked, now: dt.datetime, form: FormOutcome | None = None) -> ChannelsPage:
    if checked.outcome is not LinkCheck.OK or checked.person is None:
        return ChannelsPage(checked.outcome, checked.person, form=form)
    person = store.person_by_id(db, int(checked.person["user_id"])) or checked.person
    return ChannelsPage(LinkCheck.OK, person, ReminderChannel(person["channel"]), has_telegram(person), bool(person.get("address")),
                        new_nonce(key, person, now), form)


def channels_page(db, key: bytes, token: str, now: dt.datetime) -> ChannelsPage:
    """The GET: whose link this is and their choice (changes nothing)."""
    return _page(db, key, check(db, key, CHANNELS, token, now), now)


def choose_by_link(db, key: bytes, token: str, nonce: str, choice: str, now: dt.datetime) -> ChannelsPage:
    """The POST (one transaction): a genuine link and a fresh, unused nonce of the person's
    form change where reminders go, through the same service as /channels; anything else
    changes nothing."""
    checked = check(db, key, CHANNELS, token, now)
    if checked.outcome is not LinkCheck.OK or checked.person is None:
        return _page(db, key, checked, now)
    if not nonce_fits(key, checked.person, nonce, now):
        return _page(db, key, checked, now, FormOutcome.STALE)
    if not store.use_form_nonce(db, nonce, now, now - dt.timedelta(hours=NONCE_HOURS)):
        return _page(db, key, checked, now, FormOutcome.USED)
    shown = _page(db, key, checked, now)
    if choice not in set(ReminderChannel) or not shown.available(ReminderChannel(choice)):
        return _page(db, key, checked, now, FormOutcome.UNAVAILABLE)
    people.set_channel(db, int(checked.person["user_id"]), choice)
    return _page(db, key, checked, now, FormOutcome.SAVED)
