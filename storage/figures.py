"""The SQL of the secretariat's figures: ``/stats`` (helpdesk counts and medians) and
``/progress`` / ``/overdue`` (the checklist per country), aggregated by SQLite (issue #16).

Every statement reads indexes only (``tests/storage/test_query_plans.py`` asserts it):
distinct values are found by a *loose index scan* (a recursive query that jumps from one
value to the next, one index search each), groups are counted through the index of their
key, and a median is the middle entry of an index kept in the order of the measure
(``storage/migrations/m0019_aggregation_indexes.py``), walked to there, never sorted. A
region's figures are read through the region stored on each query (``queries.annex``,
``storage/migrations/m0022_stats_region.py``): counted in its part of the region indexes, its
medians the middle entries of its part of the duration-by-region indexes. A topic's figures (or
a region given as a list of countries) are read in one statement each, its durations listed by
SQLite and the few hundred of them sorted here.
"""
from __future__ import annotations

import json
from typing import Iterable, Literal

Measure = Literal["first_response_seconds", "resolution_seconds"]
MEASURES: tuple[Measure, ...] = ("first_response_seconds", "resolution_seconds")
_INDEX = {"first_response_seconds": "idx_queries_first_response", "resolution_seconds": "idx_queries_resolution"}


def _distinct(db, table: str, column: str, within: str | None = None, args: dict | None = None) -> list:
    """The distinct non-null values of an indexed column, in order, one index search each
    (among the rows ``within`` selects, a condition on the columns before it in the index,
    with named ``args``)."""
    where, also = (f"WHERE {within}", f"{within} AND ") if within else ("", "")
    sql = f"""WITH RECURSIVE v(x) AS (SELECT (SELECT min({column}) FROM {table} {where})
                UNION ALL SELECT (SELECT min({column}) FROM {table} WHERE {also}{column} > v.x) FROM v WHERE v.x IS NOT NULL)
              SELECT x FROM v WHERE x IS NOT NULL"""
    return [row[0] for row in db.execute(sql, args or {})]


# -- the helpdesk (/stats, ``ldn-bot helpdesk stats``) ----------------------------------------------


def query_countries(db) -> list[str | None]:
    """Every country queries were asked from, None last if some were asked without one."""
    found: list[str | None] = list(_distinct(db, "queries", "country"))
    if db.execute("SELECT 1 FROM queries WHERE country IS NULL LIMIT 1").fetchone():
        found.append(None)
    return found


def _country_filter(countries: Iterable[str | None]) -> tuple[str, list]:
    codes = [c for c in countries if c is not None]
    parts = [f"country IN ({','.join('?' * len(codes))})"] if codes else []
    if len(codes) < len(list(countries)):
        parts.append("country IS NULL")
    return "(" + (" OR ".join(parts) or "0") + ")", codes


def state_counts(db) -> list[tuple[str, int]]:
    """(state, queries) for every state present, in the order each state first appears (the
    first query of a state is the first entry of its part of the index: ``min(id)`` would read
    every one of them, eight times slower than the count)."""
    rows = [(state, *db.execute("SELECT count(*), (SELECT id FROM queries INDEXED BY idx_queries_state WHERE state = :s "
                                "ORDER BY id LIMIT 1) FROM queries INDEXED BY idx_queries_state WHERE state = :s",
                                {"s": state}).fetchone())
            for state in _distinct(db, "queries", "state")]
    return [(state, n) for state, n, _ in sorted(rows, key=lambda r: r[2])]


def overdue_count(db, states: Iterable[str]) -> int:
    """Queries flagged overdue among those in ``states`` (the unresolved ones)."""
    states = list(states)
    return db.execute(f"SELECT count(*) FROM queries WHERE state IN ({','.join('?' * len(states))}) AND overdue = 1",
                      states).fetchone()[0]


