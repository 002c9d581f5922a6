"""The one classifier of Bot API errors: what a failed send means and what to do next.

Every path that sends (direct replies, relayed answers, reminders, broadcasts, group
posts) asks :func:`classify` so that the same error always means the same thing: "have
no rights" mutes a group wherever it is seen, a read timeout is "uncertain" wherever it
is seen, and so on.

* ``RETRY``     nothing was delivered: 429 (wait ``retry_after``), 5xx, a connection that
                never carried the request (connect error, connect or pool timeout).
* ``UNCERTAIN`` the request was written but no answer came (read/write timeout): the
                message may have arrived. Resending may duplicate it; see the delivery
                promise per kind in bot/delivery.py.
* ``MIGRATED``  a group became a supergroup: send again to ``new_chat_id``.
* ``MUTED``     the bot is in the group but may not write there (restricted, closed topic).
* ``GONE``      the chat is no more reachable: the bot was removed from the group, the chat
                was deleted or deactivated.
* ``BLOCKED``   a person blocked the bot or deleted their account.
* ``FAILED``    anything else: a permanent error in the request itself (400).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from telegram.error import TelegramError, TimedOut


class SendError(StrEnum):
    RETRY = "retry"
    UNCERTAIN = "uncertain"
    MIGRATED = "migrated"
    MUTED = "muted"
    GONE = "gone"
    BLOCKED = "blocked"
    FAILED = "failed"


MUTED_MESSAGES = ("not enough rights", "have no rights", "chat_write_forbidden", "need administrator rights",
                  "chat_restricted", "topic_closed", "chat_send_plain_forbidden")
GONE_MESSAGES = ("chat not found", "group chat was deactivated", "peer_id_invalid", "bot was kicked",
                 "bot is not a member", "the group chat was deleted", "channel_private")
BLOCKED_MESSAGES = ("bot was blocked by the user", "user is deactivated", "bot can't initiate conversation",
                    "bot can't send messages to bots")


@dataclass(frozen=True)
class Classified:
    kind: SendError
    #: seconds to wait before retrying (429), else None
    retry_after: float | None = None
    #: the supergroup id after a migration, else None
    new_chat_id: int | None = None
    #: a short text for the ledger and logs (never a message body)
    reason: str = ""


def _never_sent(exc: TimedOut) -> bool:
    """A timeout that happened before the request left (connect or pool timeout)."""
    import httpx  # start-up: loaded with telegram, by the first error (see classify)

    cause = exc.__cause__
    return isinstance(cause, (httpx.ConnectTimeout, httpx.PoolTimeout)) or "pool timeout" in str(exc).lower()


def classify(exc: TelegramError) -> Classified:
    """What ``exc``, raised by a Bot API call that sends something, means."""
    # start-up: telegram is imported by whoever raised ``exc``; importing it here, not with
    # the module, keeps it out of the one-off commands (SendError is all they use)
    from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TimedOut

    message = str(getattr(exc, "message", None) or exc).lower()
    if isinstance(exc, RetryAfter):
        wait = exc.retry_after
        seconds = wait.total_seconds() if isinstance(wait, dt.timedelta) else float(wait)
        return Classified(SendError.RETRY, retry_after=seconds, reason=f"429 retry_after={seconds:g}")
    if isinstance(exc, ChatMigrated):
        return Classified(SendError.MIGRATED, new_chat_id=exc.new_chat_id, reason="chat migrated")
    if isinstance(exc, TimedOut):
        if _never_sent(exc):
            return Classified(SendError.RETRY, reason="connect timeout")
        return Classified(SendError.UNCERTAIN, reason="read timeout")
    if isinstance(exc, Forbidden):
        if any(part in message for part in MUTED_MESSAGES):
            return Classified(SendError.MUTED, reason=f"403 {message[:120]}")
        if any(part in message for part in BLOCKED_MESSAGES):
            return Classified(SendError.BLOCKED, reason=f"403 {message[:120]}")
        return Classified(SendError.GONE, reason=f"403 {message[:120]}")
    if isinstance(exc, BadRequest):
        if any(part in message for part in MUTED_MESSAGES):
            return Classified(SendError.MUTED, reason=f"400 {message[:120]}")
        if any(part in message for part in GONE_MESSAGES):
            return Classified(SendError.GONE, reason=f"400 {message[:120]}")
        return Classified(SendError.FAILED, reason=f"400 {message[:120]}")
    if isinstance(exc, NetworkError):  # 5xx and connection errors: the request was not taken
        return Classified(SendError.RETRY, reason=f"network {message[:120]}")
    return Classified(SendError.FAILED, reason=message[:120])
