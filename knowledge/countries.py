"""The registry of the 95 participating countries (``knowledge/countries.yaml``).

Each country carries its ISO 3166 alpha-3 code, names in the six UN languages, the
seed report's list group, two annexes kept apart - the Convention's regional
implementation annex (``unccd_annex``) and the annex under which the programme grouped
it (``programme_annex``; they differ for Kyrgyzstan and Uzbekistan) - whether it was an
LDN pilot, its inception workshop (the pilot countries had their own, seed para. 22)
and an IANA time zone. ``Country.annex`` is the programme's grouping, which targeting
and progress by region follow.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from knowledge.yamlfile import DataError, Node, Problem, top_level_list
from knowledge.vocabulary import LANGS

LIST_GROUPS = {"africa": 35, "asia": 17, "lac": 17, "nmed_cee": 12, "pilot": 14}
ANNEXES = ("I", "II", "III", "IV", "V")
WORKSHOPS = ("konya", "batumi", "bangkok", "buenos_aires", "pilots")
# The names users type in /progress, /link and broadcasts, mapped to annexes.
REGION_ALIASES = {
    "africa": ("I",), "afrique": ("I",),
    "asia": ("II",), "asia-pacific": ("II",), "asie": ("II",),
    "lac": ("III",), "latin-america": ("III",), "latam": ("III",), "caribbean": ("III",),
    "nmed": ("IV",), "mediterranean": ("IV",),
    "cee": ("V",), "europe": ("IV", "V"), "cee-ca": ("IV", "V"),
}
DEFAULT_PATH = Path(__file__).resolve().parent / "countries.yaml"


@dataclass(frozen=True)
class Country:
    iso3: str
    names: dict
    un_language: str
    list_group: str
    unccd_annex: str
    programme_annex: str
    pilot: bool
    workshop: str
    timezone: str

    @property
    def annex(self) -> str:
        """The annex the programme grouped the country under (what targeting by region uses)."""
        return self.programme_annex

    def name(self, lang: str = "en") -> str:
        return self.names.get(lang) or self.names["en"]


class CountryRegistry:
    def __init__(self, countries: list[Country]):
        self.countries = countries
        self._by_iso = {c.iso3: c for c in countries}

    def __len__(self) -> int:
        return len(self.countries)

    def __iter__(self):
        return iter(self.countries)

    def get(self, iso3: str | None) -> Country | None:
        return self._by_iso.get((iso3 or "").strip().upper())

    def name(self, iso3: str | None, lang: str = "en") -> str:
        country = self.get(iso3)
        return country.name(lang) if country else (iso3 or "")

    def by_annex(self, *annexes: str) -> list[Country]:
        return [c for c in self.countries if c.annex in annexes]

    def pilots(self) -> list[Country]:
        return [c for c in self.countries if c.pilot]

    def resolve_circle(self, text: str) -> tuple[str, list[str]] | None:
        """A circle name typed by a user to (canonical circle, ISO3 list), or None.

        Accepts a region alias (``Africa``, ``asia``, ``LAC``, ``europe``), an annex
        (``annex:II`` or ``II``), ``pilots``, a list group (``nmed_cee``) or an ISO3 code.
        """
        key = (text or "").strip().lower().replace(" ", "-")
        if not key:
            return None
        if key in ("pilots", "pilot"):
            return "pilots", [c.iso3 for c in self.pilots()]
        if key in ("all", "everyone"):
            return "all", [c.iso3 for c in self.countries]
        annex = key.removeprefix("annex:").removeprefix("annex-").upper()
        if annex in ANNEXES:
            return f"annex:{annex}", [c.iso3 for c in self.by_annex(annex)]
        if key in REGION_ALIASES:
            annexes = REGION_ALIASES[key]
            return "annex:" + "+".join(annexes), [c.iso3 for c in self.by_annex(*annexes)]
        if key in LIST_GROUPS:
            return f"group:{key}", [c.iso3 for c in self.countries if c.list_group == key]
        country = self.get(key)
        if country:
            return country.iso3, [country.iso3]
        return None

    def to_json(self) -> list[dict]:
        return [
            {"iso3": c.iso3, "names": dict(c.names), "un_language": c.un_language, "list_group": c.list_group,
             "annex": c.annex, "unccd_annex": c.unccd_annex, "programme_annex": c.programme_annex, "pilot": c.pilot, "workshop": c.workshop, "timezone": c.timezone}
            for c in self.countries
        ]


def load_countries(path: Path | str = DEFAULT_PATH) -> CountryRegistry:
    """Load and validate the registry; every problem is reported with its line."""
    path = Path(path)
    items = top_level_list(path, "countries")
    problems: list[Problem] = []
    f = str(path)
    countries: list[Country] = []
    seen: set[str] = set()
    for item in items:
        country = _parse_country(item, f, seen, problems)
        if country is not None:
            countries.append(country)
    if not problems:
        _check_totals(countries, f, problems)
    if problems:
        raise DataError(problems)
    return CountryRegistry(countries)


_CHOICES = (
    ("list_group", tuple(LIST_GROUPS)), ("unccd_annex", ANNEXES), ("programme_annex", ANNEXES),
    ("workshop", WORKSHOPS), ("un_language", LANGS),
)


def _parse_country(item, f: str, seen: set[str], problems: list[Problem]) -> Country | None:
    """One registry item as a Country, or None after adding its problems."""
    line = item.line if isinstance(item, Node) else 1
    if not isinstance(item, dict):
        problems.append(Problem(f, line, "each country must be a mapping"))
        return None

    def at(key: str) -> int:
        return item.line_of(key) if isinstance(item, Node) else line

    before = len(problems)
    iso3 = str(item.get("iso3") or "")
    if len(iso3) != 3 or not iso3.isalpha() or not iso3.isupper():
        problems.append(Problem(f, at("iso3"), f"iso3 {iso3!r} must be three capital letters"))
    elif iso3 in seen:
        problems.append(Problem(f, at("iso3"), f"duplicate country {iso3}"))
    seen.add(iso3)
    names = item.get("names")
    missing = [lang for lang in LANGS if not isinstance(names, dict) or not names.get(lang)]
    if missing:
        problems.append(Problem(f, at("names"), f"{iso3}: names missing {', '.join(missing)}"))
    for key, allowed in _CHOICES:
        if item.get(key) not in allowed:
            problems.append(Problem(f, at(key), f"{iso3}: {key} must be one of {', '.join(allowed)}"))
    if not isinstance(item.get("pilot"), bool):
        problems.append(Problem(f, at("pilot"), f"{iso3}: pilot must be true or false"))
    tz = item.get("timezone")
    try:
        ZoneInfo(str(tz))
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(Problem(f, at("timezone"), f"{iso3}: unknown time zone {tz!r}"))
    if len(problems) > before:
        return None
    return Country(iso3, {k: str(v) for k, v in (names or {}).items()}, item["un_language"], item["list_group"],
                   item["unccd_annex"], item["programme_annex"], item["pilot"], item["workshop"], str(tz))


def _check_totals(countries: list[Country], f: str, problems: list[Problem]) -> None:
    """The registry as a whole against the seed: group sizes, 95 countries, 14 pilots."""
    counts = {g: sum(1 for c in countries if c.list_group == g) for g in LIST_GROUPS}
    for group, expected in LIST_GROUPS.items():
        if counts[group] != expected:
            problems.append(Problem(f, 1, f"list group {group} has {counts[group]} countries, the seed lists {expected}"))
    if len(countries) != 95:
        problems.append(Problem(f, 1, f"{len(countries)} countries, the seed lists 95"))
    if sum(c.pilot for c in countries) != 14:
        problems.append(Problem(f, 1, "the seed lists 14 pilot countries"))
    for c in countries:
        if (c.workshop == "pilots") != c.pilot:
            problems.append(Problem(f, 1, f"{c.iso3}: the pilots workshop is for the 14 pilot countries, and only for them"))
