"""Messages that must arrive: relayed answers, reminders, broadcasts, notices.

The path is always: a ledger row is written (``pending``), claimed (``claimed``,
committed), the Bot API is called, and the row is marked ``sent``, ``failed``,
``blocked`` or ``uncertain`` (committed). At most one send per chat is in flight, so a
kill leaves at most the few sends in flight in doubt.

Errors are read by the one classifier (bot/telegram_errors.py): 429 (honouring
``retry_after``), 5xx and connection errors are retried with exponential backoff; a 403
marks the recipient blocked (or the group gone); a read timeout after the request was
written, or a kill while a send was in flight, leaves the outcome unknown: ``uncertain``.

The promise, per kind (``PROMISES``; a row may carry its own, e.g. deadline reminders):

=================================  ==============  =========================================
kind                               promise         when the outcome is unknown
=================================  ==============  =========================================
expert answers (``answer``)        at least once   sent again once, saying so discreetly
deadline reminders                 at least once   sent again once, saying so discreetly
broadcasts, other reminders,       at most once    stay ``uncertain``; shown by ``ldn-bot
notices, cards                                     deliveries``/``status``; resent only by
                                                   ``ldn-bot deliveries resend --uncertain``
=================================  ==============  =========================================
"""
from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from dataclasses import dataclass
from typing import Awaitable, Callable

import warnings

from telegram.error import TelegramError
from telegram.warnings import PTBDeprecationWarning, PTBUserWarning

from bot.telegram_errors import SendError, classify
from knowledge.isotime import parse_instant
from knowledge.vocabulary import DeliveryKind
from storage import deliveries, groups, users
from storage.deliveries import AT_LEAST_ONCE, AT_MOST_ONCE

#: The promise of each kind when a row does not carry its own (see the module docstring).
PROMISES: dict[str, str] = {DeliveryKind.EXPERT_ANSWER: AT_LEAST_ONCE}

log = logging.getLogger("ldn.delivery")

# The ledger stores the Bot API method name and its JSON arguments, so it calls the generic
# ``do_api_request`` on purpose; and it reads ``retry_after`` as int or timedelta alike.
warnings.filterwarnings("ignore", message=r"Please use 'Bot\.", category=PTBUserWarning)
warnings.filterwarnings("ignore", message=r".*retry_after.*", category=PTBDeprecationWarning)

Sleeper = Callable[[float], Awaitable[None]]


@dataclass
class RetryPolicy:
    attempts: int = 5
    base_delay: float = 1.0
    max_delay: float = 60.0

    def backoff(self, attempt: int) -> float:
        return min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))


@dataclass
class Outcome:
    delivery_id: int
    status: str
    message_id: int | None = None
    error: str | None = None
    retries: int = 0


def _recipient_gone(db, chat_id: int, now) -> None:
    """403: a user blocked the bot, or a group removed it; stop sending there."""
    users.set_active(db, chat_id, False, now)
    if chat_id < 0:
        groups.mark_group_inactive(db, chat_id)


def _group_muted(db, chat_id: int) -> None:
    groups.set_muted(db, chat_id, True)


