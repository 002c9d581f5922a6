"""The milestone checklist template (``knowledge/checklist.yaml``): the national steps of the
LDN Target Setting Programme, each with its phase, a default due date and a title and help
text in the six UN languages.

:func:`load_checklist` validates the file and reports every problem as ``file:line: what``.
The template only describes the steps; each country's progress lives in the database
(keyed by the step id), so steps can be added to the template later without losing
anything recorded.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from knowledge.yamlfile import DataError, Node, Problem, top_level_list
from knowledge.vocabulary import LANGS

DEFAULT_PATH = Path(__file__).resolve().parent / "checklist.yaml"

# The programme's phases (seed ICCD/CRIC(15)/2 para. 13; reporting from decision 15/COP.12).
PHASES: dict[str, tuple[dt.date, dt.date]] = {
    "inception": (dt.date(2015, 11, 1), dt.date(2016, 7, 31)),
    "implementation": (dt.date(2016, 7, 1), dt.date(2017, 6, 30)),
    "consolidation": (dt.date(2017, 7, 1), dt.date(2017, 12, 31)),
    "reporting": (dt.date(2018, 1, 1), dt.date(2018, 12, 31)),
}
STEP_KEYS = ("id", "order", "phase", "due", "title", "help")
# Step ids travel in callback data (``v1:ms:set:KEN:<id>:not_applicable`` must stay <= 64 bytes).
MAX_ID_LENGTH = 24
_ID = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Step:
    id: str
    order: int
    phase: str
    due: dt.date
    title: dict = field(compare=False)
    help: dict = field(compare=False)

    def title_in(self, lang: str) -> str:
        return self.title.get(lang) or self.title["en"]

    def help_in(self, lang: str) -> str:
        return self.help.get(lang) or self.help["en"]


class Template:
    """The ordered steps of the checklist."""

    def __init__(self, steps: list[Step]):
        self.steps = sorted(steps, key=lambda s: s.order)
        self._by_id = {s.id: s for s in self.steps}

    def __len__(self) -> int:
        return len(self.steps)

    def __iter__(self) -> Iterator[Step]:
        return iter(self.steps)

    def __contains__(self, step_id: object) -> bool:
        return step_id in self._by_id

    def get(self, step_id: str | None) -> Step | None:
        return self._by_id.get((step_id or "").strip())

    @property
    def ids(self) -> list[str]:
        return [s.id for s in self.steps]

    def by_order(self, order: int) -> Step | None:
        for step in self.steps:
            if step.order == order:
                return step
        return None

    def with_due(self, overrides: dict[str, dt.date]) -> "Template":
        """A copy whose default due dates are replaced for the given steps (configuration)."""
        steps = [Step(s.id, s.order, s.phase, overrides.get(s.id, s.due), s.title, s.help) for s in self.steps]
        return Template(steps)


def _check_id(sid, at, f: str, seen_ids: dict[str, int], problems: list[Problem]) -> str:
    if not isinstance(sid, str) or not _ID.match(sid):
        problems.append(Problem(f, at("id"), f"step id {sid!r} must be lower-case letters, digits and _ (starting with a letter)"))
        return str(sid)
    if len(sid) > MAX_ID_LENGTH:
        problems.append(Problem(f, at("id"), f"step id {sid!r} is longer than {MAX_ID_LENGTH} characters"))
    elif sid in seen_ids:
        problems.append(Problem(f, at("id"), f"duplicate step id {sid!r} (first at line {seen_ids[sid]})"))
    else:
        seen_ids[sid] = at("id")
    return sid


def _check_order(order, sid: str, at, f: str, seen_orders: dict[int, int], problems: list[Problem]) -> None:
    if not isinstance(order, int) or isinstance(order, bool) or order < 1:
        problems.append(Problem(f, at("order"), f"{sid}: order must be a positive whole number"))
    elif order in seen_orders:
        problems.append(Problem(f, at("order"), f"{sid}: order {order} is already used at line {seen_orders[order]}"))
    else:
        seen_orders[order] = at("order")


def _check_phase_and_due(phase, raw_due, sid: str, at, f: str, problems: list[Problem]):
    if phase not in PHASES:
        problems.append(Problem(f, at("phase"), f"{sid}: phase must be one of {', '.join(PHASES)}"))
    due = parse_date(raw_due)
    if due is None:
        problems.append(Problem(f, at("due"), f"{sid}: due must be a date (YYYY-MM-DD)"))
    elif phase in PHASES:
        start, end = PHASES[phase]
        if not start <= due <= end:
            problems.append(Problem(f, at("due"), f"{sid}: due {due} is outside the {phase} phase ({start} to {end})"))
    return due


def parse_date(value: object) -> dt.date | None:
    """A YAML date or an ISO ``YYYY-MM-DD`` string; None if it is neither."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _texts(item: dict, key: str, sid: str, f: str, problems: list[Problem]) -> dict | None:
    value = item.get(key)
    line = item.line_of(key) if isinstance(item, Node) else 1
    if not isinstance(value, dict):
        problems.append(Problem(f, line, f"{sid}: {key} must be a mapping of the six languages"))
        return None
    missing = [lang for lang in LANGS if not str(value.get(lang) or "").strip()]
    if missing:
        problems.append(Problem(f, line, f"{sid}: {key} missing language(s) {', '.join(missing)}"))
        return None
    extra = [str(k) for k in value if k not in LANGS]
    if extra:
        problems.append(Problem(f, line, f"{sid}: {key} has unknown language(s) {', '.join(extra)}"))
        return None
    return {lang: value[lang].strip() for lang in LANGS}


def load_checklist(path: Path | str = DEFAULT_PATH) -> Template:
    """Load and validate the checklist template; raise DataError listing every problem."""
    path = Path(path)
    f = str(path)
    items = top_level_list(path, "steps")
    if not items:
        raise DataError([Problem(f, 1, "the 'steps:' list needs at least one step")])
    problems: list[Problem] = []
    steps: list[Step] = []
    seen_ids: dict[str, int] = {}
    seen_orders: dict[int, int] = {}
    for item in items:
        line = item.line if isinstance(item, Node) else 1
        if not isinstance(item, dict):
            problems.append(Problem(f, line, "each step must be a mapping (id, order, phase, due, title, help)"))
            continue

        def at(key: str, item=item, line=line) -> int:
            return item.line_of(key) if isinstance(item, Node) else line

        before = len(problems)
        sid = _check_id(item.get("id"), at, f, seen_ids, problems)
        for key in item:
            if key not in STEP_KEYS:
                problems.append(Problem(f, at(key), f"{sid}: unknown key {key!r} (expected {', '.join(STEP_KEYS)})"))
        order = item.get("order")
        _check_order(order, sid, at, f, seen_orders, problems)
        phase = item.get("phase")
        due = _check_phase_and_due(phase, item.get("due"), sid, at, f, problems)
        title = _texts(item, "title", sid, f, problems)
        help_ = _texts(item, "help", sid, f, problems)
        if len(problems) == before and isinstance(order, int) and due is not None and title is not None and help_ is not None:
            steps.append(Step(sid, order, str(phase), due, title, help_))
    if problems:
        raise DataError(problems)
    return Template(steps)
