"""Dates, relative times, durations, numbers and plural forms in the six languages, with
the CLDR rules (through Babel) instead of hand-kept month names and plural workarounds.

English follows UN style (British English: "31 March 2018"). Every function takes one of
:data:`knowledge.vocabulary.LANGS`.
"""
from __future__ import annotations

import datetime as dt
import functools
from typing import Literal

from babel import Locale
from babel.dates import format_date as _babel_date
from babel.dates import format_datetime as _babel_datetime
from babel.dates import format_time as _babel_time
from babel.dates import format_timedelta as _babel_timedelta
from babel.numbers import format_decimal

from knowledge.vocabulary import LANGS

Granularity = Literal["year", "month", "week", "day", "hour", "minute", "second"]

#: The CLDR locale used for each language of the bot.
LOCALES: dict[str, str] = {"en": "en_GB", "fr": "fr", "es": "es", "ru": "ru", "ar": "ar", "zh": "zh_Hans"}
#: CLDR plural categories.
PLURAL_CATEGORIES = ("zero", "one", "two", "few", "many", "other")


@functools.lru_cache(maxsize=None)
def locale(lang: str) -> Locale:
    return Locale.parse(LOCALES.get(lang, LOCALES["en"]))


def plural_category(lang: str, n: int | float) -> str:
    """The CLDR plural category of ``n`` in ``lang`` (Russian 2 -> few, 5 -> many; Arabic 2 -> two)."""
    return locale(lang).plural_form(abs(n))


def plural_categories(lang: str) -> frozenset[str]:
    """The categories ``lang`` distinguishes (always including ``other``)."""
    return frozenset(locale(lang).plural_form.tags) | {"other"}


def date(lang: str, day: dt.date, *, style: str = "long") -> str:
    """``31 March 2018``, ``31 mars 2018``, ``31 марта 2018 г.``, ``2018年3月31日`` ..."""
    return _babel_date(day, format=style, locale=locale(lang))


def date_time(lang: str, when: dt.datetime, *, style: str = "medium") -> str:
    """A date and time in the time zone ``when`` carries."""
    return _babel_datetime(when, format=style, tzinfo=when.tzinfo, locale=locale(lang))


def time_of_day(lang: str, when: dt.datetime) -> str:
    return _babel_time(when, format="short", tzinfo=when.tzinfo, locale=locale(lang))


def duration(lang: str, delta: dt.timedelta, *, granularity: Granularity = "minute") -> str:
    """A length of time in words, rounded to its largest unit: ``9 years``, ``3 дня``, ``2 ساعتين``."""
    return _babel_timedelta(abs(delta), granularity=granularity, threshold=1, locale=locale(lang))


def relative(lang: str, delta: dt.timedelta, *, granularity: Granularity = "minute") -> str:
    """``in 3 days`` for a positive ``delta``, ``3 days ago`` for a negative one."""
    return _babel_timedelta(delta, granularity=granularity, threshold=1, add_direction=True, locale=locale(lang))


def number(lang: str, value: int | float) -> str:
    return format_decimal(value, locale=locale(lang))


def check_languages() -> None:
    """Every language of the bot has a CLDR locale (checked by the tests)."""
    for lang in LANGS:
        locale(lang)
