"""The helpdesk's rules as plain Python: settings, the lifecycle's transitions, the SLA clock,
what the periodic job must do, and the queue's filters. No database, no Telegram; ``now`` is
always passed in.

Lifecycle::

    new ──first expert reply──▶ open ──expert: Pending──▶ pending ──asker writes──▶ open
     │                           │                          │ (nudged after N days,
     └──────────── Resolve ──────┴──────── Resolve ─────────┤  auto-resolved after M)
                                                            ▼
                          asker writes ◀── resolved ──(after close_after_days)──▶ closed

The SLA clock runs from creation and is paused while a query is pending (waiting on
the focal point) or resolved; targets per priority come from ``helpdesk.sla``.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Callable, Iterable

from knowledge import durations
from knowledge.isotime import parse_instant
from knowledge.vocabulary import (ACTIVE_STATES, FOLLOWABLE_STATES, LANGS, QUERY_STATES, UNANSWERED_STATES, Priority,
                                  QueryState)

STATES = QUERY_STATES
ACTIVE = ACTIVE_STATES
FOLLOWABLE = FOLLOWABLE_STATES
PRIORITIES = tuple(p.value for p in Priority)
#: The one-letter state a button was drawn for (in its callback data: a stale button does nothing).
STATE_CODES = {QueryState.NEW: "n", QueryState.OPEN: "o", QueryState.PENDING: "p", QueryState.RESOLVED: "r",
               QueryState.CLOSED: "c"}
CODE_STATES = {v: k for k, v in STATE_CODES.items()}
#: Queries whose resolution is done (the SLA clock has stopped; /promote accepts them).
DONE_STATES: tuple[str, ...] = (QueryState.RESOLVED, QueryState.CLOSED)
#: Queries the periodic job looks at (SLA, nudges, auto-resolve, closing).
TICK_STATES: tuple[str, ...] = FOLLOWABLE_STATES
QUEUE_VIEWS = (*QUERY_STATES[:3], "overdue", "mine", *QUERY_STATES[3:], "all")
_S = QueryState
TRANSITIONS = {
    (_S.NEW, _S.PENDING), (_S.OPEN, _S.PENDING),
    (_S.NEW, _S.RESOLVED), (_S.OPEN, _S.RESOLVED), (_S.PENDING, _S.RESOLVED),
    (_S.PENDING, _S.OPEN), (_S.RESOLVED, _S.OPEN), (_S.PENDING, _S.NEW), (_S.RESOLVED, _S.NEW),
    (_S.RESOLVED, _S.CLOSED),
}
TAG_RE = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,23}$")
MAX_TAGS = 8

DEFAULT_SLA = {
    "urgent": {"first_response": "4h", "resolution": "2d"},
    "high": {"first_response": "1d", "resolution": "5d"},
    "normal": {"first_response": "2d", "resolution": "10d"},
    "low": {"first_response": "5d", "resolution": "20d"},
}
DEFAULTS: dict[str, Any] = {
    "expert_chat_is_forum": None,   # None: ask Telegram (getChat) once
    "expert_language": "en",        # language of what the bot posts in the experts' chat
    "nudge_after_days": 3,          # pending: remind the focal point after this long
    "auto_resolve_after_days": 7,   # pending: resolve automatically after this long
    "close_after_days": 7,          # resolved: closed (no longer reopened by a message) after this long
    "sla": DEFAULT_SLA,
    "sla_warning_before": "4h",     # warn the experts this long before a target (at most half the target)
    "tick_minutes": 10,             # how often the SLA / nudge / auto-resolve job runs
    "max_question_chars": 3000,     # a longer question is refused (attach a document instead)
    "queue_page_size": 8,
}

def parse_duration(value: Any, default_unit: str = "h") -> dt.timedelta:
    """A helpdesk setting's duration (``"4h"``, ``"2d"``, a bare number in ``default_unit``)."""
    return durations.parse_duration(value, default_unit, allow_zero=True)


