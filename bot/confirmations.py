"""One-time confirmations for destructive buttons (forget, restore, broadcast send, event cancel).

:func:`issue` stores a random nonce bound to the person and the request and returns it
for the button's callback data; :func:`redeem` accepts it once, from that person, for
that action, before it expires. Anything else (a forged nonce, a copied button pressed by
someone else, a second press, an old button) redeems nothing: the caller says so and
does nothing.
"""
from __future__ import annotations

import datetime as dt
import secrets

from storage import confirmations as store

#: How long a confirmation button stays valid.
DEFAULT_TTL = dt.timedelta(minutes=10)
#: 12 URL-safe characters: 72 bits, short enough for a button's 64 bytes.
NONCE_BYTES = 9


def issue(db, user_id: int, action: str, now: dt.datetime, subject: str = "",
          ttl: dt.timedelta = DEFAULT_TTL) -> str:
    """A new nonce for ``user_id`` to confirm ``action`` on ``subject``."""
    store.prune(db, now)
    nonce = secrets.token_urlsafe(NONCE_BYTES)
    store.insert(db, nonce, user_id, action, subject, now, now + ttl)
    return nonce


def redeem(db, nonce: str, user_id: int, action: str, now: dt.datetime) -> str | None:
    """The confirmed subject, or None when the button is forged, someone else's, used or expired."""
    if not nonce or len(nonce) > 32:
        return None
    return store.use(db, nonce, user_id, action, now)
