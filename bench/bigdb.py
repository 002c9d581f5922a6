"""The secretariat's figures on a year of heavy use: how long each hot path takes.

Builds a database through the storage functions the bot itself writes with (no bulk SQL
behind their back): ``--queries`` helpdesk queries (20,000) with three events and two
routed messages each (60,000 and 40,000), ``--faq-rows`` FAQ statistics rows (200,000:
misses and feedback), ``--deliveries`` ledger rows (50,000, a few failed), and every
country's checklist with some steps done and some overdue. Then it times, median of
``--repeat`` runs on a warm connection:

* ``/stats`` and ``ldn-bot helpdesk stats``: :func:`bot.helpdesk.reports.load_stats`;
* ``status``: :func:`bot.status.gather`;
* ``/progress``: :func:`bot.milestones.progress`;
* ``/overdue``: :func:`bot.milestones.overdue_by_country`;

and prints each next to the previous implementation (the figures computed in Python from
every row: :func:`bot.helpdesk.reports.compute_stats` over all queries, the checklist counted
from :func:`bot.milestones.all_states`) timed in the same run, and the target (20 ms); the
last column is the ratio to the target (<= 1 is met). The database is kept with
``--keep PATH`` (building it takes a while), and reused when PATH exists. Usage::

    .venv/bin/python bench/bigdb.py [--queries 20000] [--repeat 5] [--keep /tmp/year.db]
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot import milestones as ms  # noqa: E402
from bot.milestones.states import all_states  # noqa: E402
from bot import status  # noqa: E402
from bot.config import load_config  # noqa: E402
from bot.helpdesk import reports  # noqa: E402
from knowledge.countries import load_countries  # noqa: E402
from storage import deliveries, faq, helpdesk, milestones  # noqa: E402
from storage.db import migrate, open_db, transaction, utcnow_iso  # noqa: E402

TARGET_MS = 20.0
START = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
STATES = ["closed"] * 14 + ["resolved"] * 3 + ["open", "pending", "new"]
LANGS = ["en", "fr", "es", "ru", "ar", "zh"]


def build(db, registry, args) -> None:
    """A year of use, written through the storage functions, in batches of one transaction."""
    rng = random.Random(16)
    iso3s = [c.iso3 for c in registry]
    year = dt.timedelta(days=365).total_seconds()
    with transaction(db):
        for i in range(args.queries):
            created = START + dt.timedelta(seconds=rng.random() * year)
            qid = helpdesk.insert_query(db, asker_id=10_000 + i % 3000, country=rng.choice(iso3s), lang=rng.choice(LANGS),
                                        text=f"question {i} about land degradation neutrality", source="private",
                                        candidates=[], now=created)
            state = rng.choice(STATES)
            answered = created + dt.timedelta(hours=rng.expovariate(1 / 20))
            fields = {"state": state}
            if state != "new":
                fields["first_response_at"] = utcnow_iso(answered)
            if state in ("resolved", "closed"):
                fields["resolved_at"] = utcnow_iso(answered + dt.timedelta(hours=rng.expovariate(1 / 30)))
            if state in ("open", "pending") and rng.random() < 0.3:
                fields["overdue"] = 1
            helpdesk.update_query(db, qid, answered, **fields)
            helpdesk.add_event(db, qid, created, None, "created")
            helpdesk.add_event(db, qid, answered, 1, "state", "new", state)
            helpdesk.add_event(db, qid, answered, 1, "assigned", None, 1)
            helpdesk.add_message(db, qid, chat_id=-100, message_id=2 * i + 1, role="card", now=created)
            helpdesk.set_posted(db, qid, created, chat_id=-100, message_id=2 * i + 1, thread_id=None)
            helpdesk.add_message(db, qid, chat_id=-100, message_id=2 * i + 2, role="expert", now=answered, text="an answer")
            if i % 7 == 0:
                helpdesk.add_tag(db, qid, rng.choice(["finance", "indicators", "targets", "gender", "data"]))
            if i % 11 == 0 and state == "closed":
                helpdesk.rating_asked(db, qid, 10_000 + i % 3000, answered)
                helpdesk.set_score(db, qid, rng.randint(1, 5), answered)
    with transaction(db):
        for i in range(args.faq_rows):
            when = START + dt.timedelta(seconds=rng.random() * year)
            if i % 4 == 0:
                faq.record_feedback(db, f"entry-{i % 84}", rng.random() < 0.8, lang=rng.choice(LANGS), user_id=10_000 + i % 3000,
                                    now=when)
            else:
                faq.log_miss(db, f"an unanswered question {i}", lang=rng.choice(LANGS), best_score=rng.random() / 2,
                             user_id=10_000 + i % 3000, now=when)
    with transaction(db):
        for i in range(args.deliveries):
            when = START + dt.timedelta(seconds=rng.random() * year)
            did = deliveries.enqueue(db, kind=rng.choice(["reminder", "broadcast", "expert_answer", "group_post"]), ref=f"r{i}",
                                     chat_id=10_000 + i % 3000, method="sendMessage", payload={"text": "hello"},
                                     due_at=when, now=when)
            roll = rng.random()
            outcome = "sent" if roll < 0.97 else ("failed" if roll < 0.985 else ("blocked" if roll < 0.995 else "pending"))
            if outcome != "pending":
                deliveries.mark(db, did, outcome, when, message_id=i if outcome == "sent" else None,
                                error="network error" if outcome == "failed" else None)


def checklist(db, template, registry) -> None:
    """Every country's checklist: early steps done, some due dates past."""
    rng = random.Random(17)
    now = START + dt.timedelta(days=300)
    with transaction(db):
        for country in registry:
            for n, step in enumerate(template.steps):
                roll = rng.random()
                if n < 3 or roll < 0.3:
                    values = {"status": "done", "status_date": "2026-03-01"}
                elif roll < 0.5:
                    values = {"status": "in_progress", "due": (now - dt.timedelta(days=rng.randint(-60, 60))).date().isoformat()}
                else:
                    continue
                milestones.write_state(db, country.iso3, step.id, values, action="set", now=now, by=None, via="bench")


