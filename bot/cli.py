"""``ldn-bot``: the command line (run, console, check, countries, role, invite, and each feature's).

Subcommands and their JSON shapes are a stable interface (see README).
"""
from __future__ import annotations

import argparse
import datetime as dt
import asyncio
import importlib
import json
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import storage  # noqa: F401 - first: it loads sqlite-utils without numpy (storage/__init__.py), before bot.backup does
from bot import __version__
from bot.config import Config, load_config
from bot.collector import resume_collection
from knowledge.vocabulary import LANGS
from knowledge.yamlfile import DataError, keep_parsed_in
from storage.search_index import CACHE_DIR

if TYPE_CHECKING:  # for the annotation only: subcommands import what they use when they run (start-up time)
    from bot.services import Services

log = logging.getLogger("ldn.cli")

# Each feature adds its subcommands; order is the order of `ldn-bot --help`.
FEATURE_CLIS = ["bot.cli_faq", "bot.cli_helpdesk", "bot.cli_milestones", "bot.cli_reminders", "bot.cli_operations",
                "bot.mail.cli"]
# Start-up: the feature module that owns a subcommand, so that ``ldn-bot status`` imports
# bot.cli_operations alone, not every feature's dependencies (icalendar, the helpdesk ...).
# A subcommand missing here (or ``--help``) loads every module above, as before.
COMMAND_OWNERS = {
    "faq": "bot.cli_faq", "helpdesk": "bot.cli_helpdesk", "milestones": "bot.cli_milestones",
    "progress": "bot.cli_milestones", "calendar": "bot.cli_reminders", "events": "bot.cli_reminders",
    "status": "bot.cli_operations", "deliveries": "bot.cli_operations", "backup": "bot.cli_operations",
    "restore": "bot.cli_operations", "export": "bot.cli_operations", "dashboard": "bot.cli_operations",
    "user": "bot.cli_operations", "mail": "bot.mail.cli",
}
CORE_COMMANDS = {"run", "console", "check", "countries", "role", "invite"}

NO_TOKEN_HELP = """No TELEGRAM_BOT_TOKEN is set, so the bot cannot reach Telegram.
To run it for real: open Telegram, talk to @BotFather, send /newbot, and copy the token it gives you:
    export TELEGRAM_BOT_TOKEN=123456:ABC...   then   ldn-bot run
Starting the offline console instead: the same bot, in this terminal.
"""


@dataclass
class CliContext:
    config: Config
    services: Services

    @property
    def db(self):
        return self.services.store.db


def _config(args) -> Config:
    config = load_config(getattr(args, "config", None))
    _keep_parsed_yaml(config.db_path)
    return config


def _keep_parsed_yaml(db_path: str) -> None:
    """Start-up: the data files this process parses are kept, parsed, in the cache directory
    beside the database (``.ldn-cache/yaml-*.pickle``, :func:`knowledge.yamlfile.keep_parsed_in`),
    so that the next command reads them back instead of parsing them again."""
    if not db_path or db_path == ":memory:" or db_path.startswith("file:"):
        keep_parsed_in(None)
        return
    parent = Path(db_path).resolve().parent
    keep_parsed_in(parent / CACHE_DIR if parent.is_dir() else None)


def loader(args) -> CliContext:
    """Load config and data, open the database (for subcommands that need it)."""
    from bot.wiring import build_services

    config = _config(args)
    return CliContext(config, build_services(config, warm_search=False))


def _print_problems(exc: DataError) -> int:
    for problem in exc.problems:
        print(problem, file=sys.stderr)
    return 1


def cmd_run(args) -> int:
    from bot.logs import setup_logging

    try:
        config = _config(args)
    except DataError as exc:
        return _print_problems(exc)
    if not config.token:
        setup_logging("WARNING")  # the console is a conversation: keep routine log lines out of it
        print(NO_TOKEN_HELP)
        from bot.console import run_console

        resume_collection()

        return asyncio.run(run_console(config, user_id=args.user_id, lang=args.lang))
    setup_logging(config.raw.get("logging", {}).get("level", "INFO"))
    from bot import runner

    if runner.refuse_invalid_data(config):  # every data file, as `check` lists them
        return 1
    last = calendar_is_past(config)
    if last is not None:
        logging.getLogger("ldn.cli").warning("calendar.all_past", extra={
            "last_event_end": last.isoformat(), "hint": "add events to knowledge/events.yaml or set LDN_NOW"})
    try:
        from bot.app import build_application, build_services

        services = build_services(config, warm_search=False)  # start-up: the index loads once polling (bot/app.py)
        application = build_application(config, services=services, warm_search_later=True, menus_later=True)
    except DataError as exc:
        return _print_problems(exc)
    resume_collection()  # start-up: everything run needs is loaded (bot/launch.py)
    return runner.run(application, config, webhook=getattr(args, "webhook", False))


