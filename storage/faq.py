"""All SQL of the FAQ: entries and their index, knowledge version, misses, feedback, drafts.

Tables are created by ``storage/migrations/m0002_knowledge.py``. The search
(:mod:`bot.search`) reads the entries from here and builds its own index from them
(stored by :mod:`storage.search_index`). Nothing else in the project writes these
tables directly. :func:`fts_table` builds an SQLite FTS5 index of the same strings for
comparison (the bench's FTS5 baseline, the test of the engine's bm25).
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Any, Iterable, Mapping

import sqlite_utils

from knowledge.faq import LANGS, MAX_ANSWER_CHARS, FaqEntry, FaqText
from knowledge.text import fold
from storage.db import transaction, utcnow_iso

MISS_KINDS = ("abstain", "not_helpful")
MAX_LOGGED_QUERY = 1000


def _now(now: dt.datetime | None) -> str:
    return utcnow_iso(now or dt.datetime.now(dt.timezone.utc))


# -- knowledge version -----------------------------------------------------------------


def knowledge_version(db: sqlite_utils.Database) -> int:
    """The knowledge version: 0 before the first load, then bumped by every change.

    One indexed row read, cheap enough to call before every search.
    """
    row = db.execute("SELECT version FROM faq_state WHERE id = 1").fetchone()
    return row[0] if row else 0


def knowledge_state(db: sqlite_utils.Database) -> dict[str, Any]:
    """Version, time of the last load, and entry counts (for ``/status`` and the CLI)."""
    row = db.execute(
        "SELECT version, loaded_at, yaml_entries, promoted_entries FROM faq_state WHERE id = 1"
    ).fetchone()
    if not row:
        return {"version": 0, "loaded_at": None, "yaml_entries": 0, "promoted_entries": 0}
    return dict(zip(("version", "loaded_at", "yaml_entries", "promoted_entries"), row, strict=True))


def _bump(db: sqlite_utils.Database, now: str) -> int:
    counts = dict(
        db.execute("SELECT origin, count(DISTINCT id) FROM faq_entries GROUP BY origin").fetchall()
    )
    db.execute(
        "UPDATE faq_state SET version = version + 1, loaded_at = ?, yaml_entries = ?, promoted_entries = ? WHERE id = 1",
        [now, counts.get("yaml", 0), counts.get("promoted", 0)],
    )
    return knowledge_version(db)


# -- entries -------------------------------------------------------------------------


def _entry_rows(entry: FaqEntry, origin: str, position: int, now: str) -> list[dict]:
    return [
        {
            "id": entry.id,
            "lang": lang,
            "topic": entry.topic,
            "source": entry.source,
            "note": entry.note,
            "q": text.q,
            "alts": json.dumps(list(text.alt), ensure_ascii=False),
            "a": text.a,
            "origin": origin,
            "position": position,
            "loaded_at": now,
        }
        for lang, text in entry.texts.items()
    ]


def load_entries(db: sqlite_utils.Database, entries: Iterable[FaqEntry], now: dt.datetime | None = None) -> int:
    """Replace the YAML-origin entries by ``entries`` in one transaction; return the new version.

    Promoted entries are kept, except one whose id now also exists in the YAML (the
    secretariat moved it into the files: the file wins). Readers see either the old
    or the new knowledge, never a mix.
    """
    entries = list(entries)
    stamp = _now(now)
    with transaction(db):
        db.execute("DELETE FROM faq_entries WHERE origin = 'yaml'")
        ids = [entry.id for entry in entries]
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            db.execute(
                f"DELETE FROM faq_entries WHERE id IN ({','.join('?' * len(chunk))})", chunk
            )
        rows = []
        for position, entry in enumerate(entries):
            rows.extend(_entry_rows(entry, "yaml", position, stamp))
        if rows:
            db.table("faq_entries").insert_all(rows, batch_size=500)
        return _bump(db, stamp)


def read_entries(db: sqlite_utils.Database) -> list[FaqEntry]:
    """Every entry in the database: YAML ones in file order, then promoted ones."""
    grouped: dict[str, dict] = {}
    for row in db.execute(
        "SELECT id, lang, topic, source, note, q, alts, a, origin FROM faq_entries "
        "ORDER BY origin = 'promoted', position, id"
    ).fetchall():
        entry_id, lang, topic, source, note, q, alts, a, origin = row
        item = grouped.setdefault(
            entry_id, {"topic": topic, "source": source, "note": note, "origin": origin, "texts": {}}
        )
        item["texts"][lang] = FaqText(q=q, alt=tuple(json.loads(alts or "[]")), a=a)
    entries = []
    for entry_id, item in grouped.items():
        texts = {lang: item["texts"][lang] for lang in LANGS if lang in item["texts"]}
        texts.update({k: v for k, v in item["texts"].items() if k not in texts})
        entries.append(
            FaqEntry(
                id=entry_id,
                topic=item["topic"],
                source=item["source"] or "",
                note=item["note"],
                texts=texts,
                origin=item["origin"],
            )
        )
    return entries


# -- misses (the secretariat's "gaps") -------------------------------------------------


def log_miss(
    db: sqlite_utils.Database,
    query: str,
    *,
    lang: str | None,
    best_score: float | None,
    kind: str = "abstain",
    country: str | None = None,
    user_id: int | None = None,
    entry_id: str | None = None,
    now: dt.datetime | None = None,
) -> int:
    """Record a question the FAQ did not answer (``abstain``) or answered unhelpfully
    (``not_helpful``, with the ``entry_id`` shown). Returns the row id."""
    if kind not in MISS_KINDS:
        raise ValueError(f"kind must be one of {MISS_KINDS}, not {kind!r}")
    # A plain INSERT (committed on its own: autocommit connection): every abstention
    # writes one row before it is answered, and sqlite-utils' insert() would look the
    # table up first each time.
    cursor = db.execute(
        "INSERT INTO faq_misses (created_at, kind, query, lang, best_score, country, user_id, entry_id) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [_now(now), kind, (query or "")[:MAX_LOGGED_QUERY], lang,
         None if best_score is None else round(float(best_score), 4), country, user_id, entry_id],
    )
    return int(cursor.lastrowid or 0)


def list_gaps(
    db: sqlite_utils.Database,
    *,
    since: dt.datetime | str | None = None,
    kind: str | None = None,
    limit: int | None = None,
) -> list[dict]:
    """Misses, newest first: ``created_at, kind, query, lang, best_score, country, entry_id, user_id``."""
    where: list[str] = []
    args: list = []
    if since is not None:
        where.append("created_at >= ?")
        args.append(since if isinstance(since, str) else utcnow_iso(since))
    if kind is not None:
        where.append("kind = ?")
        args.append(kind)
    sql = "SELECT created_at, kind, query, lang, best_score, country, entry_id, user_id FROM faq_misses"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY created_at DESC, id DESC"
    if limit is not None:
        sql += " LIMIT ?"
        args.append(int(limit))
    cursor = db.execute(sql, args)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


# -- feedback and "most asked" ------------------------------------------------------------


def record_feedback(
    db: sqlite_utils.Database,
    entry_id: str,
    helpful: bool,
    *,
    lang: str | None = None,
    user_id: int | None = None,
    country: str | None = None,
    query: str | None = None,
    best_score: float | None = None,
    now: dt.datetime | None = None,
) -> None:
    """Store a helpful / not helpful vote; a "not helpful" with its query is also a miss."""
    with transaction(db):
        db.table("faq_feedback").insert(
            {
                "created_at": _now(now),
                "entry_id": entry_id,
                "helpful": 1 if helpful else 0,
                "lang": lang,
                "user_id": user_id,
                "country": country,
                "query": (query or None) and query[:MAX_LOGGED_QUERY],
            }
        )
        if not helpful:
            log_miss(
                db,
                query or "",
                lang=lang,
                best_score=best_score,
                kind="not_helpful",
                country=country,
                user_id=user_id,
                entry_id=entry_id,
                now=now,
            )


def feedback_counts(db: sqlite_utils.Database) -> dict[str, tuple[int, int]]:
    """Entry id -> (helpful, not helpful) vote counts."""
    return {
        row[0]: (row[1], row[2])
        for row in db.execute(
            "SELECT entry_id, sum(helpful), sum(1 - helpful) FROM faq_feedback GROUP BY entry_id"
        ).fetchall()
    }


def record_asked(db: sqlite_utils.Database, entry_id: str, now: dt.datetime | None = None, times: int = 1) -> None:
    """Count ``times`` more times ``entry_id`` was served as an answer."""
    db.execute(
        "INSERT INTO faq_asked (entry_id, count, last_asked_at) VALUES (?, ?, ?) "
        "ON CONFLICT(entry_id) DO UPDATE SET count = count + excluded.count, last_asked_at = excluded.last_asked_at",
        [entry_id, times, _now(now)],
    )


def most_asked(db: sqlite_utils.Database, n: int = 5) -> list[tuple[str, int]]:
    """The ``n`` most asked entries that still exist: ``[(entry_id, count)]``."""
    return [
        (row[0], row[1])
        for row in db.execute(
            "SELECT entry_id, count FROM faq_asked "
            "WHERE entry_id IN (SELECT id FROM faq_entries) "
            "ORDER BY count DESC, last_asked_at DESC, entry_id LIMIT ?",
            [int(n)],
        ).fetchall()
    ]


# -- drafts: helpdesk answers promoted to FAQ entries -------------------------------------


def _clean_texts(texts: Mapping[str, Any]) -> dict[str, dict]:
    cleaned: dict[str, dict] = {}
    for lang, text in texts.items():
        if lang not in LANGS:
            raise ValueError(f"unknown language {lang!r}")
        if isinstance(text, FaqText):
            q, alt, a = text.q, list(text.alt), text.a
        else:
            q, alt, a = text.get("q"), list(text.get("alt") or []), text.get("a")
        if not (isinstance(q, str) and q.strip() and isinstance(a, str) and a.strip()):
            raise ValueError(f"{lang}: a draft needs a question and an answer")
        if len(a.strip()) > MAX_ANSWER_CHARS:
            raise ValueError(f"{lang}: answer longer than {MAX_ANSWER_CHARS} characters")
        cleaned[lang] = {"q": q.strip(), "alt": [s.strip() for s in alt if s and s.strip()], "a": a.strip()}
    if not cleaned:
        raise ValueError("a draft needs at least one language")
    return cleaned


def add_draft(
    db: sqlite_utils.Database,
    texts: Mapping[str, Any] | None = None,
    *,
    topic: str,
    q: str | None = None,
    a: str | None = None,
    lang: str = "en",
    alt: Iterable[str] = (),
    source: str = "LDN TSP helpdesk",
    note: str | None = None,
    ref: str | None = None,
    created_by: int | None = None,
    now: dt.datetime | None = None,
) -> int:
    """Propose a resolved helpdesk query as an FAQ entry; returns the draft id.

    Give either ``texts`` (``{lang: {"q", "alt", "a"}}`` or :class:`FaqText`, any
    subset of the six languages) or ``q``/``a`` in one ``lang``. ``ref`` links back
    to the helpdesk query (free text, e.g. ``"query:42"``).
    """
    if texts is None:
        texts = {lang: {"q": q, "a": a, "alt": list(alt)}}
    cleaned = _clean_texts(texts)
    table = db.table("faq_drafts")
    table.insert(
        {
            "created_at": _now(now),
            "created_by": created_by,
            "status": "pending",
            "topic": topic,
            "source": source,
            "note": note,
            "texts": json.dumps(cleaned, ensure_ascii=False),
            "ref": ref,
        }
    )
    pk = table.last_pk
    assert pk is not None  # just inserted
    return int(pk)


def list_drafts(db: sqlite_utils.Database, status: str | None = "pending") -> list[dict]:
    """Drafts (pending ones by default), oldest first, with ``texts`` decoded."""
    sql = "SELECT * FROM faq_drafts"
    args: list = []
    if status is not None:
        sql += " WHERE status = ?"
        args.append(status)
    cursor = db.execute(sql + " ORDER BY id", args)
    names = [d[0] for d in cursor.description]
    rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    for row in rows:
        row["texts"] = json.loads(row["texts"])
    return rows


def _pending_draft(db: sqlite_utils.Database, draft_id: int) -> dict:
    row = db.execute("SELECT status, topic, source, note, texts FROM faq_drafts WHERE id = ?", [draft_id]).fetchone()
    if row is None:
        raise KeyError(f"no draft {draft_id}")
    if row[0] != "pending":
        raise ValueError(f"draft {draft_id} is already {row[0]}")
    return {"topic": row[1], "source": row[2], "note": row[3], "texts": json.loads(row[4])}


def approve_draft(
    db: sqlite_utils.Database,
    draft_id: int,
    by: int | None,
    *,
    entry_id: str | None = None,
    now: dt.datetime | None = None,
) -> str:
    """Publish a pending draft as a promoted FAQ entry; return its id (``helpdesk-<draft>``).

    The entry is searchable at once (the knowledge version is bumped) and survives
    restarts and YAML reloads.
    """
    stamp = _now(now)
    entry_id = entry_id or f"helpdesk-{draft_id}"
    with transaction(db):
        draft = _pending_draft(db, draft_id)
        texts = {lang: FaqText(t["q"], tuple(t.get("alt") or ()), t["a"]) for lang, t in draft["texts"].items()}
        entry = FaqEntry(
            id=entry_id,
            topic=draft["topic"],
            source=draft["source"] or "LDN TSP helpdesk",
            note=draft["note"],
            texts=texts,
            origin="promoted",
        )
        if db.execute("SELECT 1 FROM faq_entries WHERE id = ?", [entry_id]).fetchone():
            raise ValueError(f"an FAQ entry {entry_id!r} already exists")
        db.table("faq_entries").insert_all(_entry_rows(entry, "promoted", 0, stamp))
        db.execute(
            "UPDATE faq_drafts SET status = 'approved', entry_id = ?, decided_by = ?, decided_at = ? WHERE id = ?",
            [entry_id, by, stamp, draft_id],
        )
        _bump(db, stamp)
    return entry_id


def reject_draft(db: sqlite_utils.Database, draft_id: int, by: int | None, now: dt.datetime | None = None) -> None:
    """Close a pending draft without publishing it."""
    with transaction(db):
        _pending_draft(db, draft_id)
        db.execute(
            "UPDATE faq_drafts SET status = 'rejected', decided_by = ?, decided_at = ? WHERE id = ?",
            [by, _now(now), draft_id],
        )


def remove_promoted(db: sqlite_utils.Database, entry_id: str, now: dt.datetime | None = None) -> bool:
    """Withdraw a promoted entry; returns False if there was none. YAML entries are not touched."""
    with transaction(db):
        cursor = db.execute("DELETE FROM faq_entries WHERE id = ? AND origin = 'promoted'", [entry_id])
        if cursor.rowcount == 0:
            return False
        stamp = _now(now)
        _bump(db, stamp)
    return True


# -- FTS5, for comparison ---------------------------------------------------------------------


def fts_table(db: sqlite_utils.Database) -> None:
    """(Re)create ``faq_fts``, an SQLite FTS5 ``trigram`` index of every question, phrasing
    and answer (folded as the search folds them), for :func:`fts_candidates`. The bot
    does not use it: the search computes the same bm25 itself (see ``knowledge.search``)."""
    with transaction(db):
        db.execute("DROP TABLE IF EXISTS faq_fts")
        db.execute("CREATE VIRTUAL TABLE faq_fts USING fts5(entry_id UNINDEXED, kind UNINDEXED, norm, tokenize='trigram')")
        rows = []
        for entry_id, q, alts, a in db.execute(
            "SELECT id, q, alts, a FROM faq_entries ORDER BY origin DESC, position, id, lang"
        ).fetchall():
            for kind, text in [("q", q)] + [("alt", alt) for alt in json.loads(alts or "[]")] + [("a", a)]:
                rows.append((entry_id, kind, fold(text)))
        db.conn.executemany("INSERT INTO faq_fts (entry_id, kind, norm) VALUES (?, ?, ?)", rows)


def fts_quote(term: str) -> str:
    """``term`` as one FTS5 string (user text never reaches FTS5 as syntax)."""
    return '"' + term.replace('"', '""') + '"'


_FTS_SQL = """
SELECT entry_id, min(rank * CASE kind WHEN 'a' THEN :answer_weight ELSE 1.0 END) AS best
FROM faq_fts
WHERE faq_fts MATCH :match
GROUP BY entry_id
ORDER BY best
LIMIT :limit
"""


def fts_candidates(
    db: sqlite_utils.Database, match: str, limit: int = 40, answer_weight: float = 1.0
) -> list[tuple[str, float]]:
    """Entries whose strings match an FTS5 ``match`` expression in ``faq_fts`` (see
    :func:`fts_table`): ``(entry_id, bm25)``, best first.

    ``bm25`` is SQLite's (``rank``: negative, lower is better) of the entry's best
    string; a match in an answer is multiplied by ``answer_weight``. ``match`` must
    already be safe FTS5 syntax: quoted terms (see :func:`fts_quote`). The search
    engine computes the same bm25 from its own postings; the tests check both agree.
    """
    return db.execute(_FTS_SQL, {"match": match, "limit": limit, "answer_weight": answer_weight}).fetchall()
