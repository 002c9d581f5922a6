"""Placeholders in FAQ answers: the grammar, its validation, and the dates answers state.

An answer may hold placeholders in braces, resolved for each asker by :mod:`bot.personal`:

===================  ===========================================================================
``{country}``        the asker's country
``{workshop}``       the asker's inception workshop: place and dates, in the asker's time zone
``{deadline}``       the 2018 reporting deadline (the calendar's ``reporting-2018``, as configured)
``{next_step}``      the asker's next open checklist step and its due date
``{progress}``       where the asker's country stands on the checklist
``{peers}``          the asker's regional peer group (their annex) and how to reach it
``{event:ID}``       the dates of calendar event ``ID`` (knowledge/events.yaml)
``{event:ID:place}`` the place of event ``ID``
===================  ===========================================================================

Personal placeholders (all but ``event``) fall back to a text for everyone (the list of
all workshops, ...) when the asker is not a focal point bound to a country.
``{{`` and ``}}`` stand for literal braces.

One source for each fact: :func:`date_problems` finds the dates an answer states about a
calendar event (a sentence naming the event's place, or the 2018 reports, with a full
date) and reports those that contradict the calendar; :func:`check_faq_dir` runs both
checks over the FAQ files for ``ldn-bot check``, each problem as ``file:line``.
"""
from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from babel.dates import format_date, format_interval

from knowledge.countries import load_countries
from knowledge.events import DEFAULT_PATH as EVENTS_PATH, EventSet, load_events
from knowledge.yamlfile import DataError, Node, Problem, top_level_list
from knowledge.vocabulary import LANGS

#: The personal placeholders (no argument).
PERSONAL = ("country", "workshop", "deadline", "next_step", "progress", "peers")
#: What ``{event:ID:FIELD}`` may show (nothing = the dates).
EVENT_FIELDS = ("dates", "place")
#: The calendar event of each inception workshop of countries.yaml. The pilot countries'
#: workshop was held alongside CRIC 15 in Nairobi (seed para. 22; countries.yaml).
WORKSHOP_EVENTS = {"konya": "ws-konya", "batumi": "ws-batumi", "bangkok": "ws-bangkok",
                   "buenos_aires": "ws-buenos-aires", "pilots": "cric-15"}
REPORTING_EVENT = "reporting-2018"

_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}\n]*)\}")
_NAME = re.compile(r"^([a-z_]+)(?::([a-z0-9-]+))?(?::([a-z]+))?$")


@dataclass(frozen=True)
class Placeholder:
    name: str
    event: str | None = None
    field: str = "dates"

    def __str__(self) -> str:
        if self.name != "event":
            return "{" + self.name + "}"
        return "{event:" + f"{self.event}" + ("" if self.field == "dates" else f":{self.field}") + "}"


def parse(body: str) -> Placeholder | str:
    """The placeholder inside one pair of braces, or what is wrong with it."""
    m = _NAME.match(body.strip())
    if not m:
        return f"{{{body}}} is not a placeholder (use {', '.join('{' + n + '}' for n in PERSONAL)} or {{event:ID}})"
    name, event, fld = m.groups()
    if name == "event":
        if not event:
            return "{event:ID} needs an event id"
        if fld and fld not in EVENT_FIELDS:
            return f"{{{body}}}: an event shows {' or '.join(EVENT_FIELDS)}"
        return Placeholder("event", event, fld or "dates")
    if name not in PERSONAL or event or fld:
        return f"unknown placeholder {{{body}}} (known: {', '.join('{' + n + '}' for n in PERSONAL)}, {{event:ID}})"
    return Placeholder(name)


def placeholders(text: str) -> list[Placeholder | str]:
    """Every placeholder of ``text`` in order (a string for each malformed one)."""
    return [parse(m.group(1)) for m in _TOKEN.finditer(text or "") if m.group(1) is not None]


def has_placeholders(text: str) -> bool:
    return "{" in (text or "") or "}" in (text or "")


def substitute(text: str, value: Callable[[Placeholder], str]) -> str:
    """``text`` with each placeholder replaced by ``value(placeholder)``; a malformed one is left as written."""
    def one(m: re.Match) -> str:
        if m.group(1) is None:
            return m.group(0)[0]
        found = parse(m.group(1))
        return m.group(0) if isinstance(found, str) else value(found)

    return _TOKEN.sub(one, text or "")


def check_text(text: str, event_ids: Iterable[str]) -> list[str]:
    """What is wrong with the placeholders of one answer (unknown names, unknown events)."""
    known = set(event_ids)
    out = []
    for found in placeholders(text):
        if isinstance(found, str):
            out.append(found)
        elif found.name == "event" and found.event not in known:
            out.append(f"{found} refers to an unknown event (knowledge/events.yaml has {', '.join(sorted(known))})")
    return out


# -- dates stated in answers -----------------------------------------------------------------

