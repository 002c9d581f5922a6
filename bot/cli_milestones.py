"""``ldn-bot milestones import FILE.csv``, ``ldn-bot milestones export`` and ``ldn-bot progress``.

(``ldn-bot export milestones --csv`` is the shared export command; it calls
:func:`bot.milestones.export_milestones_csv`.)
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Callable

from bot import milestones as ms
from bot.i18n import LANGS


def add_commands(subparsers, loader: Callable[..., Any], with_config: Callable | None = None) -> None:
    wrap = with_config or (lambda p: p)
    parser = subparsers.add_parser("milestones", help="countries' milestone checklists: bulk import and export (CSV)")
    sub = parser.add_subparsers(dest="milestones_command", required=True)

    p = wrap(sub.add_parser("import", help="bulk update from a CSV spreadsheet (all rows or none)"))
    p.add_argument("file", help="CSV with columns iso3 (or country), step, and any of status, date, note, evidence, due")
    p.add_argument("--dry-run", action="store_true", help="validate only; change nothing")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=lambda args: cmd_import(args, loader(args)))

    p = wrap(sub.add_parser("export", help="every country and step as CSV on stdout"))
    p.add_argument("--csv", action="store_true", help="CSV (the default and only format)")
    p.set_defaults(func=lambda args: cmd_export(args, loader(args)))

    p = wrap(subparsers.add_parser("progress", help="countries' progress through the checklist, by region"))
    p.add_argument("--chart", metavar="FILE.png", help="also write the per-region charts as FILE-I.png ... FILE-V.png")
    p.add_argument("--lang", default="en", choices=list(LANGS), help="language of the charts' titles and legends")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.set_defaults(func=lambda args: cmd_progress(args, loader(args)))


def _setup(ctx) -> tuple[Any, Any]:
    template = ms.load_template(ctx.config)
    ms.sync_template(ctx.db, template, ctx.services.clock.now())
    return template, ctx.services.countries


def cmd_import(args, ctx) -> int:
    template, registry = _setup(ctx)
    path = Path(args.file)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        print(f"{path}: cannot read ({exc.strerror})", file=sys.stderr)
        return 2
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")  # spreadsheets saved as "CSV (Windows)"
    now = ctx.services.clock.now()
    if args.dry_run:
        db = ctx.db
        db.conn.execute("BEGIN IMMEDIATE")
        try:
            result = ms.import_milestones_csv(db, template, registry, text, now, None)
        finally:
            db.conn.execute("ROLLBACK")
    else:
        result = ms.import_milestones_csv(ctx.db, template, registry, text, now, None)
    if args.json:
        print(json.dumps(result.to_json(), ensure_ascii=False, indent=1))
    if not result.ok:
        for error in result.errors:
            print(f"{path}: {error}", file=sys.stderr)
        print(f"{path}: nothing imported ({len(result.errors)} problem(s) in {result.rows} rows)", file=sys.stderr)
        return 1
    if not args.json:
        verb = "would change" if args.dry_run else "changed"
        print(f"{path}: {result.rows} rows, {verb} {result.changed}, {result.unchanged} unchanged")
    return 0


def cmd_export(args, ctx) -> int:
    template, registry = _setup(ctx)
    sys.stdout.write(ms.export_milestones_csv(ctx.db, template, registry))
    return 0


def cmd_progress(args, ctx) -> int:
    template, registry = _setup(ctx)
    now = ctx.services.clock.now()
    progress = ms.progress(ctx.db, template, registry, now)
    written = None
    if args.chart:  # the same per-region heatmaps as /progress chart: FILE-I.png ... FILE-V.png
        from bot.progress_chart import render_region_charts, write_region_charts

        charts = render_region_charts(ms.all_states(ctx.db, template, registry, now), registry, ctx.services.i18n,
                                      args.lang, now)
        written = write_region_charts(charts, args.chart)
    if args.json:
        data = progress.to_json()
        if args.chart:
            data["charts"] = written
        print(json.dumps(data, ensure_ascii=False, indent=1))
        return 0
    total = progress.total
    print(f"Milestones as of {now:%Y-%m-%d %H:%M} UTC: {total.done} of {total.applicable} steps done "
          f"({total.share:.0%}) in {len(total.countries)} countries; {total.overdue} overdue in {total.overdue_countries} countries")
    print()
    for group in progress.by_annex:
        _print_group(f"{ms.ANNEX_NAMES[group.key]} (annex {group.key})", group)
    _print_group("Pilot countries", progress.pilots)
    _print_group("Other countries", progress.others)
    print()
    for c in sorted(progress.countries, key=lambda c: (-c.share, c.iso3)):
        print(f"{c.iso3}  {c.done:>2}/{c.applicable:<2} {c.share:>5.0%}  in progress {c.in_progress:<2} overdue {c.overdue:<2} "
              f"{registry.name(c.iso3)}")
    for chart in written or ():
        print(f"chart: {chart['path']} ({chart['width']}x{chart['height']}, {chart['bytes']} bytes)", file=sys.stderr)
    return 0


def _print_group(name: str, group: ms.GroupProgress) -> None:
    print(f"{name:<52} {len(group.countries):>3} countries  {group.done:>4}/{group.applicable:<4} {group.share:>5.0%}  "
          f"overdue {group.overdue} in {group.overdue_countries} countries")
