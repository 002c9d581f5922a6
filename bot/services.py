"""The wiring shared by every handler: one :class:`Services` per Application.

It sits in ``application.bot_data["services"]`` (the only thing kept there; handlers
read it as ``context.services``, see :class:`handlers.common.CustomContext`) and holds
the configuration, clock, database store, translator, country registry, FAQ search
and the delivery path, plus each feature's long-lived objects as typed fields
(created on first use by the feature that owns them).
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
    #: how ``ldn-bot run`` receives updates: "polling", "webhook" (None in the console and tests)
    mode: str | None = None
    #: the checklist template (bot.milestones.get_template)
    checklist: Any = None
    #: the reminder service (bot.reminders.get_reminders)
    reminders: Any = None
    #: the helpdesk settings (handlers.helpdesk.settings) and whether the experts' chat is a forum
    helpdesk_settings: Any = None
    expert_chat_is_forum: bool | None = None
    #: topic slugs the experts may file a promoted FAQ draft under
    helpdesk_topics: list[str] | None = None
    #: FAQ topic names per language (handlers.faq.topic_name)
    faq_topics: dict | None = None
    #: when the FAQ version was last compared with the database (time.monotonic())
    faq_checked_at: float = 0.0
    #: search results by (FAQ version, question) (handlers.faq)
    faq_results: Any = None
    #: rendered answers and keyboards, by content (handlers.faq.remembered)
    faq_rendered: dict = field(default_factory=dict)
    #: when the "last update received" mark was last written (handlers.operations)
    last_update_written: dt.datetime | None = None
    #: the e-mail channel (bot.mail.channel.MailChannel), when mail.from and LDN_SMTP_URL are set
    mail: Any = None

    def t(self, lang: str, key: str, /, **kwargs: Any) -> str:
        return self.i18n.t(lang, key, **kwargs)

    def deep_link(self, payload: str) -> str:
        return f"https://t.me/{self.bot_username}?start={payload}"