def _counted_in_python(db, template, registry, now) -> list[tuple]:
    """The previous /progress: every country's steps built as objects, then counted."""
    return [(iso3, sum(s.status == "done" for s in steps), sum(s.status == "in_progress" for s in steps),
             sum(s.status == "not_applicable" for s in steps), sum(s.overdue for s in steps))
            for iso3, steps in all_states(db, template, registry, now).items()]


def timed(fn, repeat: int) -> float:
    fn()  # warm: the first call parses statements and fills SQLite's page cache
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - start) * 1000)
    return statistics.median(runs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=20_000)
    parser.add_argument("--faq-rows", type=int, default=200_000)
    parser.add_argument("--deliveries", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", help="keep the database at this path (reused if it exists)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    config = load_config(None)
    kdir = Path(config.knowledge_dir)
    registry = load_countries(kdir / "countries.yaml")
    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or os.path.join(tmp, "year.db")
        existed = os.path.exists(path)
        db = open_db(path)
        if migrate(db, START) and existed:
            db.execute("ANALYZE")  # a kept database gains the new indexes' statistics
        template = ms.load_template(config)
        build_s = 0.0
        if not existed:
            start = time.perf_counter()
            build(db, registry, args)
            with transaction(db):
                ms.sync_template(db, template, START)
            checklist(db, template, registry)
            db.execute("ANALYZE")
            build_s = time.perf_counter() - start
        now = START + dt.timedelta(days=365)
        region = (lambda iso3: registry.get(iso3).annex if iso3 and registry.get(iso3) else "other")
        paths = {
            "/stats (load_stats)": lambda: reports.load_stats(db, region),
            "status (gather)": lambda: status.gather(db, config, now, running=True),
            "/progress (progress)": lambda: ms.progress(db, template, registry, now),
            "/overdue (overdue_by_country)": lambda: ms.overdue_by_country(db, template, registry, now),
        }
        previous = {
            "/stats (load_stats)": lambda: reports.compute_stats(helpdesk.all_queries(db), helpdesk.all_ratings(db),
                                                                 helpdesk.all_tags(db), region),
            "/progress (progress)": lambda: _counted_in_python(db, template, registry, now),
            "/overdue (overdue_by_country)": lambda: {iso3: [s for s in steps if s.overdue] for iso3, steps
                                                      in all_states(db, template, registry, now).items()
                                                      if any(s.overdue for s in steps)},
        }
        figures = {name: round(timed(fn, args.repeat), 2) for name, fn in paths.items()}
        before = {name: round(timed(fn, args.repeat), 2) for name, fn in previous.items()}
        sizes = {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                 for t in ("queries", "query_events", "query_messages", "faq_misses", "faq_feedback", "deliveries")}
    load = os.getloadavg()[0]
    if args.json:
        print(json.dumps({"ms": figures, "previous_ms": before, "rows": sizes, "build_s": round(build_s, 1),
                          "load_average": round(load, 2)}, indent=1))
        return 0
    print(f"a year of heavy use, median of {args.repeat}, {os.cpu_count()} CPUs, load average {load:.1f}")
    print("rows: " + ", ".join(f"{k} {v:,}" for k, v in sizes.items()) + (f" (built in {build_s:.0f} s)" if build_s else ""))
    print("previous: the same figures computed in Python from every row, timed in this run; "
          "ratio: ms / the 20 ms target (<= 1.00 is met)")
    print(f"\n{'hot path':<32}{'ms':>9}{'previous':>10}{'speed-up':>10}{'target':>8}{'met':>5}{'ratio':>7}")
    for name, value in figures.items():
        old = before.get(name)
        was = f"{old:>10.2f}{old / value:>9.0f}x" if old is not None else f"{'-':>10}{'-':>10}"
        print(f"{name:<32}{value:>9.2f}{was}{TARGET_MS:>8.0f}{'yes' if value <= TARGET_MS else 'NO':>5}{value / TARGET_MS:>7.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
