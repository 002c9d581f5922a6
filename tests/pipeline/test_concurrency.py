"""Concurrency with order: updates of different chats are processed at the same time, each chat's
strictly in order, at most ``concurrent_updates`` at once. The updates go through the Application's
update queue and its ChatOrderedProcessor; the offline Bot API holds one chat's replies behind a gate
so that processing overlaps (no timing: the test waits for events, then checks what happened)."""
from __future__ import annotations

import asyncio
import json

from bot.app import build_application
from bot.offline import OfflineBotAPI, UpdateFactory
from bot.updates import QuietRateLimiter
from tests.pipeline.util import wait_until

A, B, C = 7101, 7102, 7103
QUESTIONS = ["What is LDN?", "What does SDG target 15.3 say?", "What period is used for the LDN baseline?"]
TITLES = ["What is land degradation neutrality (LDN)?", "What does SDG target 15.3 say?",
          "What period is used for the LDN baseline"]


class GatedAPI(OfflineBotAPI):
    """sendMessage to a held chat waits for :attr:`gate`; :attr:`asked` lists every sendMessage begun."""

    def __init__(self, held: set[int]):
        super().__init__()
        self.held = held
        self.gate = asyncio.Event()
        self.asked: list[int] = []

    async def do_request(self, url, method, request_data=None, **kwargs):
        if url.endswith("/sendMessage") and request_data is not None:
            chat_id = int(request_data.parameters["chat_id"])
            self.asked.append(chat_id)
            if chat_id in self.held:
                await self.gate.wait()
        return await super().do_request(url, method, request_data, **kwargs)


async def _started(config, clock, api, **kwargs):
    kwargs.setdefault("rate_limit", False)
    app = build_application(config, request=api, clock=clock, **kwargs)
    await app.initialize()
    await app.start()
    return app


async def _stopped(app):
    api = app.bot.request
    if isinstance(api, GatedAPI):
        api.gate.set()  # a failed test must not leave updates held
    await app.stop()
    await app.shutdown()
    app.bot_data["services"].store.close()


def _first_lines(api, chat_id) -> list[str]:
    return [text.split("\n")[0] for text in api.texts(chat_id)]


async def test_two_interleaved_chats_each_keep_their_order_and_one_does_not_wait_for_the_other(config, clock):
    api = GatedAPI(held={A})
    app = await _started(config, clock, api)
    try:
        factory = UpdateFactory(app.bot)
        for question in QUESTIONS:  # A1 B1 A2 B2 A3 B3, as Telegram would deliver them
            await app.update_queue.put(factory.message(question, user_id=A))
            await app.update_queue.put(factory.message(question, user_id=B))
        await wait_until(lambda: len(api.texts(B)) == 3, "chat B fully answered while chat A is held")
        assert api.asked.count(A) == 1 and api.texts(A) == []  # A2 not begun before A1's reply is out
        api.gate.set()
        await wait_until(lambda: len(api.texts(A)) == 3, "chat A answered once released")
    finally:
        await _stopped(app)
    for chat in (A, B):
        lines = _first_lines(api, chat)
        assert all(title in line for title, line in zip(TITLES, lines, strict=True)), lines
    assert api.asked.count(A) == 3


async def test_at_most_the_bound_is_processed_at_once(config, clock):
    api = GatedAPI(held={A, B, C})
    app = await _started(config, clock, api, concurrent_updates=2)
    try:
        factory = UpdateFactory(app.bot)
        for chat in (A, B, C):
            await app.update_queue.put(factory.message(QUESTIONS[0], user_id=chat))
        await wait_until(lambda: len(api.asked) == 2, "two updates being processed")
        for _ in range(200):  # let every ready task run: the third must still be waiting for a slot
            await asyncio.sleep(0)
        assert sorted(api.asked) == [A, B] and app.update_processor.current_concurrent_updates == 2
        api.gate.set()
        await wait_until(lambda: all(api.texts(chat) for chat in (A, B, C)), "all three answered")
    finally:
        await _stopped(app)
    assert sorted(api.asked) == [A, B, C]


