"""The FAQ search service: the entries in the database, their stored index, the ranking.

Three layers meet here and nowhere else:

* :mod:`storage.faq` holds the entries (and the knowledge version, bumped by every
  change), :mod:`storage.search_index` the built index as a blob;
* :mod:`knowledge.index` builds the index from entries and reads it back,
  :mod:`knowledge.search` ranks queries on it - both pure, handed what they need;
* :class:`FaqSearch` glues them: it follows the knowledge version, and for new content
  loads the index stored for that content's digest, or builds and stores it (once per
  FAQ content, whichever process gets there first).

numpy comes with the index (:mod:`knowledge.index`), so it is imported when a search
first needs the index, not when the module is: commands that never search
(``status``, ``invite``, ...) never load it.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
import sqlite3
import time
from pathlib import Path
from typing import TYPE_CHECKING

from knowledge.faq import FaqEntry, entries_from_json, entries_to_json, load_faq_dir
from storage import faq as faq_store
from storage import search_index as index_store
from storage import users

if TYPE_CHECKING:  # types only: importing them at run time would import numpy
    import sqlite_utils

    from knowledge.index import SearchIndex
    from knowledge.search import Hit, Ranker, Scored

log = logging.getLogger("ldn.search")

_INDEX_CACHE: dict[str, "SearchIndex"] = {}
"""Indexes by digest, shared by every engine of the process serving the same content
(each test's fresh database, a restart of the Application in the console)."""
_PARSED_FAQ: dict[str, list[FaqEntry]] = {}
INDEX_MARK = "faq_index_of"
"""``bot_state`` key: ``<knowledge version>:<digest>`` of the index last loaded or built."""


def load_knowledge(db: "sqlite_utils.Database", path: str | Path | None = None,
                   topics_path: str | Path | None = None) -> int:
    """Validate the FAQ files and load them into the database; return the new knowledge version.

    On any problem :class:`~knowledge.yamlfile.DataError` is raised *before* the
    database is touched, so the knowledge already loaded keeps being served. Promoted
    (helpdesk) entries are kept. The one way YAML reaches the database (bot start,
    ``/reload`` and ``ldn-bot faq reload``).
    """
    entries = load_faq_dir(path, topics_path=topics_path)
    return faq_store.load_entries(db, entries)


def faq_fingerprint(knowledge_dir: Path) -> str:
    """A digest of the FAQ files and topics: unchanged files need no reload at start."""
    digest = hashlib.sha256()
    for path in sorted((knowledge_dir / "faq").glob("*.yaml")) + [knowledge_dir / "topics.yaml"]:
        if path.exists():
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def sync_knowledge(db: "sqlite_utils.Database", knowledge_dir: Path, now) -> bool:
    """Load the FAQ files into the database if they changed since the last load (by
    fingerprint); True if they were loaded. Invalid files raise DataError. Files already
    parsed and validated (in this process, or saved beside the database, see
    :mod:`storage.search_index`) are not parsed again."""
    fingerprint = faq_fingerprint(knowledge_dir)
    if users.get_state(db, "faq_fingerprint") == fingerprint:
        return False
    entries = _PARSED_FAQ.get(fingerprint)
    if entries is None:
        saved = index_store.load_parsed_faq(db, fingerprint)
        entries = entries_from_json(saved) if saved is not None else None
    if entries is None:
        entries = load_faq_dir(knowledge_dir / "faq", topics_path=knowledge_dir / "topics.yaml")
        index_store.save_parsed_faq(db, fingerprint, entries_to_json(entries))
    _PARSED_FAQ.clear()
    _PARSED_FAQ[fingerprint] = entries
    faq_store.load_entries(db, entries, now)
    users.set_state(db, "faq_fingerprint", fingerprint, now)
    return True


def index_for(db: "sqlite_utils.Database", entries: list[FaqEntry]) -> "SearchIndex":
    """The index of ``entries``: from this process's cache, else the one stored in the
    database for their digest, else built now and stored."""
    from knowledge.index import SearchIndex, entries_digest  # numpy: only for processes that search

    digest = entries_digest(entries)
    index = _INDEX_CACHE.get(digest)
    if index is not None:
        return index
    blob = index_store.load_index(db, digest)
    index = SearchIndex.from_bytes(blob, entries, digest) if blob is not None else None
    if index is None:
        start = time.perf_counter()
        index = SearchIndex.build(entries)
        data = index.to_bytes()
        index_store.save_index(db, digest, data)
        log.info("search.index_built", extra={"entries": len(entries), "bytes": len(data),
                                              "ms": round((time.perf_counter() - start) * 1000)})
    if len(_INDEX_CACHE) >= 4:
        _INDEX_CACHE.clear()
    _INDEX_CACHE[digest] = index
    return index


class FaqSearch:
    """Hybrid FAQ search over the entries in the database.

    Build one per process with a migrated sqlite-utils ``Database`` (knowledge loaded by
    :func:`load_knowledge`). Nothing is read until the first use (or at once with
    ``warm``, as the bot does before it starts polling); then the index is loaded
    (stored per content digest, see :func:`index_for`) and replaced only when the
    knowledge version in the database changes, which :meth:`refresh_if_changed` checks
    with one tiny query - done before every search that may touch SQLite, so a
    ``faq reload`` or an approved helpdesk answer from another process is seen.
    """

    def __init__(self, db: "sqlite_utils.Database", threshold: float | None = None,
                 related_threshold: float | None = None, exhaustive: bool = False, warm: bool = False):
        self.db = db
        self.exhaustive = exhaustive  # score every candidate fully (tuning, tests), see scored()
        self._threshold = threshold
        self._related = related_threshold
        # (version, ranker), replaced as one: a search running on another thread than a
        # refresh works on one consistent snapshot.
        self._state: tuple[int, Ranker | None] = (-1, None)
        self._last: tuple | None = None
        if warm:
            self.refresh_if_changed()

    # -- knowledge ----------------------------------------------------------------------

    def refresh_if_changed(self) -> bool:
        """Reload the entries if the knowledge version changed; True if it did."""
        from knowledge.search import RELATED_THRESHOLD, THRESHOLD, Ranker  # numpy, see the module docstring

        version = faq_store.knowledge_version(self.db)
        if version == self._state[0]:
            return False
        entries = faq_store.read_entries(self.db)
        ranker = Ranker(index_for(self.db, entries),
                        threshold=THRESHOLD if self._threshold is None else self._threshold,
                        related_threshold=RELATED_THRESHOLD if self._related is None else self._related,
                        exhaustive=self.exhaustive)
        self._state = (version, ranker)
        mark = f"{version}:{ranker.index.digest}"
        try:
            if users.get_state(self.db, INDEX_MARK) != mark:
                users.set_state(self.db, INDEX_MARK, mark, dt.datetime.now(dt.timezone.utc))
        except sqlite3.OperationalError:  # a read-only database: the mark only spares a start some work
            pass
        return True

    def index_stored(self) -> bool:
        """Whether the index of the entries in the database is stored, so the first search
        loads it in milliseconds (``run`` then leaves it to that search); known from the
        last index loaded at this knowledge version, without reading the entries or numpy."""
        version, _, digest = (users.get_state(self.db, INDEX_MARK) or "").partition(":")
        return version == str(faq_store.knowledge_version(self.db)) and index_store.has_index(self.db, digest)

    def _ranker(self, offline: bool = False) -> "Ranker":
        ranker = self._state[1]
        if ranker is None:
            if offline:
                from knowledge.search import NeedsDatabase

                raise NeedsDatabase("the index is not loaded yet")
            self.refresh_if_changed()
            ranker = self._state[1]
            if ranker is None:  # cannot be: the first refresh always builds one (no version is -1)
                raise RuntimeError("the FAQ index did not load")
        return ranker

    @property
    def version(self) -> int:
        """The knowledge version the in-memory index was built from."""
        self._ranker()
        return self._state[0]

    @property
    def index(self) -> "SearchIndex":
        """The index searched (loaded on first use)."""
        return self._ranker().index

    @property
    def ranker(self) -> "Ranker":
        return self._ranker()

    @property
    def threshold(self) -> float:
        return self._ranker().threshold

    @property
    def related_threshold(self) -> float:
        return self._ranker().related_threshold

    # The accessors below read the in-memory copy only (no SQL once loaded), so handlers
    # may call them from any thread; it is as fresh as the last search or refresh_if_changed().

    def entries(self) -> list[FaqEntry]:
        """Every entry: YAML ones in file order, then promoted ones."""
        return list(self.index.entries)

    def get(self, entry_id: str) -> FaqEntry | None:
        """The entry with this id, or None."""
        index = self.index
        i = index.by_id.get(entry_id)
        return None if i is None else index.entries[i]

    def by_topic(self, topic: str) -> list[FaqEntry]:
        """The entries of one topic, in file order."""
        return [entry for entry in self.index.entries if entry.topic == topic]

    def topics(self) -> list[str]:
        """Topic ids that have entries, in order of first appearance."""
        return list(dict.fromkeys(entry.topic for entry in self.index.entries))

    # -- searching ------------------------------------------------------------------------

    def scored(self, query: str, *, keep: int = 3, offline: bool = False) -> list["Scored"]:
        """The candidates with their signals and merged score, best first (see
        :meth:`knowledge.search.Ranker.rank`).

        The last result is kept, so ``best_score`` right after ``search`` (the miss
        log of an abstention) costs nothing.

        With ``offline`` the search touches no SQLite, so it may run on the event loop:
        the knowledge version is not checked (the caller does that now and then), and
        if no index is loaded yet :class:`~knowledge.search.NeedsDatabase` is raised
        before any work.
        """
        return self._scored(query, keep, offline)[0]

    def _scored(self, query: str, keep: int, offline: bool) -> tuple[list["Scored"], "Ranker"]:
        if not offline:
            self.refresh_if_changed()
        ranker = self._ranker(offline)
        version = self._state[0]
        last = self._last
        if last is not None and last[0] == (version, query) and last[1] >= keep and last[3] is ranker:
            return last[2], ranker
        ranked = ranker.rank(query, keep)
        self._last = ((version, query), keep, ranked, ranker)
        return ranked, ranker

    def search(self, query: str, limit: int = 3, *, offline: bool = False) -> list["Hit"]:
        """Best entries for ``query`` (any of the six languages), best first; ``[]`` = abstain.
        ``offline``: see :meth:`scored`."""
        ranked, ranker = self._scored(query, max(limit, 1), offline)
        return ranker.hits(ranked, limit)

    def best_score(self, query: str, *, offline: bool = False) -> float:
        """Score of the best candidate even below the threshold (0.0 if none), for the miss log."""
        ranked = self.scored(query, keep=1, offline=offline)
        return round(min(1.0, max(0.0, ranked[0].score)), 4) if ranked else 0.0
