"""The helpdesk's changes: each one a plain function ``fn(db, ...)`` that the handlers call
through ``services.store.run`` (one transaction: the change and its audit event are
committed together, *before* anything is said to anybody).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Iterable

from bot.helpdesk.rules import FOLLOWABLE, MAX_TAGS, PRIORITIES, TRANSITIONS, stored_at
from knowledge.isotime import format_instant
from knowledge.vocabulary import QueryState
from storage import helpdesk as store


class Refusal(StrEnum):
    """Why a change was not made."""

    NONE = ""
    NOT_FOUND = "not_found"    # no such query (or not the asker's)
    STALE = "stale"            # the state is not the one the button was drawn for
    SAME = "same"              # nothing to change
    INVALID = "invalid"        # not a transition of the lifecycle
    CLOSED = "closed"          # a closed query takes no more changes or messages
    DUPLICATE = "duplicate"    # that message was recorded already (Telegram sent the update twice)


class Rating(StrEnum):
    OK = "ok"
    ALREADY = "already"        # a second press changes nothing
    NOT_ASKED = "not_asked"
    NOT_YOURS = "not_yours"
    INVALID = "invalid"


@dataclass
class Change:
    ok: bool
    reason: Refusal = Refusal.NONE
    query: dict | None = None
    before: Any = None
    after: Any = None


def create_query(db, *, asker_id: int, country: str | None, lang: str, text: str, source: str,
                 candidates: Iterable[str] = (), attachments: Iterable[dict] = (),
                 asker_message: tuple[int, int] | None = None, now: dt.datetime) -> int:
    """Store a new query with its attachments and the 'created' event; return its number."""
    qid = store.insert_query(db, asker_id=asker_id, country=country, lang=lang, text=text, source=source,
                             candidates=list(dict.fromkeys(candidates)), now=now)
    store.add_event(db, qid, now, asker_id, "created", None, QueryState.NEW, detail=source)
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
    store.add_message(db, qid, chat_id=chat_id, message_id=message_id, role="ack", now=now)
    store.set_ack_message(db, qid, message_id)


def _state_fields(query: dict, to: str, now: dt.datetime) -> dict:
    """Column changes of a state transition (SLA pause bookkeeping)."""
    fields: dict[str, Any] = {"state": to}
    frm = query["state"]
    extra = 0.0
    if frm == QueryState.PENDING and query.get("pending_since"):
        extra += (now - stored_at(query["pending_since"])).total_seconds()
        fields["pending_since"] = None
    if frm == QueryState.RESOLVED and to in (QueryState.OPEN, QueryState.NEW) and query.get("resolved_at"):
        extra += (now - stored_at(query["resolved_at"])).total_seconds()
        fields["resolved_at"] = None
    if extra:
        fields["paused_seconds"] = int((query.get("paused_seconds") or 0) + extra)
    if to == QueryState.PENDING:
        fields["pending_since"] = format_instant(now)
        fields["nudged_at"] = None
    elif to == QueryState.RESOLVED:
        fields["resolved_at"] = format_instant(now)
    elif to == QueryState.CLOSED:
        fields["closed_at"] = format_instant(now)
    return fields


def reopen_state(query: dict) -> str:
    return QueryState.OPEN if query.get("first_response_at") else QueryState.NEW


def change_state(db, qid: int, to: str, actor_id: int | None, now: dt.datetime, *,
                 expect: str | None = None, detail: str | None = None) -> Change:
    """Move a query to state ``to``; ``expect`` is the state the caller saw (a stale button otherwise)."""
    query = store.get_query(db, qid)
    if query is None:
        return Change(False, Refusal.NOT_FOUND)
    frm = query["state"]
    if expect is not None and frm != expect:
        return Change(False, Refusal.STALE, query, frm)
    if frm == to:
        return Change(False, Refusal.SAME, query, frm, to)
    if (frm, to) not in TRANSITIONS:
        return Change(False, Refusal.INVALID, query, frm, to)
    store.update_query(db, qid, now, expect_state=frm, **_state_fields(query, to, now))
    store.add_event(db, qid, now, actor_id, "state", frm, to, detail=detail)
    return Change(True, Refusal.NONE, store.get_query(db, qid), frm, to)


def _set_field(db, qid: int, column: str, event: str, value, actor_id: int | None, now: dt.datetime,
               expect: str | None) -> Change:
    """Change one triage field of an open query and record the event (who, when, from → to)."""
    query = store.get_query(db, qid)
    if query is None:
        return Change(False, Refusal.NOT_FOUND)
    if expect is not None and query["state"] != expect:
        return Change(False, Refusal.STALE, query)
    if query["state"] == QueryState.CLOSED:
        return Change(False, Refusal.CLOSED, query)
    if query[column] == value:
        return Change(False, Refusal.SAME, query, value, value)
    store.update_query(db, qid, now, **{column: value})
    store.add_event(db, qid, now, actor_id, event, query[column], value)
    return Change(True, Refusal.NONE, store.get_query(db, qid), query[column], value)


def set_priority(db, qid: int, level: str, actor_id: int | None, now: dt.datetime, *, expect: str | None = None) -> Change:
    if level not in PRIORITIES:
        return Change(False, Refusal.INVALID)
    return _set_field(db, qid, "priority", "priority", level, actor_id, now, expect)


def assign(db, qid: int, assignee_id: int | None, actor_id: int | None, now: dt.datetime, *, expect: str | None = None) -> Change:
    return _set_field(db, qid, "assignee_id", "assign", assignee_id, actor_id, now, expect)


def retag(db, qid: int, add: Iterable[str], remove: Iterable[str], actor_id: int | None, now: dt.datetime) -> Change:
    query = store.get_query(db, qid)
    if query is None:
        return Change(False, Refusal.NOT_FOUND)
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
    return Change(after != before, Refusal.NONE if after != before else Refusal.SAME, store.get_query(db, qid), before, after)


@dataclass
class Followup:
    added: bool
    query: dict | None
    reopened_from: str | None = None
    reason: Refusal = Refusal.NONE
    #: the message's row in the routing table (to relay it)
    message: dict | None = None


def add_followup(db, qid: int, asker_id: int, *, chat_id: int, message_id: int, kind: str, text: str | None,
                 attachment: dict | None, now: dt.datetime) -> Followup:
    """The asker's message continues query ``qid``; a pending or resolved query reopens."""
    query = store.get_query(db, qid)
    if query is None or query["asker_id"] != asker_id:
        return Followup(False, None, reason=Refusal.NOT_FOUND)
    if query["state"] not in FOLLOWABLE:
        return Followup(False, query, reason=Refusal.CLOSED)
    if not store.add_message(db, qid, chat_id=chat_id, message_id=message_id, role="asker", author_id=asker_id,
                             kind=kind, text=text, delivery_status="pending", now=now):
        return Followup(False, query, reason=Refusal.DUPLICATE)
    if attachment:
        _attach(db, qid, attachment, asker_id, now)
    store.add_event(db, qid, now, asker_id, "followup", None, None, detail=kind)
    reopened = None
    if query["state"] in (QueryState.PENDING, QueryState.RESOLVED):
        to = reopen_state(query)
        store.update_query(db, qid, now, **_state_fields(query, to, now))
        store.add_event(db, qid, now, asker_id, "state", query["state"], to, detail="asker wrote")
        reopened = query["state"]
    else:
        store.update_query(db, qid, now)
    return Followup(True, store.get_query(db, qid), reopened, message=store.route(db, chat_id, message_id))


