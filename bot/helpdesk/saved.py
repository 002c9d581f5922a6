"""Experts answer in the asker's language: saved replies (one text per language) and FAQ
entries sent as an expert's answer. Plain services, ``now`` passed in.

The syntax of ``/saved add NAME`` (the lines after the command)::

    /saved add portal-login
    en: Log in to PRAIS with the account of your national focal point.
    fr: Connectez-vous à PRAIS avec le compte de votre point focal national.
    es: ...

Each line ``xx: text`` starts the text of language ``xx`` (one of en fr es ru ar zh); the
lines after it, up to the next ``xx:``, continue that text. English is required (it is what
an asker gets when their language is missing, and the expert is told so).
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum

from bot.helpdesk.lifecycle import Reply, record_expert_reply
from bot.helpdesk.relay import asker_language
from knowledge.vocabulary import LANGS
from storage import helpdesk as helpdesk_store
from storage import saved as store
from storage import users

NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
MAX_TEXT = 3500
_LANG_LINE = re.compile(rf"^\s*({'|'.join(LANGS)})\s*:\s?(.*)$", re.I)


class SavedError(StrEnum):
    BAD_NAME = "bad_name"
    NO_ENGLISH = "no_english"
    EMPTY = "empty"
    TOO_LONG = "too_long"
    BAD_LINE = "bad_line"


def parse_texts(body: str) -> tuple[dict[str, str], SavedError | None]:
    """The ``xx: text`` lines of ``/saved add`` to ``{lang: text}``, or what is wrong."""
    texts: dict[str, list[str]] = {}
    current: str | None = None
    for line in (body or "").splitlines():
        m = _LANG_LINE.match(line)
        if m:
            current = m.group(1).lower()
            texts[current] = [m.group(2)]
        elif current is not None:
            texts[current].append(line)
        elif line.strip():
            return {}, SavedError.BAD_LINE
    joined = {lang: "\n".join(lines).strip() for lang, lines in texts.items()}
    joined = {lang: text for lang, text in joined.items() if text}
    if not joined:
        return {}, SavedError.EMPTY
    if "en" not in joined:
        return {}, SavedError.NO_ENGLISH
    if any(len(text) > MAX_TEXT for text in joined.values()):
        return {}, SavedError.TOO_LONG
    return joined, None


@dataclass(frozen=True)
class Saved:
    ok: bool
    name: str
    langs: tuple[str, ...] = ()
    new: bool = False
    error: SavedError | None = None


def save(db, name: str, body: str, by: int, now: dt.datetime) -> Saved:
    """``/saved add NAME`` with its texts: stored (replacing the texts of an existing name)."""
    name = (name or "").strip().lower()
    if not NAME.match(name):
        return Saved(False, name, error=SavedError.BAD_NAME)
    texts, error = parse_texts(body)
    if error is not None:
        return Saved(False, name, error=error)
    new = store.put(db, name, texts, by, now)
    return Saved(True, name, tuple(lang for lang in LANGS if lang in texts), new)


def saved_names(db) -> list[tuple[str, list[str]]]:
    return store.names(db)


@dataclass(frozen=True)
class ForAsker:
    """A text chosen for a query's asker: in their language, or English when it is missing."""

    query: dict
    lang: str  # the asker's language
    text: str
    fallback: bool  # the asker's language was missing: English was taken


def saved_for_query(db, name: str, qid: int) -> ForAsker | None:
    """Saved reply ``name`` in the language of query ``qid``'s asker; None if either is unknown."""
    texts = store.get(db, (name or "").strip().lower())
    query = helpdesk_store.get_query(db, qid)
    if texts is None or query is None:
        return None
    lang = asker_language(db, query)
    text = texts.get(lang)
    return ForAsker(query, lang, text if text else texts["en"], not text)


@dataclass(frozen=True)
class Asking:
    """The query and who asked it (their language and country), for an FAQ entry sent as an answer."""

    query: dict
    lang: str
    country: str | None
    role: str | None


def asker_of(db, qid: int) -> Asking | None:
    query = helpdesk_store.get_query(db, qid)
    if query is None:
        return None
    user = users.get_user(db, query["asker_id"]) or {}
    return Asking(query, asker_language(db, query), user.get("country") or query.get("country"), user.get("role"))


def record_answer(db, qid: int, expert_id: int, *, chat_id: int, message_id: int, text: str, source: str,
                  now: dt.datetime) -> Reply:
    """The text the bot posted in the experts' chat for ``expert_id`` is that expert's answer to
    the query (recorded before it is relayed, as any expert's reply); ``source`` says which
    saved reply or FAQ entry it was, in the query's events."""
    reply = record_expert_reply(db, qid, expert_id, chat_id=chat_id, message_id=message_id, kind="text", text=text,
                                attachment=None, now=now)
    if reply.recorded:
        helpdesk_store.add_event(db, qid, now, expert_id, "answer_in_language", None, None, detail=source[:100])
    return reply
