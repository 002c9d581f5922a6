"""The knowledge loop: a resolved query (question + the experts' answers) becomes a draft FAQ
entry (/promote N), which the secretariat approves or rejects."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from bot.helpdesk.rules import DONE_STATES
from knowledge.faq import MAX_ANSWER_CHARS, load_topics
from knowledge.yamlfile import DataError
from storage import faq as faq_store
from storage import helpdesk as store

#: The topic a draft goes under when no tag of the query names one.
DEFAULT_TOPIC = "programme"
#: Drafts of a query that stop another /promote of it.
_OPEN_DRAFTS = ("pending", "approved")


class Promotion(StrEnum):
    OK = "ok"
    NOT_RESOLVED = "not_resolved"
    BAD_TOPIC = "bad_topic"
    NO_ANSWER = "no_answer"
    TOO_LONG = "too_long"
    ALREADY = "already"


@dataclass(frozen=True)
class Draft:
    outcome: Promotion
    topic: str | None = None
    draft_id: int | None = None
    question: str = ""
    answer: str = ""
    length: int = 0


def topics(knowledge_dir: Path) -> list[str]:
    """The topic slugs a draft may be filed under (none, or a file that does not load: any topic goes)."""
    try:
        return list(load_topics(Path(knowledge_dir) / "topics.yaml"))
    except DataError:
        return []


def promotion_texts(db, qid: int) -> tuple[dict | None, str, str]:
    """(query, question, expert answer) of a query to propose as an FAQ entry."""
    query = store.get_query(db, qid)
    if query is None:
        return None, "", ""
    answers = [m["text"].strip() for m in store.messages(db, qid, ["expert"]) if (m.get("text") or "").strip()]
    return query, query["text"].strip(), "\n\n".join(answers)


def record_promotion(db, qid: int, draft_id: int, actor_id: int, now: dt.datetime) -> None:
    store.add_event(db, qid, now, actor_id, "promoted", None, draft_id)


def choose_topic(query: dict, known: list[str], asked: str | None) -> str | None:
    """The topic named (None if it is not a known one), else the first tag that is a topic."""
    if asked is not None:
        return asked if not known or asked in known else None
    tagged = next((tag for tag in query.get("tags") or [] if tag in known), None)
    return tagged or (DEFAULT_TOPIC if DEFAULT_TOPIC in known or not known else known[0])


def make_draft(db, query: dict, topic: str, actor_id: int, now: dt.datetime) -> Draft:
    """The draft FAQ entry of a resolved query, recorded with its event (raises ValueError
    when the FAQ store refuses the texts)."""
    qid = query["id"]
    if query["state"] not in DONE_STATES:
        return Draft(Promotion.NOT_RESOLVED)
    _query, question, answer = promotion_texts(db, qid)
    if not answer:
        return Draft(Promotion.NO_ANSWER, topic)
    if len(answer) > MAX_ANSWER_CHARS:
        return Draft(Promotion.TOO_LONG, topic, length=len(answer))
    for draft in faq_store.list_drafts(db, None):
        if draft.get("ref") == f"query:{qid}" and draft["status"] in _OPEN_DRAFTS:
            return Draft(Promotion.ALREADY, topic, draft["id"])
    draft_id = faq_store.add_draft(db, topic=topic, q=question, a=answer, lang=query["lang"], ref=f"query:{qid}",
                                   created_by=actor_id, now=now)
    record_promotion(db, qid, draft_id, actor_id, now)
    return Draft(Promotion.OK, topic, draft_id, question, answer)


def _query_of(draft: dict) -> int | None:
    ref = draft.get("ref") or ""
    number = ref.split(":", 1)[1] if ref.startswith("query:") else ""
    return int(number) if number.isdigit() else None


def decide_draft(db, draft_id: int, approve: bool, actor_id: int, now: dt.datetime, search) -> tuple[bool, str | None]:
    """Approve (the entry joins the FAQ, and ``search`` finds it at once) or reject a pending
    draft, with the query's event.
    ``(False, None)`` when it was decided already; ``(True, entry id or None)`` otherwise.
    Raises KeyError or ValueError when the FAQ store refuses."""
    draft = next((d for d in faq_store.list_drafts(db, None) if d["id"] == draft_id), None)
    if draft is None or draft["status"] != "pending":
        return False, None
    entry_id = None
    if approve:
        entry_id = faq_store.approve_draft(db, draft_id, actor_id, now=now)
    else:
        faq_store.reject_draft(db, draft_id, actor_id, now=now)
    qid = _query_of(draft)
    if qid is not None and store.get_query(db, qid) is not None:
        store.add_event(db, qid, now, actor_id, "faq_approved" if approve else "faq_rejected", draft_id, entry_id)
    if approve:
        search.refresh_if_changed()
    return True, entry_id
