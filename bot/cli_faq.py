"""``ldn-bot faq ...``: search, eval, reload and gaps from the command line.

The JSON printed by ``faq search --json`` is a stable interface::

    [{"id": "ldn-definition", "score": 0.93, "question": "...", "answer": "...", "lang": "en"}]

best first, ``[]`` when the engine abstains. ``--lang`` picks the language of the
question and answer printed (the query itself may be in any language); ``lang`` in
each item is the language actually returned (a promoted entry may lack some).
"""
from __future__ import annotations

import argparse
import csv
import inspect
import json
import sys
from pathlib import Path
from typing import Any, Callable

from bot.search import FaqSearch, load_knowledge
from knowledge.evaluate import engine_fn, evaluate, format_report, load_cases
from knowledge.faq import LANGS, load_faq_dir
from knowledge.yamlfile import DataError
from storage import faq as store
from storage.db import migrate, open_db

GAP_COLUMNS = ["created_at", "kind", "lang", "country", "best_score", "entry_id", "query"]


def add_faq_commands(subparsers, load_context: Callable[..., Any], with_config: Callable | None = None) -> None:
    """Register ``faq search|eval|reload|gaps`` on an argparse ``subparsers`` object.

    ``load_context`` returns an object with ``.db`` (a migrated sqlite-utils Database);
    it is called with the parsed args if it accepts an argument, else with none.
    ``with_config`` (optional) adds the main CLI's common options to each subcommand.
    """
    wrap = with_config or (lambda p: p)
    faq = subparsers.add_parser("faq", help="search, evaluate and reload the FAQ; see the gaps")
    sub = faq.add_subparsers(dest="faq_command", required=True)

    p = wrap(sub.add_parser("search", help="search the FAQ like the bot does"))
    p.add_argument("query", help="the question, in any of the six languages")
    p.add_argument("--lang", default="en", choices=LANGS, help="language of the question/answer printed (default en)")
    p.add_argument("--limit", type=int, default=3, help="at most this many results (default 3)")
    p.add_argument("--json", action="store_true", help="print a JSON list, [] when the bot would abstain")
    p.set_defaults(func=lambda args: cmd_search(args, _context(load_context, args)))

    p = wrap(sub.add_parser("eval", help="accuracy on labelled queries (top-1, top-3, abstention)"))
    p.add_argument("files", nargs="+", help="labelled YAML files or directories (cases: [{q, lang, expect}])")
    p.add_argument("--failures", action="store_true", help="also list the queries not right at rank 1")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.set_defaults(func=lambda args: cmd_eval(args, _context(load_context, args)))

    p = wrap(sub.add_parser("reload", help="validate the FAQ files and load them into the database"))
    p.add_argument("--dir", help="FAQ directory (default: the configured knowledge dir's faq/)")
    p.set_defaults(func=lambda args: cmd_reload(args, _context(load_context, args)))

    p = wrap(sub.add_parser("gaps", help="questions the FAQ did not answer, or answered unhelpfully"))
    p.add_argument("--csv", action="store_true", help="CSV on stdout (for a spreadsheet)")
    p.add_argument("--since", help="only misses at or after this ISO date/time (UTC)")
    p.add_argument("--limit", type=int, help="at most this many, newest first")
    p.set_defaults(func=lambda args: cmd_gaps(args, _context(load_context, args)))


def add_commands(subparsers, load: Callable[..., Any], with_config: Callable | None = None) -> None:
    """Entry point the main ``ldn-bot`` CLI looks for in each feature module."""
    add_faq_commands(subparsers, load, with_config)


def _context(load_context: Callable[..., Any], args) -> Any:
    try:
        takes_args = bool(inspect.signature(load_context).parameters)
    except (TypeError, ValueError):  # pragma: no cover - builtins
        takes_args = True
    return load_context(args) if takes_args else load_context()


