"""The SQL of the secretariat's figures: ``/stats`` (helpdesk counts and medians) and
``/progress`` / ``/overdue`` (the checklist per country), aggregated by SQLite (issue #16).

Every statement reads indexes only (``tests/storage/test_query_plans.py`` asserts it):
distinct values are found by a *loose index scan* (a recursive query that jumps from one
value to the next, one index search each), groups are counted through the index of their
key, and a median is the middle entry of an index kept in the order of the measure
(``storage/migrations/m0019_aggregation_indexes.py``), walked to there, never sorted. A
region's or a topic's figures are read in one statement each, its durations listed by SQLite
and the few thousand of them sorted here (a walk of the duration index would pass every other
region's rows on its way to the middle).
"""
from __future__ import annotations

import json
from typing import Iterable, Literal

Measure = Literal["first_response_seconds", "resolution_seconds"]
MEASURES: tuple[Measure, ...] = ("first_response_seconds", "resolution_seconds")
_INDEX = {"first_response_seconds": "idx_queries_first_response", "resolution_seconds": "idx_queries_resolution"}


def _distinct(db, table: str, column: str) -> list:
    """The distinct non-null values of an indexed column, in order, one index search each."""
    sql = f"""WITH RECURSIVE v(x) AS (SELECT (SELECT min({column}) FROM {table})
                UNION ALL SELECT (SELECT min({column}) FROM {table} WHERE {column} > v.x) FROM v WHERE v.x IS NOT NULL)
              SELECT x FROM v WHERE x IS NOT NULL"""
    return [row[0] for row in db.execute(sql)]


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
    """(state, queries) for every state present, in the order each state first appears."""
    rows = [(state, *db.execute("SELECT count(*), min(id) FROM queries WHERE state = ?", [state]).fetchone())
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


def tag_figures(db, tag: str) -> Figures:
    """As :func:`group_figures`, for the queries with this tag, in one join."""
    return _figures(db.execute(f"SELECT {_FIGURES.format('q.')} {_TAGGED}", [tag]).fetchone())


def query_tags(db) -> list[str]:
    """Every tag given to a query, in order."""
    return list(_distinct(db, "query_tags", "tag"))


_TAGGED = "FROM query_tags t INDEXED BY idx_query_tags_tag JOIN queries q ON q.id = t.query_id WHERE t.tag = ?"


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