class Deliverer:
    """Sends ledger rows through the Bot API. One per Application (``services.deliverer``)."""

    def __init__(self, store, clock, policy: RetryPolicy | None = None, sleep: Sleeper = asyncio.sleep,
                 on_migrate: Callable[[int, int], Awaitable[None]] | None = None, i18n=None):
        self.store = store
        self.clock = clock
        self.i18n = i18n
        self.policy = policy or RetryPolicy()
        self.sleep = sleep
        self.on_migrate = on_migrate
        self.stats = {"429": 0, "5xx": 0, "timeouts": 0, "uncertain": 0}

    async def send_now(self, bot, *, kind: str, ref: str, chat_id: int, method: str, payload: dict,
                       promise: str | None = None) -> Outcome:
        """Record and send at once (once per (kind, ref, chat_id), under the kind's promise)."""
        now = self.clock.now()
        delivery_id = await self.store.run(
            lambda db: deliveries.enqueue(db, kind=kind, ref=ref, chat_id=chat_id, method=method, payload=payload,
                                          due_at=now, now=now, promise=promise or promise_of(kind))
        )
        return await self.deliver(bot, delivery_id)

    async def recover_after_restart(self) -> dict[str, int]:
        """Rows in flight when the process stopped: uncertain; those promised at least once are
        queued again (the next delivery run sends them, saying so). Call once at start."""
        counts = await self.store.run(deliveries.mark_in_flight_uncertain, self.clock.now())
        if counts["uncertain"] or counts["resend"]:
            log.warning("delivery.uncertain_after_restart", extra=counts)
        return counts

    async def deliver(self, bot, delivery_id: int) -> Outcome:
        now = self.clock.now()
        claimed = await self.store.run(deliveries.claim, delivery_id, now)
        row = await self.store.run(deliveries.get, delivery_id)
        if not claimed:
            return Outcome(delivery_id, row["status"] if row else "missing", row and row["message_id"])
        payload = json.loads(row["payload"])
        chat_id = row["chat_id"]
        note = await self._resend_note(chat_id) if row.get("resends") else None
        if note and row["method"] == "sendMessage" and isinstance(payload.get("text"), str):
            payload["text"] = f"{payload['text']}\n\n<i>{note}</i>"
            note = None  # said in the message itself
        attempt = 0
        while True:
            attempt += 1
            try:
                result = await bot.do_api_request(row["method"], api_kwargs={"chat_id": chat_id, **payload})
            except TelegramError as exc:
                outcome, chat_id = await self._after_error(bot, row, delivery_id, chat_id, classify(exc), attempt)
                if outcome is not None:
                    return outcome
                continue
            else:
                message_id = result.get("message_id") if isinstance(result, dict) else None
                outcome = await self._finish(delivery_id, "sent", message_id=message_id, retries=attempt - 1)
                if note and message_id:
                    await self._say_sent_again(bot, chat_id, message_id, note)
                return outcome

    async def _after_error(self, bot, row: dict, delivery_id: int, chat_id: int, error, attempt: int
                           ) -> tuple[Outcome | None, int]:
        """What a failed attempt leads to: an Outcome when the delivery is finished, else
        (None, the chat to try next) after any wait."""
        retries = attempt - 1
        if error.kind is SendError.MIGRATED:
            if self.on_migrate:
                await self.on_migrate(chat_id, error.new_chat_id)
            if attempt >= self.policy.attempts:
                return await self._finish(delivery_id, "failed", error=error.reason, retries=retries), chat_id
            return None, error.new_chat_id
        if error.kind is SendError.RETRY:
            key = "429" if error.retry_after is not None else ("timeouts" if "timeout" in error.reason else "5xx")
            self.stats[key] += 1
            if attempt >= self.policy.attempts:
                return await self._finish(delivery_id, "failed", error=error.reason, retries=retries), chat_id
            wait = error.retry_after if error.retry_after is not None else self.policy.backoff(attempt)
            log.info("delivery.retry", extra={"delivery": delivery_id, "reason": key, "wait": wait})
            await self.sleep(wait)
            return None, chat_id
        if error.kind is SendError.UNCERTAIN:
            self.stats["uncertain"] += 1
            log.warning("delivery.uncertain", extra={"delivery": delivery_id, "kind": row["kind"],
                                                     "method": row["method"], "promise": row.get("promise")})
            if await self.store.run(deliveries.requeue_as_resend, delivery_id, self.clock.now(), error.reason):
                return await self.deliver(bot, delivery_id), chat_id  # at least once: send again, saying so
            return await self._finish(delivery_id, "uncertain", error=error.reason, retries=retries), chat_id
        if error.kind in (SendError.BLOCKED, SendError.GONE):
            await self.store.run(_recipient_gone, chat_id, self.clock.now())
            log.info("delivery.blocked", extra={"delivery": delivery_id, "chat": row["chat_id"]})
            return await self._finish(delivery_id, "blocked", error=error.reason, retries=retries), chat_id
        if error.kind is SendError.MUTED and chat_id < 0:
            await self.store.run(_group_muted, chat_id)
        return await self._finish(delivery_id, "failed", error=error.reason, retries=retries), chat_id

    async def _resend_note(self, chat_id: int) -> str | None:
        """ "Sent again: the first attempt may have failed", in the recipient's language."""
        if self.i18n is None:
            return None
        row = await self.store.read(users.get_user, chat_id) if chat_id > 0 else None
        return self.i18n.t((row or {}).get("lang") or "en", "delivery.sent_again")

    async def _say_sent_again(self, bot, chat_id: int, message_id: int, note: str) -> None:
        """A copied message cannot carry the note: a short reply to it does (best effort)."""
        try:
            await bot.do_api_request("sendMessage", api_kwargs={
                "chat_id": chat_id, "text": f"<i>{note}</i>", "parse_mode": "HTML",
                "reply_parameters": {"message_id": message_id, "allow_sending_without_reply": True}})
        except TelegramError as exc:
            log.info("delivery.note_not_sent", extra={"chat": chat_id, "reason": classify(exc).reason})

    async def _finish(self, delivery_id: int, status: str, *, message_id: int | None = None, error: str | None = None, retries: int = 0) -> Outcome:
        await self.store.run(deliveries.mark, delivery_id, status, self.clock.now(), message_id=message_id, error=error)
        if status != "sent":
            log.warning("delivery.not_sent", extra={"status": status, "delivery": delivery_id, "error": error})
        return Outcome(delivery_id, status, message_id, error, retries)

    async def flush_due(self, bot, *, grace: dt.timedelta | None = None, concurrency: int = 8) -> list[Outcome]:
        """Send every pending row that is due, at most one per chat at a time and ``concurrency``
        chats at once; rows older than ``grace`` are skipped and logged (a resend is due when it
        was queued again, so it is never skipped as missed)."""
        now = self.clock.now()
        rows = await self.store.read(deliveries.due, now)
        by_chat: dict[int, list[int]] = {}
        for row in rows:
            due_at = parse_instant(row["due_at"])
            if grace is not None and now - due_at > grace:
                await self.store.run(deliveries.mark, row["id"], "skipped", now, error=f"missed by more than the grace window ({grace})")
                log.warning("delivery.skipped", extra={"delivery": row["id"], "due_at": row["due_at"]})
                continue
            by_chat.setdefault(row["chat_id"], []).append(row["id"])
        gate = asyncio.Semaphore(concurrency)

        async def one_chat(ids: list[int]) -> list[Outcome]:
            async with gate:
                return [await self.deliver(bot, delivery_id) for delivery_id in ids]

        results = await asyncio.gather(*(one_chat(ids) for ids in by_chat.values()))
        return [outcome for chat in results for outcome in chat]


def promise_of(kind: str) -> str:
    return PROMISES.get(kind, AT_MOST_ONCE)
