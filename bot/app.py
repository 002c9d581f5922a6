"""The one factory that builds the Application, used by ``run``, ``console``, tests and benchmarks."""
from __future__ import annotations

import asyncio
import logging
from typing import Any

from telegram import LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationBuilder, Defaults
from telegram.request import HTTPXRequest

import handlers
from bot.clock import Clock
from bot.config import Config
from bot import menus
from bot.services import Services
from bot.wiring import build_services
from bot.updates import DEFAULT_CONCURRENT_UPDATES, ChatOrderedProcessor, OneByOneUpdates, QuietRateLimiter
from storage import users
from storage.db import Store

log = logging.getLogger("ldn.app")

OFFLINE_TOKEN = "0:offline-console"


def build_application(config: Config, *, request: Any = None, clock: Clock | None = None, store: Store | None = None,
                      rate_limit: bool = True, services: Services | None = None, sleep=None,
                      concurrent_updates: int = DEFAULT_CONCURRENT_UPDATES, warm_search_later: bool = False,
                      menus_later: bool = False) -> Application:
    """Wire an Application: Bot API endpoint, rate limiter, services, every feature's handlers.

    ``request`` replaces the HTTP transport (the offline Bot API in tests and the console).
    ``concurrent_updates`` bounds the updates processed at once (different chats; one chat's in order).
    ``warm_search_later`` (``run``): the search index is not loaded before polling; once polling
    starts it is built on the database thread if it is not stored yet, else left to the first
    search (see :func:`_post_init`). Others load it now (nothing else then shares the connection).
    ``menus_later`` (``run``): the command menus are registered, and an index still to be built
    is built, once the first getUpdates has gone out, not before.
    """
    services = services or build_services(config, clock=clock, store=store, sleep=sleep,
                                          warm_search=not warm_search_later)
    token = config.token or OFFLINE_TOKEN
    builder = (
        ApplicationBuilder()
        .token(token)
        .base_url(config.api_base_url)
        .base_file_url(config.api_file_url)
        .defaults(Defaults(parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)))
        .context_types(handlers.CONTEXT_TYPES)
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
    )
    # getUpdates through OneByOneUpdates: an update PTB cannot parse is skipped, not the batch with it
    # two connections: the confirming getUpdates at stop must not wait for the cancelled long poll
    updates_request = OneByOneUpdates(request if request is not None else HTTPXRequest(connection_pool_size=2))
    builder = builder.get_updates_request(updates_request)
    if request is not None:
        builder = builder.request(request)
    builder = builder.concurrent_updates(ChatOrderedProcessor(concurrent_updates))  # chats in parallel, each chat in order
    application: Application  # the rate limiter changes the builder's type (ExtBot[int] rather than ExtBot[None])
    if rate_limit:
        application = builder.rate_limiter(QuietRateLimiter()).build()
    else:
        application = builder.build()
    application.bot_data["services"] = services
    application.bot_data["warm_search_later"] = warm_search_later
    application.bot_data["menus_later"] = menus_later
    if menus_later:
        application.bot_data["polling"] = updates_request.polling
    handlers.register(application)
    return application


async def _post_init(application: Application) -> None:
    services: Services = application.bot_data["services"]
    services.bot_username = application.bot.username or services.bot_username
    services.started_at = services.clock.now()
    await services.deliverer.recover_after_restart()
    await services.store.run(users.set_state, "started_at", services.started_at.isoformat(), services.started_at)
    if application.bot_data.get("menus_later"):  # start-up: a dozen setMyCommands need not delay polling
        task = asyncio.get_running_loop().create_task(_register_menus_once_polling(application))
        task.add_done_callback(_log_menus_failure)
        application.bot_data["menus_task"] = task
    else:
        await _register_menus(application)
    await handlers.run_startup_hooks(application)
    # start-up (``run``): a stored index is left to the first search, which loads it in milliseconds,
    # so an idle bot holds neither numpy nor the index; one still to be built (new FAQ content) is
    # built on the database thread once the first getUpdates has gone out (built sooner, it held the
    # GIL while polling started: a fresh database's start took 0.1 s longer), and a search that
    # comes first waits for it there (handlers/faq.py)
    if application.bot_data.get("warm_search_later"):
        application.bot_data["search_warm"] = asyncio.get_running_loop().create_task(
            _warm_search_once_polling(application, services))


POLLING_WAIT_S = 5.0
"""How long start-up work waits for the first getUpdates before it goes ahead anyway."""
POLLING_GRACE_S = 0.5
"""And then, so that the request is written before work that holds the GIL begins (the event is
set as the request starts; its answer is a long poll, so it cannot be waited for)."""


async def _once_polling(application: Application) -> None:
    """Return once the first getUpdates has gone out (at most :data:`POLLING_WAIT_S`; a
    webhook bot sets the event itself, bot/runner.py)."""
    polling: asyncio.Event | None = application.bot_data.get("polling")
    if polling is None:  # not ``run`` (the console, tests): nothing to wait for
        return
    try:
        await asyncio.wait_for(polling.wait(), POLLING_WAIT_S)
    except TimeoutError:
        return  # polling that has not started yet: go ahead all the same
    await asyncio.sleep(POLLING_GRACE_S)


async def _register_menus_once_polling(application: Application) -> None:
    """Start-up (``run``): the dozen setMyCommands go out once the first getUpdates has,
    so that they do not compete with it for the event loop."""
    await _once_polling(application)
    await _register_menus(application)


async def _warm_search_once_polling(application: Application, services: Services) -> bool:
    await _once_polling(application)
    return await services.store.read(_warm_search, services.search)


async def _register_menus(application: Application) -> None:
    try:
        await register_commands(application)
    except TelegramError as exc:  # menus are a convenience: never block the start on them
        log.warning("commands.not_registered", extra={"error": str(exc)})


def _log_menus_failure(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("commands.not_registered", exc_info=task.exception())


def _warm_search(db, search) -> bool:
    return False if search.index_stored() else search.refresh_if_changed()


async def _post_shutdown(application: Application) -> None:
    services: Services = application.bot_data["services"]
    warm = application.bot_data.pop("search_warm", None)
    if warm is not None:
        await asyncio.gather(warm, return_exceptions=True)  # its failure is the first search's to report
    menus = application.bot_data.pop("menus_task", None)
    if menus is not None:
        await asyncio.gather(menus, return_exceptions=True)
    try:
        await services.faq_stats.flush()
    except Exception:  # noqa: BLE001 - statistics must never stop a shutdown
        log.exception("faqstats.not_flushed")
    log.info("bot.stopped")


async def register_commands(application: Application) -> None:
    """setMyCommands per scope (private, groups) and language, then each staff member's own menu (bot/menus.py)."""
    services: Services = application.bot_data["services"]
    await menus.register_public(application.bot, services)
    await menus.refresh_staff_menus(application)
