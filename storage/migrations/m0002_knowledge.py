"""Knowledge: FAQ entries, their full-text index, misses, feedback, "most asked", drafts.

* ``faq_entries`` - one row per entry and language, readable as is in Datasette
  (``alts`` is a JSON list). ``origin`` is ``yaml`` (from knowledge/faq/*.yaml,
  replaced on every reload) or ``promoted`` (approved helpdesk answers, kept).
* ``faq_strings`` - every question, phrasing and answer as its own row with a
  normalised copy (``norm``: case- and accent-folded) and ``faq_strings_fts``, an
  FTS5 index over ``norm`` with the ``trigram`` tokenizer, so Chinese and other text
  without spaces is searchable and typos still share most trigrams. Derived data:
  rebuilt from ``faq_entries`` on every load.
* ``faq_state`` - one row: the knowledge version, bumped on every change, that a
  running bot polls to notice a reload made by another process.
* ``faq_misses`` - abstentions and "not helpful" answers for the secretariat.
* ``faq_feedback``, ``faq_asked`` - helpful/not votes and per-entry ask counts.
* ``faq_drafts`` - helpdesk answers proposed as FAQ entries, until approved or rejected.
"""
from __future__ import annotations


def apply(db) -> None:
    db["faq_entries"].create(
        {
            "id": str,
            "lang": str,
            "topic": str,
            "source": str,
            "note": str,
            "q": str,
            "alts": str,
            "a": str,
            "origin": str,
            "position": int,
            "loaded_at": str,
        },
        pk=("id", "lang"),
        not_null={"id", "lang", "topic", "q", "a", "origin"},
        defaults={"origin": "yaml", "alts": "[]", "position": 0},
    )
    db["faq_entries"].create_index(["origin"])
    db["faq_entries"].create_index(["topic"])

    db["faq_strings"].create(
        {"id": int, "entry_id": str, "lang": str, "kind": str, "text": str, "norm": str},
        pk="id",
        not_null={"entry_id", "lang", "kind", "text", "norm"},
    )
    db["faq_strings"].create_index(["entry_id"])
    db["faq_strings"].enable_fts(["norm"], fts_version="FTS5", tokenize="trigram", create_triggers=True)

    db.execute(
        """
        CREATE TABLE faq_state (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            version INTEGER NOT NULL DEFAULT 0,
            loaded_at TEXT,
            yaml_entries INTEGER NOT NULL DEFAULT 0,
            promoted_entries INTEGER NOT NULL DEFAULT 0
        )
        """
    )
    db.execute("INSERT INTO faq_state (id, version) VALUES (1, 0)")

    db["faq_misses"].create(
        {
            "id": int,
            "created_at": str,
            "kind": str,
            "query": str,
            "lang": str,
            "best_score": float,
            "country": str,
            "user_id": int,
            "entry_id": str,
        },
        pk="id",
        not_null={"created_at", "kind", "query"},
    )
    db["faq_misses"].create_index(["created_at"])

    db["faq_feedback"].create(
        {
            "id": int,
            "created_at": str,
            "entry_id": str,
            "helpful": int,
            "lang": str,
            "user_id": int,
            "country": str,
            "query": str,
        },
        pk="id",
        not_null={"created_at", "entry_id", "helpful"},
    )
    db["faq_feedback"].create_index(["entry_id"])

    db["faq_asked"].create(
        {"entry_id": str, "count": int, "last_asked_at": str},
        pk="entry_id",
        not_null={"count"},
        defaults={"count": 0},
    )

    db["faq_drafts"].create(
        {
            "id": int,
            "created_at": str,
            "created_by": int,
            "status": str,
            "topic": str,
            "source": str,
            "note": str,
            "texts": str,
            "ref": str,
            "entry_id": str,
            "decided_by": int,
            "decided_at": str,
        },
        pk="id",
        not_null={"created_at", "status", "texts"},
        defaults={"status": "pending"},
    )
    db["faq_drafts"].create_index(["status"])
