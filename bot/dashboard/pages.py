"""The dashboard's own pages, as a Datasette plugin: ``/`` (the secretariat's home), ``/country/ISO3``,
``/query/N`` and ``/calendar/ISO3.ics``; links from result cells to those pages; login redirects.

Every page reads through Datasette's read-only, guarded connection (``execute_fn``); the SQL
lives in :mod:`storage.dashboard`.
"""
from __future__ import annotations

import datetime as dt
import re
import types
from typing import Any, Callable

from datasette import hookimpl
from datasette.plugins import pm
from datasette.utils.asgi import Response
from markupsafe import Markup, escape

from bot.dashboard import charts
from bot.dashboard.guard import guard
from storage import dashboard as store

PLUGIN_NAME = "ldn_bot_dashboard"
ISO3 = re.compile(r"^[A-Z]{3}$")
QUERY_REFS = re.compile(r"#(\d+)")


def _state(datasette) -> Any:
    return datasette._ldn  # a DashboardState, set by make_datasette


async def _read(datasette, fn: Callable, *args):
    state = _state(datasette)
    return await datasette.get_database(state.db_name).execute_fn(lambda conn: fn(conn, *args))


def _today(datasette) -> dt.date:
    return _state(datasette).clock().date()


async def _allowed(datasette, request) -> bool:
    return await datasette.permission_allowed(request.actor, "view-instance", default=True)


async def _page(datasette, request, template: str, context: dict[str, Any]) -> Response:
    if not await _allowed(datasette, request):
        return Response.redirect(datasette.urls.path("/-/login"))
    state = _state(datasette)
    context = {**context, "db": state.db_name, "vega": _vega_urls(datasette)}
    return Response.html(await datasette.render_template(template, context, request=request))


def _vega_urls(datasette) -> list[str]:
    return [datasette.urls.static_plugins("datasette_dashboards", name)
            for name in ("vega.min.js", "vega-lite.min.js", "vega-embed.min.js")]


async def home(request, datasette):
    today = _today(datasette)
    stamp = today.isoformat()
    month = today.replace(day=1).isoformat()
    since = (today - dt.timedelta(weeks=12)).isoformat()
    state = _state(datasette)

    def figures(conn):
        steps = {r[1]: r[0] for r in conn.execute("SELECT step_id, title FROM milestone_steps")}
        return {
            "progress": charts.progress_by_region(store.progress_by_region(conn, stamp), state.db_name),
            "overdue": charts.overdue_by_step_and_region(store.overdue_by_step_and_region(conn, stamp),
                                                         state.db_name, steps),
            "weeks": charts.queries_by_week(store.queries_by_week_and_state(conn, since), state.db_name),
            "sla": store.sla_met(conn),
            "satisfaction": store.satisfaction(conn),
            "gaps": store.faq_gaps_since(conn, month),
        }

    data = await datasette.get_database(state.db_name).execute_fn(figures)
    return await _page(datasette, request, "ldn_home.html", {"today": stamp, "month": month, **data})


async def country_page(request, datasette):
    iso3 = request.url_vars["iso3"].upper()
    country = await _read(datasette, store.country, iso3)
    if country is None:
        return Response.html(f"<h1>Unknown country {escape(iso3)}</h1>", status=404)
    stamp = _today(datasette).isoformat()
    steps = await _read(datasette, store.checklist, iso3, stamp)
    context = {
        "country": country,
        "focal_points": await _read(datasette, store.focal_points, iso3),
        "steps": steps,
        "done": sum(1 for s in steps if s["status"] == "done"),
        "overdue": [s for s in steps if s["overdue"]],
        "queries": await _read(datasette, store.country_queries, iso3),
        "failed": await _read(datasette, store.country_failed_deliveries, iso3),
        "today": stamp,
    }
    return await _page(datasette, request, "ldn_country.html", context)


async def query_page(request, datasette):
    number = int(request.url_vars["number"])
    query = await _read(datasette, store.query, number)
    if query is None:
        return Response.html(f"<h1>No query #{number}</h1>", status=404)
    context = {"query": query, "thread": await _read(datasette, store.query_thread, number),
               "events": await _read(datasette, store.query_events, number),
               "tags": await _read(datasette, store.query_tags, number)}
    return await _page(datasette, request, "ldn_query.html", context)


