"""Operations on the command line: status, deliveries, backup, restore, export, dashboard, user forget.

``ldn-bot status [--json|--check]``             the bot's health (works while it runs)
``ldn-bot deliveries [--json]``                 failed deliveries with the reason of each
``ldn-bot deliveries retry [--dry-run]``        resend the retryable ones, once
``ldn-bot deliveries resend --uncertain [--kind K]``  resend sends whose outcome is unknown, on purpose
``ldn-bot backup PATH``                         consistent copy of the live database (file or directory)
``ldn-bot backup [DIR] --prune-forgotten``      rewrite older backups that still hold forgotten people
``ldn-bot restore PATH [--force]``              replace the database with a backup (never under a running bot)
``ldn-bot export queries --csv [--since D]``    helpdesk queries as CSV
``ldn-bot export milestones --csv``             every country's checklist as CSV
``ldn-bot export all DIR``                      every archive CSV into DIR
``ldn-bot dashboard [--host H] [--port P]``     Datasette, read-only, secrets hidden
``ldn-bot user show ID`` / ``user forget ID``   what is stored about a person / forget them

None of these loads the FAQ or migrates the database: they can run next to a running bot.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import sys
from pathlib import Path

from bot.config import load_config
from knowledge.isotime import parse_instant
from storage import deliveries
from storage.db import transaction


def add_commands(subparsers, loader, with_config) -> None:
    p = with_config(subparsers.add_parser("status", help="the bot's health: uptime, queues, failed deliveries, backups"))
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--check", action="store_true",
                   help="health check: exit 1 unless the bot runs with a fresh heartbeat (Docker HEALTHCHECK, monitoring)")
    p.set_defaults(func=cmd_status)

    p = with_config(subparsers.add_parser("deliveries", help="failed deliveries and their reasons; `retry` resends"))
    p.add_argument("action", nargs="?", choices=["list", "retry", "resend"], default="list")
    p.add_argument("--json", action="store_true")
    p.add_argument("--limit", type=int, default=100)
    p.add_argument("--dry-run", action="store_true", help="retry, resend: only show what would be resent")
    p.add_argument("--uncertain", action="store_true", help="resend: the sends whose outcome is unknown")
    p.add_argument("--kind", help="resend: only this ledger kind (answer, reminder, broadcast ...)")
    p.set_defaults(func=cmd_deliveries)

    p = with_config(subparsers.add_parser("backup", help="consistent copy of the database, safe while the bot runs"))
    p.add_argument("path", nargs="?", help="backup file, or a directory for a dated file (default: operations.backup_dir)")
    p.add_argument("--keep", type=int, help="with a directory: keep only the newest N dated backups")
    p.add_argument("--prune-forgotten", action="store_true",
                   help="rewrite the backups in the directory that still hold people forgotten since they were made")
    p.set_defaults(func=cmd_backup)

    p = with_config(subparsers.add_parser("restore", help="replace the database with a backup (the bot must be stopped)"))
    p.add_argument("path", help="the backup file")
    p.add_argument("--force", action="store_true", help="restore despite a recent heartbeat (the bot is known to be stopped)")
    p.add_argument("--check", action="store_true", help="only check the backup; change nothing")
    p.set_defaults(func=cmd_restore)

    export = subparsers.add_parser("export", help="CSV for archiving: queries, milestones, or everything")
    sub = export.add_subparsers(dest="what", required=True)
    p = with_config(sub.add_parser("queries", help="helpdesk queries as CSV"))
    p.add_argument("--csv", action="store_true", help="CSV (the only format; accepted for clarity)")
    p.add_argument("--since", help="only queries created on or after this date (YYYY-MM-DD)")
    p.add_argument("-o", "--output", help="write to this file instead of standard output")
    p.set_defaults(func=cmd_export_queries)
    p = with_config(sub.add_parser("milestones", help="every country's checklist as CSV"))
    p.add_argument("--csv", action="store_true", help="CSV (the only format; accepted for clarity)")
    p.add_argument("-o", "--output", help="write to this file instead of standard output")
    p.set_defaults(func=cmd_export_milestones)
    p = with_config(sub.add_parser("all", help="every archive CSV (queries, events, milestones, focal points, FAQ gaps ...) into DIR"))
    p.add_argument("directory")
    p.set_defaults(func=cmd_export_all)

    p = with_config(subparsers.add_parser("dashboard", help="browse the database read-only with Datasette (pip install '.[dashboard]')"))
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8001)
    p.add_argument("--write-metadata", metavar="FILE", help="only write the Datasette metadata JSON to FILE and exit")
    p.set_defaults(func=cmd_dashboard)

    user = subparsers.add_parser("user", help="one user: show, forget, block, unblock")
    sub = user.add_subparsers(dest="action", required=True)
    p = with_config(sub.add_parser("show", help="what is stored about a user (like /privacy)"))
    p.add_argument("user_id", type=int)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_user_show)
    p = with_config(sub.add_parser("forget", help="delete or anonymise a user's personal data (like /forgetme)"))
    p.add_argument("user_id", type=int)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_user_forget)
    for action, what in (("block", "their private messages get one short answer, nothing else"), ("unblock", "lift a block")):
        p = with_config(sub.add_parser(action, help=what))
        p.add_argument("user_id", type=int)
        p.set_defaults(func=cmd_user_block, action=action)


# -- helpers -----------------------------------------------------------------------------------------

def _config(args):
    return load_config(getattr(args, "config", None))


def _now(config) -> dt.datetime:
    from bot.clock import clock_from_env

    return clock_from_env(config.now_override).now()


def _open(config, *, must_exist: bool = True):
    """The database without migrating it (a running bot may own the schema)."""
    from storage.db import open_db

    path = config.db_path
    if must_exist and path != ":memory:" and not Path(path).exists():
        print(f"no database at {path} (set storage.path or LDN_DB)", file=sys.stderr)
        return None
    return open_db(path)


def _registry(config):
    from knowledge.countries import load_countries

    return load_countries(Path(config.knowledge_dir) / "countries.yaml")


def _parse_date(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    try:
        return parse_instant(text)
    except ValueError as exc:
        raise SystemExit(f"--since: {text!r} is not a date (YYYY-MM-DD)") from exc


def _emit(text: str, output: str | None) -> None:
    if output:
        Path(output).write_text(text, encoding="utf-8")
        print(f"wrote {output}", file=sys.stderr)
    else:
        sys.stdout.write(text)


# -- status and deliveries ------------------------------------------------------------------------------

def cmd_status(args) -> int:
    from bot import status

    config = _config(args)
    db = _open(config)
    if db is None:
        return 1
    try:
        data = status.gather(db, config, _now(config))
    finally:
        db.conn.close()
    if args.check:
        healthy = data["running"] and data["heartbeat"] and not data["heartbeat_stale"]
        print("OK" if healthy else ("UNHEALTHY: heartbeat stale" if data["running"] else "UNHEALTHY: not running"))
        return 0 if healthy else 1
    print(json.dumps(data, indent=1) if args.json else status.render_text(data))
    return 0


def cmd_deliveries(args) -> int:
    from storage import ops

    config = _config(args)
    db = _open(config)
    if db is None:
        return 1
    try:
        if args.action == "retry":
            return _retry(args, config, db)
        if args.action == "resend":
            return _resend(args, config, db)
        rows = ops.failed_deliveries(db, args.limit)
        uncertain = deliveries.uncertain_by_kind(db)
    finally:
        if args.action == "list":
            db.conn.close()
    if args.json:
        print(json.dumps(rows, indent=1, ensure_ascii=False))
        return 0
    if uncertain:
        print("uncertain (sent or not, unknown): " + ", ".join(f"{kind} {n}" for kind, n in uncertain.items())
              + "; `ldn-bot deliveries resend --uncertain [--kind K]` resends them")
    if not rows:
        print("no failed deliveries")
        return 0
    for row in rows:
        mark = "retryable" if row["retryable"] else "final"
        print(f"#{row['id']:<6} {row['kind']:<13} chat {row['chat_id']:<15} {row['status']:<9} {mark:<9} "
              f"attempts {row['attempts']}  {row['reason']}")
    retryable = sum(r["retryable"] for r in rows)
    print(f"{len(rows)} listed, {retryable} retryable: `ldn-bot deliveries retry` resends those once", file=sys.stderr)
    return 0


def _resend(args, config, db) -> int:
    """Queue the uncertain rows again on purpose; the running bot's next delivery run sends them
    (with a note saying they were sent again)."""
    if not args.uncertain:
        db.conn.close()
        raise SystemExit("deliveries resend: say --uncertain (the only rows it resends)")
    ids = deliveries.uncertain_ids(db, args.kind)
    if args.dry_run or not ids:
        print(f"{len(ids)} uncertain deliver{'y' if len(ids) == 1 else 'ies'}" + (": " + " ".join(f"#{i}" for i in ids) if ids else ""))
        db.conn.close()
        return 0
    with transaction(db):
        queued = deliveries.resend_uncertain(db, ids, _now(config))
    db.conn.close()
    print(f"{len(queued)} queued again; the running bot sends them on its next delivery run, marked as sent again")
    return 0


def _retry(args, config, db) -> int:
    from storage import ops
    from storage.db import Store

    ids = ops.retryable_ids(db)
    if args.dry_run or not ids:
        print(f"{len(ids)} retryable deliver{'y' if len(ids) == 1 else 'ies'}" + (": " + " ".join(f"#{i}" for i in ids) if ids else ""))
        db.conn.close()
        return 0
    now = _now(config)
    requeued = ops.requeue(db, ids, now)
    if not config.token:
        print(f"{len(requeued)} requeued; no TELEGRAM_BOT_TOKEN here, so the running bot sends them on its next delivery run")
        db.conn.close()
        return 0
    store = Store(db)
    try:
        outcomes = asyncio.run(_send(config, store, requeued))
    finally:
        store.close()
    sent = sum(o.status == "sent" for o in outcomes)
    for o in outcomes:
        print(f"#{o.delivery_id}: {o.status}" + (f" ({o.error})" if o.error else ""))
    print(f"{sent} of {len(outcomes)} sent")
    return 0 if sent == len(outcomes) else 1


async def _send(config, store, ids: list[int]):
    from telegram import Bot

    from bot.clock import clock_from_env
    from bot.delivery import Deliverer, RetryPolicy

    bot = Bot(config.token, base_url=config.api_base_url, base_file_url=config.api_file_url)
    deliverer = Deliverer(store, clock_from_env(config.now_override), RetryPolicy(**config.section("delivery")))
    async with bot:
        return [await deliverer.deliver(bot, delivery_id) for delivery_id in ids]


# -- backup and restore -------------------------------------------------------------------------------

def cmd_backup(args) -> int:
    from bot import backup

    config = _config(args)
    if args.prune_forgotten:
        folder = Path(args.path) if args.path else backup.ops_settings(config).backup_dir
        rewritten = backup.prune_forgotten(folder, config.db_path)
        for path, people in rewritten:
            print(f"{path}: {people} forgotten person(s) removed")
        print(f"{len(rewritten)} backup(s) rewritten")
        return 0
    try:
        settings = backup.ops_settings(config)
        dest = Path(args.path) if args.path else settings.backup_dir
        if not args.path or args.path.endswith(("/", "\\")):  # a directory, created if needed
            dest.mkdir(parents=True, exist_ok=True)
        result = backup.backup(config.db_path, dest, _now(config))
        pruned = backup.prune(result.path.parent, args.keep) if args.keep and (not args.path or Path(args.path).is_dir()) else []
    except backup.BackupError as exc:
        print(f"backup: {exc}", file=sys.stderr)
        return 1
    print(f"{result.path}  ({result.size} bytes, schema {result.schema_version}, {result.seconds:.2f} s)")
    for path in pruned:
        print(f"removed old backup {path}", file=sys.stderr)
    return 0


def cmd_restore(args) -> int:
    from bot import backup

    config = _config(args)
    try:
        if args.check:
            checked = backup.check_backup(args.path)
            print(f"{checked.path}: OK, schema {checked.schema_version} (this ldn-bot: {checked.latest_version})")
            return 0
        result = backup.restore(args.path, config.db_path, _now(config), force=args.force)
    except backup.BackupError as exc:
        print(f"restore: {exc}", file=sys.stderr)
        return 1
    c = result.checked
    print(f"restored {config.db_path} from {c.path} (schema {c.schema_version})")
    if result.replaced_copy:
        print(f"the database it replaced is kept as {result.replaced_copy}")
    if c.needs_migration:
        print(f"the bot migrates it from schema {c.schema_version} to {c.latest_version} when it next starts")
    return 0


# -- export ------------------------------------------------------------------------------------------------

def _export_one(args, what: str, feature: str, make) -> int:
    """Shared path of ``export queries`` and ``export milestones``: open, make the CSV, write it."""
    from bot import exports

    config = _config(args)
    db = _open(config)
    if db is None:
        return 1
    try:
        text = make(exports, db, config)
    finally:
        db.conn.close()
    _emit(text, args.output)
    return 0


def cmd_export_queries(args) -> int:
    return _export_one(args, "queries", "the helpdesk", lambda exports, db, _config: exports.queries_csv(db, _parse_date(args.since)))


def cmd_export_milestones(args) -> int:
    return _export_one(args, "milestones", "the milestones feature",
                       lambda exports, db, config: exports.milestones_csv(db, config, _registry(config)))


def cmd_export_all(args) -> int:
    from bot import exports

    config = _config(args)
    db = _open(config)
    if db is None:
        return 1
    try:
        result = exports.export_all(db, config, _registry(config), args.directory, _now(config))
    finally:
        db.conn.close()
    for name, rows in result.files.items():
        print(f"{result.directory / name}  {rows} rows")
    for name, why in result.skipped.items():
        print(f"skipped {name}: {why}", file=sys.stderr)
    return 0


# -- dashboard ----------------------------------------------------------------------------------------------

def cmd_dashboard(args) -> int:
    from bot import dashboard, milestones
    from bot.clock import clock_from_env
    from bot.dashboard import feeds
    from storage import ops

    config = _config(args)
    db = _open(config)
    if db is None:
        return 1
    try:
        ops.sync_countries(db, _registry(config), _now(config))  # the region table the canned queries use
        milestones.sync_template(db, milestones.load_template(config), _now(config))  # the steps the pages list
    finally:
        db.conn.close()
    if args.write_metadata:
        out = dashboard.write_metadata(config.db_path, args.write_metadata, config)
        print(f"wrote {out}")
        return 0
    try:
        import datasette  # noqa: F401
    except ImportError:
        print("the dashboard needs Datasette: pip install 'ldn-bot[dashboard]' (or pip install datasette)", file=sys.stderr)
        return 1
    try:
        login = dashboard.check_bind(args.host, os.environ.get(dashboard.PASSWORD_ENV))
    except dashboard.BindRefused as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"dashboard on http://{args.host}:{args.port}/ (read-only{', login required' if login else ''}; "
          "Ctrl-C stops it)", file=sys.stderr)
    clock = clock_from_env(config.now_override)
    dashboard.serve(config.db_path, args.host, args.port, config, clock=clock.now,
                    calendar=feeds.dashboard_calendar(config, clock))
    return 0


# -- personal data ------------------------------------------------------------------------------------------

def cmd_user_show(args) -> int:
    from storage import privacy

    config = _config(args)
    db = _open(config)
    if db is None:
        return 1
    try:
        data = privacy.summary(db, args.user_id)
    finally:
        db.conn.close()
    if args.json:
        print(json.dumps(data, indent=1, ensure_ascii=False))
        return 0
    if data["profile"] is None and not data["counts"]:
        print(f"nothing stored about user {args.user_id}")
        return 0
    categories = {p.table: p.category for p in privacy.REGISTRY}
    print("\n".join(user_lines(args.user_id, data, _registry(config), categories)))
    return 0


def cmd_user_block(args) -> int:
    from bot import cli_intake

    config = _config(args)
    if config.db_path != ":memory:" and not Path(config.db_path).exists():
        print(f"no database at {config.db_path} (set storage.path or LDN_DB)", file=sys.stderr)
        return 1
    fn = cli_intake.block if args.action == "block" else cli_intake.unblock
    return fn(config, _now(config), args.user_id)
#: What one row of each table is, singular and plural (``ldn-bot user show``).
ROW_NOUNS = {
    "queries": ("query", "queries"), "query_messages": ("message", "messages"),
    "query_attachments": ("attachment", "attachments"), "query_events": ("event in their history", "events in their history"),
    "query_ratings": ("rating", "ratings"), "faq_misses": ("unanswered FAQ question", "unanswered FAQ questions"),
    "faq_feedback": ("FAQ vote", "FAQ votes"), "faq_drafts": ("FAQ draft", "FAQ drafts"),
    "faq_entries": ("FAQ entry", "FAQ entries"), "milestones": ("checklist step last changed", "checklist steps last changed"),
    "milestone_history": ("checklist change", "checklist changes"), "reminder_mutes": ("muted reminder category", "muted reminder categories"),
    "deliveries": ("message sent", "messages sent"), "role_events": ("role change", "role changes"),
    "invites": ("invitation", "invitations"), "group_chats": ("group added or linked", "groups added or linked"),
    "directory_optins": ("directory listing", "directory listings"), "calendar_events": ("calendar event edited", "calendar events edited"),
    "calendar_event_log": ("calendar change", "calendar changes"), "broadcasts": ("broadcast", "broadcasts"),
    "confirmations": ("confirmation button", "confirmation buttons"),
}


def counted(n: int, singular: str, plural: str) -> str:
    """``1 query``, ``22 messages``."""
    return f"{n} {singular if n == 1 else plural}"


def user_lines(user_id: int, data: dict, registry, categories: dict[str, str]) -> list[str]:
    """``ldn-bot user show``: a header naming the person, their profile, then what mentions them."""
    profile = data["profile"] or {}
    name = profile.get("first_name") or "(no name stored)"
    handle = f" @{profile['username']}" if profile.get("username") else ""
    role = (profile.get("role") or "visitor").replace("_", " ")
    country = registry.get(profile.get("country")) if profile.get("country") else None
    where = f" of {country.name('en')} ({country.iso3})" if country else ""
    lines = [f"User {user_id}: {name}{handle}, {role}{where}"]
    if profile:
        lines.append(f"  language: {profile.get('lang') or 'not chosen'} · time zone: {profile.get('timezone') or 'not chosen'}"
                     f" · {'active' if profile.get('active') else 'inactive'} · known since {profile.get('created_at') or 'unknown'}")
    else:
        lines.append("  no profile (forgotten or never started the bot)")
    by_category: dict[str, list[str]] = {}
    for table, n in (data.get("tables") or {}).items():
        singular, plural = ROW_NOUNS.get(table, (f"{table} row", f"{table} rows"))
        by_category.setdefault(categories.get(table, "other"), []).append(counted(n, singular, plural))
    for category, parts in by_category.items():
        lines.append(f"  {category}: " + ", ".join(parts))
    return lines


def cmd_user_forget(args) -> int:
    from bot import backup
    from storage.privacy import compact, forget_and_log

    config = _config(args)
    db = _open(config)
    if db is None:
        return 1
    try:
        result = forget_and_log(db, args.user_id, _now(config), "cli")
        if result.total:
            compact(db)
    finally:
        db.conn.close()
    stale = backup.backups_holding_forgotten(backup.ops_settings(config).backup_dir, config.db_path)
    if stale:
        print(f"warning: {len(stale)} backup(s) made before still hold forgotten people: "
              "`ldn-bot backup --prune-forgotten` rewrites them", file=sys.stderr)
    if args.json:
        print(json.dumps({"changed": result.changed, "unregistered": result.unregistered}, indent=1))
        return 0
    if not result.total:
        print(f"nothing stored about user {args.user_id}")
        return 0
    print(f"user {args.user_id} forgotten: {result.total} rows deleted or anonymised "
          f"({', '.join(f'{t} {n}' for t, n in sorted(result.changed.items()))})")
    if result.unregistered:
        print("note: cleared by the generic sweep (add them to storage/privacy.py): " + ", ".join(result.unregistered),
              file=sys.stderr)
    return 0