@dataclass
class Reply:
    recorded: bool
    query: dict | None
    opened: bool = False
    reason: Refusal = Refusal.NONE


def record_expert_reply(db, qid: int, expert_id: int, *, chat_id: int, message_id: int, kind: str, text: str | None,
                        attachment: dict | None, now: dt.datetime) -> Reply:
    """Store an expert's reply (before it is relayed); the first one opens the query."""
    query = store.get_query(db, qid)
    if query is None:
        return Reply(False, None, reason=Refusal.NOT_FOUND)
    if query["state"] == QueryState.CLOSED:
        return Reply(False, query, reason=Refusal.CLOSED)
    if not store.add_message(db, qid, chat_id=chat_id, message_id=message_id, role="expert", author_id=expert_id,
                             kind=kind, text=text, delivery_status="pending", now=now):
        return Reply(False, query, reason=Refusal.DUPLICATE)
    if attachment:
        _attach(db, qid, attachment, expert_id, now)
    store.add_event(db, qid, now, expert_id, "reply", None, None, detail=kind)
    fields: dict[str, Any] = {}
    if not query.get("first_response_at"):
        fields.update(first_response_at=format_instant(now), first_response_by=expert_id)
    opened = query["state"] == QueryState.NEW
    if opened:
        fields.update(_state_fields(query, QueryState.OPEN, now))
        store.add_event(db, qid, now, expert_id, "state", QueryState.NEW, QueryState.OPEN, detail="first reply")
    if query.get("assignee_id") is None:
        fields["assignee_id"] = expert_id
        store.add_event(db, qid, now, expert_id, "assign", None, expert_id, detail="first reply")
    store.update_query(db, qid, now, **fields)
    return Reply(True, store.get_query(db, qid), opened)


def mark_flag(db, qid: int, flag: str, now: dt.datetime, event: str, detail: str | None = None) -> bool:
    """Set one SLA/nudge flag once; True if this call set it (then, and only then, tell someone)."""
    if not store.set_flag_once(db, qid, flag, now):
        return False
    store.add_event(db, qid, now, None, event, None, None, detail=detail)
    return True


# -- ratings -----------------------------------------------------------------------------------


def rate(db, qid: int, user_id: int, score: int, now: dt.datetime) -> Rating:
    """The asker's score (1-5), once."""
    if not 1 <= score <= 5:
        return Rating.INVALID
    query = store.get_query(db, qid)
    rating = store.get_rating(db, qid)
    if query is None or rating is None:
        return Rating.NOT_ASKED
    if query["asker_id"] != user_id:
        return Rating.NOT_YOURS
    if not store.set_score(db, qid, score, now):
        return Rating.ALREADY
    store.add_event(db, qid, now, user_id, "rating", None, score)
    return Rating.OK


def rate_and_close(db, qid: int, user_id: int, score: int, now: dt.datetime) -> tuple[Rating, Change | None]:
    """The asker's rating (see :func:`rate`); a rated resolved query is closed with it."""
    outcome = rate(db, qid, user_id, score, now)
    if outcome is not Rating.OK:
        return outcome, None
    return outcome, change_state(db, qid, QueryState.CLOSED, user_id, now, expect=QueryState.RESOLVED, detail="rated")


def ask_rating(db, qid: int, user_id: int, now: dt.datetime) -> bool:
    """Record that the asker is asked to rate the answer; False if they were asked before."""
    return store.rating_asked(db, qid, user_id, now)


def comment(db, qid: int, user_id: int, text: str, now: dt.datetime) -> bool:
    query = store.get_query(db, qid)
    if query is None or query["asker_id"] != user_id:
        return False
    if not store.set_comment(db, qid, text, now):
        return False
    store.add_event(db, qid, now, user_id, "comment", None, None)
    return True




def comment_on(db, qid: int, user_id: int, text: str, now: dt.datetime) -> dict | None:
    """The asker's comment after rating (see :func:`comment`): the query if it was stored, else None."""
    return store.get_query(db, qid) if comment(db, qid, user_id, text, now) else None
