"""The helpdesk's rules as plain Python: query lifecycle, SLA, statistics and export.

No Telegram objects here; ``now`` is always passed in. Functions that change the
database take the sqlite-utils ``Database`` first (they run on the store's thread via
``services.store.run``) and make each change in one transaction, with its audit
event, *before* anything is said to anybody.

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

import csv
import datetime as dt
import io
import re
import statistics
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from bot.csvcell import guard_cell
from knowledge import durations
from knowledge.vocabulary import ACTIVE_STATES, FOLLOWABLE_STATES, QUERY_STATES, Priority
from storage import helpdesk as store
from storage.db import parse_iso, transaction, utcnow_iso

STATES = QUERY_STATES
ACTIVE = ACTIVE_STATES
FOLLOWABLE = FOLLOWABLE_STATES
PRIORITIES = tuple(p.value for p in Priority)
STATE_CODES = {"new": "n", "open": "o", "pending": "p", "resolved": "r", "closed": "c"}
CODE_STATES = {v: k for k, v in STATE_CODES.items()}
QUEUE_VIEWS = ("new", "open", "pending", "overdue", "mine", "resolved", "closed", "all")
TRANSITIONS = {
    ("new", "pending"), ("open", "pending"),
    ("new", "resolved"), ("open", "resolved"), ("pending", "resolved"),
    ("pending", "open"), ("resolved", "open"), ("pending", "new"), ("resolved", "new"),
    ("resolved", "closed"),
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
        expert_language=lang if lang in ("en", "fr", "es", "ru", "ar", "zh") else "en",
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


def _ts(value: str | None) -> dt.datetime | None:
    return parse_iso(value)


def paused(query: dict, now: dt.datetime) -> dt.timedelta:
    """Time the SLA clock stood still: past pauses plus the current pending period."""
    total = dt.timedelta(seconds=query.get("paused_seconds") or 0)
    if query["state"] == "pending" and query.get("pending_since"):
        total += now - _ts(query["pending_since"])
    return total


def sla_elapsed(query: dict, now: dt.datetime) -> dt.timedelta:
    """Time the query has been waiting on the experts (pending and resolved periods excluded)."""
    if query["state"] in ("resolved", "closed") and query.get("resolved_at"):
        end, pause = _ts(query["resolved_at"]), dt.timedelta(seconds=query.get("paused_seconds") or 0)
    else:
        end, pause = now, paused(query, now)
    return max(dt.timedelta(0), end - _ts(query["created_at"]) - pause)


def first_response_time(query: dict) -> dt.timedelta | None:
    if not query.get("first_response_at"):
        return None
    return _ts(query["first_response_at"]) - _ts(query["created_at"])


def resolution_time(query: dict) -> dt.timedelta | None:
    if query["state"] not in ("resolved", "closed") or not query.get("resolved_at"):
        return None
    return max(dt.timedelta(0), _ts(query["resolved_at"]) - _ts(query["created_at"]) - dt.timedelta(seconds=query.get("paused_seconds") or 0))


@dataclass(frozen=True)
class Action:
    """Something the periodic job must do for a query (decided here, done by the handlers)."""

    kind: str          # warn | breach | nudge | auto_resolve | close
    query_id: int
    target: str | None = None   # first_response | resolution
    due_at: dt.datetime | None = None


def sla_actions(query: dict, now: dt.datetime, settings: Settings) -> list[Action]:
    """Warnings and breaches due for one query whose SLA clock is running (new or open)."""
    if query["state"] not in ("new", "open"):
        return []
    first, resolution = settings.targets(query["priority"])
    elapsed = sla_elapsed(query, now)
    out: list[Action] = []
    checks = []
    if not query.get("first_response_at"):
        checks.append(("first_response", first, "warned_first", "breached_first"))
    checks.append(("resolution", resolution, "warned_resolution", "breached_resolution"))
    for target, limit, warned, breached in checks:
        due_at = now + (limit - elapsed)
        if elapsed >= limit:
            if not query.get(breached):
                out.append(Action("breach", query["id"], target, due_at))
        elif elapsed >= limit - settings.warning_lead(limit) and not query.get(warned) and not query.get(breached):
            out.append(Action("warn", query["id"], target, due_at))
    return out


def tick_actions(queries: Iterable[dict], now: dt.datetime, settings: Settings) -> list[Action]:
    """Everything the periodic job must do now, for queries in new/open/pending/resolved."""
    out: list[Action] = []
    for q in queries:
        if q["state"] in ("new", "open"):
            out.extend(sla_actions(q, now, settings))
        elif q["state"] == "pending" and q.get("pending_since"):
            waited = now - _ts(q["pending_since"])
            if waited >= settings.auto_resolve_after:
                out.append(Action("auto_resolve", q["id"]))
            elif waited >= settings.nudge_after and not q.get("nudged_at"):
                out.append(Action("nudge", q["id"]))
        elif q["state"] == "resolved" and q.get("resolved_at"):
            if now - _ts(q["resolved_at"]) >= settings.close_after:
                out.append(Action("close", q["id"]))
    return out


# -- changes (each in one transaction, with its audit event) -------------------------------


@dataclass
class Change:
    ok: bool
    reason: str = ""            # stale | not_found | not_allowed | same | closed | invalid
    query: dict | None = None
    before: Any = None
    after: Any = None


def create_query(db, *, asker_id: int, country: str | None, lang: str, text: str, source: str,
                 candidates: Iterable[str] = (), attachments: Iterable[dict] = (),
                 asker_message: tuple[int, int] | None = None, now: dt.datetime) -> int:
    """Store a new query with its attachments and the 'created' event; commit; return its number."""
    with transaction(db):
        qid = store.insert_query(db, asker_id=asker_id, country=country, lang=lang, text=text, source=source,
                                 candidates=list(dict.fromkeys(candidates)), now=now)
        store.add_event(db, qid, now, asker_id, "created", None, "new", detail=source)
        if asker_message is not None:
            store.add_message(db, qid, chat_id=asker_message[0], message_id=asker_message[1], role="asker",
                              author_id=asker_id, kind="text", text=text, now=now)
        for item in attachments:
            _attach(db, qid, item, asker_id, now)
    return qid


def _attach(db, qid: int, item: dict, author_id: int | None, now: dt.datetime) -> None:
    new = store.add_attachment(db, qid, chat_id=item["chat_id"], message_id=item["message_id"], kind=item["kind"],
                               file_id=item["file_id"], file_unique_id=item.get("file_unique_id"),
                               file_name=item.get("file_name"), mime_type=item.get("mime_type"),
                               file_size=item.get("file_size"), author_id=author_id, now=now)
    if new:
        store.add_event(db, qid, now, author_id, "attachment", None, item["kind"], detail=item.get("file_name"))


def record_ack(db, qid: int, chat_id: int, message_id: int, now: dt.datetime) -> None:
    with transaction(db):
        store.add_message(db, qid, chat_id=chat_id, message_id=message_id, role="ack", now=now)
        store.set_ack_message(db, qid, message_id)


def _state_fields(query: dict, to: str, now: dt.datetime) -> dict:
    """Column changes of a state transition (SLA pause bookkeeping)."""
    fields: dict[str, Any] = {"state": to}
    frm = query["state"]
    extra = 0.0
    if frm == "pending" and query.get("pending_since"):
        extra += (now - _ts(query["pending_since"])).total_seconds()
        fields["pending_since"] = None
    if frm == "resolved" and to in ("open", "new") and query.get("resolved_at"):
        extra += (now - _ts(query["resolved_at"])).total_seconds()
        fields["resolved_at"] = None
    if extra:
        fields["paused_seconds"] = int((query.get("paused_seconds") or 0) + extra)
    if to == "pending":
        fields["pending_since"] = utcnow_iso(now)
        fields["nudged_at"] = None
    elif to == "resolved":
        fields["resolved_at"] = utcnow_iso(now)
    elif to == "closed":
        fields["closed_at"] = utcnow_iso(now)
    return fields


def reopen_state(query: dict) -> str:
    return "open" if query.get("first_response_at") else "new"


def change_state(db, qid: int, to: str, actor_id: int | None, now: dt.datetime, *,
                 expect: str | None = None, detail: str | None = None) -> Change:
    """Move a query to state ``to``; ``expect`` is the state the caller saw (a stale button otherwise)."""
    with transaction(db):
        query = store.get_query(db, qid)
        if query is None:
            return Change(False, "not_found")
        frm = query["state"]
        if expect is not None and frm != expect:
            return Change(False, "stale", query, frm)
        if frm == to:
            return Change(False, "same", query, frm, to)
        if (frm, to) not in TRANSITIONS:
            return Change(False, "invalid", query, frm, to)
        store.update_query(db, qid, now, expect_state=frm, **_state_fields(query, to, now))
        store.add_event(db, qid, now, actor_id, "state", frm, to, detail=detail)
        return Change(True, "", store.get_query(db, qid), frm, to)


def _set_field(db, qid: int, column: str, event: str, value, actor_id: int | None, now: dt.datetime,
               expect: str | None) -> Change:
    """Change one triage field of an open query and record the event (who, when, from → to)."""
    with transaction(db):
        query = store.get_query(db, qid)
        if query is None:
            return Change(False, "not_found")
        if expect is not None and query["state"] != expect:
            return Change(False, "stale", query)
        if query["state"] == "closed":
            return Change(False, "closed", query)
        if query[column] == value:
            return Change(False, "same", query, value, value)
        store.update_query(db, qid, now, **{column: value})
        store.add_event(db, qid, now, actor_id, event, query[column], value)
        return Change(True, "", store.get_query(db, qid), query[column], value)


def set_priority(db, qid: int, level: str, actor_id: int | None, now: dt.datetime, *, expect: str | None = None) -> Change:
    if level not in PRIORITIES:
        return Change(False, "invalid")
    return _set_field(db, qid, "priority", "priority", level, actor_id, now, expect)


def assign(db, qid: int, assignee_id: int | None, actor_id: int | None, now: dt.datetime, *, expect: str | None = None) -> Change:
    return _set_field(db, qid, "assignee_id", "assign", assignee_id, actor_id, now, expect)


def retag(db, qid: int, add: Iterable[str], remove: Iterable[str], actor_id: int | None, now: dt.datetime) -> Change:
    with transaction(db):
        query = store.get_query(db, qid)
        if query is None:
            return Change(False, "not_found")
        before = list(query["tags"])
        for tag in remove:
            if store.remove_tag(db, qid, tag):
                store.add_event(db, qid, now, actor_id, "untag", tag, None)
        for tag in add:
            if len(store.tags_of(db, qid)) >= MAX_TAGS:
                break
            if store.add_tag(db, qid, tag):
                store.add_event(db, qid, now, actor_id, "tag", None, tag)
        after = store.tags_of(db, qid)
        if after != before:
            store.update_query(db, qid, now)
        return Change(after != before, "" if after != before else "same", store.get_query(db, qid), before, after)


@dataclass
class Followup:
    added: bool
    query: dict | None
    reopened_from: str | None = None
    reason: str = ""


def add_followup(db, qid: int, asker_id: int, *, chat_id: int, message_id: int, kind: str, text: str | None,
                 attachment: dict | None, now: dt.datetime) -> Followup:
    """The asker's message continues query ``qid``; a pending or resolved query reopens."""
    with transaction(db):
        query = store.get_query(db, qid)
        if query is None or query["asker_id"] != asker_id:
            return Followup(False, None, reason="not_found")
        if query["state"] not in FOLLOWABLE:
            return Followup(False, query, reason="closed")
        if not store.add_message(db, qid, chat_id=chat_id, message_id=message_id, role="asker", author_id=asker_id,
                                 kind=kind, text=text, delivery_status="pending", now=now):
            return Followup(False, query, reason="duplicate")
        if attachment:
            _attach(db, qid, attachment, asker_id, now)
        store.add_event(db, qid, now, asker_id, "followup", None, None, detail=kind)
        reopened = None
        if query["state"] in ("pending", "resolved"):
            to = reopen_state(query)
            store.update_query(db, qid, now, **_state_fields(query, to, now))
            store.add_event(db, qid, now, asker_id, "state", query["state"], to, detail="asker wrote")
            reopened = query["state"]
        else:
            store.update_query(db, qid, now)
        return Followup(True, store.get_query(db, qid), reopened)


