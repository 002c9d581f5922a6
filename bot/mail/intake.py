"""The one place that decides an incoming e-mail's fate, in one transaction, before anything
is sent back: a new query, a follow-up of the right query, a rating, an address confirmed,
or dropped (seen before, automatic, a bounce, a list, too large, an unknown sender).

Which query a reply continues: the Message-IDs it answers (``In-Reply-To``/``References``)
in ``mail_messages``; else the per-query reply address ``helpdesk+q<N>-<token>@...``; else
the ``[LDN #N]`` tag of the subject together with the sender's address.
"""
from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass, field
from enum import StrEnum

from bot.helpdesk import asking, lifecycle
from bot.helpdesk.lifecycle import Rating, Refusal
from bot.mail import MAIL_SOURCE, people
from bot.mail.compose import SUBJECT_TAG_RE, bare_subject
from bot.mail.config import MailConfig
from bot.mail.filters import Skip, never_a_query
from bot.mail.parsing import Incoming
from knowledge.vocabulary import LANGS, QueryState
from storage import helpdesk as hd_store
from storage import mail as store

#: Queries asked by e-mail carry ``MAIL_SOURCE`` (bot/mail/__init__.py); their messages this ``chat_id`` in the routing table.
MAIL_CHAT = 0
#: The routing table's delivery status of an e-mail follow-up (relayed by the mail channel, not copied).
MAIL_RELAYED = "email"

_RATING_RE = re.compile(r"^\s*(?:rating|note|nota|оценка|评分|تقييم)?\s*[:#]?\s*([1-5])\s*(?:/\s*5)?\s*[.!]?\s*$", re.IGNORECASE)
_SUBJECT_RATING_RE = re.compile(r"\brating\s+([1-5])\b", re.IGNORECASE)
_PLUS_QUERY_RE = re.compile(r"^[^+@]+\+q(\d+)-([a-f0-9]+)@")
_PLUS_CONFIRM_RE = re.compile(r"^[^+@]+\+c([A-Z0-9-]+)@", re.IGNORECASE)
_PLUS_UNSUBSCRIBE_RE = re.compile(r"^[^+@]+\+u([a-f0-9]+)@")


class Fate(StrEnum):
    QUERY = "query"
    FOLLOWUP = "followup"
    RATING = "rating"
    CONFIRM = "confirm"
    CONFIRM_FAILED = "confirm_failed"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"        # automatic, bounce, list, our own: no answer at all
    TOO_BIG = "too_big"
    UNKNOWN = "unknown"        # not a bound address (helpdesk.visitors: register)
    UNSUBSCRIBED = "unsubscribed"  # reminders and digests no longer by e-mail (List-Unsubscribe)


@dataclass
class Decision:
    fate: Fate
    query: dict | None = None
    person: dict | None = None
    row_id: int | None = None            # the message's row in mail_messages
    answer: bool = False                 # whether to answer the sender (once-a-day notices decided here)
    reopened_from: str | None = None
    skip: Skip | None = None
    candidates: list[str] = field(default_factory=list)
    confirmation: people.Confirmation | None = None
    followup_text: str | None = None
    files: int = 0


@dataclass(frozen=True)
class Policy:
    """What the intake needs besides the message."""

    cfg: MailConfig
    visitors: str = "register"            # helpdesk.visitors: register | ask
    default_lang: str = "en"
    max_question_chars: int = 3000


def _day(now: dt.datetime) -> str:
    return now.strftime("%Y-%m-%d")


def _target_query(db, mail: Incoming) -> int | None:
    found = store.query_of_messages(db, mail.replies_to)
    if found is not None:
        return found
    for rcpt in mail.recipients:
        match = _PLUS_QUERY_RE.match(rcpt)
        if match:
            thread = store.thread(db, int(match.group(1)))
            if thread and secrets.compare_digest(thread["token"], match.group(2)):
                return thread["query_id"]
    tag = SUBJECT_TAG_RE.search(mail.subject or "")
    if tag:
        thread = store.thread(db, int(tag.group(1)))
        if thread and thread["address"] == mail.sender:
            return thread["query_id"]
    return None


def _confirmation_code(mail: Incoming) -> str | None:
    for rcpt in mail.recipients:
        match = _PLUS_CONFIRM_RE.match(rcpt)
        if match:
            return people.find_code(match.group(1))
    return people.find_code(mail.subject) or people.find_code(mail.text[:500])


def _rating(mail: Incoming) -> int | None:
    match = _RATING_RE.match(mail.text or "") or _SUBJECT_RATING_RE.search(mail.subject or "")
    return int(match.group(1)) if match else None


def _question(mail: Incoming, limit: int) -> str:
    subject = bare_subject(mail.subject)
    text = mail.text.strip()
    joined = f"{subject}\n\n{text}" if subject and text and not text.startswith(subject) else (text or subject)
    return joined[:limit]


def _keep_files(db, qid: int, row_id: int, mail: Incoming, cfg: MailConfig) -> int:
    for item in mail.attachments:
        allowed = item.mime in cfg.attachment_types or item.name.lower().endswith((".tif", ".tiff", ".pdf", ".xlsx", ".xls", ".csv", ".ods"))
        if item.size > cfg.max_attachment_bytes:
            store.add_file(db, qid, row_id, item.name, item.mime, None, item.size, "refused", "size")
        elif not allowed:
            store.add_file(db, qid, row_id, item.name, item.mime, None, item.size, "refused", "type")
        else:
            store.add_file(db, qid, row_id, item.name, item.mime, item.data, item.size)
    return len(mail.attachments)


