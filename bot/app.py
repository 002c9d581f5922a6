"""The one factory that builds the Application, used by ``run``, ``console``, tests and benchmarks."""
from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any

from telegram import LinkPreviewOptions, BotCommand, BotCommandScopeAllGroupChats, BotCommandScopeAllPrivateChats, BotCommandScopeChat
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, Defaults

import handlers
from bot.clock import Clock, clock_from_env
from bot.config import Config
from bot.delivery import Deliverer, RetryPolicy
from bot.faqstats import FaqStats
from bot.i18n import LANGS, load_translator
from bot.services import Services
from knowledge.countries import load_countries
from storage import users
from storage.db import Store, migrate, open_db

log = logging.getLogger("ldn.app")

OFFLINE_TOKEN = "0:offline-console"


def build_services(config: Config, *, clock: Clock | None = None, store: Store | None = None, sleep=None,
                   warm_search: bool = True) -> Services:
    """Load data files, open and migrate the database; raises DataError on invalid data.

    ``warm_search``: fetch every FTS5 term of the FAQ up front (0.7 s), as a bot that
    answers for days should; one-off CLI commands skip it and fetch what they use.
    """
    clock = clock or clock_from_env(config.now_override)
    if store is None:
        db = open_db(config.db_path)
        migrate(db, clock.now())
        store = Store(db)
    kdir = Path(config.knowledge_dir)
    i18n = load_translator(kdir / "strings")
    countries = load_countries(kdir / "countries.yaml")
    deliverer_kwargs = {"sleep": sleep} if sleep is not None else {}
    deliverer = Deliverer(store, clock, RetryPolicy(**config.section("delivery")), i18n=i18n, **deliverer_kwargs)
    services = Services(config=config, clock=clock, store=store, i18n=i18n, countries=countries,
                        deliverer=deliverer, bot_username=config.bot_username)
    _attach_search(services, warm_search)
    services.faq_stats = FaqStats(store, clock)
    return services


_PARSED_FAQ: dict[str, list] = {}


def faq_fingerprint(knowledge_dir: Path) -> str:
    """A digest of the FAQ files and topics: unchanged files need no reload at start."""
    digest = hashlib.sha256()
    for path in sorted((knowledge_dir / "faq").glob("*.yaml")) + [knowledge_dir / "topics.yaml"]:
        if path.exists():
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _attach_search(services: Services, warm: bool = True) -> None:
    """Load the FAQ files into the database (only if they changed) and open the search engine.

    Invalid files raise DataError, so ``run`` refuses to start on them.
    """
    from knowledge.faq import load_faq_dir
    from knowledge.search import FaqSearch
    from storage import faq as faq_storage

    db = services.store.db
    kdir = Path(services.config.knowledge_dir)
    fingerprint = faq_fingerprint(kdir)
    if users.get_state(db, "faq_fingerprint") != fingerprint:
        entries = _PARSED_FAQ.get(fingerprint)
        if entries is None:
            entries = load_faq_dir(kdir / "faq", topics_path=kdir / "topics.yaml")
            _PARSED_FAQ.clear()
            _PARSED_FAQ[fingerprint] = entries
        faq_storage.load_entries(db, entries, services.clock.now())
        users.set_state(db, "faq_fingerprint", fingerprint, services.clock.now())
    services.search = FaqSearch(db, warm=warm)


def build_application(config: Config, *, request: Any = None, clock: Clock | None = None, store: Store | None = None,
                      rate_limit: bool = True, services: Services | None = None, sleep=None) -> Application:
    """Wire an Application: Bot API endpoint, rate limiter, services, every feature's handlers.

    ``request`` replaces the HTTP transport (the offline Bot API in tests and the console).
    """
    services = services or build_services(config, clock=clock, store=store, sleep=sleep)
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
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    if rate_limit:
        builder = builder.rate_limiter(AIORateLimiter(max_retries=0))
    application = builder.build()
    application.bot_data["services"] = services
    handlers.register(application)
    return application


async def _post_init(application: Application) -> None:
    services: Services = application.bot_data["services"]
    services.bot_username = application.bot.username or services.bot_username
    services.started_at = services.clock.now()
    await services.deliverer.recover_after_restart()
    await services.store.run(users.set_state, "started_at", services.started_at.isoformat(), services.started_at)
    try:
        await register_commands(application)
    except TelegramError as exc:  # menus are a convenience: never block the start on them
        log.warning("commands.not_registered", extra={"error": str(exc)})
    await handlers.run_startup_hooks(application)


async def _post_shutdown(application: Application) -> None:
    services: Services = application.bot_data["services"]
    try:
        await services.faq_stats.flush()
    except Exception:  # noqa: BLE001 - statistics must never stop a shutdown
        log.exception("faqstats.not_flushed")
    log.info("bot.stopped")


COMMANDS_PRIVATE = ["start", "help", "faq", "ask", "myqueries", "checklist", "reminders", "calendar", "timezone",
                    "peers", "directory", "language", "whoami", "privacy"]
COMMANDS_GROUP = ["faq", "ask", "help", "settings", "link"]
COMMANDS_SECRETARIAT = ["queue", "progress", "overdue", "due", "events", "broadcast", "invite", "gaps", "status", "help"]


async def register_commands(application: Application) -> None:
    """setMyCommands per scope (private, groups, each secretariat member) and per language."""
    services: Services = application.bot_data["services"]
    bot = application.bot
    for lang in LANGS:
        code = None if lang == "en" else lang

        def menu(names, lang=lang):
            return [BotCommand(name, services.t(lang, f"menu.{name}")) for name in names if f"menu.{name}" in services.i18n]

        await bot.set_my_commands(menu(COMMANDS_PRIVATE), scope=BotCommandScopeAllPrivateChats(), language_code=code)
        await bot.set_my_commands(menu(COMMANDS_GROUP), scope=BotCommandScopeAllGroupChats(), language_code=code)
    secretariat = COMMANDS_PRIVATE + [n for n in COMMANDS_SECRETARIAT if n not in COMMANDS_PRIVATE]
    for user_id in services.config.secretariat_ids:
        commands = [BotCommand(n, services.t("en", f"menu.{n}")) for n in secretariat if f"menu.{n}" in services.i18n]
        try:
            await bot.set_my_commands(commands, scope=BotCommandScopeChat(user_id))
        except TelegramError:  # the user has not opened a chat with the bot yet
            continue