@dataclass
class Reply:
    recorded: bool
    query: dict | None
    opened: bool = False
    reason: str = ""


def record_expert_reply(db, qid: int, expert_id: int, *, chat_id: int, message_id: int, kind: str, text: str | None,
                        attachment: dict | None, now: dt.datetime) -> Reply:
    """Store an expert's reply (before it is relayed); the first one opens the query."""
    with transaction(db):
        query = store.get_query(db, qid)
        if query is None:
            return Reply(False, None, reason="not_found")
        if query["state"] == "closed":
            return Reply(False, query, reason="closed")
        if not store.add_message(db, qid, chat_id=chat_id, message_id=message_id, role="expert", author_id=expert_id,
                                 kind=kind, text=text, delivery_status="pending", now=now):
            return Reply(False, query, reason="duplicate")
        if attachment:
            _attach(db, qid, attachment, expert_id, now)
        store.add_event(db, qid, now, expert_id, "reply", None, None, detail=kind)
        fields: dict[str, Any] = {}
        if not query.get("first_response_at"):
            fields.update(first_response_at=utcnow_iso(now), first_response_by=expert_id)
        opened = query["state"] == "new"
        if opened:
            fields.update(_state_fields(query, "open", now))
            store.add_event(db, qid, now, expert_id, "state", "new", "open", detail="first reply")
        if query.get("assignee_id") is None:
            fields["assignee_id"] = expert_id
            store.add_event(db, qid, now, expert_id, "assign", None, expert_id, detail="first reply")
        store.update_query(db, qid, now, **fields)
        return Reply(True, store.get_query(db, qid), opened)