_MONTHS: dict[str, tuple[str, ...]] = {
    "en": ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november",
           "december"),
    "fr": ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre",
           "décembre"),
    "es": ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre",
           "diciembre"),
    "ru": ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября", "ноября",
           "декабря"),
    "ar": ("يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو", "أغسطس", "سبتمبر", "أكتوبر", "نوفمبر", "ديسمبر"),
    "ar_un": ("يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيه", "يوليه", "أغسطس", "سبتمبر", "أكتوبر", "نوفمبر", "ديسمبر"),
    "ar_levant": ("كانون الثاني", "شباط", "آذار", "نيسان", "أيار", "حزيران", "تموز", "آب", "أيلول", "تشرين الأول",
                  "تشرين الثاني", "كانون الأول"),
}
_MONTH_NUMBER: dict[str, int] = {}
for _names in _MONTHS.values():
    for _i, _name in enumerate(_names, 1):
        _MONTH_NUMBER[_name] = _i
for _std_names in (_MONTHS["ar"], _MONTHS["ar_un"]):
    for _i, (_lev, _std) in enumerate(zip(_MONTHS["ar_levant"], _std_names, strict=True), 1):
        _MONTH_NUMBER[f"{_lev}/{_std}"] = _i
_MONTH_RE = "|".join(sorted((re.escape(n) for n in _MONTH_NUMBER), key=len, reverse=True))
_DASH = r"\s*[–—-]\s*"
_DAY_FIRST = re.compile(rf"(?<!\d)(\d{{1,2}})(?:{_DASH}(\d{{1,2}}))?\s+(?:de\s+)?({_MONTH_RE})\s+(?:de\s+)?(\d{{4}})", re.I)
_FROM_TO = re.compile(rf"\b(?:du|del|from|с|les|los días)\s+(\d{{1,2}})\s+(?:au|al|to|по|et|y)\s+(\d{{1,2}})\s+(?:de\s+)?({_MONTH_RE})\s+(?:de\s+)?(\d{{4}})",
                      re.I)
_MONTH_FIRST = re.compile(rf"\b({_MONTH_RE})\s+(\d{{1,2}})(?:{_DASH}(\d{{1,2}}))?,\s*(\d{{4}})", re.I)
_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_ZH = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日(?:\s*(?:至|到|–|-|—)\s*(\d{1,2})日)?")

#: Words that make a line with a full date about the 2018 reporting deadline, per language
#: (with "2018" in the line too).
DEADLINE_CUES = ("deadline", "due", "date limite", "échéance", "délai", "plazo", "fecha límite", "срок", "موعد", "截止", "期限")


@dataclass(frozen=True)
class StatedDate:
    start: dt.date
    end: dt.date
    span: tuple[int, int]


def stated_dates(text: str) -> list[StatedDate]:
    """Full dates (day, month, year) and day ranges written in ``text``, in any of the six languages."""
    found: list[StatedDate] = []

    def add(year: str, month: int, first: str, last: str | None, span: tuple[int, int]) -> None:
        try:
            start = dt.date(int(year), month, int(first))
            end = dt.date(int(year), month, int(last)) if last else start
        except ValueError:
            return
        if not any(s.span[0] <= span[0] < s.span[1] for s in found):
            found.append(StatedDate(start, end, span))

    for m in _FROM_TO.finditer(text):
        add(m.group(4), _MONTH_NUMBER[m.group(3).lower()], m.group(1), m.group(2), m.span())
    for m in _DAY_FIRST.finditer(text):
        add(m.group(4), _MONTH_NUMBER[m.group(3).lower()], m.group(1), m.group(2), m.span())
    for m in _MONTH_FIRST.finditer(text):
        add(m.group(4), _MONTH_NUMBER[m.group(1).lower()], m.group(2), m.group(3), m.span())
    for m in _ISO.finditer(text):
        add(m.group(1), int(m.group(2)), m.group(3), None, m.span())
    for m in _ZH.finditer(text):
        add(m.group(1), int(m.group(2)), m.group(3), m.group(4), m.span())
    return sorted(found, key=lambda s: s.span)


def _city(place: str, countries: Iterable[str] = ()) -> str:
    """``Konya, Turkey`` -> ``konya``; ``土耳其科尼亚`` -> ``科尼亚`` (the country's name taken off)."""
    city = re.split(r"[,(،]", place)[0].strip()
    for name in countries:
        if name and city.startswith(name) and len(city) > len(name):
            return city[len(name):].strip()
    return city


@functools.lru_cache(maxsize=8)
def _country_names(lang: str) -> list[str]:
    try:
        return sorted((c.name(lang) for c in load_countries()), key=len, reverse=True)
    except DataError:
        return []


