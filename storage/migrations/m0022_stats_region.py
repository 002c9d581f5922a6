"""The region of each query on its own row, so that ``/stats`` groups by region from indexes
alone, without listing every country of a region (issue #16).

* ``queries.annex``: the UNCCD regional annex (I .. V) of the query's country, as
  ``ref_countries`` gives it when the query is created (NULL for a query without a country,
  or from a country the table does not know). :func:`storage.helpdesk.insert_query` writes it
  in the same statement as the row, :func:`storage.helpdesk.update_query` again when the
  country changes; existing rows are filled here. (The column is not called ``region``:
  ``ref_countries`` has one, the region's English name, and the dashboard's canned queries
  join the two tables and group by that name unqualified.)
* ``idx_queries_annex``: a region's queries counted, and the countries found in it, from the
  index alone.
* ``idx_queries_annex_first_response``, ``idx_queries_annex_resolution``: partial indexes of
  the answered (resolved) queries by region, in the order of the duration: a region's
  answered count, and its median read by walking its part of the index to the middle.
* ``idx_queries_id_times``: the two durations by query number, so that a topic's figures
  (``query_tags`` joined to ``queries``) read this small index, not the table's rows.

:mod:`bot.helpdesk.reports` checks that the regions stored agree with the names /stats gives
to the countries and falls back on the lists of countries where they do not, so the figures
never depend on this copy being current.
"""
from __future__ import annotations

INDEXES = (
    "CREATE INDEX IF NOT EXISTS idx_queries_annex ON queries(annex, country)",
    "CREATE INDEX IF NOT EXISTS idx_queries_annex_first_response ON queries(annex, first_response_seconds) "
    "WHERE first_response_seconds IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS idx_queries_annex_resolution ON queries(annex, resolution_seconds) "
    "WHERE resolution_seconds IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS idx_queries_id_times ON queries(id, first_response_seconds, resolution_seconds)",
)


def apply(db) -> None:
    present = {row[1] for row in db.execute('PRAGMA table_xinfo("queries")')}
    if "annex" not in present:
        db.execute("ALTER TABLE queries ADD COLUMN annex TEXT")
    db.execute("UPDATE queries SET annex = (SELECT annex FROM ref_countries WHERE iso3 = queries.country)")
    for sql in INDEXES:
        db.execute(sql)
