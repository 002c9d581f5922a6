"""The wiring shared by every handler: one :class:`Services` per Application.

It sits in ``application.bot_data["services"]`` (the only thing kept there) and holds
the configuration, clock, database store, translator, country registry, FAQ search
and the delivery path. Features may keep their own long-lived objects in ``extras``.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from bot.clock import Clock
from bot.config import Config
from bot.delivery import Deliverer
from bot.i18n import Translator
from knowledge.countries import CountryRegistry
from storage.db import Store


@dataclass
class Services:
    config: Config
    clock: Clock
    store: Store
    i18n: Translator
    countries: CountryRegistry
    deliverer: Deliverer
    search: Any = None
    faq_stats: Any = None  # bot.faqstats.FaqStats: "most asked" counts and misses, written in batches
    bot_username: str = "ldn_tsp_bot"
    started_at: dt.datetime | None = None
    extras: dict = field(default_factory=dict)

    def t(self, lang: str, key: str, /, **kwargs: Any) -> str:
        return self.i18n.t(lang, key, **kwargs)

    def deep_link(self, payload: str) -> str:
        return f"https://t.me/{self.bot_username}?start={payload}"