def record_delivery(db, qid: int, *, chat_id: int, message_id: int, status: str, now: dt.datetime,
                    asker_chat: int | None = None, copy_id: int | None = None, error: str | None = None) -> None:
    """After relaying an expert's message: its status, the copy in the asker's chat, an event if it failed."""
    with transaction(db):
        store.set_delivery_status(db, chat_id, message_id, status)
        if status == "sent" and copy_id and asker_chat is not None:
            store.add_message(db, qid, chat_id=asker_chat, message_id=copy_id, role="answer", now=now)
        if status in ("blocked", "failed"):
            store.add_event(db, qid, now, None, f"delivery_{status}", None, None, detail=(error or "")[:200])


def record_relay(db, qid: int, *, chat_id: int, message_id: int, role: str, now: dt.datetime, text: str | None = None) -> None:
    """A message the bot posted in the experts' chat for this query (so replies to it route here)."""
    store.add_message(db, qid, chat_id=chat_id, message_id=message_id, role=role, text=text, now=now)


def mark_flag(db, qid: int, flag: str, now: dt.datetime, event: str, detail: str | None = None) -> bool:
    """Set one SLA/nudge flag once; True if this call set it (then, and only then, tell someone)."""
    with transaction(db):
        if not store.set_flag_once(db, qid, flag, now):
            return False
        store.add_event(db, qid, now, None, event, None, None, detail=detail)
        return True