async def test_inline_queries_of_one_user_are_answered_in_order(config, clock):
    api = OfflineBotAPI()
    app = await _started(config, clock, api)
    try:
        factory = UpdateFactory(app.bot)
        ids = []
        for question in QUESTIONS * 3:
            update = factory.inline(question, user_id=A)
            ids.append(update.inline_query.id)
            await app.update_queue.put(update)
        await wait_until(lambda: len(api.sent("answerInlineQuery")) == len(ids), "every inline query answered")
    finally:
        await _stopped(app)
    assert [c.params["inline_query_id"] for c in api.sent("answerInlineQuery")] == ids


class RefusingAPI(OfflineBotAPI):
    """Answers the first ``refuse[chat]`` sendMessage to a chat with 429 (retry after 1 s), as Telegram
    does beyond its limits; :attr:`attempts` lists (chat, first line) of every sendMessage tried."""

    def __init__(self, refuse: dict[int, int]):
        super().__init__()
        self.refuse = dict(refuse)
        self.attempts: list[tuple[int, str]] = []

    async def do_request(self, url, method, request_data=None, **kwargs):
        if url.endswith("/sendMessage") and request_data is not None:
            chat_id = int(request_data.parameters["chat_id"])
            self.attempts.append((chat_id, str(request_data.parameters.get("text", "")).split("\n")[0]))
            if self.refuse.get(chat_id, 0) > 0:
                self.refuse[chat_id] -= 1
                return 429, json.dumps({"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 1",
                                        "parameters": {"retry_after": 1}}).encode()
        return await super().do_request(url, method, request_data, **kwargs)


async def _limited(config, clock, api):
    """The Application as ``ldn-bot run`` builds it (rate limiter on); its waits recorded, not slept."""
    app = await _started(config, clock, api, rate_limit=True)
    limiter = app.bot.rate_limiter
    waits: list[float] = []

    async def sleep(seconds):
        waits.append(seconds)
        await asyncio.sleep(0)

    limiter.sleep = sleep
    return app, limiter, waits


async def test_a_refused_reply_is_sent_again_before_the_chat_s_next_update_and_other_chats_go_on(config, clock):
    api = RefusingAPI(refuse={A: 2})
    app, limiter, waits = await _limited(config, clock, api)
    try:
        factory = UpdateFactory(app.bot)
        for question in QUESTIONS[:2]:  # A1 B1 A2 B2
            await app.update_queue.put(factory.message(question, user_id=A))
            await app.update_queue.put(factory.message(question, user_id=B))
        await wait_until(lambda: len(api.texts(A)) == 2 and len(api.texts(B)) == 2, "both chats answered")
    finally:
        await _stopped(app)
    tried_a = [line for chat, line in api.attempts if chat == A]
    assert len(tried_a) == 4  # A1 refused twice, then sent; A2 once, only after A1 was accepted
    assert all(TITLES[0] in line for line in tried_a[:3]) and TITLES[1] in tried_a[3]
    assert [TITLES[0] in line for line in _first_lines(api, A)] == [True, False]
    assert all(title in line for title, line in zip(TITLES[:2], _first_lines(api, B), strict=True))
    assert waits == [1.0, 1.0] and limiter.refused == 2 and limiter.gave_up == 0


async def test_a_429_beyond_the_retries_is_counted_as_passed_on_and_the_chat_goes_on(config, clock):
    api = RefusingAPI(refuse={A: QuietRateLimiter().retries + 1})  # the first try and every retry
    app, limiter, waits = await _limited(config, clock, api)
    try:
        factory = UpdateFactory(app.bot)
        await app.update_queue.put(factory.message(QUESTIONS[0], user_id=A))
        await app.update_queue.put(factory.message(QUESTIONS[1], user_id=A))
        await wait_until(lambda: any(TITLES[1] in text for text in api.texts(A)), "the chat's next update answered")
    finally:
        await _stopped(app)
    assert limiter.refused == limiter.retries + 1 and limiter.gave_up == 1 and len(waits) == limiter.retries
    assert not any(TITLES[0] in text for text in api.texts(A))  # that reply was lost; the next went out

