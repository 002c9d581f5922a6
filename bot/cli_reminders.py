"""``ldn-bot calendar`` (the .ics file on stdout) and ``ldn-bot events`` (the calendar with its reminder times).

    ldn-bot calendar [--region R] [--country ISO3] [--lang xx] > events.ics
    ldn-bot events [--json]
"""
from __future__ import annotations

import json
import sys
from typing import Any

from bot import milestones
from bot.i18n import LANGS
from bot.ics import due_dates_from
from bot.reminders import calendar_file, calendar_selection, get_reminders, sync_events
from storage import reminders as store
from storage.db import transaction


def _synced(ctx):
    """The reminder service, with events.yaml loaded into the database (chat edits kept)."""
    service = get_reminders(ctx.services)
    with transaction(ctx.db):
        sync_events(ctx.db, service.definitions(), ctx.services.clock.now())
    return service


def cmd_calendar(args, loader) -> int:
    ctx = loader(args)
    registry = ctx.services.countries
    countries = None
    if args.region:
        resolved = registry.resolve_circle(args.region)
        if resolved is None:
            print(f"unknown region {args.region!r}: use africa, asia, lac, europe, annex:II, pilots or an ISO3 code", file=sys.stderr)
            return 2
        countries = set(resolved[1])
    if args.country:
        country = registry.get(args.country)
        if country is None:
            print(f"unknown country {args.country!r}: use an ISO 3166 alpha-3 code from `ldn-bot countries`", file=sys.stderr)
            return 2
        countries = (countries or set()) | {country.iso3} if countries is not None else {country.iso3}
    service = _synced(ctx)
    events = store.list_events(ctx.db)
    chosen = calendar_selection(service, events, countries=countries, everything=countries is None)
    due = []
    if args.country:  # the country's own checklist due dates, as all-day events
        steps = milestones.country_steps(ctx.db, milestones.load_template(ctx.services.config), registry,
                                         registry.get(args.country).iso3, ctx.services.clock.now())
        due = due_dates_from(steps, args.lang)
    text = calendar_file(service, chosen, args.lang, ctx.services.clock.now(), due)
    data = text.encode("utf-8")
    if args.output:
        with open(args.output, "wb") as fh:
            fh.write(data)
        print(f"{len(chosen)} events written to {args.output}", file=sys.stderr)
    else:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    return 0


def cmd_events(args, loader) -> int:
    ctx = loader(args)
    service = _synced(ctx)
    now = ctx.services.clock.now()
    rows: list[dict[str, Any]] = []
    for event in store.list_events(ctx.db):
        times = [{"offset": off, "due_utc": due.strftime("%Y-%m-%dT%H:%M:%SZ"), "past": due <= now}
                 for off, due in service.event_times(event)]
        rows.append({"id": event.id, "kind": event.kind, "start_local": event.start.isoformat(), "end_local": event.end.isoformat(),
                     "timezone": event.timezone, "start_utc": event.start_utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
                     "status": "cancelled" if event.cancelled else "active", "version": event.version, "source": event.source,
                     "audience": event.audience.to_dict(), "title": event.title_in(args.lang), "reminders": times})
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
        return 0
    for row in rows:
        upcoming = ", ".join(f"{t['offset']}@{t['due_utc']}" for t in row["reminders"] if not t["past"]) or "-"
        print(f"{row['id']:<20} {row['status']:<9} {row['start_local']:<19} {row['timezone']:<32} {row['kind']:<9} "
              f"reminders: {upcoming}")
    return 0


def add_commands(subparsers, loader, with_config) -> None:
    p = with_config(subparsers.add_parser("calendar", help="the programme's events as an iCalendar (.ics) file on stdout"))
    p.add_argument("--region", help="only events for a region/circle: africa, asia, lac, europe, annex:II, pilots ...")
    p.add_argument("--country", help="only events for one country (ISO3)")
    p.add_argument("--lang", default="en", choices=list(LANGS), help="language of titles and places")
    p.add_argument("-o", "--output", help="write to this file instead of stdout")
    p.set_defaults(func=lambda args: cmd_calendar(args, loader))

    p = with_config(subparsers.add_parser("events", help="the calendar with each event's reminder times (UTC)"))
    p.add_argument("--json", action="store_true")
    p.add_argument("--lang", default="en", choices=list(LANGS))
    p.set_defaults(func=lambda args: cmd_events(args, loader))
