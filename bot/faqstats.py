"""The FAQ's statistics, written in batches: how often each entry was served ("most
asked") and the questions it could not answer (the secretariat's gaps, ``/gaps``).

Neither is something a user was told is stored. An abstention answers "no confident
answer: ask an expert?", and the question travels with that button: the helpdesk
query it becomes is committed before it is acknowledged. So both are kept in memory
and written in one transaction every :data:`FLUSH_SECONDS` or :data:`FLUSH_ITEMS`
items, by a job when traffic stops, before ``/gaps`` reads them, and at shutdown. A
crash loses at most the last few seconds of statistics, and a repeated unanswerable
question no longer costs a database write before its reply (half the cost of that
reply, bench/throughput.py).
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from bot.clock import Clock
from storage import faq as faq_store
from storage.db import Store, transaction

log = logging.getLogger("ldn.faqstats")

FLUSH_SECONDS = 5.0
FLUSH_ITEMS = 100


@dataclass(frozen=True)
class Miss:
    """A question the FAQ abstained on, as ``storage.faq.log_miss`` records it."""

    query: str
    lang: str | None
    best_score: float | None
    country: str | None
    user_id: int | None
    at: dt.datetime  # from the clock


class FaqStats:
    """Pending "most asked" counts and misses of one process."""

    def __init__(self, store: Store, clock: Clock):
        self.store = store
        self.clock = clock
        self.asked: dict[str, int] = {}
        self.misses: list[Miss] = []
        self._since = clock.now()  # the injectable clock: tests decide when time passes

    def count_answer(self, entry_id: str) -> None:
        self.asked[entry_id] = self.asked.get(entry_id, 0) + 1

    def log_miss(self, query: str, *, lang: str | None, best_score: float | None, country: str | None,
                 user_id: int | None) -> None:
        self.misses.append(Miss(query, lang, best_score, country, user_id, self.clock.now()))

    @property
    def pending(self) -> int:
        return sum(self.asked.values()) + len(self.misses)

    def due(self) -> bool:
        pending = self.pending
        return pending >= FLUSH_ITEMS or (pending > 0 and (self.clock.now() - self._since).total_seconds() > FLUSH_SECONDS)

    async def flush_if_due(self) -> None:
        if self.due():
            await self.flush()

    async def flush(self) -> int:
        """Write everything pending in one transaction; return how many items. If the write
        fails, the items stay pending for the next flush."""
        asked, misses = self.asked, self.misses
        self.asked, self.misses, self._since = {}, [], self.clock.now()
        if not asked and not misses:
            return 0
        try:
            await self.store.run(_write, asked, misses, self.clock.now())
        except Exception:
            for entry_id, count in asked.items():
                self.asked[entry_id] = self.asked.get(entry_id, 0) + count
            self.misses[:0] = misses
            raise
        log.debug("faqstats.flushed", extra={"asked": sum(asked.values()), "misses": len(misses)})
        return sum(asked.values()) + len(misses)


def _write(db, asked: dict[str, int], misses: list[Miss], now) -> None:
    from storage import faq as faq_store

    with transaction(db):
        for entry_id, count in asked.items():
            faq_store.record_asked(db, entry_id, now, times=count)
        for miss in misses:
            faq_store.log_miss(db, miss.query, lang=miss.lang, best_score=miss.best_score, kind="abstain",
                               country=miss.country, user_id=miss.user_id, now=miss.at)


# -- what the handlers read and write (each a service function run by Store.run) ----------------

def most_asked(db, n: int) -> list[tuple[str, int]]:
    """(entry id, times served) of the ``n`` most served entries, most first."""
    return list(faq_store.most_asked(db, n))


def record_feedback(db, entry_id: str, helpful: bool, *, lang: str, user_id: int, country: str | None,
                    query: str | None, best_score: float | None, now) -> None:
    """A helpful / not helpful vote on an answer (with the question it answered)."""
    faq_store.record_feedback(db, entry_id, helpful, lang=lang, user_id=user_id, country=country,
                              query=query, best_score=best_score, now=now)


# -- /gaps: this month's unanswered questions, the most asked first -----------------------


@dataclass(frozen=True)
class Gap:
    """One unanswered question of the month: its latest wording, how often and where it was asked."""

    query: str
    times: int
    not_helpful: int
    langs: tuple[str, ...]
    countries: tuple[str, ...]
    best_score: float | None
    last_at: str


@dataclass(frozen=True)
class GapsReport:
    """/gaps: the misses since ``since`` (the first of this month, UTC) counted, then one page
    of questions (``page``, 0-based, within the ``pages`` there are), the most asked first."""

    since: dt.date
    misses: int
    not_helpful: int
    questions: int
    by_lang: list[tuple[str, int]]
    gaps: list[Gap]
    page: int
    pages: int


#: Punctuation that does not make a question another one (a question mark, quotes, a full stop, in six scripts).
_NO_PUNCTUATION = str.maketrans({ch: " " for ch in "?!.,;:¿¡？！。，、؟،…\"'«»“”„()[]"})


def gap_key(query: str) -> str:
    """The same question typed twice (case, spacing, punctuation) counts once; plain string
    operations, since a busy month has tens of thousands of misses to group."""
    return " ".join(query.casefold().translate(_NO_PUNCTUATION).split())


def _gap(members: list[dict]) -> Gap:
    scores = [r["best_score"] for r in members if r["best_score"] is not None]
    return Gap(query=members[0]["query"] or "", times=len(members),
               not_helpful=sum(1 for r in members if r["kind"] == "not_helpful"),
               langs=tuple(dict.fromkeys(r["lang"] or "?" for r in members)),
               countries=tuple(dict.fromkeys(r["country"] for r in members if r["country"])),
               best_score=max(scores) if scores else None, last_at=members[0]["created_at"])


def gaps_report(db, now: dt.datetime, page: int, size: int) -> GapsReport:
    """The same question in any case, spacing or punctuation (:func:`gap_key`) is one; of equally
    often asked ones, the latest asked comes first."""
    start = now.astimezone(dt.timezone.utc).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    rows = faq_store.list_gaps(db, since=start)  # newest first: a group's first row is its latest wording
    groups: dict[str, list[dict]] = {}
    langs: dict[str, int] = {}
    for row in rows:
        groups.setdefault(gap_key(row["query"] or "") or row["query"] or "", []).append(row)
        langs[row["lang"] or "?"] = langs.get(row["lang"] or "?", 0) + 1
    ordered = sorted(groups.values(), key=len, reverse=True)  # stable: ties stay latest first
    pages = max(1, -(-len(ordered) // max(1, size)))
    page = min(max(page, 0), pages - 1)
    return GapsReport(start.date(), len(rows), sum(1 for r in rows if r["kind"] == "not_helpful"), len(ordered),
                      sorted(langs.items(), key=lambda item: (-item[1], item[0])),
                      [_gap(members) for members in ordered[page * size:(page + 1) * size]], page, pages)
