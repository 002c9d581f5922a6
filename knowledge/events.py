"""The programme's calendar (``knowledge/events.yaml``): workshops, phase ends, CRIC 15 and the
2018 reporting deadline, each with its local start/end and time zone, titles and places in the six
UN languages, an audience and optional reminder offsets.

:func:`load_events` validates the file and reports every problem as ``file:line: what``;
:func:`parse_event` is the same validation for one mapping (also used for events typed in chat).
:class:`Audience` says who an event concerns and resolves it against the country registry.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import shlex
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterator, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from knowledge.countries import load_countries
from knowledge.yamlfile import DataError, Node, Problem, top_level_list
from knowledge.durations import DurationError, format_duration, parse_duration
from knowledge.isotime import DateRangeError, check_range
from knowledge.vocabulary import LANGS, EventKind

KINDS: tuple[str, ...] = tuple(k.value for k in EventKind)  # every kind has a category (vocabulary.EVENT_CATEGORY)
ROLES = ("focal_point", "expert", "secretariat")
ANNEXES = ("I", "II", "III", "IV", "V")
LIST_GROUPS = ("africa", "asia", "lac", "nmed_cee", "pilot")
AUDIENCE_KEYS = ("all", "annex", "list_group", "pilots", "countries", "role")
EVENT_KEYS = ("id", "kind", "start", "end", "timezone", "title", "place", "audience", "offsets", "cancelled")
DEFAULT_PATH = Path(__file__).resolve().parent / "events.yaml"
REPORTING_EVENT_ID = "reporting-2018"
# Ids travel in callback data and delivery refs (``ev:<id>:v<n>:<offset>``): short, no ``_`` or ``%``.
MAX_ID_LENGTH = 32
_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
LOCAL_FORMAT = "%Y-%m-%dT%H:%M"


# -- offsets ----------------------------------------------------------------------

def canonical_offsets(values) -> tuple[str, ...]:
    """Reminder offsets (``14d``, ``2h``: knowledge.durations' grammar) parsed, canonical,
    de-duplicated, longest first; DurationError (a ValueError) names the bad one."""
    deltas: set[dt.timedelta] = set()
    for value in values:
        try:
            deltas.add(parse_duration(value))
        except DurationError as exc:
            raise DurationError(f"offset {value!r} is not like 14d, 3d, 2h or 30m ({exc})") from None
    return tuple(format_duration(d) for d in sorted(deltas, reverse=True))


# -- audience ---------------------------------------------------------------------

@dataclass(frozen=True)
class Audience:
    """Who an event concerns. Country selectors (annex, list_group, pilots, countries) are united;
    ``role`` restricts to one role; ``all`` is every registered user."""

    all: bool = False
    annex: tuple[str, ...] = ()
    list_group: tuple[str, ...] = ()
    pilots: bool = False
    countries: tuple[str, ...] = ()
    role: str | None = None

    @property
    def has_country_selector(self) -> bool:
        return bool(self.annex or self.list_group or self.pilots or self.countries)

    def country_set(self, registry) -> set[str] | None:
        """ISO3 codes concerned, or None when the audience is not limited by country."""
        if self.all or not self.has_country_selector:
            return None
        found: set[str] = set(self.countries)
        for country in registry:
            if (country.annex in self.annex or country.list_group in self.list_group
                    or (self.pilots and country.pilot)):
                found.add(country.iso3)
        return found

    def includes(self, registry, *, country: str | None, role: str | None) -> bool:
        """Whether a user with this country and role is in the audience (guests never are)."""
        if not role:
            return False
        if self.role and role != self.role:
            return False
        countries = self.country_set(registry)
        if countries is None:
            return True
        return country is not None and country.upper() in countries

    def to_dict(self) -> dict:
        out: dict[str, Any] = {}
        if self.all:
            out["all"] = True
        if self.annex:
            out["annex"] = list(self.annex)
        if self.list_group:
            out["list_group"] = list(self.list_group)
        if self.pilots:
            out["pilots"] = True
        if self.countries:
            out["countries"] = list(self.countries)
        if self.role:
            out["role"] = self.role
        return out

    @classmethod
    def from_dict(cls, data: Mapping) -> "Audience":
        return cls(all=bool(data.get("all")), annex=tuple(data.get("annex") or ()), list_group=tuple(data.get("list_group") or ()),
                   pilots=bool(data.get("pilots")), countries=tuple(data.get("countries") or ()), role=data.get("role") or None)

    def describe(self) -> str:
        """Short, language-neutral: ``all``, ``annex I``, ``annex IV+V, pilots``, ``KEN, UGA``, ``role secretariat``."""
        parts = []
        if self.all:
            parts.append("all")
        if self.annex:
            parts.append("annex " + "+".join(self.annex))
        if self.list_group:
            parts.append("group " + "+".join(self.list_group))
        if self.pilots:
            parts.append("pilots")
        if self.countries:
            parts.append(", ".join(self.countries))
        if self.role:
            parts.append(f"role {self.role}")
        return "; ".join(parts) or "—"


def parse_audience_text(text: str, registry) -> dict | None:
    """What the secretariat types (``KEN,UGA``, ``africa``, ``annex:IV+V``, ``pilots``, ``all``,
    ``role:secretariat``, combinations with ``,``) to an audience mapping; None if not understood."""
    out: dict[str, Any] = {}
    tokens = [t for t in re.split(r"[,\s]+", (text or "").strip()) if t]
    if not tokens:
        return None
    for token in tokens:
        low = token.lower()
        if low.startswith("role:"):
            role = low[5:]
            if role not in ROLES:
                return None
            out["role"] = role
            continue
        if low in ("all", "everyone"):
            out["all"] = True
            continue
        resolved = registry.resolve_circle(token)
        if resolved is None:
            return None
        canonical, _ = resolved
        if canonical == "all":
            out["all"] = True
        elif canonical == "pilots":
            out["pilots"] = True
        elif canonical.startswith("annex:"):
            out.setdefault("annex", [])
            out["annex"] += [a for a in canonical[6:].split("+") if a not in out["annex"]]
        elif canonical.startswith("group:"):
            out.setdefault("list_group", [])
            if canonical[6:] not in out["list_group"]:
                out["list_group"].append(canonical[6:])
        else:
            out.setdefault("countries", [])
            if canonical not in out["countries"]:
                out["countries"].append(canonical)
    return out


# -- events -----------------------------------------------------------------------

@dataclass(frozen=True)
class Event:
    """One calendar entry. ``start``/``end`` are naive wall-clock times in ``timezone``.

    The database adds ``status`` (active | cancelled), ``version`` (bumped when the time changes),
    ``since`` (when this version took effect: reminders due earlier are not sent) and ``source``.
    """

    id: str
    kind: str
    start: dt.datetime
    end: dt.datetime
    timezone: str
    title: dict = field(compare=False)
    place: dict = field(default_factory=dict, compare=False)
    audience: Audience = field(default_factory=Audience)
    offsets: tuple[str, ...] | None = None
    cancelled: bool = False
    line: int = field(default=0, compare=False)
    version: int = 1
    since: dt.datetime | None = None
    source: str = "yaml"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def start_utc(self) -> dt.datetime:
        return self.start.replace(tzinfo=self.zone).astimezone(dt.timezone.utc)

    @property
    def end_utc(self) -> dt.datetime:
        return self.end.replace(tzinfo=self.zone).astimezone(dt.timezone.utc)

    @property
    def active(self) -> bool:
        return not self.cancelled

    def title_in(self, lang: str) -> str:
        return self.title.get(lang) or self.title.get("en") or next(iter(self.title.values()), self.id)

    def place_in(self, lang: str) -> str:
        if not self.place:
            return ""
        return self.place.get(lang) or self.place.get("en") or next(iter(self.place.values()), "")

    def definition(self) -> dict:
        """The event as plain data (what YAML says), for hashing and the database."""
        return {"id": self.id, "kind": self.kind, "start": self.start.strftime(LOCAL_FORMAT), "end": self.end.strftime(LOCAL_FORMAT),
                "timezone": self.timezone, "title": dict(sorted(self.title.items())), "place": dict(sorted(self.place.items())),
                "audience": self.audience.to_dict(), "offsets": list(self.offsets) if self.offsets is not None else None,
                "cancelled": self.cancelled}

    def definition_hash(self) -> str:
        return hashlib.sha256(json.dumps(self.definition(), sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]

    def moved_to(self, start: dt.datetime, end: dt.datetime | None = None, timezone: str | None = None) -> "Event":
        """The same event at another local time (the end keeps its distance unless given)."""
        end = end if end is not None else start + (self.end - self.start)
        return replace(self, start=start, end=end, timezone=timezone or self.timezone)

    def with_instant(self, when_utc: dt.datetime) -> "Event":
        """A point event (deadline) at ``when_utc``, shown in its own zone."""
        local = when_utc.astimezone(self.zone).replace(tzinfo=None, second=0, microsecond=0)
        return replace(self, start=local, end=local)


class EventSet:
    """The events of one file, in file order."""

    def __init__(self, events: list[Event]):
        self.events = list(events)
        self._by_id = {e.id: e for e in self.events}

    def __len__(self) -> int:
        return len(self.events)

    def __iter__(self) -> Iterator[Event]:
        return iter(self.events)

    def __contains__(self, event_id: object) -> bool:
        return event_id in self._by_id

    def get(self, event_id: str | None) -> Event | None:
        return self._by_id.get(event_id or "")

    def replace(self, event: Event) -> "EventSet":
        return EventSet([event if e.id == event.id else e for e in self.events])


def parse_local(value: Any) -> dt.datetime | None:
    """``2016-05-28T09:00`` (or a YAML date/datetime without offset) to a naive datetime; None if invalid."""
    if isinstance(value, dt.datetime):
        return value.replace(second=0, microsecond=0) if value.tzinfo is None else None
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time(0, 0))
    text = str(value or "").strip().replace(" ", "T", 1)
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        return None
    return parsed.replace(second=0, microsecond=0)


def valid_timezone(name: Any) -> bool:
    try:
        ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        return False
    return bool(name)


def _texts(item: Mapping, key: str, eid: str, f: str, line: int, problems: list[Problem], required: bool) -> dict | None:
    value = item.get(key)
    where = item.line_of(key) if isinstance(item, Node) else line
    if value is None:
        if required:
            problems.append(Problem(f, where, f"{eid}: {key} is missing (give it in {', '.join(LANGS)})"))
        return None if required else {}
    if not isinstance(value, Mapping):
        problems.append(Problem(f, where, f"{eid}: {key} must map languages ({', '.join(LANGS)}) to text"))
        return None
    unknown = [k for k in value if k not in LANGS]
    if unknown:
        problems.append(Problem(f, where, f"{eid}: {key} has unknown language(s) {', '.join(map(str, unknown))}"))
    missing = [lang for lang in LANGS if not str(value.get(lang) or "").strip()]
    if missing:
        problems.append(Problem(f, where, f"{eid}: {key} missing language(s) {', '.join(missing)}"))
        return None
    return {lang: value[lang].strip() for lang in LANGS}


def _audience(item: Mapping, eid: str, f: str, line: int, problems: list[Problem], known: set[str] | None) -> Audience | None:
    data = item.get("audience")
    where = item.line_of("audience") if isinstance(item, Node) else line
    if not isinstance(data, Mapping) or not data:
        problems.append(Problem(f, where, f"{eid}: audience must be a mapping such as {{all: true}}, {{annex: [I]}}, {{countries: [KEN]}}"))
        return None
    at = data.line if isinstance(data, Node) else where
    before = len(problems)
    for key in data:
        if key not in AUDIENCE_KEYS:
            problems.append(Problem(f, at, f"{eid}: unknown audience key {key!r} (use {', '.join(AUDIENCE_KEYS)})"))

    def listed(key: str, allowed: tuple[str, ...] | None) -> tuple[str, ...]:
        value = data.get(key)
        if value is None:
            return ()
        if not isinstance(value, list) or not value:
            problems.append(Problem(f, at, f"{eid}: audience.{key} must be a non-empty list"))
            return ()
        values = tuple(str(v).strip() for v in value)
        if allowed is not None:
            bad = [v for v in values if v not in allowed]
            if bad:
                problems.append(Problem(f, at, f"{eid}: audience.{key}: {', '.join(bad)} not one of {', '.join(allowed)}"))
        return values

    annex = listed("annex", ANNEXES)
    groups = listed("list_group", LIST_GROUPS)
    countries = tuple(c.upper() for c in listed("countries", None))
    _check_countries(countries, eid, f, at, known, problems)
    role = data.get("role")
    _check_flags_and_role(data, role, eid, f, at, problems)
    audience = Audience(all=data.get("all") is True, annex=annex, list_group=groups, pilots=data.get("pilots") is True,
                        countries=countries, role=role if role in ROLES else None)
    if audience.all and audience.has_country_selector:
        problems.append(Problem(f, at, f"{eid}: audience 'all' cannot be combined with annex, list_group, pilots or countries"))
    if not (audience.all or audience.has_country_selector or audience.role):
        problems.append(Problem(f, at, f"{eid}: audience selects nobody"))
    return audience if len(problems) == before else None


def _check_countries(countries: tuple[str, ...], eid: str, f: str, at: int, known: set[str] | None,
                     problems: list[Problem]) -> None:
    for code in countries:
        if len(code) != 3 or not code.isalpha():
            problems.append(Problem(f, at, f"{eid}: audience.countries: {code!r} is not an ISO3 code"))
        elif known is not None and code not in known:
            problems.append(Problem(f, at, f"{eid}: audience.countries: {code} is not a participating country"))


def _check_flags_and_role(data: Mapping, role, eid: str, f: str, at: int, problems: list[Problem]) -> None:
    for flag in ("all", "pilots"):
        if flag in data and not isinstance(data[flag], bool):
            problems.append(Problem(f, at, f"{eid}: audience.{flag} must be true or false"))
    if role is not None and role not in ROLES:
        problems.append(Problem(f, at, f"{eid}: audience.role must be one of {', '.join(ROLES)}"))


def parse_event(item: Any, f: str = "<event>", *, known_countries: set[str] | None = None,
                problems: list[Problem] | None = None) -> Event | None:
    """Validate one event mapping; problems are appended (or raised as DataError when no list is given)."""
    own = problems is None
    if problems is None:
        problems = []
    line = item.line if isinstance(item, Node) else 1
    if not isinstance(item, Mapping):
        problems.append(Problem(f, line, "each event must be a mapping"))
        if own:
            raise DataError(problems)
        return None

    def at(key: str) -> int:
        return item.line_of(key) if isinstance(item, Node) else line

    before = len(problems)
    eid = str(item.get("id") or "").strip()
    if not _ID.match(eid) or len(eid) > MAX_ID_LENGTH:
        problems.append(Problem(f, at("id"), f"event id {eid!r} must be 1-{MAX_ID_LENGTH} lower-case letters, digits or '-'"))
        eid = eid or "?"
    for key in item:
        if key not in EVENT_KEYS:
            problems.append(Problem(f, at(key), f"{eid}: unknown key {key!r} (allowed: {', '.join(EVENT_KEYS)})"))
    kind = item.get("kind")
    if kind not in KINDS:
        problems.append(Problem(f, at("kind"), f"{eid}: kind must be one of {', '.join(KINDS)}"))
    tz = item.get("timezone")
    if not valid_timezone(tz):
        problems.append(Problem(f, at("timezone"), f"{eid}: unknown time zone {tz!r} (use an IANA name such as Africa/Nairobi)"))
    start, end = _times(item, eid, f, at, problems)
    title = _texts(item, "title", eid, f, line, problems, True)
    place = _texts(item, "place", eid, f, line, problems, False)
    audience = _audience(item, eid, f, line, problems, known_countries)
    offsets = _offsets(item.get("offsets"), eid, f, at, problems)
    cancelled = item.get("cancelled", False)
    if not isinstance(cancelled, bool):
        problems.append(Problem(f, at("cancelled"), f"{eid}: cancelled must be true or false"))
    if len(problems) != before or title is None or audience is None:
        if own:
            raise DataError(problems)
        return None
    return Event(eid, str(kind), start, end, str(tz), title, place or {}, audience, offsets, bool(cancelled), line)


def _times(item: Mapping, eid: str, f: str, at, problems: list[Problem]):
    """(start, end) local times of an event, checked for form, order and range."""
    start = parse_local(item.get("start"))
    if start is None:
        problems.append(Problem(f, at("start"), f"{eid}: start {item.get('start')!r} must be a local time like 2016-05-28T09:00 (no offset: the zone is 'timezone')"))
    raw_end = item.get("end")
    end = start if raw_end is None else parse_local(raw_end)
    if raw_end is not None and end is None:
        problems.append(Problem(f, at("end"), f"{eid}: end {raw_end!r} must be a local time like 2016-05-30T18:00"))
    elif start is not None and end is not None and end < start:
        problems.append(Problem(f, at("end"), f"{eid}: end is before start"))
    for key, value in (("start", start), ("end", end)):
        try:
            if value is not None:
                check_range(value)
        except DateRangeError as exc:
            problems.append(Problem(f, at(key), f"{eid}: {key} {exc}"))
    return start, end


def _offsets(raw, eid: str, f: str, at, problems: list[Problem]):
    if raw is None:
        return None
    if not isinstance(raw, list) or not raw:
        problems.append(Problem(f, at("offsets"), f"{eid}: offsets must be a non-empty list like [14d, 3d, 1d, 2h]"))
        return None
    try:
        return canonical_offsets(raw)
    except ValueError as exc:
        problems.append(Problem(f, at("offsets"), f"{eid}: {exc}"))
        return None


ADD_LANG_KEYS = ("title", "place")


def parse_add_words(text: str, registry) -> tuple[dict | None, str | None]:
    """What the secretariat types after ``/event add``: ``key=value`` words (shell quoting) to an
    event mapping for :func:`parse_event`; (None, what is wrong) if unreadable."""
    try:
        words = shlex.split(text)
    except ValueError as exc:
        return None, str(exc)
    data: dict = {}
    texts: dict[str, dict[str, str]] = {"title": {}, "place": {}}
    for word in words:
        if "=" not in word:
            return None, f"expected key=value, got {word!r}"
        key, value = word.split("=", 1)
        key = key.strip().lower()
        base, dot, lang = key.partition(".")
        if base in ADD_LANG_KEYS:
            lang = lang if dot else "en"
            if lang not in LANGS:
                return None, f"unknown language in {key!r}"
            texts[base][lang] = value
        elif key in ("tz", "timezone", "zone"):
            data["timezone"] = value
        elif key == "audience":
            audience = parse_audience_text(value, registry)
            if audience is None:
                return None, f"audience {value!r} not understood (e.g. KEN,UGA · africa · annex:IV+V · pilots · all · role:secretariat)"
            data["audience"] = audience
        elif key == "offsets":
            data["offsets"] = [v for v in value.replace(" ", ",").split(",") if v]
        elif key in ("id", "kind", "start", "end"):
            data[key] = value
        else:
            return None, f"unknown key {key!r}"
    for base, given in texts.items():
        if given:
            fallback = given.get("en") or next(iter(given.values()))
            data[base] = {lang: given.get(lang) or fallback for lang in LANGS}
    return data, None


def _known_countries(path: Path) -> set[str] | None:
    """ISO3 codes of the registry next to the events file (to check audience.countries), if loadable."""
    registry_path = path.parent / "countries.yaml"
    if not registry_path.exists():
        return None
    try:
        return {c.iso3 for c in load_countries(registry_path)}
    except DataError:
        return None


def load_events(path: Path | str = DEFAULT_PATH, *, known_countries: set[str] | None = None) -> EventSet:
    """Load and validate the calendar; every problem is reported with its line."""
    path = Path(path)
    f = str(path)
    items = top_level_list(path, "events")
    if known_countries is None:
        known_countries = _known_countries(path)
    problems: list[Problem] = []
    events: list[Event] = []
    seen: dict[str, int] = {}
    for item in items:
        event = parse_event(item, f, known_countries=known_countries, problems=problems)
        if event is None:
            continue
        if event.id in seen:
            problems.append(Problem(f, event.line, f"duplicate event id {event.id} (first at line {seen[event.id]})"))
            continue
        seen[event.id] = event.line
        events.append(event)
    if problems:
        raise DataError(problems)
    return EventSet(events)


def apply_reporting_deadline(events: EventSet, when_utc: dt.datetime | None) -> EventSet:
    """The configured 2018 reporting deadline (decision 15/COP.12) replaces the file's default date."""
    event = events.get(REPORTING_EVENT_ID)
    if when_utc is None or event is None:
        return events
    return events.replace(event.with_instant(when_utc))
