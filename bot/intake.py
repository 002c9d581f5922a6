"""The intake: the one place that decides the fate of a person's private message.

In this order (``decide``):

1. the person is blocked                          -> one short answer, nothing else;
2. the text is empty or only white space          -> a short answer, nothing stored;
3. a Telegram *reply* to a message of query N (its acknowledgement, an expert's relayed
   answer, a nudge or notice, one of the person's own messages of N) -> a follow-up of N
   (a reply to the comment invitation -> the comment on N);
4. an awaited input the bot asked for ("type your question now") -> that input;
5. otherwise a question for the FAQ, with the person's new/open/pending queries at hand:
   :func:`choices` says which buttons go with the answer or the abstention.

A plain text is never glued onto an open query: only a reply, or a button the person
pressed, adds a message to a query. Awaited inputs and the messages offered choices live
in the database (``storage/migrations/m0013_intake.py``), so a restart loses neither.

The FAQ search itself is not run here: it is CPU work on the event loop
(``handlers.faq.lookup``); :func:`decide` gathers what the database knows in one read and
:func:`choices` finishes the decision from the search's outcome.
"""
from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Iterable

from bot.helpdesk import lifecycle
from bot.helpdesk.rules import snippet
from bot.roles import Person
from knowledge.durations import parse_duration
from storage import helpdesk as hd_store
from storage import intake as store
from storage import users
from storage.db import utcnow_iso

#: Messages of a query in the asker's chat that a reply continues.
FOLLOW_ROLES = frozenset({"ack", "answer", "nudge", "asker_notice", "reply_note", "asker"})
COMMENT_ROLE = "comment_prompt"
#: at most this many "➕ Add to query #N" buttons, newest first
MAX_ADD_BUTTONS = 3


class Fate(StrEnum):
    BLOCKED = "blocked"
    EMPTY = "empty"
    FOLLOW_UP = "follow_up"
    COMMENT = "comment"
    INPUT = "input"
    QUESTION = "question"


class Visitors(StrEnum):
    """``helpdesk.visitors``: may a person not bound to a country ask the experts?"""

    ASK = "ask"            # yes; their query is marked unverified on the experts' card
    REGISTER = "register"  # no; they are told how to get an invitation


class AskRight(StrEnum):
    """What the helpdesk is to this person."""

    FOCAL_POINT = "focal_point"  # asks
    VISITOR = "visitor"          # asks, unverified (visitors: ask)
    REGISTER = "register"        # must register first (visitors: register)
    STAFF = "staff"              # experts and the secretariat answer, they do not ask

    @property
    def may_ask(self) -> bool:
        return self in (AskRight.FOCAL_POINT, AskRight.VISITOR)


class Choice(StrEnum):
    """The buttons under an answer or an abstention."""

    ADD_TO = "add_to"              # ➕ Add to query #N (instead)
    NEW_QUESTION = "new_question"  # 🆕 New question to the experts
    CANCEL = "cancel"              # ✖ Cancel
    ASK_EXPERT = "ask_expert"      # today's "Ask an expert"


@dataclass(frozen=True)
class Settings:
    visitors: Visitors = Visitors.REGISTER
    daily_query_limit: int = 10
    input_ttl: dt.timedelta = dt.timedelta(days=1)
    offer_ttl: dt.timedelta = dt.timedelta(days=7)


def settings_from(section: dict | None) -> Settings:
    """The intake's part of the ``helpdesk`` section; raises ValueError on a bad value."""
    section = dict(section or {})
    raw = section.get("visitors") or Visitors.REGISTER.value
    try:
        visitors = Visitors(str(raw).strip().lower())
    except ValueError:
        raise ValueError(f"helpdesk.visitors: expected ask or register, got {raw!r}") from None
    limit = section.get("daily_query_limit", 10)
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValueError(f"helpdesk.daily_query_limit: expected a whole number of queries, at least 1, got {limit!r}")
    ttl = parse_duration(section.get("input_expires") or "1d", "h", maximum=dt.timedelta(days=30))
    return Settings(visitors=visitors, daily_query_limit=limit, input_ttl=ttl)


def settings_of(services) -> Settings:
    """The intake settings of a running bot (read from its config once)."""
    if services.intake_settings is None:
        services.intake_settings = settings_from(services.config.section("helpdesk"))
    return services.intake_settings


def ask_right(who: Person, settings: Settings) -> AskRight:
    if who.is_expert:
        return AskRight.STAFF
    if who.is_focal_point:
        return AskRight.FOCAL_POINT
    return AskRight.VISITOR if settings.visitors is Visitors.ASK else AskRight.REGISTER


# -- the decision ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    fate: Fate
    query_id: int | None = None
    #: the awaited input (``name``, ``subject``, ``data``) for Fate.INPUT
    awaited: dict | None = None
    #: the person's new/open/pending queries, newest first: ``(number, snippet)``
    active: tuple[tuple[int, str], ...] = ()