def median_seconds(db, measure: Measure, count: int, countries: Iterable[str | None] | None = None) -> float | None:
    """The median of ``measure`` over the ``count`` queries of these countries that have one
    (None: all queries), as :func:`statistics.median` gives it: the middle value, or the mean
    of the two middle ones."""
    if count <= 0:
        return None
    where, args = ("1", []) if countries is None else _country_filter(list(countries))
    values = [row[0] for row in db.execute(
        f"SELECT {measure} FROM queries INDEXED BY {_INDEX[measure]} WHERE {measure} IS NOT NULL AND {where} "
        f"ORDER BY {measure} LIMIT ? OFFSET ?", [*args, 2 - count % 2, (count - 1) // 2])]
    return sum(values) / len(values) if values else None


def _middle(listed: str | None) -> float | None:
    """The median of the numbers of a ``group_concat`` as :func:`statistics.median` gives
    it (the middle value, or the mean of the two middle ones), as :func:`median_seconds` does."""
    if not listed:
        return None
    values = sorted(map(float, listed.split(",")))  # whole seconds: exact as text and as floats
    middle = values[(len(values) - 1) // 2:len(values) // 2 + 1]
    return sum(middle) / len(middle)


_FIGURES = "count(*), count({0}first_response_seconds), count({0}resolution_seconds), " \
           "group_concat({0}first_response_seconds), group_concat({0}resolution_seconds)"
Figures = tuple[int, int, int, float | None, float | None]


def _figures(row) -> Figures:
    return row[0], row[1], row[2], _middle(row[3]), _middle(row[4])


def group_figures(db, countries: Iterable[str | None]) -> Figures:
    """(queries, answered, resolved, median first response, median resolution, in seconds) of
    these countries, from one read of their entries in the country index: SQLite lists the
    region's durations, Python sorts those few thousand numbers (cheaper than walking a
    duration index to its middle once per region and measure, past every other region's rows)."""
    where, args = _country_filter(list(countries))
    return _figures(db.execute(f"SELECT {_FIGURES.format('')} FROM queries INDEXED BY idx_queries_country_times "
                               f"WHERE {where}", args).fetchone())


def query_annexes(db) -> dict[str | None, list[str | None]]:
    """The regions stored on the queries (``queries.annex``, m0022; None for the queries
    without one), in order, None last, each with the countries its queries were asked from
    (None last if some were asked without one): index searches only."""
    annexes: list[str | None] = list(_distinct(db, "queries", "annex"))
    if db.execute("SELECT 1 FROM queries INDEXED BY idx_queries_annex WHERE annex IS NULL LIMIT 1").fetchone():
        annexes.append(None)
    found: dict[str | None, list[str | None]] = {}
    for annex in annexes:
        countries: list[str | None] = list(_distinct(db, "queries INDEXED BY idx_queries_annex", "country", "annex IS :annex",
                                                     {"annex": annex}))
        if db.execute("SELECT 1 FROM queries INDEXED BY idx_queries_annex WHERE annex IS ? AND country IS NULL LIMIT 1",
                      [annex]).fetchone():
            countries.append(None)
        found[annex] = countries
    return found


_BY_ANNEX = {"first_response_seconds": "idx_queries_annex_first_response", "resolution_seconds": "idx_queries_annex_resolution"}


def annex_figures(db, annex: str | None) -> Figures:
    """As :func:`group_figures`, for the queries whose stored region is ``annex``: counted in
    m0022's indexes of the region, each median the middle entry of the region's part of the
    duration index, walked to (a few thousand steps in SQLite, nothing sorted)."""
    count, answered, resolved = db.execute(
        "SELECT (SELECT count(*) FROM queries INDEXED BY idx_queries_annex WHERE annex IS :annex), "
        + ", ".join(f"(SELECT count(*) FROM queries INDEXED BY {_BY_ANNEX[m]} WHERE annex IS :annex AND {m} IS NOT NULL)"
                    for m in MEASURES), {"annex": annex}).fetchone()
    return (count, answered, resolved, _annex_median(db, "first_response_seconds", answered, annex),
            _annex_median(db, "resolution_seconds", resolved, annex))


def _annex_median(db, measure: Measure, count: int, annex: str | None) -> float | None:
    if count <= 0:
        return None
    values = [row[0] for row in db.execute(
        f"SELECT {measure} FROM queries INDEXED BY {_BY_ANNEX[measure]} WHERE annex IS :annex AND {measure} IS NOT NULL "
        f"ORDER BY {measure} LIMIT :n OFFSET :skip", {"annex": annex, "n": 2 - count % 2, "skip": (count - 1) // 2})]
    return sum(values) / len(values) if values else None


def tag_figures(db, tag: str) -> Figures:
    """As :func:`group_figures`, for the queries with this tag, in one join."""
    return _figures(db.execute(f"SELECT {_FIGURES.format('q.')} {_TAGGED}", [tag]).fetchone())


def query_tags(db) -> list[str]:
    """Every tag given to a query, in order."""
    return list(_distinct(db, "query_tags", "tag"))


# the durations read from m0022's index by query number, half the time of reading the table's rows
_TAGGED = ("FROM query_tags t INDEXED BY idx_query_tags_tag JOIN queries q INDEXED BY idx_queries_id_times ON q.id = t.query_id "
           "WHERE t.tag = ?")


def rating_sum(db) -> tuple[int, int]:
    """(sum of the scores given, how many were given)."""
    total, count = db.execute("SELECT coalesce(sum(score), 0), count(score) FROM query_ratings INDEXED BY idx_query_ratings_score "
                              "WHERE score IS NOT NULL").fetchone()
    return total, count


# -- the checklist (/progress, /overdue) -------------------------------------------------------------

_CHECKLIST = """
    WITH steps(step_id, due) AS (SELECT key, value FROM json_each(:steps)),
         places(iso3, today) AS (SELECT key, value FROM json_each(:today)),
         cells AS (
           SELECT p.iso3, s.step_id, coalesce(m.status, 'not_started') AS status,
                  coalesce(m.status, 'not_started') NOT IN ('done', 'not_applicable')
                    AND coalesce(date(trim(m.due)), s.due) < p.today AS overdue
           FROM places p CROSS JOIN steps s LEFT JOIN milestones m ON m.iso3 = p.iso3 AND m.step_id = s.step_id)
"""


def _checklist_args(steps: dict[str, str], today: dict[str, str]) -> dict[str, str]:
    return {"steps": json.dumps(steps), "today": json.dumps(today)}


def checklist_counts(db, steps: dict[str, str], today: dict[str, str]) -> dict[str, tuple[int, int, int, int]]:
    """Per country: (done, in progress, not applicable, overdue) among ``steps`` (step id -> the
    template's due date, ISO), ``today`` giving each country's local date (ISO)."""
    rows = db.execute(_CHECKLIST + """
        SELECT iso3, sum(status = 'done'), sum(status = 'in_progress'), sum(status = 'not_applicable'), sum(overdue)
        FROM cells GROUP BY iso3""", _checklist_args(steps, today))
    return {row[0]: tuple(row[1:]) for row in rows}


def overdue_cells(db, steps: dict[str, str], today: dict[str, str]) -> list[dict]:
    """The milestone rows (or a bare ``iso3`` and ``step_id`` for a step never touched) of every
    overdue step, among ``steps`` and the countries of ``today`` (as :func:`checklist_counts`)."""
    rows = db.execute(_CHECKLIST + """
        SELECT c.iso3 AS cell_iso3, c.step_id AS cell_step, m.* FROM cells c
        LEFT JOIN milestones m ON m.iso3 = c.iso3 AND m.step_id = c.step_id WHERE c.overdue""", _checklist_args(steps, today))
    names = [d[0] for d in rows.description]
    out = []
    for row in rows:
        record = dict(zip(names, row, strict=True))
        record["iso3"], record["step_id"] = record.pop("cell_iso3"), record.pop("cell_step")
        out.append(record)
    return out