def _new_query(db, mail: Incoming, person: dict, row_id: int, policy: Policy, search, now: dt.datetime) -> Decision:
    text = _question(mail, policy.max_question_chars)
    candidates = asking.suggest(db, search, text) if search is not None else []
    lang = str(person.get("lang") if person.get("lang") in LANGS else policy.default_lang)
    qid = lifecycle.create_query(db, asker_id=person["user_id"], country=person.get("country"), lang=lang, text=text,
                                 source=MAIL_SOURCE, candidates=candidates, asker_message=(MAIL_CHAT, row_id), now=now)
    store.add_thread(db, qid, mail.sender, bare_subject(mail.subject) or text.split("\n", 1)[0][:80], secrets.token_hex(5))
    store.set_message_fate(db, row_id, Fate.QUERY, qid)
    files = _keep_files(db, qid, row_id, mail, policy.cfg)
    return Decision(Fate.QUERY, hd_store.get_query(db, qid), person, row_id, answer=True, candidates=candidates, files=files)


def _continue(db, qid: int, mail: Incoming, person: dict, row_id: int, policy: Policy, now: dt.datetime) -> Decision | None:
    """A reply to one of the person's queries: a rating, or a follow-up (None: a new query instead)."""
    query = hd_store.get_query(db, qid)
    if query is None or query["asker_id"] != person["user_id"]:
        return None
    score = _rating(mail)
    if score is not None and hd_store.get_rating(db, qid) is not None:
        outcome, _change = lifecycle.rate_and_close(db, qid, person["user_id"], score, now)
        store.set_message_fate(db, row_id, Fate.RATING, qid, outcome)
        return Decision(Fate.RATING, hd_store.get_query(db, qid), person, row_id, answer=outcome is Rating.OK)
    if query["state"] == QueryState.CLOSED:
        return None
    text = (mail.text or bare_subject(mail.subject))[: policy.max_question_chars]
    added = lifecycle.add_followup(db, qid, person["user_id"], chat_id=MAIL_CHAT, message_id=row_id, kind="text", text=text,
                                   attachment=None, now=now)
    if not added.added:
        return None if added.reason is Refusal.CLOSED else Decision(Fate.DUPLICATE, query, person, row_id)
    hd_store.set_delivery_status(db, MAIL_CHAT, row_id, MAIL_RELAYED)
    store.set_message_fate(db, row_id, Fate.FOLLOWUP, qid)
    files = _keep_files(db, qid, row_id, mail, policy.cfg)
    return Decision(Fate.FOLLOWUP, added.query, person, row_id, reopened_from=added.reopened_from, followup_text=text, files=files)


def take(db, mail: Incoming, policy: Policy, search, now: dt.datetime) -> Decision:
    """Decide and record the fate of one incoming message (one transaction: run it with
    ``services.store.run``); the caller answers and tells the experts afterwards."""
    skip = never_a_query(mail, policy.cfg)
    row_id = store.add_message(db, message_id=mail.message_id, query_id=None, direction="in", address=mail.sender or "?",
                               fate=Fate.IGNORED if skip else "received", now=now, detail=skip)
    if row_id is None:
        return Decision(Fate.DUPLICATE)
    if skip is not None or not mail.sender:
        return Decision(Fate.IGNORED, row_id=row_id, skip=skip or Skip.BOUNCE)
    if mail.size > policy.cfg.max_message_bytes:
        store.set_message_fate(db, row_id, Fate.TOO_BIG, None, str(mail.size))
        return Decision(Fate.TOO_BIG, person=store.person_by_address(db, mail.sender), row_id=row_id,
                        answer=store.notice_once(db, mail.sender, Fate.TOO_BIG, _day(now)))
    for rcpt in mail.recipients:
        match = _PLUS_UNSUBSCRIBE_RE.match(rcpt)
        if match and people.unsubscribe(db, match.group(1)):
            store.set_message_fate(db, row_id, Fate.UNSUBSCRIBED, None)
            return Decision(Fate.UNSUBSCRIBED, person=store.person_by_unsubscribe(db, match.group(1)), row_id=row_id)
    person = store.person_by_address(db, mail.sender)
    code = _confirmation_code(mail)
    if code is not None and (person is None or store.invite_by_code(db, people.code_hash(code)) is not None):
        done = people.confirm(db, code, mail.sender, mail.sender_name, now)
        fate = Fate.CONFIRM if done.outcome in (people.Confirmed.BOUND, people.Confirmed.ALREADY) else Fate.CONFIRM_FAILED
        store.set_message_fate(db, row_id, fate, None, done.outcome)
        answer = fate is Fate.CONFIRM or store.notice_once(db, mail.sender, Fate.CONFIRM_FAILED, _day(now))
        return Decision(fate, person=store.person_by_address(db, mail.sender), row_id=row_id, answer=answer, confirmation=done)
    if person is None:
        if policy.visitors != "ask":
            store.set_message_fate(db, row_id, Fate.UNKNOWN, None)
            return Decision(Fate.UNKNOWN, row_id=row_id, answer=store.notice_once(db, mail.sender, Fate.UNKNOWN, _day(now)))
        person = people.bind_visitor(db, mail.sender, mail.sender_name, now)
    qid = _target_query(db, mail)
    if qid is not None:
        decided = _continue(db, qid, mail, person, row_id, policy, now)
        if decided is not None:
            return decided
    return _new_query(db, mail, person, row_id, policy, search, now)