def decide(db, who: Person, *, chat_id: int, reply_to: int | None, text: str, now: dt.datetime,
           right: AskRight = AskRight.FOCAL_POINT, has_file: bool = False) -> Decision:
    """The fate of a private message (see the module's docstring for the order); ``text`` is its
    text or caption, ``has_file`` says a photo or document came with it."""
    if store.is_blocked(db, who.user_id):
        return Decision(Fate.BLOCKED)
    if is_blank(text) and not has_file:
        return Decision(Fate.EMPTY)
    if reply_to is not None:
        routed = hd_store.route(db, chat_id, reply_to)
        if routed is not None:
            query = hd_store.get_query(db, routed["query_id"])
            if query is not None and query["asker_id"] == who.user_id:
                if routed["role"] == COMMENT_ROLE:
                    return Decision(Fate.COMMENT, query_id=query["id"])
                if routed["role"] in FOLLOW_ROLES:
                    return Decision(Fate.FOLLOW_UP, query_id=query["id"])
    awaited = store.get_awaited(db, who.user_id)
    if awaited is not None:
        if awaited["expires_at"] > utcnow_iso(now):
            return Decision(Fate.INPUT, awaited=awaited)
        store.delete_awaited(db, who.user_id)
    active = store.active_queries(db, who.user_id, who.country, MAX_ADD_BUTTONS) if right.may_ask else []
    return Decision(Fate.QUESTION, active=tuple((q["id"], snippet(q["text"], 40)) for q in active))


def is_blank(text: str) -> bool:
    """Nothing to read: white space and invisible format characters (zero-width spaces) only."""
    return all(ch.isspace() or unicodedata.category(ch) == "Cf" for ch in text)


def choices(answered: bool, active: Iterable[int], right: AskRight) -> list[tuple[Choice, int | None]]:
    """The buttons that go with an FAQ answer (``answered``) or an abstention.

    Answered: "➕ Add to query #N instead" for each active query (newest first, at most 3).
    Abstained with active queries: "➕ Add to query #N" each, "🆕 New question", "✖ Cancel".
    Abstained without: "Ask an expert" for who may ask (the register hint is the caller's
    text for the others)."""
    active = list(active)[:MAX_ADD_BUTTONS]
    if not right.may_ask:
        return []
    adds: list[tuple[Choice, int | None]] = [(Choice.ADD_TO, n) for n in active]
    if answered:
        return adds
    if adds:
        return adds + [(Choice.NEW_QUESTION, None), (Choice.CANCEL, None)]
    return [(Choice.ASK_EXPERT, None)]


# -- awaited inputs -----------------------------------------------------------------------------------


def await_input(db, user_id: int, name: str, data: dict, now: dt.datetime, ttl: dt.timedelta) -> None:
    """The bot asked ``user_id`` to type ``name`` next (replacing any earlier prompt)."""
    subject = str(data.get("subject") or data.get("id") or data.get("qid") or
                  ":".join(str(data[k]) for k in ("iso3", "step") if data.get(k)) or "")
    store.put_awaited(db, user_id, name, subject, data, now, now + ttl)


def cancel_input(db, user_id: int) -> bool:
    """Drop the person's awaited input; True if there was one."""
    return store.delete_awaited(db, user_id)


def take_input(db, user_id: int) -> bool:
    """The awaited input was answered: it is no longer awaited."""
    return store.delete_awaited(db, user_id)


def live_inputs(db, now: dt.datetime) -> list[dict]:
    """Prompts still awaiting an answer (restored into the running bot at start-up)."""
    store.drop_expired(db, now)
    return store.live_awaited(db, now)


# -- offers: a message the person may still file -------------------------------------------------------


def keep_offer(db, who: Person, *, chat_id: int, message_id: int, text: str, now: dt.datetime, kind: str = "text",
               candidates: Iterable[str] = (), attachment: dict | None = None, ttl: dt.timedelta = dt.timedelta(days=7)) -> None:
    """The person's message the bot offered buttons for (add to a query, ask the experts)."""
    store.put_offer(db, user_id=who.user_id, chat_id=chat_id, message_id=message_id, kind=kind, text=text.strip(), lang=who.lang,
                    candidates=[str(c) for c in candidates], attachment=attachment, now=now, expires=now + ttl)


def take_offer(db, user_id: int, message_id: int, now: dt.datetime) -> dict | None:
    """The message a button is about, once; None when it was used already or expired."""
    return store.take_offer(db, user_id, message_id, now)


def drop_offers(db, user_id: int) -> int:
    return store.delete_offers(db, user_id)


# -- new queries: who, how many a day -----------------------------------------------------------------


class Created(StrEnum):
    OK = "ok"
    LIMIT = "limit"      # the person's daily number of new queries is reached
    BLOCKED = "blocked"


