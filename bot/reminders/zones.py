"""Time zones: whose clock a reminder is read on, and what people type to ``/timezone``."""
from __future__ import annotations

import datetime as dt
import difflib
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from knowledge.vocabulary import LANGS
from knowledge.yamlfile import load_file

CITIES_FILE = Path(__file__).resolve().parent.parent.parent / "knowledge" / "cities.yaml"

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


# -- cities and countries by name, in any of the six languages ------------------------------------

@dataclass(frozen=True)
class Place:
    """A city or country someone may mean, and the zone its clock keeps."""

    zone: str
    names: dict[str, str]          # lang -> name

    def name(self, lang: str) -> str:
        return self.names.get(lang) or self.names.get("en") or self.zone


_SEPARATORS = re.compile(r"[\s_\-.,'’]+")


def fold(text: str) -> str:
    """What a typed place name is compared by: case, accents, Arabic vowel marks, hyphens and spaces ignored."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn" and ch != "\u0640")
    return _SEPARATORS.sub(" ", unicodedata.normalize("NFC", bare)).strip()


@lru_cache(maxsize=4)
def city_index(path: Path = CITIES_FILE) -> dict[str, tuple[Place, ...]]:
    """Every name and spelling of knowledge/cities.yaml, folded, to the places it names."""
    index: dict[str, list[Place]] = {}
    for item in load_file(path).get("cities") or []:
        place = Place(str(item["zone"]), {k: str(v) for k, v in dict(item["names"]).items()})
        keys = {fold(n) for n in place.names.values()} | {fold(str(a)) for a in item.get("also") or []}
        for key in keys:
            if place not in index.setdefault(key, []):
                index[key].append(place)
    return {k: tuple(v) for k, v in index.items()}


def find_places(text: str | None, registry) -> list[Place]:
    """Cities (knowledge/cities.yaml) and countries (their capital's zone) called ``text`` in
    any language; several when the name is shared by places in different zones."""
    key = fold(text or "")
    if not key:
        return []
    found = list(city_index().get(key, ()))
    for country in registry:
        if key == fold(country.iso3) or key in {fold(n) for n in country.names.values()}:
            found.append(Place(country.timezone, dict(country.names)))
    by_zone: dict[str, Place] = {}
    for place in found:
        by_zone.setdefault(place.zone, place)
    return list(by_zone.values())


def resolve_place(text: str | None, registry) -> tuple[str | None, list[Place], list[str]]:
    """``/timezone TEXT``: (the zone, [], []) when it is clear; (None, places, []) when the name
    is shared by places in different zones; (None, [], suggestions) when nothing matches."""
    places = find_places(text, registry)
    if len(places) == 1:
        return places[0].zone, [], []
    if places:
        return None, places, []
    name, suggestions = resolve_timezone(text)
    return name, [], suggestions