# -- ratings -----------------------------------------------------------------------------------


def rate(db, qid: int, user_id: int, score: int, now: dt.datetime) -> str:
    """``ok``, ``already`` (a second press changes nothing), ``not_asked``, ``not_yours`` or ``invalid``."""
    if not 1 <= score <= 5:
        return "invalid"
    with transaction(db):
        query = store.get_query(db, qid)
        rating = store.get_rating(db, qid)
        if query is None or rating is None:
            return "not_asked"
        if query["asker_id"] != user_id:
            return "not_yours"
        if not store.set_score(db, qid, score, now):
            return "already"
        store.add_event(db, qid, now, user_id, "rating", None, score)
        return "ok"


def comment(db, qid: int, user_id: int, text: str, now: dt.datetime) -> bool:
    with transaction(db):
        query = store.get_query(db, qid)
        if query is None or query["asker_id"] != user_id:
            return False
        if not store.set_comment(db, qid, text, now):
            return False
        store.add_event(db, qid, now, user_id, "comment", None, None)
        return True


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
        if self.view in ("new", "open", "pending", "resolved", "closed"):
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


# -- statistics ------------------------------------------------------------------------------------


@dataclass
class Group:
    count: int = 0
    first: list = field(default_factory=list)
    resolution: list = field(default_factory=list)

    @property
    def median_first_hours(self) -> float | None:
        return round(statistics.median(self.first) / 3600, 1) if self.first else None

    @property
    def median_resolution_hours(self) -> float | None:
        return round(statistics.median(self.resolution) / 3600, 1) if self.resolution else None


