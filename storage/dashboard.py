"""All SQL of the dashboard: the links between tables, the canned queries, the pages' figures.

Every function takes a plain ``sqlite3.Connection`` (Datasette's read-only connection or a
test's) and only reads. Dates compare as ``YYYY-MM-DD`` text; ``today`` is passed in (the
caller's clock); canned queries call ``ldn_today()``, a function the dashboard registers on its
connections from the same clock (:data:`TODAY_FUNCTION`).
"""
from __future__ import annotations

import sqlite3
from typing import Any

TODAY_FUNCTION = "ldn_today"  # () -> 'YYYY-MM-DD', the dashboard's clock
ACTIVE_STATES = ("new", "open", "pending")
FINISHED_STEP = ("done", "not_applicable")

# Relations Datasette shows as links (column -> table.column). They are not declared as SQLite
# foreign keys: the bot's connection enforces keys (PRAGMA foreign_keys=ON), and these rows may
# legitimately point nowhere (a forgotten asker is 0; a country code of an old registry).
LINKS: dict[str, list[tuple[str, str, str]]] = {
    # (a query's asker and assignee are declared keys since m0018: Datasette finds them in the schema)
    "queries": [("country", "ref_countries", "iso3"), ("first_response_by", "users", "user_id")],
    "milestones": [("iso3", "ref_countries", "iso3"), ("step_id", "milestone_steps", "step_id"),
                   ("changed_by", "users", "user_id")],
    "milestone_history": [("iso3", "ref_countries", "iso3"), ("step_id", "milestone_steps", "step_id")],
    "users": [("country", "ref_countries", "iso3")],
    "query_events": [("actor_id", "users", "user_id")],
    "query_messages": [("author_id", "users", "user_id")],
    "query_ratings": [("user_id", "users", "user_id")],
    "faq_misses": [("country", "ref_countries", "iso3")],
    "role_events": [("user_id", "users", "user_id"), ("country", "ref_countries", "iso3")],
}
LABELS = {"users": "first_name", "ref_countries": "name", "milestone_steps": "title"}

_PERSON = "coalesce(nullif({u}.first_name, ''), '@' || {u}.username, 'user ' || {col})"


def person(alias: str, column: str) -> str:
    """SQL for a person's display name (first name, else @username, else the id)."""
    return _PERSON.format(u=alias, col=column)


# -- canned queries -----------------------------------------------------------------------------------

_STEP_GRID = """
FROM ref_countries c
JOIN milestone_steps s ON s.active = 1
LEFT JOIN milestones m ON m.iso3 = c.iso3 AND m.step_id = s.step_id
"""

