"""What the asker's flow reads and records: suggestions for a new question, and which query
a private message continues. (Creating a query and adding a follow-up are changes of
:mod:`bot.helpdesk.lifecycle`.)"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from storage import helpdesk as store

log = logging.getLogger("ldn.helpdesk")

#: How many FAQ entries a query keeps as "the FAQ suggested these".
MAX_CANDIDATES = 5


def suggest(db, search, text: str) -> list[str]:
    """The FAQ entries closest to the question (they are shown on the card)."""
    try:
        return [hit.id for hit in search.search(text, 3)]
    except Exception:  # noqa: BLE001 - suggestions are optional: the query is stored without them
        log.info("helpdesk.search_failed")
        return []


@dataclass(frozen=True)
class Continuation:
    """Which query a private message may continue: the one its reply points to (if any),
    and the asker's queries that are still followable, newest first."""

    routed: dict | None
    candidates: list[dict]

    @property
    def target(self) -> int | None:
        """The query the message goes to without asking, if there is one."""
        if self.routed and any(q["id"] == self.routed["query_id"] for q in self.candidates):
            return self.routed["query_id"]
        return self.candidates[0]["id"] if len(self.candidates) == 1 else None


def continuation(db, asker_id: int, country: str | None, chat_id: int, reply_to: int | None) -> Continuation:
    routed = store.route(db, chat_id, reply_to) if reply_to is not None else None
    return Continuation(routed, store.followable(db, asker_id, country))


def asker_queries(db, asker_id: int, country: str | None, limit: int = 20) -> list[dict]:
    """/myqueries: the asker's queries for their country, newest first."""
    return store.asker_queries(db, asker_id, country, limit)
