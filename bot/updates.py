"""How updates come in and replies go out, through python-telegram-bot's own extension points.

* :class:`OneByOneUpdates` is the ``get_updates_request`` (a :class:`~telegram.request.BaseRequest`
  around the real transport). It looks at each update of a ``getUpdates`` batch on its own: one
  that the library cannot parse (a field missing or of the wrong shape, e.g. a poll without a field
  the library now requires) is logged once as a WARNING with its type and ``update_id`` and replaced
  by a bare ``{"update_id": N}``, which no handler takes. Every other update of the batch is
  handled, and the offset moves past all of them (PTB confirms the last ``update_id`` it received).
  Unknown update types parse (PTB keeps them in ``api_kwargs``) and meet no handler.
* :class:`ChatOrderedProcessor` is the ``BaseUpdateProcessor``: updates of different chats run
  concurrently, each chat's updates strictly in the order Telegram sent them (by user for updates
  without a chat, such as inline queries), at most ``max_concurrent_updates`` at a time. A chat whose
  update is being processed queues its next ones without taking a slot, so a busy chat never
  holds back the others. SQLite writes stay on the one writer thread of :class:`storage.db.Store`.
* :class:`QuietRateLimiter` is PTB's ``AIORateLimiter`` (30 messages/s overall, 20/min per group)
  that also retries a refused request itself: a 429 is one WARNING line (``telegram.rate_limited``
  with ``method`` and ``retry_after``, no traceback); the request waits ``retry_after`` and is sent
  again, up to ``retries`` times, then :class:`~telegram.error.RetryAfter` reaches the caller
  (the delivery ledger retries on its own terms). Only that request waits: the others go on.
  :attr:`~QuietRateLimiter.refused` counts the 429s seen, :attr:`~QuietRateLimiter.gave_up` those
  passed on to the caller (the unhandled ones).
"""
from __future__ import annotations

import asyncio
import collections
import datetime as dt
import json
import logging
from typing import Any, Awaitable, Hashable

from telegram import Update
from telegram.error import RetryAfter
from telegram.ext import AIORateLimiter, BaseUpdateProcessor
from telegram.request import BaseRequest, RequestData

log = logging.getLogger("ldn.updates")

DEFAULT_CONCURRENT_UPDATES = 64


# -- in: one update at a time ----------------------------------------------------------------------

def update_type(data: dict) -> str:
    """The kind of a raw update: its one key besides ``update_id`` (``"?"`` if it has none)."""
    kinds = [key for key in data if key != "update_id"]
    return kinds[0] if kinds else "?"


def sift_updates(raw: list) -> tuple[list, int]:
    """(the batch with every unparsable update replaced by ``{"update_id": N}``, how many were).

    Each update is parsed on its own, exactly as PTB will parse it; one that fails is logged
    (type, ``update_id``, the error's class; never its content, which may be a message body).
    """
    kept, skipped = [], 0
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("update_id"), int):
            log.warning("update.unparsable", extra={"update_type": "?", "update_id": None, "error": "not an update object"})
            skipped += 1
            continue
        try:
            Update.de_json(item, None)
        except Exception as exc:  # noqa: BLE001 - whatever the library raises, only this update is lost
            log.warning("update.unparsable", extra={"update_type": update_type(item), "update_id": item["update_id"],
                                                    "error": type(exc).__name__})
            kept.append({"update_id": item["update_id"]})
            skipped += 1
        else:
            kept.append(item)
    return kept, skipped


