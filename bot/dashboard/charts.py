"""Vega-Lite specs of the home page's charts, built from the rows :mod:`storage.dashboard` reads.

The browser draws them with vega-embed, served from the ``datasette-dashboards`` package's
static files (no CDN). Every mark carries an ``href``: a click opens the rows behind it.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
STATE_COLOURS = {"done": "#2e7d32", "in_progress": "#f9a825", "overdue": "#c62828", "not_started": "#bdbdbd"}
QUERY_STATE_COLOURS = {"new": "#1565c0", "open": "#42a5f5", "pending": "#f9a825", "resolved": "#2e7d32",
                       "closed": "#9e9e9e"}


def _url(path: str, **params: str) -> str:
    return f"{path}?{urlencode(params)}" if params else path


def _base(title: str, values: list[dict[str, Any]]) -> dict[str, Any]:
    return {"$schema": SCHEMA, "title": title, "width": "container", "data": {"values": values},
            "config": {"axis": {"labelFontSize": 12, "titleFontSize": 12}, "legend": {"labelFontSize": 12}}}


def progress_by_region(rows: list[dict[str, Any]], db: str) -> dict[str, Any]:
    """Stacked bars: a region's country-steps done, in progress, overdue, not started."""
    values = []
    for row in rows:
        if row["state"] == "overdue":
            href = _url(f"/{db}/overdue_milestones", region=row["region"], step="")
        else:
            href = _url(f"/{db}/milestones", status=row["state"])
        values.append({**row, "href": href})
    spec = _base("Checklist progress by region (country-steps)", values)
    spec.update({"height": 220, "mark": {"type": "bar", "cursor": "pointer"}, "encoding": {
        "y": {"field": "region", "type": "nominal", "title": None},
        "x": {"field": "steps", "type": "quantitative", "stack": "normalize", "title": "share of steps",
              "axis": {"format": "%"}},
        "color": {"field": "state", "type": "nominal", "title": "state",
                  "scale": {"domain": list(STATE_COLOURS), "range": list(STATE_COLOURS.values())}},
        "order": {"field": "state"},
        "tooltip": [{"field": "region"}, {"field": "state"}, {"field": "steps"}],
        "href": {"field": "href"}}})
    return spec


def overdue_by_step_and_region(rows: list[dict[str, Any]], db: str, step_ids: dict[str, str]) -> dict[str, Any]:
    """A step x region grid: how many countries are overdue on each step."""
    values = [{**row, "href": _url(f"/{db}/overdue_milestones", region=row["region"],
                                   step=step_ids.get(row["step"], ""))} for row in rows]
    spec = _base("Overdue milestones by step and region (countries)", values)
    spec.update({"height": {"step": 22}, "mark": {"type": "rect", "cursor": "pointer"}, "encoding": {
        "y": {"field": "step", "type": "nominal", "sort": {"field": "position"}, "title": None},
        "x": {"field": "region", "type": "nominal", "title": None, "axis": {"labelAngle": -30}},
        "color": {"field": "countries", "type": "quantitative", "scale": {"scheme": "reds"}, "title": "countries"},
        "tooltip": [{"field": "step"}, {"field": "region"}, {"field": "countries"}],
        "href": {"field": "href"}}})
    return spec


def queries_by_week(rows: list[dict[str, Any]], db: str) -> dict[str, Any]:
    """Stacked bars: queries created each week, by their state now."""
    values = [{**row, "href": _url(f"/{db}/queries", state=row["state"], created_at__gte=row["week"])} for row in rows]
    spec = _base("Helpdesk queries by week and state", values)
    spec.update({"height": 200, "mark": {"type": "bar", "cursor": "pointer"}, "encoding": {
        "x": {"field": "week", "type": "ordinal", "title": "week (Monday)"},
        "y": {"field": "queries", "type": "quantitative", "title": "queries", "axis": {"tickMinStep": 1, "format": "d"}},
        "color": {"field": "state", "type": "nominal",
                  "scale": {"domain": list(QUERY_STATE_COLOURS), "range": list(QUERY_STATE_COLOURS.values())}},
        "tooltip": [{"field": "week"}, {"field": "state"}, {"field": "queries"}],
        "href": {"field": "href"}}})
    return spec