def cmd_console(args) -> int:
    from bot.console import run_console

    try:
        config = _config(args)
    except DataError as exc:
        return _print_problems(exc)
    logging.basicConfig(level=logging.WARNING)
    try:
        return asyncio.run(run_console(config, user_id=args.user_id, lang=args.lang, name=args.name,
                                       script=Path(args.script) if args.script else None,
                                       files_dir=Path(args.files) if args.files else None))
    except DataError as exc:
        return _print_problems(exc)


def cmd_check(args) -> int:
    from bot.datafiles import validate_all
    from bot.mail.config import problems as mail_problems

    try:
        config = _config(args)
    except DataError as exc:
        return _print_problems(exc)
    problems, counts = validate_all(config)
    lines = [str(p) for p in problems] + [f"{config.path or 'config.yaml'}: {p}" for p in mail_problems(config.section("mail"), os.environ)]
    if lines:
        for line in lines:
            print(line, file=sys.stderr)
        return 1
    print("OK: " + ", ".join(f"{name} {count}" for name, count in counts.items()))
    _warn_if_calendar_past(config)
    return 0


def calendar_is_past(config) -> dt.datetime | None:
    """The end of the calendar's last event when every event is over (at the bot's clock), else None."""
    from bot.clock import clock_from_env
    from knowledge.events import load_events

    events = load_events(Path(config.knowledge_dir) / "events.yaml")
    last = max((e.end_utc for e in events if e.active), default=None)
    now = clock_from_env(config.now_override).now()
    return last if last is not None and last < now else None


def _warn_if_calendar_past(config) -> None:
    last = calendar_is_past(config)
    if last is not None:
        print(f"warning: every event of the calendar is in the past (the last ended {last:%Y-%m-%d}): no reminder "
              "will be sent. Add events to knowledge/events.yaml, or set LDN_NOW to replay the programme's calendar.",
              file=sys.stderr)


def cmd_countries(args) -> int:
    from knowledge.countries import load_countries

    config = _config(args)
    registry = load_countries(Path(config.knowledge_dir) / "countries.yaml")
    if args.json:
        print(json.dumps(registry.to_json(), ensure_ascii=False, indent=1))
    else:
        for c in registry:
            print(f"{c.iso3}  {c.annex:<3} {c.list_group:<9} {'pilot' if c.pilot else '     '} {c.workshop:<12} {c.timezone:<28} {c.name('en')}")
    return 0


def cmd_role(args) -> int:
    from storage import users

    ctx = loader(args)
    country = None
    if args.role == "focal_point":
        c = ctx.services.countries.get(args.country)
        if c is None:
            print("focal_point needs --country ISO3 of a participating country", file=sys.stderr)
            return 2
        country = c.iso3
    role = None if args.action == "revoke" else args.role
    users.set_role(ctx.db, args.user_id, role, country, ctx.services.clock.now(), None, "cli")
    print(f"user {args.user_id}: role {role or 'none'}" + (f" ({country})" if country else ""))
    return 0


def cmd_invite(args) -> int:
    from bot import invites

    ctx = loader(args)
    country = ctx.services.countries.get(args.country)
    if country is None:
        print(f"unknown country {args.country!r}: use an ISO 3166 alpha-3 code from `ldn-bot countries`", file=sys.stderr)
        return 2
    if args.email:
        return invite_by_email(ctx, country, args)
    token, expires = invites.create_invite(ctx.db, country.iso3, None, ctx.services.clock.now(), args.days or ctx.config.invite_ttl_days)
    print(ctx.services.deep_link(token))
    print(f"# one use, for a focal point of {country.name('en')}, expires {expires:%Y-%m-%d %H:%M} UTC", file=sys.stderr)
    return 0


MAX_INVITE_DAYS = 365


def invite_days(text: str) -> int:
    """``--days``: a whole number of days from 1 to MAX_INVITE_DAYS (argparse names the range otherwise)."""
    value = int(text) if text.isascii() and text.lstrip("-").isdigit() and len(text) < 12 else None
    if value is None or not 1 <= value <= MAX_INVITE_DAYS:
        raise argparse.ArgumentTypeError(f"a whole number of days from 1 to {MAX_INVITE_DAYS}, not {text[:20]!r}")
    return value


