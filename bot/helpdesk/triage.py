"""What the experts and the secretariat read and change from their commands: the queue, one
query's thread and trail, an asker's own queries, the expert a query is assigned to.
Each function is one service call (``services.store.run(fn, ...)``).
"""
from __future__ import annotations

from dataclasses import dataclass

from bot.helpdesk.relay import names_of
from bot.helpdesk.rules import PRIORITIES, QueueFilter
from storage import helpdesk as store
from storage import users
from knowledge.vocabulary import ACTIVE_STATES, QUERY_STATES, parse_row_id


@dataclass(frozen=True)
class QueuePage:
    rows: list[dict]
    total: int
    names: dict[int, dict]


def queue_page(db, flt: QueueFilter, user_id: int, size: int, page: int) -> QueuePage:
    """One page of the queue (newest first), with the assignees' names."""
    rows, total = store.queue(db, limit=size, offset=(page - 1) * size, **flt.query_args(user_id))
    return QueuePage(rows, total, names_of(db, [q.get("assignee_id") for q in rows]))


@dataclass(frozen=True)
class QueueOverview:
    """/queue: the matching queries counted (overdue, by state, by priority), the oldest
    overdue ones, then one page (newest first; ``page`` 1-based, within the pages there are)."""

    page: QueuePage
    number: int
    pages: int
    overdue: int
    by_state: dict[str, int]
    by_priority: dict[str, int]
    oldest_overdue: list[dict]


def queue_overview(db, flt: QueueFilter, user_id: int, size: int, page: int, oldest: int = 5) -> QueueOverview:
    by_states, by_priorities, late = store.queue_counts(db, **flt.query_args(user_id), active=ACTIVE_STATES, oldest=oldest)
    by_state = {s: 0 for s in QUERY_STATES}
    overdue = 0
    for g in by_states:
        by_state[g["state"]] = by_state.get(g["state"], 0) + g["n"]
        if g["overdue"] and g["state"] in ACTIVE_STATES:
            overdue += g["n"]
    by_priority = {p: 0 for p in PRIORITIES}
    for g in by_priorities:
        by_priority[g["priority"]] = by_priority.get(g["priority"], 0) + g["n"]
    total = sum(by_state.values())
    pages = max(1, -(-total // max(1, size)))
    number = min(max(page, 1), pages)
    return QueueOverview(queue_page(db, flt, user_id, size, number), number, pages, overdue,
                         {s: n for s, n in by_state.items() if n}, {p: n for p, n in by_priority.items() if n}, late)


@dataclass(frozen=True)
class Thread:
    """One query as /query N shows it: its messages, files and (for experts) audit trail."""

    messages: list[dict]
    files: list[dict]
    events: list[dict]
    names: dict[int, dict]


def thread(db, query: dict, with_events: bool) -> Thread:
    qid = query["id"]
    rows = store.messages(db, qid, ["asker", "expert"])
    files = store.attachments(db, qid)
    events = store.events(db, qid) if with_events else []
    names = names_of(db, [query["asker_id"], query.get("assignee_id")] + [r.get("author_id") for r in rows]
                     + [e.get("actor_id") for e in events]
                     + [int(v) for e in events if e["kind"] == "assign"   # who it was assigned from and to
                        for v in (e.get("from_value"), e.get("to_value")) if v and str(v).lstrip("-").isdigit()])
    return Thread(rows, files, events, names)


def find_user(db, text: str, expert_ids) -> dict | None:
    """A user named by ``@username`` or numeric id (an expert named in the configuration
    counts even before their first message)."""
    text = text.strip()
    if text.lstrip("-").isdigit():
        value = parse_row_id(text.lstrip("-"))  # ASCII digits within SQLite's range ("²" and 10**30 are not)
        if value is None:
            return None
        number = -value if text.startswith("-") else value
        return users.get_user(db, number) or ({"user_id": number} if number in expert_ids else None)
    return users.get_user_by_username(db, text)