@dataclass(frozen=True)
class Settings:
    expert_chat_id: int | None = None
    expert_chat_is_forum: bool | None = None
    expert_language: str = "en"
    nudge_after: dt.timedelta = dt.timedelta(days=3)
    auto_resolve_after: dt.timedelta = dt.timedelta(days=7)
    close_after: dt.timedelta = dt.timedelta(days=7)
    sla: dict = field(default_factory=dict)  # priority -> (first_response, resolution)
    sla_warning_before: dt.timedelta = dt.timedelta(hours=4)
    tick_interval: dt.timedelta = dt.timedelta(minutes=10)
    max_question_chars: int = 3000
    queue_page_size: int = 8

    def targets(self, priority: str) -> tuple[dt.timedelta, dt.timedelta]:
        return self.sla.get(priority) or self.sla["normal"]

    def warning_lead(self, target: dt.timedelta) -> dt.timedelta:
        return min(self.sla_warning_before, target / 2)


def settings_from(section: dict, expert_chat_id: int | None = None) -> Settings:
    """The ``helpdesk`` config section with defaults applied; raises ValueError on a bad value."""
    section = dict(section or {})
    raw = {**DEFAULTS, **{k: v for k, v in section.items() if v is not None}}
    sla_raw = {p: dict(DEFAULT_SLA[p]) for p in PRIORITIES}
    custom = section.get("sla") or {}
    if not isinstance(custom, dict):
        raise ValueError("helpdesk.sla must map priorities to {first_response, resolution}")
    for priority, targets in custom.items():
        if priority not in PRIORITIES or not isinstance(targets, dict):
            raise ValueError(f"helpdesk.sla.{priority}: expected one of {', '.join(PRIORITIES)} with first_response and resolution")
        sla_raw[priority].update(targets)
    sla = {p: (parse_duration(v["first_response"]), parse_duration(v["resolution"])) for p, v in sla_raw.items()}
    forum = raw.get("expert_chat_is_forum")
    lang = str(raw.get("expert_language") or "en")
    return Settings(
        expert_chat_id=expert_chat_id,
        expert_chat_is_forum=None if forum is None else bool(forum),
        expert_language=lang if lang in LANGS else "en",
        nudge_after=parse_duration(raw["nudge_after_days"], "d"),
        auto_resolve_after=parse_duration(raw["auto_resolve_after_days"], "d"),
        close_after=parse_duration(raw["close_after_days"], "d"),
        sla=sla,
        sla_warning_before=parse_duration(raw["sla_warning_before"]),
        tick_interval=parse_duration(raw["tick_minutes"], "m"),
        max_question_chars=int(raw["max_question_chars"]),
        queue_page_size=max(1, min(20, int(raw["queue_page_size"]))),
    )


def normalise_tag(text: str) -> str | None:
    tag = (text or "").strip().lower().lstrip("#")
    return tag if TAG_RE.match(tag) else None


def snippet(text: str, limit: int = 60) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


# -- the SLA clock -------------------------------------------------------------------------


def stored_at(value: str) -> dt.datetime:
    """A stored timestamp the caller knows is set (``created_at``, or one it checked)."""
    instant = parse_instant(value)
    if instant is None:
        raise ValueError("empty timestamp")
    return instant


def paused(query: dict, now: dt.datetime) -> dt.timedelta:
    """Time the SLA clock stood still: past pauses plus the current pending period."""
    total = dt.timedelta(seconds=query.get("paused_seconds") or 0)
    if query["state"] == QueryState.PENDING and query.get("pending_since"):
        total += now - stored_at(query["pending_since"])
    return total


def sla_elapsed(query: dict, now: dt.datetime) -> dt.timedelta:
    """Time the query has been waiting on the experts (pending and resolved periods excluded)."""
    if query["state"] in DONE_STATES and query.get("resolved_at"):
        end, pause = stored_at(query["resolved_at"]), dt.timedelta(seconds=query.get("paused_seconds") or 0)
    else:
        end, pause = now, paused(query, now)
    return max(dt.timedelta(0), end - stored_at(query["created_at"]) - pause)


def first_response_time(query: dict) -> dt.timedelta | None:
    if not query.get("first_response_at"):
        return None
    return stored_at(query["first_response_at"]) - stored_at(query["created_at"])


def resolution_time(query: dict) -> dt.timedelta | None:
    if query["state"] not in DONE_STATES or not query.get("resolved_at"):
        return None
    return max(dt.timedelta(0), stored_at(query["resolved_at"]) - stored_at(query["created_at"]) - dt.timedelta(seconds=query.get("paused_seconds") or 0))


class TickAction(StrEnum):
    """What the periodic job may have to do for a query."""

    WARN = "warn"                  # an SLA target is near
    BREACH = "breach"              # an SLA target has passed
    NUDGE = "nudge"                # remind the asker of a pending query
    AUTO_RESOLVE = "auto_resolve"  # a pending query waited too long
    CLOSE = "close"                # a resolved query is closed for good