def event_cues(events: EventSet) -> dict[str, set[str]]:
    """The words that say a sentence is about an event: its place's city in each language (and
    for the 2018 reporting deadline, words for the reports together with 2018)."""
    cues: dict[str, set[str]] = {}
    names = {lang: _country_names(lang) for lang in LANGS}
    for event in events:
        words = {_city(event.place_in(lang), names[lang]).lower() for lang in LANGS if event.place}
        words |= {w[:-1] for w in words if len(w) >= 5 and " " not in w}  # inflected: в Конье, в Бангкоке
        words.discard("")
        if words:
            cues[event.id] = words
    return cues


def _concerns(line: str, event_id: str, cues: dict[str, set[str]]) -> bool:
    low = line.lower()
    if event_id == REPORTING_EVENT:
        return "2018" in low and any(cue in low for cue in DEADLINE_CUES)
    return any(cue in low for cue in cues.get(event_id, ()))


def date_problems(text: str, events: EventSet, cues: dict[str, set[str]] | None = None) -> list[tuple[int, str]]:
    """(line offset in ``text``, what is wrong) for each date a line states about a calendar
    event that the calendar contradicts. A line about several events may state any of their dates.
    ``cues``: :func:`event_cues` of ``events``, when checking many answers."""
    cues = event_cues(events) if cues is None else cues
    out = []
    for offset, line in enumerate((text or "").splitlines()):
        dates = stated_dates(line)
        if not dates:
            continue
        about = [e for e in events if e.active and _concerns(line, e.id, cues)]
        if not about:
            continue
        for stated in dates:
            if any(e.start.date() <= stated.start and stated.end <= e.end.date() for e in about):
                continue
            names = ", ".join(f"{e.id} {e.start.date().isoformat()}" + ("" if e.end.date() == e.start.date()
                                                                         else f"..{e.end.date().isoformat()}") for e in about)
            written = line[stated.span[0]:stated.span[1]]
            out.append((offset, f"the answer states {written!r}, the calendar says {names}: write {{event:{about[0].id}}} instead"))
    return out


# -- ldn-bot check ---------------------------------------------------------------------------------

def _answer_line(path: Path, lines: list[str], item: Node, lang: str) -> int:
    """The line of the first line of an entry's answer in ``lang`` (after ``a: |``, the next one)."""
    texts = item.get(lang)
    if not isinstance(texts, Node):
        return item.line
    line = texts.line_of("a")
    raw = lines[line - 1].rstrip() if 0 < line <= len(lines) else ""
    return line + 1 if raw.endswith(("|", "|-", ">", ">-", "|+")) else line


def check_faq_dir(path: Path | str, events_path: Path | str | None = None) -> list[str]:
    """Check every answer's placeholders and stated dates against the calendar; return the ids of
    the entries checked, or raise DataError with every problem as ``file:line: what``."""
    path = Path(path)
    events_file = Path(events_path) if events_path is not None else (path.parent / "events.yaml")
    events = load_events(events_file if events_file.exists() else EVENTS_PATH)
    ids = [e.id for e in events]
    cues = event_cues(events)
    problems: list[Problem] = []
    checked: list[str] = []
    for file in sorted(path.glob("*.yaml")):
        lines = file.read_text(encoding="utf-8").splitlines()
        try:
            items = top_level_list(file, "entries")
        except DataError:
            continue  # the FAQ loader reports it
        for item in items:
            if not isinstance(item, Node):
                continue
            checked.append(str(item.get("id")))
            for lang in LANGS:
                texts = item.get(lang)
                answer = texts.get("a") if isinstance(texts, dict) else None
                if not isinstance(answer, str):
                    continue
                first = _answer_line(file, lines, item, lang)
                for message in check_text(answer, ids):
                    problems.append(Problem(str(file), first, f"{item.get('id')} ({lang}): {message}"))
                for offset, message in date_problems(answer, events, cues):
                    problems.append(Problem(str(file), first + offset, f"{item.get('id')} ({lang}): {message}"))
    if problems:
        raise DataError(problems)
    return checked


# -- how a date reads ------------------------------------------------------------------------------

_BABEL_LOCALE = {"en": "en_GB"}


def format_dates(start: dt.date, end: dt.date | None, lang: str) -> str:
    """A day or a range of days as people write it in ``lang`` (``28–30 May 2016``, ``2016年5月28日至30日``)."""
    end = end or start
    if lang == "zh":
        head = f"{start.year}年{start.month}月{start.day}日"
        if end == start:
            return head
        if (end.year, end.month) == (start.year, start.month):
            return f"{head}至{end.day}日"
        return f"{head}至{'' if end.year == start.year else f'{end.year}年'}{end.month}月{end.day}日"
    locale = _BABEL_LOCALE.get(lang, lang)
    if end == start:
        return format_date(start, "long", locale=locale)
    if (end.year, end.month) == (start.year, start.month):  # every other language writes the day first
        return f"{start.day}–{format_date(end, 'long', locale=locale)}"
    text = format_interval(start, end, "yMMMMd", locale=locale)
    return re.sub(r"(\d)\s*[–—]\s*(\d)", r"\1–\2", text)