class OneByOneUpdates(BaseRequest):
    """The ``getUpdates`` transport: the wrapped request does the HTTP, this sifts the batch."""

    def __init__(self, inner: BaseRequest):
        self.inner = inner
        self.skipped = 0
        self.polling = asyncio.Event()  # set when the first getUpdates goes out (start-up work waits for it)

    @property
    def read_timeout(self) -> float | None:
        return self.inner.read_timeout

    async def initialize(self) -> None:
        await self.inner.initialize()

    async def shutdown(self) -> None:
        await self.inner.shutdown()

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         read_timeout: Any = BaseRequest.DEFAULT_NONE, write_timeout: Any = BaseRequest.DEFAULT_NONE,
                         connect_timeout: Any = BaseRequest.DEFAULT_NONE, pool_timeout: Any = BaseRequest.DEFAULT_NONE,
                         ) -> tuple[int, bytes]:
        if url.endswith("/getUpdates"):
            self.polling.set()
        code, payload = await self.inner.do_request(url, method, request_data, read_timeout=read_timeout,
                                                    write_timeout=write_timeout, connect_timeout=connect_timeout,
                                                    pool_timeout=pool_timeout)
        if code != 200 or not url.endswith("/getUpdates"):
            return code, payload
        try:
            body = json.loads(payload)
        except ValueError:
            return code, payload  # PTB reports an invalid answer as it always does
        if not isinstance(body, dict) or not isinstance(body.get("result"), list):
            return code, payload
        kept, skipped = sift_updates(body["result"])
        if not skipped:
            return code, payload
        self.skipped += skipped
        body["result"] = kept
        return code, json.dumps(body).encode()


# -- through: concurrent across chats, in order within a chat -------------------------------------

def order_key(update: object) -> Hashable | None:
    """What must be processed in order: the chat, else the user; ``None`` for neither."""
    if not isinstance(update, Update):
        return None
    chat = update.effective_chat
    if chat is not None:
        return ("chat", chat.id)
    user = update.effective_user
    if user is not None:
        return ("user", user.id)
    return None


class ChatOrderedProcessor(BaseUpdateProcessor):
    """``ApplicationBuilder().concurrent_updates(ChatOrderedProcessor(n))``: see the module docstring."""

    def __init__(self, max_concurrent_updates: int = DEFAULT_CONCURRENT_UPDATES):
        super().__init__(max_concurrent_updates)
        self._waiting: dict[Hashable, collections.deque] = {}

    @property
    def busy_keys(self) -> int:
        """How many chats (or users) have an update being processed."""
        return len(self._waiting)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = order_key(update)
        if key is None:
            await coroutine
            return
        queue = self._waiting.get(key)
        if queue is not None:  # this chat's previous update runs: this one follows it, holding no slot
            queue.append(coroutine)
            return
        queue = self._waiting[key] = collections.deque()
        try:
            await self._run(coroutine)
            while queue:
                await self._run(queue.popleft())
        finally:
            del self._waiting[key]
            for left in queue:  # cancelled at shutdown: what was not started never will be
                left.close()

    @staticmethod
    async def _run(coroutine: Awaitable[Any]) -> None:
        try:
            await coroutine
        except asyncio.CancelledError:
            raise
        except Exception:  # Application.process_update hands handler errors to the error handler
            log.exception("update.processing_failed")

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None


# -- out: 429s retried quietly ----------------------------------------------------------------------

class _DropFinalRetryAfter(logging.Filter):
    """AIORateLimiter logs an ERROR with a traceback when it passes a 429 on; ours logs a WARNING."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Rate limit hit after maximum")


_PTB_LIMITER_LOG = logging.getLogger("telegram.ext.AIORateLimiter")
_PTB_LIMITER_LOG.addFilter(_DropFinalRetryAfter())


def retry_after_seconds(exc: RetryAfter) -> float:
    value = exc.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


class QuietRateLimiter(AIORateLimiter):
    """AIORateLimiter (overall and group limits) + per-request 429 retries logged as one WARNING each."""

    def __init__(self, retries: int = 3, sleep=asyncio.sleep, **limits: Any):
        super().__init__(max_retries=0, **limits)
        self.retries = retries
        self.sleep = sleep
        self.refused = 0  # 429s seen
        self.gave_up = 0  # 429s passed on to the caller after the last retry

    async def process_request(self, callback, args, kwargs, endpoint, data, rate_limit_args):
        retries = self.retries if rate_limit_args is None else int(rate_limit_args)
        attempt = 0
        while True:
            try:
                return await super().process_request(callback, args, kwargs, endpoint, data, None)
            except RetryAfter as exc:
                self.refused += 1
                wait = retry_after_seconds(exc)
                again = attempt < retries
                log.warning("telegram.rate_limited", extra={"method": endpoint, "retry_after": wait,
                                                            "attempt": attempt + 1, "retrying": again})
                if not again:
                    self.gave_up += 1
                    raise
                attempt += 1
                await self.sleep(wait)