@dataclass(frozen=True)
class NewQuery:
    outcome: Created
    query_id: int | None = None


def create_query(db, who: Person, *, right: AskRight, limit: int, text: str, source: str, lang: str,
                 candidates: Iterable[str] = (), attachments: Iterable[dict] = (),
                 asker_message: tuple[int, int] | None = None, now: dt.datetime) -> NewQuery:
    """A new query, unless the person is blocked or reached today's limit (the last 24 hours);
    a visitor's is marked unverified. One transaction."""
    if store.is_blocked(db, who.user_id):
        return NewQuery(Created.BLOCKED)
    if store.queries_since(db, who.user_id, now - dt.timedelta(days=1)) >= limit:
        return NewQuery(Created.LIMIT)
    qid = lifecycle.create_query(db, asker_id=who.user_id, country=who.country if right is AskRight.FOCAL_POINT else None,
                                 lang=lang, text=text, source=source, candidates=candidates, attachments=attachments,
                                 asker_message=asker_message, now=now)
    if right is not AskRight.FOCAL_POINT:
        store.mark_unverified(db, qid)
    store.delete_awaited(db, who.user_id)
    return NewQuery(Created.OK, qid)


# -- blocking ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    done: bool              # changed something
    user_id: int | None     # who (None: no such query)
    query_id: int | None = None


def block_user(db, user_id: int, *, by_user: int | None, how: str, now: dt.datetime, query_id: int | None = None) -> Block:
    done = store.block(db, user_id, by_user, how, query_id, now)
    if done:
        store.delete_awaited(db, user_id)
        store.delete_offers(db, user_id)
        if query_id is not None:
            hd_store.add_event(db, query_id, now, by_user, "asker_blocked", None, None, detail=how)
    return Block(done, user_id, query_id)


def block_asker(db, query_id: int, *, by_user: int, now: dt.datetime) -> Block:
    """``/block N``: the asker of query N."""
    query = hd_store.get_query(db, query_id)
    if query is None or not query.get("asker_id"):
        return Block(False, None, query_id)
    return block_user(db, query["asker_id"], by_user=by_user, how="chat", now=now, query_id=query_id)


def unblock_user(db, user_id: int, *, by_user: int | None, how: str, now: dt.datetime) -> Block:
    return Block(store.unblock(db, user_id, by_user, how, now), user_id)


def block_history(db, user_id: int) -> list[dict]:
    return store.block_events(db, user_id)


def is_blocked(db, user_id: int) -> bool:
    return store.is_blocked(db, user_id)


def blocked_ids(db) -> frozenset[int]:
    return frozenset(store.blocked_ids(db))


# -- edits ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Edit:
    query: dict | None     # the query the edited message belongs to (None: the edit is ignored)
    text: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def record_edit(db, who: Person, *, chat_id: int, message_id: int, text: str, now: dt.datetime) -> Edit:
    """An edited private message: if it became part of one of the person's queries, its new text
    is stored with an event row; any other edit changes nothing."""
    text = text.strip()
    if text.startswith("/"):  # an edited "/ask question": the question
        text = text.split(None, 1)[1].strip() if len(text.split(None, 1)) > 1 else ""
    if not text:
        return Edit(None)
    routed = hd_store.route(db, chat_id, message_id)
    if routed is None or routed["role"] != "asker":
        return Edit(None)
    query = hd_store.get_query(db, routed["query_id"])
    if query is None or query["asker_id"] != who.user_id:
        return Edit(None)
    store.update_asker_message(db, chat_id, message_id, text)
    hd_store.add_event(db, query["id"], now, who.user_id, "edited", None, None, detail=str(message_id))
    hd_store.update_query(db, query["id"], now)
    return Edit(hd_store.get_query(db, query["id"]), text)


# -- who is shown what -----------------------------------------------------------------------------------------

#: commands only who may ask the helpdesk is shown (menus, /help)
ASKER_COMMANDS = ("ask", "myqueries")


def menu_for_everyone(services, commands: list[str]) -> list[str]:
    """The private chats' command menu: without /ask and /myqueries when visitors must register."""
    if settings_of(services).visitors is Visitors.ASK:
        return list(commands)
    return [c for c in commands if c not in ASKER_COMMANDS]


def focal_points(db) -> list[tuple[int, str]]:
    """Every registered focal point and their language (their menu has /ask and /myqueries)."""
    return [(row["user_id"], row.get("lang") or "en") for row in users.users_where(db, role="focal_point")]


def help_lines(text: str, right: AskRight) -> str:
    """/help's general part, without the lines of commands this person cannot use."""
    if right.may_ask:
        return text
    return "\n".join(line for line in text.split("\n") if not line.startswith(tuple("/" + c for c in ASKER_COMMANDS)))
