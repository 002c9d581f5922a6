"""What the secretariat's figures read on a year of heavy use, so that SQL does the aggregation
and no hot path reads a growing table whole (issue #16).

* ``queries.first_response_seconds`` and ``queries.resolution_seconds``: the two durations
  ``/stats`` takes medians of, computed the way :func:`bot.helpdesk.rules.first_response_time`
  and ``resolution_time`` compute them (whole seconds; a resolution counts only once the
  query is resolved or closed, time spent pending taken off, never below zero). Two
  triggers keep them right whatever writes the row (an insert, or an update of a column
  they depend on), so no write path has to know; existing rows are filled here. (Virtual
  generated columns would need no trigger, but SQLite before 3.41 reads their value from
  the table, not from an index, and recomputes four date conversions per row: five times slower.)
* ``idx_queries_first_response``, ``idx_queries_resolution``: partial indexes of the
  answered (resolved) queries in the order of those durations, with the country: a median
  is read by walking the index to its middle, never by sorting.
* ``idx_queries_country_times``: a region's counts of queries, answered and resolved, from
  the index alone.
* ``idx_query_ratings_score``: the ratings given (a partial index: the rows asked and never
  answered are left out).
* ``idx_deliveries_failed``, ``idx_deliveries_undelivered``: the failed (undelivered) rows of
  the ledger in id order, for the retryable count of ``status`` and ``ldn-bot deliveries``
  (with the table's statistics SQLite preferred reading the whole ledger in id order).
"""
from __future__ import annotations

_SECONDS = "CAST(strftime('%s', {0}) AS INTEGER) - CAST(strftime('%s', created_at) AS INTEGER)"
FIRST_RESPONSE = f"CASE WHEN coalesce(first_response_at, '') != '' THEN {_SECONDS.format('first_response_at')} END"
RESOLUTION = ("CASE WHEN state IN ('resolved', 'closed') AND coalesce(resolved_at, '') != '' "
              f"THEN max(0, {_SECONDS.format('resolved_at')} - coalesce(paused_seconds, 0)) END")

INDEXES = (
    "CREATE INDEX IF NOT EXISTS idx_queries_first_response ON queries(first_response_seconds, country) "
    "WHERE first_response_seconds IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS idx_queries_resolution ON queries(resolution_seconds, country) "
    "WHERE resolution_seconds IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS idx_queries_country_times ON queries(country, first_response_seconds, resolution_seconds)",
    "CREATE INDEX IF NOT EXISTS idx_query_ratings_score ON query_ratings(score) WHERE score IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS idx_deliveries_failed ON deliveries(id) WHERE status = 'failed'",
    "CREATE INDEX IF NOT EXISTS idx_deliveries_undelivered ON deliveries(id) "
    "WHERE status IN ('failed', 'blocked', 'uncertain', 'skipped')",
)


_DEPENDS = "created_at, first_response_at, resolved_at, paused_seconds, state"
_FILL = f"UPDATE queries SET first_response_seconds = {FIRST_RESPONSE}, resolution_seconds = {RESOLUTION}"


def apply(db) -> None:
    present = {row[1] for row in db.execute('PRAGMA table_xinfo("queries")')}
    for name in ("first_response_seconds", "resolution_seconds"):
        if name not in present:
            db.execute(f"ALTER TABLE queries ADD COLUMN {name} INTEGER")
    db.execute(f"""CREATE TRIGGER IF NOT EXISTS queries_durations_on_insert AFTER INSERT ON queries
                   BEGIN {_FILL} WHERE id = NEW.id; END""")
    db.execute(f"""CREATE TRIGGER IF NOT EXISTS queries_durations_on_update AFTER UPDATE OF {_DEPENDS} ON queries
                   BEGIN {_FILL} WHERE id = NEW.id; END""")
    db.execute(_FILL)
    for sql in INDEXES:
        db.execute(sql)
