"""Webhook mode (``ldn-bot run --webhook``, the ``webhooks`` extra): our own small tornado endpoint
in place of python-telegram-bot's, so that each posted update is parsed on its own as in polling.

* Every request must carry the secret token in ``X-Telegram-Bot-Api-Secret-Token`` (403 otherwise,
  never processed) and be a POST of JSON to ``telegram.webhook.path`` (anything else is 404).
* A body that is not an update, or an update the library cannot parse (a field missing or of the
  wrong shape), is logged once as the WARNING ``update.unparsable`` with its type and ``update_id``
  (never its content) and answered 200, so that Telegram moves on to the next update instead of
  posting this one again. PTB's own endpoint logs such an update as CRITICAL, with its content and a
  traceback, and answers 400, which makes Telegram retry it.
* Every other update goes to the Application's update queue, as PTB's endpoint would put it.

:func:`run_webhook` runs the Application around the endpoint until SIGINT/SIGTERM, with the same
hooks as ``Application.run_webhook`` (post_init, post_stop, post_shutdown).
"""
from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import signal
from typing import Any

import tornado.httpserver
import tornado.web
from telegram import Update

from bot.updates import sift_updates

log = logging.getLogger("ldn.webhook")

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class UpdateEndpoint(tornado.web.RequestHandler):
    """POST <path>: one update from Telegram."""

    def initialize(self, bot_application: Any, secret_token: str) -> None:
        self.bot_application = bot_application
        self.secret_token = secret_token

    def log_exception(self, typ, value, tb) -> None:  # type: ignore[no-untyped-def]
        """tornado would log a traceback for every refused request: the refusal is the answer."""
        log.debug("webhook.refused", extra={"error": type(value).__name__ if value else None})

    async def post(self) -> None:
        given = self.request.headers.get(SECRET_HEADER) or ""
        if not hmac.compare_digest(given.encode(), self.secret_token.encode()):
            raise tornado.web.HTTPError(403)
        self.set_status(200)
        try:
            data = json.loads(self.request.body or b"null")
        except ValueError:
            data = None
        kept, skipped = sift_updates([data])
        if skipped or not kept:
            return  # logged once by sift_updates; 200 so that Telegram does not post it again
        bot = self.bot_application.bot
        update = Update.de_json(kept[0], bot)
        if hasattr(bot, "insert_callback_data"):
            bot.insert_callback_data(update)
        await self.bot_application.update_queue.put(update)


class _Quiet(tornado.web.Application):
    def log_request(self, handler: tornado.web.RequestHandler) -> None:
        """No access log: the bot logs what it does with each update."""


class WebhookReceiver:
    """The endpoint on ``listen:port``, registered with Telegram (``setWebhook``) when started."""

    def __init__(self, application: Any, settings: Any):
        self.application = application
        self.settings = settings
        path = "/" + settings.path.strip("/")
        self.app = _Quiet([(rf"{path}/?", UpdateEndpoint, {"bot_application": application, "secret_token": settings.secret_token})])
        self.server: tornado.httpserver.HTTPServer | None = None

    async def start(self) -> None:
        self.server = tornado.httpserver.HTTPServer(self.app)
        self.server.listen(self.settings.port, address=self.settings.listen)
        await self.application.bot.set_webhook(url=self.settings.url, secret_token=self.settings.secret_token,
                                               allowed_updates=None, drop_pending_updates=False)

    async def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            await self.server.close_all_connections()
            self.server = None


async def serve(application: Any, settings: Any, stop: asyncio.Event) -> None:
    """Initialise and start the Application and the endpoint; on ``stop``, take both down."""
    await application.initialize()
    try:
        if application.post_init:
            await application.post_init(application)
        receiver = WebhookReceiver(application, settings)
        await receiver.start()
        await application.start()
        try:
            await stop.wait()
        finally:
            await receiver.stop()
            await application.stop()
            if application.post_stop:
                await application.post_stop(application)
    finally:
        await application.shutdown()
        if application.post_shutdown:
            await application.post_shutdown(application)


def run_webhook(application: Any, settings: Any) -> None:
    """Serve until SIGINT or SIGTERM (what ``ldn-bot run --webhook`` calls)."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        await serve(application, settings, stop)

    asyncio.run(main())
