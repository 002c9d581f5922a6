"""``/calendar/ISO3.ics``: a country's calendar for phones to subscribe to, served by the dashboard.

The same file as ``ldn-bot calendar --country ISO3``: the programme's events for that country
(with one alarm per reminder offset) and the country's checklist steps still to do, as all-day
events on their due dates. Read through the dashboard's read-only connection.
"""
from __future__ import annotations

import html
import sqlite3
from pathlib import Path
from typing import Callable

import sqlite_utils

from bot import milestones
from bot.i18n import LANGS, load_translator
from bot.ics import calendar, due_dates_from
from bot.reminders import Settings
from knowledge.countries import load_countries
from storage import reminders as events_store


def dashboard_calendar(config, clock) -> Callable[[sqlite3.Connection, str, str], bytes | None]:
    """A function (connection, ISO3, language) -> the .ics bytes, or None for an unknown country."""
    kdir = Path(config.knowledge_dir)
    i18n = load_translator(kdir / "strings")
    registry = load_countries(kdir / "countries.yaml")
    template = milestones.load_template(config)
    settings = Settings.from_section(config.section("reminders"))

    def make(conn: sqlite3.Connection, iso3: str, lang: str) -> bytes | None:
        country = registry.get(iso3)
        if country is None:
            return None
        lang = lang if lang in LANGS else "en"
        now = clock.now()
        db = sqlite_utils.Database(conn)
        events = [e for e in events_store.list_events(db)
                  if (wanted := e.audience.country_set(registry)) is None or iso3 in wanted]
        steps = milestones.country_steps(db, template, registry, iso3, now)
        kinds = {e.id: f"{i18n.t(lang, f'rem.kind.{e.kind}')} · {html.unescape(i18n.t(lang, 'cal.programme'))}"
                 for e in events}
        text = calendar(events, lang=lang, now=now, name=f"{html.unescape(i18n.t(lang, 'cal.name'))} — {country.name(lang)}",
                        descriptions=kinds, offsets={e.id: e.offsets or settings.offsets for e in events},
                        due_dates=due_dates_from(steps, lang), due_description=html.unescape(i18n.t(lang, "rem.kind.milestone")),
                        due_offsets=settings.milestone_offsets)
        return text.encode("utf-8")

    return make
