"""Messages that must arrive exactly once: relayed answers, reminders, broadcasts.

The path is always: a ledger row is written (``pending``), claimed (``claimed``,
committed), the Bot API is called with retries, and the row is marked ``sent``,
``failed`` or ``blocked``. A crash between claim and mark leaves ``claimed``; on the
next start those become ``uncertain`` and are never sent again (at most the messages
in flight at the crash are in doubt; none is sent twice).

Transient errors are retried here: 429 (honouring ``retry_after``), 5xx and network
timeouts, with exponential backoff. A 403 means the recipient blocked the bot or
removed it from the group: the row is marked ``blocked`` and the user inactive.
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
from storage import deliveries, groups, users

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
                 on_migrate: Callable[[int, int], Awaitable[None]] | None = None):
        self.store = store
        self.clock = clock
        self.policy = policy or RetryPolicy()
        self.sleep = sleep
        self.on_migrate = on_migrate
        self.stats = {"429": 0, "5xx": 0, "timeouts": 0, "uncertain": 0}

    async def send_now(self, bot, *, kind: str, ref: str, chat_id: int, method: str, payload: dict) -> Outcome:
        """Record and send at once (exactly once per (kind, ref, chat_id))."""
        now = self.clock.now()
        delivery_id = await self.store.run(
            lambda db: deliveries.enqueue(db, kind=kind, ref=ref, chat_id=chat_id, method=method, payload=payload, due_at=now, now=now)
        )
        return await self.deliver(bot, delivery_id)

    async def deliver(self, bot, delivery_id: int) -> Outcome:
        now = self.clock.now()
        claimed = await self.store.run(deliveries.claim, delivery_id, now)
        row = await self.store.run(deliveries.get, delivery_id)
        if not claimed:
            return Outcome(delivery_id, row["status"] if row else "missing", row and row["message_id"])
        payload = json.loads(row["payload"])
        chat_id = row["chat_id"]
        attempt = 0
        while True:
            attempt += 1
            try:
                result = await bot.do_api_request(row["method"], api_kwargs={"chat_id": chat_id, **payload})
            except TelegramError as exc:
                error = classify(exc)
                if error.kind is SendError.MIGRATED:
                    if self.on_migrate:
                        await self.on_migrate(chat_id, error.new_chat_id)
                    chat_id = error.new_chat_id
                    if attempt >= self.policy.attempts:
                        return await self._finish(delivery_id, "failed", error=error.reason, retries=attempt - 1)
                    continue
                if error.kind is SendError.RETRY:
                    key = "429" if error.retry_after is not None else ("timeouts" if "timeout" in error.reason else "5xx")
                    self.stats[key] += 1
                    if attempt >= self.policy.attempts:
                        return await self._finish(delivery_id, "failed", error=error.reason, retries=attempt - 1)
                    wait = error.retry_after if error.retry_after is not None else self.policy.backoff(attempt)
                    log.info("delivery.retry", extra={"delivery": delivery_id, "reason": key, "wait": wait})
                    await self.sleep(wait)
                    continue
                if error.kind is SendError.UNCERTAIN:
                    self.stats["uncertain"] += 1
                    return await self._finish(delivery_id, "uncertain", error=error.reason, retries=attempt - 1)
                if error.kind in (SendError.BLOCKED, SendError.GONE):
                    await self.store.run(_recipient_gone, chat_id, self.clock.now())
                    log.info("delivery.blocked", extra={"delivery": delivery_id, "chat": row["chat_id"]})
                    return await self._finish(delivery_id, "blocked", error=error.reason, retries=attempt - 1)
                if error.kind is SendError.MUTED and chat_id < 0:
                    await self.store.run(_group_muted, chat_id)
                return await self._finish(delivery_id, "failed", error=error.reason, retries=attempt - 1)
            else:
                message_id = result.get("message_id") if isinstance(result, dict) else None
                return await self._finish(delivery_id, "sent", message_id=message_id, retries=attempt - 1)

    async def _finish(self, delivery_id: int, status: str, *, message_id: int | None = None, error: str | None = None, retries: int = 0) -> Outcome:
        await self.store.run(deliveries.mark, delivery_id, status, self.clock.now(), message_id=message_id, error=error)
        if status != "sent":
            log.warning("delivery.not_sent", extra={"status": status, "delivery": delivery_id, "error": error})
        return Outcome(delivery_id, status, message_id, error, retries)

    async def flush_due(self, bot, *, grace: dt.timedelta | None = None, concurrency: int = 8) -> list[Outcome]:
        """Send every pending row that is due; rows older than ``grace`` are skipped and logged."""
        now = self.clock.now()
        rows = await self.store.run(deliveries.due, now)
        to_send = []
        for row in rows:
            due_at = parse_instant(row["due_at"])
            if grace is not None and now - due_at > grace:
                await self.store.run(deliveries.mark, row["id"], "skipped", now, error=f"missed by more than the grace window ({grace})")
                log.warning("delivery.skipped", extra={"delivery": row["id"], "due_at": row["due_at"]})
                continue
            to_send.append(row["id"])
        gate = asyncio.Semaphore(concurrency)

        async def one(delivery_id: int) -> Outcome:
            async with gate:
                return await self.deliver(bot, delivery_id)

        return list(await asyncio.gather(*(one(d) for d in to_send)))