async def calendar_feed(request, datasette):
    """The programme's events and the country's checklist due dates as an .ics a phone subscribes to."""
    iso3 = request.url_vars["iso3"].upper()
    state = _state(datasette)
    if state.calendar is None:
        return Response.text("calendar not available", status=404)
    body = await datasette.get_database(state.db_name).execute_fn(
        lambda conn: state.calendar(conn, iso3, request.args.get("lang") or "en"))
    if body is None:
        return Response.text(f"unknown country {iso3}", status=404)
    return Response(body, content_type="text/calendar; charset=utf-8",
                    headers={"content-disposition": f'inline; filename="ldn-{iso3}.ics"'})


# -- hooks -------------------------------------------------------------------------------------------

@hookimpl
def register_routes(datasette):
    if not hasattr(datasette, "_ldn"):
        return []
    return [(r"^/$", home), (r"^/country/(?P<iso3>[A-Za-z]{3})$", country_page),
            (r"^/query/(?P<number>\d+)$", query_page), (r"^/calendar/(?P<iso3>[A-Za-z]{3})\.ics$", calendar_feed)]


@hookimpl
def prepare_connection(conn, database, datasette):
    if hasattr(datasette, "_ldn") and database == datasette._ldn.db_name:
        guard(conn)  # Datasette's own _internal database stays writable for Datasette
        conn.create_function(store.TODAY_FUNCTION, 0, lambda: _today(datasette).isoformat())


@hookimpl
def render_cell(value, column, datasette):
    """``iso3`` cells link to the country's page, query numbers to the query's page."""
    if not hasattr(datasette, "_ldn"):
        return None
    if column in ("iso3", "country") and isinstance(value, str) and ISO3.match(value):
        return Markup(f'<a href="{datasette.urls.path("/country/" + value)}">{value}</a>')
    if column == "query" and isinstance(value, int):
        return Markup(f'<a href="{datasette.urls.path(f"/query/{value}")}">#{value}</a>')
    if column == "queries" and isinstance(value, str) and value.startswith("#"):
        return Markup(QUERY_REFS.sub(lambda m: f'<a href="{datasette.urls.path("/query/" + m.group(1))}">#{m.group(1)}</a>',
                                     str(escape(value))))
    return None


@hookimpl
def permission_allowed(datasette, actor, action, resource):
    """Read-only: whatever the login, nothing is written and the database file is not downloaded."""
    if not hasattr(datasette, "_ldn"):
        return None
    if action in ("insert-row", "delete-row", "update-row", "create-table", "alter-table", "drop-table",
                  "execute-write", "view-database-download"):
        return False
    return None


@hookimpl
def forbidden(datasette, request, message):
    if hasattr(datasette, "_ldn") and datasette.plugin_config("datasette-auth-passwords") and not request.actor:
        return Response.redirect(datasette.urls.path("/-/login"))
    return None


@hookimpl
def extra_css_urls(datasette):
    if not hasattr(datasette, "_ldn"):
        return []
    return [datasette.urls.path("/ldn-static/ldn.css")]


@hookimpl
def menu_links(datasette, actor):
    if not hasattr(datasette, "_ldn"):
        return []
    db = _state(datasette).db_name
    return [{"href": datasette.urls.path("/"), "label": "Secretariat home"},
            {"href": datasette.urls.path(f"/{db}"), "label": "Tables and canned queries"}]


def register() -> None:
    """Register the hooks above as a Datasette plugin (once per process)."""
    if pm.get_plugin(PLUGIN_NAME) is not None:
        return
    plugin = types.ModuleType(PLUGIN_NAME)
    for name in ("register_routes", "prepare_connection", "render_cell", "permission_allowed", "forbidden",
                 "extra_css_urls", "menu_links"):
        setattr(plugin, name, globals()[name])
    pm.register(plugin, name=PLUGIN_NAME)
