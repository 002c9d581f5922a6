"""What the bot keeps about a person (/privacy) and forgetting them (/forgetme, ``ldn-bot user
forget``), as services.

Forgetting is confirmed with a one-time nonce (bot/confirmations.py) bound to the person
who asked: a forged, copied or replayed "yes, forget me" button forgets nobody. It scrubs
the person's names, @username and id from every stored text (their own records and other
people's: an expert's answer greeting them, a FAQ entry promoted from it), then rebuilds
the full-text indexes and VACUUMs, so the database file holds no trace. Backups made
before are listed (bot/backup.py ``backups_holding_forgotten``) and ``ldn-bot backup
--prune-forgotten`` rewrites them.
"""
from __future__ import annotations

import datetime as dt

from bot import confirmations
from storage import privacy

FORGET = "forget"


def summary(db, user_id: int) -> dict:
    return privacy.summary(db, user_id)


def ask_to_forget(db, user_id: int, now: dt.datetime) -> str:
    """The nonce for the confirmation button of this person's /forgetme."""
    return confirmations.issue(db, user_id, FORGET, now)


async def forget_everywhere(store, nonce: str, user_id: int, now: dt.datetime,
                            names: tuple[tuple[str | None, str | None], ...] = ()) -> privacy.ForgetResult | None:
    """/forgetme confirmed: forget (one transaction), then compact the file (outside one)."""
    result = await store.run(forget_confirmed, nonce, user_id, now, names)
    if result is not None:
        await store.run(privacy.compact, transaction=False)
    return result


def forget_confirmed(db, nonce: str, user_id: int, now: dt.datetime,
                     names: tuple[tuple[str | None, str | None], ...] = ()) -> privacy.ForgetResult | None:
    """Forget ``user_id`` if ``nonce`` is their unused, unexpired /forgetme confirmation;
    None (and nothing changed) otherwise. ``names``: other (first name, username) pairs of the
    person, scrubbed as well as the stored ones (the handler passes the names stored before this
    update and the ones Telegram shows now, so a renamed person is scrubbed under both)."""
    if confirmations.redeem(db, nonce, user_id, FORGET, now) is None:
        return None
    return privacy.forget_and_log(db, user_id, now, "chat", tuple(names))
