"""The services every command and the bot share, built without Telegram's Application.

:func:`build_services` is what one-off CLI commands need (config, data files, the
database, the FAQ search); it imports neither ``handlers`` nor ``telegram.ext``, so
those commands start without them. :func:`bot.app.build_application` adds the
Application around the same services for ``run``, the console and the tests.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from bot.clock import Clock, clock_from_env
from bot.config import Config
from bot.delivery import Deliverer, RetryPolicy
from bot.faqstats import FaqStats
from bot import people
from bot.i18n import Translator, load_translator
from bot.search import FaqSearch, sync_knowledge
from bot.services import Services
from knowledge.countries import load_countries
from storage import search_index as derived
from storage.db import Store, migrate, open_db


def build_services(config: Config, *, clock: Clock | None = None, store: Store | None = None, sleep=None,
                   warm_search: bool = True) -> Services:
    """Load data files, open and migrate the database; raises DataError on invalid data.

    ``warm_search``: load the FAQ search index now (milliseconds once stored, see
    :mod:`bot.search`), as the bot does; one-off CLI commands leave it to their first search.
    """
    clock = clock or clock_from_env(config.now_override)
    if store is None:
        db = open_db(config.db_path)
        migrate(db, clock.now())
        store = Store(db)
    kdir = Path(config.knowledge_dir)
    i18n = _translator(store, kdir / "strings")
    countries = load_countries(kdir / "countries.yaml")
    people.sync_country_registry(store.db, countries, clock.now())
    deliverer_kwargs = {"sleep": sleep} if sleep is not None else {}
    deliverer = Deliverer(store, clock, RetryPolicy(**config.section("delivery")), i18n=i18n,
                          **deliverer_kwargs)
    services = Services(config=config, clock=clock, store=store, i18n=i18n, countries=countries,
                        deliverer=deliverer, bot_username=config.bot_username)
    _attach_search(services, warm_search)
    services.faq_stats = FaqStats(store, clock)
    return services


def _translator(store: Store, directory: Path) -> Translator:
    """The translations, validated once per content of the strings files: the result is kept
    beside the database (start-up: parsing and checking them costs half a second, and
    loads every language's CLDR data). Invalid files raise DataError as before."""
    digest = hashlib.sha256()
    for path in sorted(directory.glob("*.yaml")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    fingerprint = digest.hexdigest()
    saved = derived.load_cached(store.db, "strings", fingerprint)
    if saved is not None:
        try:
            return Translator(json.loads(saved))
        except ValueError:  # a damaged cache file: validate the files again
            pass
    translator = load_translator(directory)
    derived.save_cached(store.db, "strings", fingerprint, json.dumps(translator.strings, ensure_ascii=False).encode())
    return translator


def _attach_search(services: Services, warm: bool = True) -> None:
    """Load the FAQ files into the database (only if they changed) and open the search engine.

    Invalid files raise DataError, so ``run`` refuses to start on them. ``warm`` loads
    the index now (the bot, before it polls); otherwise the first search does.
    """
    sync_knowledge(services.store.db, Path(services.config.knowledge_dir), services.clock.now())
    services.search = FaqSearch(services.store.db, warm=warm)