CANNED: dict[str, dict[str, Any]] = {
    "overdue_milestones": {
        "needs": {"ref_countries", "milestone_steps", "milestones"},
        "title": "Overdue milestones",
        "description": "Checklist steps past their due date and neither done nor not applicable, by region and country.",
        "sql": f"""
SELECT c.region, c.iso3, c.name AS country, s.title AS step, coalesce(m.status, 'not_started') AS status,
       coalesce(m.due, s.default_due) AS due,
       CAST(julianday(ldn_today()) - julianday(coalesce(m.due, s.default_due)) AS INTEGER) AS days_overdue
{_STEP_GRID}
WHERE coalesce(m.status, 'not_started') NOT IN ('done', 'not_applicable')
  AND coalesce(m.due, s.default_due) < ldn_today()
  AND (:region = '' OR c.region = :region) AND (:step = '' OR s.step_id = :step)
ORDER BY c.region, c.name, s.position""",
    },
    "countries_without_focal_point": {
        "needs": {"ref_countries", "users"},
        "title": "Countries without a focal point",
        "description": "Participating countries where no active focal point is registered yet.",
        "sql": """
SELECT c.iso3, c.name AS country, c.region, CASE c.pilot WHEN 1 THEN 'yes' ELSE '' END AS pilot
FROM ref_countries c
WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.role = 'focal_point' AND u.country = c.iso3 AND u.active = 1)
ORDER BY c.region, c.name""",
    },
    "queries_overdue": {
        "needs": {"queries", "ref_countries", "users"},
        "title": "Overdue helpdesk queries",
        "description": "Unresolved queries past their SLA, oldest first, with who asked and who handles them.",
        "sql": f"""
SELECT q.id AS query, q.country AS iso3, c.name AS country, c.region, {person('a', 'q.asker_id')} AS asker,
       coalesce({person('x', 'q.assignee_id')}, '(nobody)') AS assignee, q.state, q.priority, q.created_at,
       CAST(julianday(ldn_today()) - julianday(q.created_at) AS INTEGER) AS age_days
FROM queries q
LEFT JOIN ref_countries c ON c.iso3 = q.country
LEFT JOIN users a ON a.user_id = q.asker_id
LEFT JOIN users x ON x.user_id = q.assignee_id
WHERE q.overdue = 1 AND q.state IN ('new', 'open', 'pending')
ORDER BY q.created_at""",
    },
    "sla_by_region": {
        "needs": {"queries", "ref_countries"},
        "title": "Helpdesk SLA by region",
        "description": "Share of queries answered and resolved within their SLA, per UNCCD region.",
        "sql": """
SELECT coalesce(c.region, '(no country)') AS region, count(*) AS queries,
       round(100.0 * sum(q.breached_first = 0) / count(*), 1) AS first_response_met_pct,
       round(100.0 * sum(q.breached_resolution = 0) / count(*), 1) AS resolution_met_pct,
       sum(q.overdue = 1 AND q.state IN ('new', 'open', 'pending')) AS overdue_now
FROM queries q LEFT JOIN ref_countries c ON c.iso3 = q.country
GROUP BY region ORDER BY region""",
    },
    "satisfaction_by_topic": {
        "needs": {"faq_feedback", "faq_entries"},
        "title": "FAQ satisfaction by topic",
        "description": "Helpful / not helpful votes on FAQ answers per topic, least satisfying first.",
        "sql": """
WITH topic_names(id, name) AS ({topics})
SELECT coalesce(n.name, e.topic, '(removed entry)') AS topic,
       count(*) AS votes,
       sum(f.helpful) AS helpful,
       count(*) - sum(f.helpful) AS not_helpful,
       round(100.0 * sum(f.helpful) / count(*), 1) AS helpful_pct
FROM faq_feedback f
LEFT JOIN (SELECT id, max(topic) AS topic FROM faq_entries GROUP BY id) e ON e.id = f.entry_id
LEFT JOIN topic_names n ON n.id = e.topic
GROUP BY 1
ORDER BY helpful_pct, votes DESC""",
    },
    "faq_gaps_recent": {
        "needs": {"faq_misses", "ref_countries"},
        "title": "FAQ gaps of the last 30 days",
        "description": "Questions the FAQ could not answer (or answered unhelpfully) in the last 30 days, newest first.",
        "sql": """
SELECT f.created_at, f.lang, f.kind, f.country AS iso3, c.name AS country, f.query,
       round(f.best_score, 2) AS best_score
FROM faq_misses f LEFT JOIN ref_countries c ON c.iso3 = f.country
WHERE f.created_at >= date(ldn_today(), '-30 days')
ORDER BY f.id DESC""",
    },
    "overdue_queries_by_region": {
        "needs": {"queries", "ref_countries"},
        "title": "Overdue helpdesk queries by region",
        "description": "Unresolved queries past their SLA, per UNCCD region, with their numbers.",
        "sql": """
SELECT coalesce(c.region, '(no country)') AS region,
       count(*) AS overdue_queries,
       min(q.created_at) AS oldest,
       group_concat('#' || q.id, ' ') AS queries
FROM queries q LEFT JOIN ref_countries c ON c.iso3 = q.country
WHERE q.overdue = 1 AND q.state IN ('new', 'open', 'pending')
GROUP BY region
ORDER BY overdue_queries DESC, region""",
    },
    "open_queries_by_region": {
        "needs": {"queries", "ref_countries"},
        "title": "Open helpdesk queries by region and state",
        "description": "New, open and pending queries per region.",
        "sql": """
SELECT coalesce(c.region, '(no country)') AS region,
       sum(q.state = 'new') AS new, sum(q.state = 'open') AS open, sum(q.state = 'pending') AS pending,
       sum(q.overdue = 1) AS overdue
FROM queries q LEFT JOIN ref_countries c ON c.iso3 = q.country
WHERE q.state IN ('new', 'open', 'pending')
GROUP BY region ORDER BY region""",
    },
    "working_group_not_established": {
        "needs": {"ref_countries", "milestones"},
        "title": "Countries whose national working group is not established",
        "description": "Countries where the checklist step '{step}' is neither done nor marked not applicable.",
        "sql": """
SELECT c.iso3, c.name AS country, c.region, c.pilot,
       coalesce(m.status, 'not_started') AS status, m.status_date, m.due, m.note, m.changed_at
FROM ref_countries c
LEFT JOIN milestones m ON m.iso3 = c.iso3 AND m.step_id = '{step}'
WHERE coalesce(m.status, 'not_started') NOT IN ('done', 'not_applicable')
ORDER BY c.region, c.name""",
    },
    "faq_gaps_by_language": {
        "needs": {"faq_misses"},
        "title": "FAQ gaps by language",
        "description": "Questions the FAQ could not answer (abstain) or answered unhelpfully, per language.",
        "sql": """
SELECT coalesce(lang, '?') AS lang, count(*) AS misses, sum(kind = 'abstain') AS unanswered,
       sum(kind = 'not_helpful') AS not_helpful, count(DISTINCT country) AS countries, max(created_at) AS latest
FROM faq_misses GROUP BY lang ORDER BY misses DESC""",
    },
    "helpdesk_satisfaction_by_tag": {
        "needs": {"query_ratings", "query_tags"},
        "title": "Helpdesk satisfaction by topic (tag)",
        "description": "Askers' ratings (1-5) of the experts' answers per query tag.",
        "sql": """
SELECT coalesce(t.tag, '(untagged)') AS topic, count(r.score) AS ratings, round(avg(r.score), 2) AS average,
       sum(r.score <= 2) AS unhappy
FROM query_ratings r LEFT JOIN query_tags t ON t.query_id = r.query_id
WHERE r.score IS NOT NULL
GROUP BY topic ORDER BY average, ratings DESC""",
    },
    "failed_deliveries": {
        "needs": {"deliveries"},
        "title": "Failed deliveries",
        "description": "Messages that did not arrive: blocked by the user, bot removed from a group, retries exhausted.",
        "sql": """
SELECT d.id, d.kind, d.ref, coalesce(u.first_name, g.title, 'chat ' || d.chat_id) AS recipient, u.country AS iso3,
       d.status, d.attempts, d.error, d.due_at
FROM deliveries d LEFT JOIN users u ON u.user_id = d.chat_id LEFT JOIN group_chats g ON g.chat_id = d.chat_id
WHERE d.status IN ('failed', 'blocked', 'uncertain', 'skipped')
ORDER BY d.id DESC LIMIT 500""",
    },
}