def _faq_dir(ctx: Any, explicit: str | None) -> Path | None:
    if explicit:
        return Path(explicit)
    config = getattr(ctx, "config", None)
    knowledge_dir = getattr(config, "knowledge_dir", None)
    return Path(knowledge_dir) / "faq" if knowledge_dir else None


def _engine(ctx: Any):
    """The context's search engine if it has one, else a new one (loading the YAML if never loaded)."""
    services = getattr(ctx, "services", None)
    engine = getattr(services, "search", None) or getattr(ctx, "search", None)
    if engine is not None:
        return engine
    if store.knowledge_version(ctx.db) == 0:
        load_knowledge(ctx.db, _faq_dir(ctx, None))
    return FaqSearch(ctx.db)


def hit_json(hit, lang: str) -> dict:
    """One result in the stable JSON shape."""
    text = hit.entry.text(lang)
    shown = lang if lang in hit.entry.texts else next(k for k, v in hit.entry.texts.items() if v is text)
    return {"id": hit.entry.id, "score": round(hit.score, 4), "question": text.q, "answer": text.a, "lang": shown}


def cmd_search(args, ctx) -> int:
    engine = _engine(ctx)
    hits = engine.search(args.query, limit=max(0, args.limit))
    items = [hit_json(hit, args.lang) for hit in hits]
    if args.json:
        print(json.dumps(items, ensure_ascii=False, indent=1))
        return 0
    if not items:
        print(f"(no answer: best score {engine.best_score(args.query):.3f} is below the threshold {engine.threshold:.3f})")
        return 0
    for item in items:
        print(f"{item['score']:.3f}  {item['id']}  [{item['lang']}] {item['question']}")
    print()
    print(items[0]["answer"])
    return 0


def cmd_eval(args, ctx) -> int:
    cases = load_cases(args.files)
    report = evaluate(engine_fn(_engine(ctx)), cases)
    if args.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False, indent=1))
    else:
        print(format_report(report, failures=args.failures, title=f"{len(cases)} labelled queries"))
    return 0


def cmd_reload(args, ctx) -> int:
    path = _faq_dir(ctx, args.dir)
    try:
        entries = load_faq_dir(path)
    except DataError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        state = store.knowledge_state(ctx.db)
        print(
            f"{len(exc.problems)} problem(s): nothing loaded; knowledge version {state['version']} is still served",
            file=sys.stderr,
        )
        return 1
    version = store.load_entries(ctx.db, entries)
    state = store.knowledge_state(ctx.db)
    print(
        f"Loaded {state['yaml_entries']} FAQ entries ({state['promoted_entries']} promoted kept); "
        f"knowledge version {version}"
    )
    return 0


def cmd_gaps(args, ctx) -> int:
    rows = store.list_gaps(ctx.db, since=args.since, limit=args.limit)
    if args.csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(GAP_COLUMNS)
        for row in rows:
            writer.writerow(["" if row[c] is None else row[c] for c in GAP_COLUMNS])
        return 0
    if not rows:
        print("No misses recorded.")
        return 0
    for row in rows:
        score = "-" if row["best_score"] is None else f"{row['best_score']:.2f}"
        where = f"{row['lang'] or '?'}/{row['country'] or '?'}"
        extra = f" (shown {row['entry_id']})" if row["entry_id"] else ""
        print(f"{row['created_at']}  {row['kind']:<11} {where:<7} {score:>5}  {row['query']}{extra}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Stand-alone use: ``python -m bot.cli_faq faq search ... --db PATH``."""
    parser = argparse.ArgumentParser(prog="ldn-bot")
    parser.add_argument("--db", default="data/ldn.db")
    sub = parser.add_subparsers(dest="command", required=True)

    class _Ctx:
        def __init__(self, path):
            self.db = open_db(path)
            migrate(self.db)

    holder: dict = {}

    def load(args):
        holder.setdefault("ctx", _Ctx(args.db))
        return holder["ctx"]

    add_faq_commands(sub, load)
    args = parser.parse_args(argv)
    try:
        return args.func(args) or 0
    except DataError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
