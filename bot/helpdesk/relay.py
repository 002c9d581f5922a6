"""What the helpdesk records around the messages it carries between an asker and the
experts' chat: the card and its topic, relayed follow-ups and answers, notices, and the
ledger rows the periodic job tries again. Each function is one service call (one
transaction); the handlers send, then call one of these with what came back.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from knowledge.vocabulary import DeliveryKind
from storage import helpdesk as store
from storage import users

#: A failed answer or follow-up is tried again by at most this many ledger attempts.
MAX_LEDGER_ATTEMPTS = 10
#: The reasons bot.telegram_errors.classify gives to SendError.RETRY (429, 5xx and network
#: errors, a connection that never carried the request), as the deliverer records them when
#: its retries ran out: only those are worth another try later.
RETRY_REASONS = ("429 ", "network ", "connect timeout")
#: What a relay row becomes when its ledger row will not be sent (again).
_FINAL_ANSWER = {"sent": "sent", "blocked": "blocked", "uncertain": "held"}
_FINAL_FOLLOW_UP = {"sent": "sent", "uncertain": "held"}


def _worth_retrying(ledger: dict) -> bool:
    return (ledger["status"] == "failed" and (ledger.get("error") or "").startswith(RETRY_REASONS)
            and (ledger.get("attempts") or 0) < MAX_LEDGER_ATTEMPTS)


@dataclass(frozen=True)
class Card:
    """A query with what its card shows: the people named on it and its number of files."""

    query: dict
    names: dict[int, dict]
    attachments: int


def names_of(db, ids) -> dict[int, dict]:
    """The user rows of ``ids`` (None and unknown ids left out: the card shows the bare id)."""
    rows = {i: users.get_user(db, i) for i in sorted({i for i in ids if i is not None})}
    return {i: row for i, row in rows.items() if row is not None}


def get_query(db, qid: int) -> dict | None:
    return store.get_query(db, qid)


def card(db, qid: int) -> Card | None:
    query = store.get_query(db, qid)
    if query is None:
        return None
    return Card(query, names_of(db, [query["asker_id"], query.get("assignee_id")]), len(store.attachments(db, qid)))


def begin_post(db, qid: int) -> tuple[dict, int] | None:
    """A query not yet on the experts' chat and the number of this attempt to post it
    (None when it is there already or does not exist)."""
    query = store.get_query(db, qid)
    if query is None or query.get("posted_at"):
        return None
    return query, store.note_post_attempt(db, qid)


def keep_topic(db, qid: int, chat_id: int, thread_id: int, now: dt.datetime) -> None:
    """The forum topic made for the query (messages in it route to the query)."""
    store.set_thread(db, qid, chat_id, thread_id, now)
    store.add_message(db, qid, chat_id=chat_id, message_id=thread_id, role="topic", now=now)


def keep_card(db, qid: int, chat_id: int, message_id: int, thread_id: int | None, now: dt.datetime) -> dict | None:
    """The card is on the experts' chat: the query is posted, replies to the card route to it,
    and the audit trail says so, all at once. The query as it is now (None: erased meanwhile)."""
    store.set_posted(db, qid, now, chat_id=chat_id, message_id=message_id, thread_id=thread_id)
    store.add_message(db, qid, chat_id=chat_id, message_id=message_id, role="card", now=now)
    store.add_event(db, qid, now, None, "posted", None, None, detail=str(chat_id))
    return store.get_query(db, qid)


def files_to_post(db, qid: int, expert_chat_id: int | None) -> list[dict]:
    """The files that came with the question (not those of follow-ups, which are copied as
    messages, nor those the experts sent)."""
    followups = {(r["chat_id"], r["message_id"]) for r in store.messages(db, qid, ["asker"]) if r.get("delivery_status")}
    return [item for item in store.attachments(db, qid)
            if (item["chat_id"], item["message_id"]) not in followups and item["chat_id"] != expert_chat_id]


def record_relay(db, qid: int, *, chat_id: int, message_id: int, role: str, now: dt.datetime, text: str | None = None) -> None:
    """A message the bot posted for this query (so replies to it route here)."""
    store.add_message(db, qid, chat_id=chat_id, message_id=message_id, role=role, text=text, now=now)


def pending_followups(db, qid: int) -> tuple[dict | None, list[dict]]:
    """The query and its follow-ups still to be copied to the experts' chat (none before the card)."""
    query = store.get_query(db, qid)
    if query is None or not query.get("posted_at"):
        return query, []
    return query, [r for r in store.messages(db, qid, ["asker"]) if r.get("delivery_status") == "pending"]