def topic_names_sql(topics: dict[str, str]) -> str:
    """A ``VALUES`` list of (topic id, display name) for the canned queries' ``{topics}``."""
    if not topics:
        return "SELECT NULL, NULL WHERE 0"
    quote = lambda text: "'" + str(text).replace("'", "''") + "'"  # noqa: E731
    return "VALUES " + ", ".join(f"({quote(k)}, {quote(v)})" for k, v in topics.items())


def table_names(conn: sqlite3.Connection) -> dict[str, str | None]:
    return {name: sql for name, sql in conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'")}


def _rows(conn: sqlite3.Connection, sql: str, args: dict | list | tuple = ()) -> list[dict[str, Any]]:
    cursor = conn.execute(sql, args)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


# -- a country's page --------------------------------------------------------------------------------

def country(conn: sqlite3.Connection, iso3: str) -> dict[str, Any] | None:
    found = _rows(conn, "SELECT * FROM ref_countries WHERE iso3 = ?", [iso3])
    return found[0] if found else None


def focal_points(conn: sqlite3.Connection, iso3: str) -> list[dict[str, Any]]:
    return _rows(conn, f"""
SELECT u.user_id, {person('u', 'u.user_id')} AS name, u.username, u.lang, u.active, u.updated_at AS last_seen,
       (SELECT max(r.at) FROM role_events r WHERE r.user_id = u.user_id AND r.role = 'focal_point') AS bound_since
FROM users u WHERE u.role = 'focal_point' AND u.country = ? ORDER BY name""", [iso3])


def checklist(conn: sqlite3.Connection, iso3: str, today: str) -> list[dict[str, Any]]:
    return _rows(conn, """
SELECT s.position, s.step_id, s.title, s.phase, coalesce(m.status, 'not_started') AS status, m.status_date,
       coalesce(m.due, s.default_due) AS due, m.note,
       (coalesce(m.status, 'not_started') NOT IN ('done', 'not_applicable') AND coalesce(m.due, s.default_due) < :today)
         AS overdue
FROM milestone_steps s LEFT JOIN milestones m ON m.step_id = s.step_id AND m.iso3 = :iso3
WHERE s.active = 1 ORDER BY s.position, s.step_id""", {"iso3": iso3, "today": today})


def country_queries(conn: sqlite3.Connection, iso3: str, limit: int = 50) -> list[dict[str, Any]]:
    return _rows(conn, f"""
SELECT q.id, q.state, q.priority, q.created_at, q.updated_at, q.overdue, q.breached_first, q.breached_resolution,
       substr(q.text, 1, 120) AS text, {person('a', 'q.asker_id')} AS asker,
       coalesce({person('x', 'q.assignee_id')}, '') AS assignee
FROM queries q LEFT JOIN users a ON a.user_id = q.asker_id LEFT JOIN users x ON x.user_id = q.assignee_id
WHERE q.country = ?
ORDER BY q.state IN ('new', 'open', 'pending') DESC, q.id DESC LIMIT ?""", [iso3, limit])


def country_failed_deliveries(conn: sqlite3.Connection, iso3: str, limit: int = 50) -> list[dict[str, Any]]:
    return _rows(conn, """
SELECT d.id, d.kind, d.status, d.error, d.due_at, u.first_name AS recipient
FROM deliveries d JOIN users u ON u.user_id = d.chat_id
WHERE u.country = ? AND d.status IN ('failed', 'blocked', 'uncertain', 'skipped')
ORDER BY d.id DESC LIMIT ?""", [iso3, limit])


# -- a query's page ----------------------------------------------------------------------------------

def query(conn: sqlite3.Connection, number: int) -> dict[str, Any] | None:
    found = _rows(conn, f"""
SELECT q.*, c.name AS country_name, {person('a', 'q.asker_id')} AS asker,
       {person('x', 'q.assignee_id')} AS assignee
FROM queries q LEFT JOIN ref_countries c ON c.iso3 = q.country
LEFT JOIN users a ON a.user_id = q.asker_id LEFT JOIN users x ON x.user_id = q.assignee_id
WHERE q.id = ?""", [number])
    return found[0] if found else None


def query_thread(conn: sqlite3.Connection, number: int) -> list[dict[str, Any]]:
    return _rows(conn, f"""
SELECT m.created_at, m.role, m.kind, m.text, m.delivery_status, {person('u', 'm.author_id')} AS author
FROM query_messages m LEFT JOIN users u ON u.user_id = m.author_id
WHERE m.query_id = ? AND m.role IN ('asker', 'expert', 'answer', 'relay', 'followup')
ORDER BY m.created_at, m.id""", [number])


def query_events(conn: sqlite3.Connection, number: int) -> list[dict[str, Any]]:
    return _rows(conn, f"""
SELECT e.at, e.kind,
       CASE WHEN f.user_id IS NULL THEN e.from_value ELSE {person('f', 'e.from_value')} END AS from_value,
       CASE WHEN t.user_id IS NULL THEN e.to_value ELSE {person('t', 'e.to_value')} END AS to_value,
       coalesce({person('u', 'e.actor_id')}, 'the bot') AS actor
FROM query_events e LEFT JOIN users u ON u.user_id = e.actor_id
LEFT JOIN users f ON e.kind = 'assign' AND f.user_id = CAST(e.from_value AS INTEGER)
LEFT JOIN users t ON e.kind = 'assign' AND t.user_id = CAST(e.to_value AS INTEGER)
WHERE e.query_id = ? ORDER BY e.at, e.id""", [number])


def query_tags(conn: sqlite3.Connection, number: int) -> list[str]:
    return [r[0] for r in conn.execute("SELECT tag FROM query_tags WHERE query_id = ? ORDER BY tag", [number])]


# -- the home page's figures -------------------------------------------------------------------------

def progress_by_region(conn: sqlite3.Connection, today: str) -> list[dict[str, Any]]:
    """Per region and state (done, in progress, overdue, not started): how many country-steps."""
    return _rows(conn, f"""
SELECT c.region,
       CASE WHEN coalesce(m.status, 'not_started') = 'done' THEN 'done'
            WHEN coalesce(m.due, s.default_due) < :today THEN 'overdue'
            WHEN m.status = 'in_progress' THEN 'in_progress'
            ELSE 'not_started' END AS state,
       count(*) AS steps
{_STEP_GRID}
WHERE coalesce(m.status, 'not_started') != 'not_applicable'
GROUP BY c.region, state ORDER BY c.region, state""", {"today": today})


def overdue_by_step_and_region(conn: sqlite3.Connection, today: str) -> list[dict[str, Any]]:
    return _rows(conn, f"""
SELECT s.title AS step, s.position, c.region, count(*) AS countries
{_STEP_GRID}
WHERE coalesce(m.status, 'not_started') NOT IN ('done', 'not_applicable') AND coalesce(m.due, s.default_due) < :today
GROUP BY s.step_id, c.region ORDER BY s.position, c.region""", {"today": today})


def queries_by_week_and_state(conn: sqlite3.Connection, since: str) -> list[dict[str, Any]]:
    return _rows(conn, """
SELECT date(q.created_at, '-6 days', 'weekday 1') AS week, q.state, count(*) AS queries
FROM queries q WHERE q.created_at >= ? GROUP BY week, q.state ORDER BY week, q.state""", [since])


def sla_met(conn: sqlite3.Connection) -> dict[str, Any]:
    row = _rows(conn, """
SELECT count(*) AS queries,
       round(100.0 * sum(breached_first = 0) / nullif(count(*), 0), 1) AS first_response_met_pct,
       round(100.0 * sum(breached_resolution = 0) / nullif(count(*), 0), 1) AS resolution_met_pct
FROM queries""")
    return row[0]


def satisfaction(conn: sqlite3.Connection) -> dict[str, Any]:
    faq = _rows(conn, "SELECT count(*) AS votes, round(100.0 * sum(helpful) / nullif(count(*), 0), 1) AS helpful_pct "
                      "FROM faq_feedback")[0]
    helpdesk = _rows(conn, "SELECT count(score) AS ratings, round(avg(score), 2) AS average FROM query_ratings "
                           "WHERE score IS NOT NULL")[0]
    return {**faq, **helpdesk}


def faq_gaps_since(conn: sqlite3.Connection, since: str) -> dict[str, Any]:
    return _rows(conn, "SELECT count(*) AS misses, sum(kind = 'abstain') AS unanswered, "
                       "sum(kind = 'not_helpful') AS not_helpful FROM faq_misses WHERE created_at >= ?", [since])[0]