class SlaTarget(StrEnum):
    FIRST_RESPONSE = "first_response"
    RESOLUTION = "resolution"


@dataclass(frozen=True)
class Action:
    """Something the periodic job must do for a query (decided here, done by the tick)."""

    kind: TickAction
    query_id: int
    target: SlaTarget | None = None
    due_at: dt.datetime | None = None


def sla_actions(query: dict, now: dt.datetime, settings: Settings) -> list[Action]:
    """Warnings and breaches due for one query whose SLA clock is running (new or open)."""
    if query["state"] not in UNANSWERED_STATES:
        return []
    first, resolution = settings.targets(query["priority"])
    elapsed = sla_elapsed(query, now)
    out: list[Action] = []
    checks = []
    if not query.get("first_response_at"):
        checks.append((SlaTarget.FIRST_RESPONSE, first, "warned_first", "breached_first"))
    checks.append((SlaTarget.RESOLUTION, resolution, "warned_resolution", "breached_resolution"))
    for target, limit, warned, breached in checks:
        due_at = now + (limit - elapsed)
        if elapsed >= limit:
            if not query.get(breached):
                out.append(Action(TickAction.BREACH, query["id"], target, due_at))
        elif elapsed >= limit - settings.warning_lead(limit) and not query.get(warned) and not query.get(breached):
            out.append(Action(TickAction.WARN, query["id"], target, due_at))
    return out


def tick_actions(queries: Iterable[dict], now: dt.datetime, settings: Settings) -> list[Action]:
    """Everything the periodic job must do now, for queries in new/open/pending/resolved."""
    out: list[Action] = []
    for q in queries:
        if q["state"] in UNANSWERED_STATES:
            out.extend(sla_actions(q, now, settings))
        elif q["state"] == QueryState.PENDING and q.get("pending_since"):
            waited = now - stored_at(q["pending_since"])
            if waited >= settings.auto_resolve_after:
                out.append(Action(TickAction.AUTO_RESOLVE, q["id"]))
            elif waited >= settings.nudge_after and not q.get("nudged_at"):
                out.append(Action(TickAction.NUDGE, q["id"]))
        elif q["state"] == QueryState.RESOLVED and q.get("resolved_at"):
            if now - stored_at(q["resolved_at"]) >= settings.close_after:
                out.append(Action(TickAction.CLOSE, q["id"]))
    return out



# -- the queue -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueFilter:
    view: str = "active"          # active | new | open | pending | overdue | mine | resolved | closed | all
    country: str | None = None
    tag: str | None = None

    def encode(self) -> str:
        return f"{self.view}:{self.country or '-'}:{self.tag or '-'}"

    @classmethod
    def decode(cls, parts: list[str]) -> "QueueFilter | None":
        if len(parts) != 3:
            return None
        view, country, tag = parts
        if view not in QUEUE_VIEWS and view != "active":
            return None
        if country != "-" and not (len(country) == 3 and country.isalpha() and country.isupper()):
            return None
        if tag != "-" and normalise_tag(tag) != tag:
            return None
        return cls(view, None if country == "-" else country, None if tag == "-" else tag)

    def query_args(self, user_id: int) -> dict:
        args: dict[str, Any] = {"country": self.country, "tag": self.tag}
        if self.view in QUERY_STATES:
            args["states"] = [self.view]
        elif self.view == "all":
            args["states"] = None
        else:
            args["states"] = list(ACTIVE)
        if self.view == "overdue":
            args["overdue"] = True
        if self.view == "mine":
            args["assignee_id"] = user_id
        return args


def parse_queue_args(args: Iterable[str], country_of: Callable[[str], str | None]) -> tuple[QueueFilter | None, str | None]:
    """``/queue [view] [ISO3] [tag]`` in any order → (filter, None) or (None, the word not understood)."""
    view, country, tag = "active", None, None
    for word in args:
        low = word.strip().lower()
        if not low:
            continue
        if low in QUEUE_VIEWS and view == "active":
            view = low
            continue
        iso = country_of(word) if len(word.strip()) == 3 else None
        if iso and country is None:
            country = iso
            continue
        norm = normalise_tag(low)
        if norm and tag is None:
            tag = norm
            continue
        return None, word[:24]
    return QueueFilter(view, country, tag), None


