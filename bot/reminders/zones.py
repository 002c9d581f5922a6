"""Time zones: whose clock a reminder is read on, and what people type to ``/timezone``."""
from __future__ import annotations

import datetime as dt
import difflib
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from knowledge.vocabulary import LANGS

UTC = dt.timezone.utc
UTC_NAMES = ("UTC", "Etc/UTC")


def zone(name: str | None) -> ZoneInfo:
    """The zone of that name; UTC for an unknown or empty one."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def user_timezone(row: dict, registry) -> str:
    """The user's own ``/timezone``, else their country's, else UTC."""
    if row.get("timezone"):
        return row["timezone"]
    country = registry.get(row.get("country"))
    return country.timezone if country else "UTC"


def timezone_source(row: dict, registry) -> str:
    """Where :func:`user_timezone` took the zone from: ``user`` | ``country`` | ``default``."""
    if row.get("timezone"):
        return "user"
    return "country" if registry.get(row.get("country")) else "default"


def user_lang(row: dict, registry, default: str = "en") -> str:
    if row.get("lang") in LANGS:
        return row["lang"]
    country = registry.get(row.get("country"))
    return country.un_language if country else default


def offset_label(when: dt.datetime) -> str:
    """``UTC+05:30`` (or ``UTC``) for an aware datetime."""
    offset = when.utcoffset() or dt.timedelta()
    minutes = int(offset.total_seconds() // 60)
    if minutes == 0:
        return "UTC"
    sign = "+" if minutes > 0 else "-"
    hours, mins = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{mins:02d}"


def tz_label(when_utc: dt.datetime, tz: str) -> str:
    """``Asia/Colombo, UTC+05:30`` (or ``UTC``) at that instant."""
    label = offset_label(when_utc.astimezone(zone(tz)))
    return label if tz in UTC_NAMES else f"{tz}, {label}"


@lru_cache(maxsize=1)
def _zone_index() -> dict[str, str]:
    names = {z for z in available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/", "posix/", "right/"))}
    names.add("UTC")
    return {z.lower(): z for z in names}


def _most_specific(names: list[str]) -> str:
    """America/Argentina/Buenos_Aires over America/Buenos_Aires."""
    return sorted(names, key=lambda z: (-z.count("/"), z))[0]


def resolve_timezone(text: str | None) -> tuple[str | None, list[str]]:
    """What a user typed (``Asia/Kathmandu``, ``kathmandu``, ``Buenos Aires``, ``UTC``) to an IANA name,
    or (None, suggestions)."""
    value = (text or "").strip().replace(" ", "_")
    if not value:
        return None, []
    index = _zone_index()
    low = value.lower()
    if low in ("utc", "gmt", "z", "etc/utc"):
        return "UTC", []
    if low in index:
        return index[low], []
    cities: dict[str, list[str]] = {}
    for key, name in index.items():
        cities.setdefault(key.rsplit("/", 1)[-1], []).append(name)
    if low in cities:
        return _most_specific(cities[low]), []
    suggestions = [index[key] for key in difflib.get_close_matches(low, list(index), n=3, cutoff=0.6)]
    suggestions += [_most_specific(cities[city]) for city in difflib.get_close_matches(low, list(cities), n=3, cutoff=0.7)]
    return None, list(dict.fromkeys(suggestions))[:5]