def followup_relayed(db, qid: int, row: dict, *, chat_id: int, copy_id: int, now: dt.datetime) -> None:
    """A follow-up was copied to the experts' chat: it is sent, and replies to the copy route here."""
    store.set_delivery_status(db, row["chat_id"], row["message_id"], "sent")
    store.add_message(db, qid, chat_id=chat_id, message_id=copy_id, role="relay", now=now)


def route(db, chat_id: int, message_id: int) -> dict | None:
    return store.route(db, chat_id, message_id)


def asker_language(db, query: dict) -> str:
    asker = users.get_user(db, query["asker_id"]) or {}
    return asker.get("lang") or query.get("lang") or "en"


def delivery_blocked(db, qid: int, kind: str, now: dt.datetime) -> None:
    store.add_event(db, qid, now, None, "delivery_blocked", None, None, kind)


def record_delivery(db, qid: int, *, chat_id: int, message_id: int, status: str, now: dt.datetime,
                    asker_chat: int | None = None, copy_id: int | None = None, error: str | None = None) -> None:
    """After relaying an expert's message: its status, the copy in the asker's chat (replies to
    it route here), an event if it failed, all at once."""
    store.set_delivery_status(db, chat_id, message_id, status)
    if status == "sent" and copy_id and asker_chat is not None:
        store.add_message(db, qid, chat_id=asker_chat, message_id=copy_id, role="answer", now=now)
    if status in ("blocked", "failed"):
        store.add_event(db, qid, now, None, f"delivery_{status}", None, None, detail=(error or "")[:200])


@dataclass(frozen=True)
class Retry:
    """A relay to try again: the routing row, its ledger row (back to pending) and the query."""

    row: dict
    delivery_id: int | None
    query: dict


def answers_to_retry(db) -> list[Retry]:
    """Experts' answers that failed on a transient error, their ledger rows back to pending.
    The others get their final status: one sent, blocked or in doubt is never sent again,
    one that can never go is ``undeliverable`` (and stays readable in /query N)."""
    out = []
    for row in store.undelivered_expert_messages(db):
        ledger = store.delivery_for(db, DeliveryKind.EXPERT_ANSWER, f"{row['chat_id']}:{row['message_id']}")
        if ledger is None or not _worth_retrying(ledger):
            final = _FINAL_ANSWER.get(ledger["status"] if ledger else "", "undeliverable")
            store.set_delivery_status(db, row["chat_id"], row["message_id"], final)
        elif (query := store.get_query(db, row["query_id"])) is not None and store.requeue_delivery(db, ledger["id"]):
            out.append(Retry(row, ledger["id"], query))
    return out


def followups_to_retry(db) -> list[Retry]:
    """Follow-ups of posted queries not yet copied to the experts' chat: new ones, and failed
    ones worth another try (ledger row back to pending); the others get their final status."""
    out = []
    for row in store.pending_followups(db):
        query = store.get_query(db, row["query_id"])
        if query is None:  # erased meanwhile: nothing to relay it to
            continue
        ledger = store.delivery_for(db, DeliveryKind.HELPDESK_FOLLOW_UP, f"{row['chat_id']}:{row['message_id']}")
        if ledger is not None and _worth_retrying(ledger):
            store.requeue_delivery(db, ledger["id"])
        elif ledger is not None and ledger["status"] == "claimed":
            continue  # being sent right now
        elif ledger is not None and ledger["status"] != "pending":
            store.set_delivery_status(db, row["chat_id"], row["message_id"], _FINAL_FOLLOW_UP.get(ledger["status"], "undeliverable"))
            continue
        out.append(Retry(row, ledger["id"] if ledger else None, query))
    return out
