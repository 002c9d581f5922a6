"""``ldn-bot helpdesk ...``: the helpdesk's figures and queue from the command line.

    ldn-bot helpdesk stats [--json]
    ldn-bot helpdesk list [--state new|open|pending|resolved|closed|active|all] [--country ISO3] [--json]

(``ldn-bot export queries --csv [--since DATE]`` is wired by the operations CLI to
:func:`bot.helpdesk.reports.export_queries_csv`.)
"""
from __future__ import annotations

import json
import sys

from bot.helpdesk import reports
from bot.helpdesk.reports import Group, Stats
from bot.helpdesk.rules import snippet
from knowledge.vocabulary import ACTIVE_STATES, QUERY_STATES
from storage import helpdesk as store


def _stats_dict(stats: Stats) -> dict:
    def group(g: Group) -> dict:
        return {"count": g.count, "median_first_response_hours": g.median_first_hours,
                "median_resolution_hours": g.median_resolution_hours}

    return {"total": stats.total, "by_state": stats.by_state, "overdue": stats.overdue, "overall": group(stats.overall),
            "by_region": {k: group(v) for k, v in stats.by_region.items()},
            "by_topic": {k: group(v) for k, v in stats.by_topic.items()},
            "rating_average": stats.rating_average, "rating_count": stats.rating_count}


def cmd_stats(args, loader) -> int:
    ctx = loader(args)
    registry = ctx.services.countries

    def region(iso3):
        country = registry.get(iso3)
        return country.annex if country else "-"

    stats = reports.load_stats(ctx.db, region)
    data = _stats_dict(stats)
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=1))
        return 0
    print("\n".join(stats_lines(stats)))
    return 0


def _hours(value: float | None, missing: str = "none answered yet") -> str:
    return missing if value is None else f"{value:g} h"


def stats_lines(stats: Stats) -> list[str]:
    """``ldn-bot helpdesk stats`` as text: words where a figure does not exist yet, never ``None``."""
    states = ", ".join(f"{k} {v}" for k, v in stats.by_state.items()) or "none"
    lines = [f"{stats.total} {'query' if stats.total == 1 else 'queries'}: {states}; overdue {stats.overdue}",
             f"median first response: {_hours(stats.overall.median_first_hours)}; "
             f"median resolution: {_hours(stats.overall.median_resolution_hours, 'none resolved yet')}"]
    if stats.rating_count:
        lines.append(f"satisfaction: {stats.rating_average:g} / 5 ({stats.rating_count} "
                     f"{'rating' if stats.rating_count == 1 else 'ratings'})")
    else:
        lines.append("satisfaction: no ratings yet")
    for title, groups in (("region (annex)", stats.by_region), ("topic", stats.by_topic)):
        for key, g in groups.items():
            lines.append(f"{title:<15} {key or 'none':<20} {g.count:>5}  first {_hours(g.median_first_hours, '—')}"
                         f"  resolution {_hours(g.median_resolution_hours, '—')}")
    return lines


def cmd_list(args, loader) -> int:
    ctx = loader(args)
    country = None
    if args.country:
        found = ctx.services.countries.get(args.country)
        if found is None:
            print(f"unknown country {args.country!r}: use an ISO 3166 alpha-3 code from `ldn-bot countries`", file=sys.stderr)
            return 2
        country = found.iso3
    states = {"active": list(ACTIVE_STATES), "all": None}.get(args.state, [args.state])
    rows, _total = store.queue(ctx.db, states=states, country=country, limit=args.limit)
    if args.json:
        keep = ("id", "created_at", "country", "lang", "state", "priority", "assignee_id", "overdue", "tags", "text")
        print(json.dumps([{k: r.get(k) for k in keep} for r in rows], ensure_ascii=False, indent=1))
        return 0
    for r in rows:
        flag = " overdue" if r.get("overdue") and r["state"] in ACTIVE_STATES else ""
        print(f"#{r['id']:<5} {r['created_at']}  {r.get('country') or '-':<3}  {r['state']:<8} {r['priority']:<6}{flag}  {snippet(r['text'], 70)}")
    return 0


def add_commands(subparsers, loader, with_config) -> None:
    helpdesk = subparsers.add_parser("helpdesk", help="helpdesk figures and queue")
    sub = helpdesk.add_subparsers(dest="helpdesk_command", required=True)
    p = with_config(sub.add_parser("stats", help="counts by state, median response and resolution times, satisfaction"))
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=lambda args: cmd_stats(args, loader))
    p = with_config(sub.add_parser("list", help="queries, newest first"))
    p.add_argument("--state", default="active", choices=[*QUERY_STATES, "active", "all"])
    p.add_argument("--country", help="ISO3")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=lambda args: cmd_list(args, loader))