def invite_by_email(ctx, country, args) -> int:
    """``ldn-bot invite --country ISO3 --email ADDRESS``: the invitation goes by e-mail."""
    from bot.mail import cli as mail_cli  # start-up: the e-mail channel's modules, only for --email

    try:
        cfg = mail_cli.config_of(ctx.config)
    except ValueError as exc:
        print(f"mail: {exc}", file=sys.stderr)
        return 1
    if not cfg.enabled:
        print("mail: set mail.from in config.yaml and LDN_SMTP_URL to send invitations by e-mail", file=sys.stderr)
        return 1
    invite, outcome = asyncio.run(mail_cli.send_invitation(ctx.services, cfg, address=args.email.strip().lower(), country=country,
                                                           lang=args.lang, days=args.days or ctx.config.invite_ttl_days))
    print(ctx.services.deep_link(invite.token))
    print(f"# e-mailed to {args.email} ({outcome.status}: {outcome.server or outcome.error or ''}), confirmation code "
          f"{invite.code}, for a focal point of {country.name('en')}, expires {invite.expires:%Y-%m-%d %H:%M} UTC", file=sys.stderr)
    return 0 if outcome.status in ("sent", "queued") else 1


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole parser; with ``command`` (the first argument), only the feature module
    that owns it is imported (see :data:`COMMAND_OWNERS`)."""
    parser = argparse.ArgumentParser(prog="ldn-bot", description="Telegram bot for the UNCCD LDN Target Setting Programme")
    parser.add_argument("--version", action="version", version=f"ldn-bot {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    def with_config(p):
        p.add_argument("--config", help="path to config.yaml (default: ./config.yaml)")
        return p

    p = with_config(sub.add_parser("run", help="run the bot (long polling; offline console without a token)"))
    p.add_argument("--webhook", action="store_true", help="receive updates by webhook instead of long polling")
    p.add_argument("--user-id", type=int, default=1001, help=argparse.SUPPRESS)
    p.add_argument("--lang", default="en", help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_run)

    p = with_config(sub.add_parser("console", help="chat with the bot in this terminal, offline"))
    p.add_argument("--user-id", type=int, default=1001)
    p.add_argument("--lang", default="en", choices=list(LANGS))
    p.add_argument("--name", help="your name in the console (default: from your role and id)")
    p.add_argument("--script", help="play this conversation file without a terminal and print the transcript")
    p.add_argument("--files", help="folder where photos and documents the bot sends are saved")
    p.set_defaults(func=cmd_console)

    p = with_config(sub.add_parser("check", help="validate config.yaml and every data file"))
    p.set_defaults(func=cmd_check)

    p = with_config(sub.add_parser("countries", help="the 95 participating countries"))
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_countries)

    p = with_config(sub.add_parser("role", help="grant or revoke a role"))
    p.add_argument("action", choices=["grant", "revoke"])
    p.add_argument("user_id", type=int)
    p.add_argument("role", choices=["secretariat", "expert", "focal_point"])
    p.add_argument("--country", help="ISO3, for focal_point")
    p.set_defaults(func=cmd_role)

    p = with_config(sub.add_parser("invite", help="print a one-time invitation link for a focal point"))
    p.add_argument("--country", required=True)
    p.add_argument("--days", type=invite_days, help=f"how long the link stays valid (1-{MAX_INVITE_DAYS} days)")
    p.add_argument("--email", help="e-mail the invitation (Telegram link and confirmation code) to this address")
    p.add_argument("--lang", default="en", choices=list(LANGS), help="language of the e-mail")
    p.set_defaults(func=cmd_invite)

    if command in CORE_COMMANDS:
        modules = []
    elif command in COMMAND_OWNERS:
        modules = [COMMAND_OWNERS[command]]
    else:
        modules = FEATURE_CLIS
    for module_name in modules:
        module = importlib.import_module(module_name)  # start-up: by name, see COMMAND_OWNERS
        module.add_commands(sub, loader, with_config)
    return parser


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    parser = build_parser(arguments[0] if arguments else None)
    args = parser.parse_args(arguments)
    if args.func is not cmd_run:  # run turns the collector back on once its Application is built
        resume_collection()
    try:
        return args.func(args) or 0
    except DataError as exc:
        return _print_problems(exc)
    except BrokenPipeError:  # pragma: no cover - e.g. piping into head
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