@dataclass
class Stats:
    total: int
    by_state: dict[str, int]
    overdue: int
    overall: Group
    by_region: dict[str, Group]
    by_topic: dict[str, Group]
    rating_average: float | None
    rating_count: int


def compute_stats(queries: list[dict], ratings: dict[int, dict], tags: dict[int, list[str]],
                  region_of: Callable[[str | None], str]) -> Stats:
    by_state = {s: 0 for s in STATES}
    overall = Group()
    regions: dict[str, Group] = {}
    topics: dict[str, Group] = {}
    overdue = 0
    for q in queries:
        by_state[q["state"]] = by_state.get(q["state"], 0) + 1
        if q.get("overdue") and q["state"] in ACTIVE:
            overdue += 1
        frt, rt = first_response_time(q), resolution_time(q)
        groups = [overall, regions.setdefault(region_of(q.get("country")), Group())]
        groups += [topics.setdefault(tag, Group()) for tag in tags.get(q["id"], [])]
        for g in groups:
            g.count += 1
            if frt is not None:
                g.first.append(frt.total_seconds())
            if rt is not None:
                g.resolution.append(rt.total_seconds())
    scores = [r["score"] for r in ratings.values() if r.get("score")]
    return Stats(len(queries), by_state, overdue, overall, dict(sorted(regions.items())),
                 dict(sorted(topics.items(), key=lambda kv: (-kv[1].count, kv[0]))),
                 round(sum(scores) / len(scores), 2) if scores else None, len(scores))


# -- export ----------------------------------------------------------------------------------------

EXPORT_COLUMNS = [
    "id", "created_at", "country", "lang", "source", "state", "priority", "tags", "assignee_id", "asker_id",
    "first_response_at", "resolved_at", "closed_at", "first_response_hours", "resolution_hours", "overdue",
    "rating", "rating_comment", "attachments", "question", "answers",
]


def _hours(delta: dt.timedelta | None) -> str:
    return "" if delta is None else f"{delta.total_seconds() / 3600:.2f}"


def export_queries_csv(db, since: dt.datetime | None = None) -> str:
    """Every query (created at or after ``since``) as CSV text, one row per query, oldest first."""
    queries = store.all_queries(db, since)
    ratings = store.all_ratings(db)
    tags = store.all_tags(db)
    counts = store.attachment_counts(db)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    for q in queries:
        answers = [m["text"] for m in store.messages(db, q["id"], ["expert"]) if m.get("text")]
        rating = ratings.get(q["id"]) or {}
        row = [
            q["id"], q["created_at"], q["country"] or "", q["lang"], q["source"], q["state"], q["priority"],
            " ".join(tags.get(q["id"], [])), q["assignee_id"] or "", q["asker_id"],
            q["first_response_at"] or "", q["resolved_at"] or "", q["closed_at"] or "",
            _hours(first_response_time(q)), _hours(resolution_time(q)), q["overdue"],
            rating.get("score") or "", rating.get("comment") or "", counts.get(q["id"], 0),
            q["text"], "\n\n".join(answers),
        ]
        writer.writerow([guard_cell(v) for v in row])
    return out.getvalue()


# -- the knowledge loop -----------------------------------------------------------------------------


def promotion_texts(db, qid: int) -> tuple[dict | None, str, str]:
    """(query, question, expert answer) of a query to propose as an FAQ entry."""
    query = store.get_query(db, qid)
    if query is None:
        return None, "", ""
    answers = [m["text"].strip() for m in store.messages(db, qid, ["expert"]) if (m.get("text") or "").strip()]
    return query, query["text"].strip(), "\n\n".join(answers)


def record_promotion(db, qid: int, draft_id: int, actor_id: int, now: dt.datetime) -> None:
    store.add_event(db, qid, now, actor_id, "promoted", None, draft_id)
