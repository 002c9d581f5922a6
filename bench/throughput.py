"""Throughput: 1,000 users at once at Telegram's cap (the headline), and updates/s through the handlers.

Headline, ``--mode crowd`` (every question never seen before): ``--users`` users (1,000) each send a
question the bot has never seen, all at once, through a loopback Bot API over HTTP
(:class:`tests.loopback_api.LoopbackBotAPI`, in a process of its own, as Telegram is not on the
bot's CPU) that enforces Telegram's limits (30 messages/s overall,
1/s per private chat, 429 with ``retry_after`` beyond them) with a network round trip of
``--latency`` (50 ms) on every request. The LDN bot polls it as ``ldn-bot run`` does (concurrent
chats through :class:`bot.updates.ChatOrderedProcessor`, 429s retried by the rate limiter); one
user in twenty sends ``/help`` right after the question, to check each chat's replies keep their
order. Against it, in the same run: a bare sequential PTB bot (PTB's defaults, no rate limiter)
answering each with an FAQ-sized reply. ``--rounds`` (3) rounds, the bare bot then the LDN bot in
each, every run in a fresh process; printed, the median over the rounds: replies/s, p50 and p90
latency (update queued -> first reply accepted), 429s seen and unhandled (passed on by the rate
limiter; for the bare bot every 429 is a lost reply), unanswered users, order kept, and the LDN
bot's result-cache hits (0: every answer is a full search); the ratio last.
Targets: >= 28 replies/s, >= 1.3x the bare sequential bot, p50 <= 18 s, no unhandled 429, order kept.

Beside it, ``--mode mix`` (repeats, mostly cache hits): updates/s through the full Application on
the offline Bot API (no network, rate limiter off), next to a bare PTB echo bot. The traffic is the
dev set's labelled questions (220, six languages, typos, 32 off-topic) with a command every fifth
update, cycled: with ``--updates 2000`` one update in nine is a question never seen before, the rest
repeats answered from the result cache. Every round starts as a fresh process would; figures are
the median of the rounds. Target: the LDN bot at >= 0.5 of the bare echo bot.

    .venv/bin/python bench/throughput.py                 # both: crowd first, then the mix
    .venv/bin/python bench/throughput.py --mode crowd --users 1000 --rounds 3
    .venv/bin/python bench/throughput.py --mode mix --updates 2000 --rounds 3
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from telegram.ext import ApplicationBuilder, MessageHandler, filters  # noqa: E402

from bot.app import build_application  # noqa: E402
from bot.clock import FakeClock  # noqa: E402
from bot.config import config_from_text  # noqa: E402
from bot.offline import OfflineBotAPI, UpdateFactory  # noqa: E402
from handlers.faq import ResultCache  # noqa: E402
from tests.loopback_api import LoopbackBotAPI, TelegramLimits  # noqa: E402

COMMANDS = ["/help", "/whoami", "/start", "/topics"]


def load_mix() -> list[str]:
    """The labelled dev-set questions (six languages, typos, off-topic) with a command every fifth update."""
    import yaml

    questions = []
    for path in sorted((Path(__file__).resolve().parent.parent / "tests" / "data" / "devset").glob("*.yaml")):
        questions += [case["q"] for case in yaml.safe_load(path.read_text(encoding="utf-8"))["cases"]]
    mix = []
    for i, question in enumerate(questions):
        mix.append(question)
        if i % 4 == 3:
            mix.append(COMMANDS[(i // 4) % len(COMMANDS)])
    return mix


MIX = load_mix()


class CountedResultCache(ResultCache):
    """The bot's own result cache, counting look-ups and hits: how many answers the cache gave."""

    def __init__(self, size: int = 2048):
        super().__init__(size)
        self.lookups = self.hits = 0

    def get(self, key: tuple):
        value = super().get(key)
        self.lookups += 1
        self.hits += value is not None
        return value


def counted_cache(app) -> CountedResultCache:
    """Give the LDN bot's services a counting result cache (before the first question)."""
    cache = CountedResultCache()
    app.bot_data["services"].faq_results = cache
    return cache


async def echo_rate(n: int, faq_sized_reply: bool = False) -> float:
    """A bare PTB echo bot; with ``faq_sized_reply`` it answers what an FAQ answer looks like
    (about 900 characters of HTML and five buttons), to show what the reply itself costs."""
    from telegram import InlineKeyboardButton, InlineKeyboardMarkup

    api = OfflineBotAPI()
    app = ApplicationBuilder().token("1:echo").request(api).get_updates_request(api).build()
    buttons = InlineKeyboardMarkup([
        [InlineKeyboardButton("👍 Helpful", callback_data="v1:faq:fb:x:1"), InlineKeyboardButton("👎 Not helpful", callback_data="v1:faq:fb:x:0")],
        [InlineKeyboardButton("❓ A related question", callback_data="v1:faq:show:a")],
        [InlineKeyboardButton("❓ Another related question", callback_data="v1:faq:show:b")],
        [InlineKeyboardButton("↗️ Share", switch_inline_query="question")]])
    answer = "<b>Question?</b>\n\n" + "An answer of the programme's guidance. " * 22

    async def echo(update, context):
        if faq_sized_reply:
            await context.bot.send_message(update.effective_chat.id, answer, parse_mode="HTML", reply_markup=buttons)
        else:
            await context.bot.send_message(update.effective_chat.id, update.effective_message.text)

    app.add_handler(MessageHandler(filters.ALL, echo))
    await app.initialize()
    factory = UpdateFactory(app.bot)
    updates = [factory.message(MIX[i % len(MIX)], user_id=1000 + i % 50) for i in range(n)]
    start = time.perf_counter()
    for update in updates:
        await app.process_update(update)
    elapsed = time.perf_counter() - start
    await app.shutdown()
    return n / elapsed


async def full_rate(n: int, db_path: str) -> tuple[float, dict]:
    """Full Application (updates/s, the result cache's look-ups and hits); the first pass over
    the mix sees every question for the first time."""
    config = config_from_text("roles:\n  secretariat: [1]\n").with_overrides(storage={"path": db_path})
    api = OfflineBotAPI()
    app = build_application(config, request=api, clock=FakeClock(), rate_limit=False)
    await app.initialize()
    cache = counted_cache(app)
    factory = UpdateFactory(app.bot)
    updates = [factory.message(MIX[i % len(MIX)], user_id=1000 + i % 50) for i in range(n)]
    for i in range(50):  # warm-up: the 50 users exist, the bot is initialised
        await app.process_update(factory.message("/start", user_id=1000 + i))
    before = len(api.calls)
    start = time.perf_counter()
    for update in updates:
        await app.process_update(update)
    elapsed = time.perf_counter() - start
    await app.shutdown()
    replies = sum(1 for call in api.calls[before:] if call.method == "sendMessage")
    if replies < n:  # a figure is only worth something if the bot did its work
        raise RuntimeError(f"the LDN bot answered {replies} of {n} updates")
    return n / elapsed, {"lookups": cache.lookups, "hits": cache.hits}


# -- crowd: 1,000 users at once, every question new, Telegram's limits ---------------------------

TOKEN = "123456789:CROWDtokenCROWDtokenCROWDtokenCROWD"
PREFIXES = ["", "Hello, ", "Please tell me: ", "Quick question, ", "Dear assistant, ", "Colleagues ask: "]
QUIET_SECONDS = 5.0  # after the last update is fetched: this long without a reply ends the wait
ORDER_EVERY = 20  # one user in twenty sends /help right after the question
FAQ_SIZED = "<b>Question?</b>\n\n" + "An answer of the programme's guidance. " * 22


def crowd_questions(n: int) -> list[str]:
    """``n`` distinct questions (distinct for the result cache too): dev-set questions with a greeting."""
    distinct = list(dict.fromkeys(q for q in MIX if not q.startswith("/")))
    out, seen = [], set()
    for prefix in PREFIXES:
        for question in distinct:
            text = prefix + question
            key = " ".join(text.lower().split())
            if key not in seen:
                seen.add(key)
                out.append(text)
    if n > len(out):
        raise ValueError(f"at most {len(out)} distinct questions")
    return out[:n]


def _update(text: str, user_id: int, message_id: int) -> dict:
    message = {"message_id": message_id, "date": int(time.time()), "text": text,
               "chat": {"id": user_id, "type": "private", "first_name": "User"},
               "from": {"id": user_id, "is_bot": False, "first_name": "User", "language_code": "en"}}
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"message": message}


def _ldn_bot(base_url: str, db_path: str):
    config = config_from_text("roles:\n  secretariat: [1]\n").with_overrides(
        telegram={"api_base_url": base_url}, storage={"path": db_path})
    import dataclasses

    return build_application(dataclasses.replace(config, token=TOKEN), clock=FakeClock())


def _bare_bot(base_url: str):
    """A bare PTB bot as its docs show it: PTB's defaults (sequential, no rate limiter), an FAQ-sized reply.
    A 429 loses that reply (counted as unanswered)."""
    app = ApplicationBuilder().token(TOKEN).base_url(base_url).build()

    async def answer(update, context):
        text = update.effective_message.text or ""
        await context.bot.send_message(update.effective_chat.id, "/help: " + text if text.startswith("/") else FAQ_SIZED,
                                       parse_mode="HTML")

    app.add_handler(MessageHandler(filters.ALL, answer))
    return app


def crowd_traffic(users: int) -> tuple[list[tuple[str, int, int]], list[int]]:
    """The crowd's updates in the order they arrive, ``(text, user_id, message_id)``, and the users
    who also send ``/help`` (their replies' order is checked)."""
    ordered = [1_000_000 + i for i in range(0, users, ORDER_EVERY)]
    traffic = []
    for i, question in enumerate(crowd_questions(users)):
        traffic.append((question, 1_000_000 + i, 1))
        if 1_000_000 + i in ordered:
            traffic.append(("/help", 1_000_000 + i, 2))
    return traffic, ordered


def serve_crowd(users: int, latency: float) -> None:
    """The emulated Telegram, in a process of its own (as Telegram is not on the bot's CPU, nor
    its threads on the bot's GIL), talking JSON lines on stdin/stdout: prints its URL, queues the
    crowd's updates on ``push`` (answering the monotonic time it began, shared by every process
    of the machine, and the last ``update_id``), then answers ``progress`` with (replies accepted,
    offset confirmed) and ``done`` with (the accepted replies, 429s answered)."""
    import json

    traffic, _ordered = crowd_traffic(users)

    def say(value) -> None:
        sys.stdout.write(json.dumps(value) + "\n")
        sys.stdout.flush()

    with LoopbackBotAPI(TOKEN, limits=TelegramLimits(), latency=latency, record_calls=False) as api:
        say(api.base_url)
        for command in sys.stdin:
            command = command.strip()
            if command == "push":
                started = time.monotonic()
                for text, user_id, message_id in traffic:
                    api.push(_update(text, user_id, message_id))
                say([started, api.push({})])  # an empty update marks the end
            elif command == "progress":
                say([len(api.accepted), api.confirmed_offset])
            elif command == "done":
                say([list(api.accepted), api.refused_429])
                return


class _Telegram:
    """The parent's end of :func:`serve_crowd`: one command, one JSON answer."""

    def __init__(self, users: int, latency: float):
        import subprocess

        self.proc = subprocess.Popen([sys.executable, __file__, "--serve-crowd", "--users", str(users),
                                      "--latency", str(latency)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.base_url = self._answer()

    def _answer(self):
        import json

        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the emulated Telegram stopped")
        return json.loads(line)

    def ask(self, command: str):
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self._answer()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                stream.close()


async def crowd_run(kind: str, users: int, latency: float = 0.05, timeout: float = 600.0) -> dict:
    """One bot (``"ldn"`` or ``"bare"``) against ``users`` users writing at once; its figures."""
    import logging
    import statistics

    traffic, ordered = crowd_traffic(users)
    expected: dict[int, int] = {}
    for _text, user_id, message_id in traffic:
        expected[user_id] = message_id
    total = sum(expected.values())
    cache = limiter = None
    telegram = await asyncio.to_thread(_Telegram, users, latency)
    try:
        base_url = telegram.base_url
        with tempfile.TemporaryDirectory() as tmp:
            app = _ldn_bot(base_url, str(Path(tmp) / "crowd.db")) if kind == "ldn" else _bare_bot(base_url)
            logging.getLogger("telegram.ext.Application").setLevel(logging.CRITICAL)  # the bare bot's lost replies: counted
            await app.initialize()
            if kind == "ldn":
                cache, limiter = counted_cache(app), app.bot.rate_limiter
            await app.updater.start_polling(poll_interval=0.0, timeout=1)
            await app.start()
            started, last_id = telegram.ask("push")
            deadline, seen, quiet_since = started + timeout, 0, time.monotonic()
            while time.monotonic() < deadline:
                await asyncio.sleep(0.05)
                accepted_now, confirmed = telegram.ask("progress")
                if accepted_now >= total:
                    break
                if accepted_now != seen:
                    seen, quiet_since = accepted_now, time.monotonic()
                elif confirmed > last_id and time.monotonic() - quiet_since > QUIET_SECONDS:
                    break  # everything fetched, nothing sent for a while: the rest was lost
            await app.updater.stop()
            await app.stop()
            await app.shutdown()
            if kind == "ldn":
                app.bot_data["services"].store.close()
        accepted, refused = telegram.ask("done")
    finally:
        telegram.close()
    first: dict[int, float] = {}
    texts: dict[int, list[str]] = {}
    for at, chat_id, text in accepted:
        first.setdefault(chat_id, at - started)
        texts.setdefault(chat_id, []).append(text)
    latencies = sorted(first.values())
    help_marker = "/help" if kind == "bare" else "What I can do"
    kept = sum(1 for uid in ordered if len(texts.get(uid, [])) == 2 and help_marker not in texts[uid][0]
               and help_marker in texts[uid][1])
    window = (max(at for at, _, _ in accepted) - started) if accepted else float("nan")
    # a 429 the bare bot meets loses that reply; the LDN bot's limiter retries, and counts what it passes on
    unhandled = refused if limiter is None else limiter.gave_up
    return {"bot": kind, "users": users, "replies": len(accepted), "expected": total,
            "unanswered": sum(1 for uid, n in expected.items() if len(texts.get(uid, [])) < n),
            "replies_per_s": len(accepted) / window if accepted else 0.0,
            "p50_s": statistics.median(latencies) if latencies else float("nan"),
            "p90_s": latencies[int(0.9 * (len(latencies) - 1))] if latencies else float("nan"),
            "429s_seen": refused, "429s_unhandled": unhandled, "order_kept": kept, "order_checked": len(ordered),
            "seconds": window, "questions": users,
            "cache_lookups": cache.lookups if cache else None, "cache_hits": cache.hits if cache else None}


def _median_row(rows: list[dict]) -> dict:
    """The median of each figure over the rounds (counts too), the rounds' own figures kept beside."""
    import statistics

    out = dict(rows[0])
    for key, value in rows[0].items():
        if isinstance(value, (int, float)) and not isinstance(value, bool) and key != "users":
            values = [row[key] for row in rows if row[key] is not None]
            out[key] = statistics.median(values) if values else None
    out["rounds"] = rows
    return out


def print_crowd(ldn: dict, bare: dict) -> None:
    rounds = len(ldn["rounds"])
    print(f"HEADLINE, every question new: {ldn['users']} users write at once, each a question never seen before "
          f"(one in {ORDER_EVERY} also sends /help), Telegram's limits emulated (30 msg/s, 1/s per chat), "
          f"{ldn['latency_ms']} ms round trip; median of {rounds} rounds, bare and LDN side by side in each")
    for row in (bare, ldn):
        name = "bare sequential PTB bot" if row["bot"] == "bare" else "LDN bot (ldn-bot run)  "
        print(f"  {name}: {row['replies_per_s']:5.1f} replies/s · p50 {row['p50_s']:5.1f} s · p90 {row['p90_s']:5.1f} s"
              f" · 429s seen {row['429s_seen']:g}, unhandled {row['429s_unhandled']:g} · unanswered {row['unanswered']:g}"
              f" · order kept {row['order_kept']:g}/{row['order_checked']}"
              + "  (rounds: " + ", ".join(f"{r['replies_per_s']:.1f}" for r in row["rounds"]) + " replies/s)")
    hits = [r["cache_hits"] for r in ldn["rounds"]]
    lookups = [r["cache_lookups"] for r in ldn["rounds"]]
    print(f"  result cache: {'/'.join(map(str, hits))} hits of {'/'.join(map(str, lookups))} look-ups per round"
          f" ({ldn['questions']} questions)"
          + (": every answer was a full search" if not any(hits) else ": some answers came from the cache"))
    ratios = [lr["replies_per_s"] / br["replies_per_s"] for lr, br in zip(ldn["rounds"], bare["rounds"], strict=True)]
    met = [ldn["replies_per_s"] >= 28, ldn["replies_per_s"] / bare["replies_per_s"] >= 1.3, ldn["p50_s"] <= 18,
           ldn["429s_unhandled"] == 0 and ldn["unanswered"] == 0, ldn["order_kept"] == ldn["order_checked"]]
    print("  targets: >= 28 replies/s, >= 1.30x the bare bot, p50 <= 18 s, no unhandled 429 (nobody unanswered),"
          " order kept: " + " ".join("met" if m else "NOT met" for m in met))
    print(f"  ratio per round: {', '.join(f'{r:.2f}' for r in ratios)}")
    print(f"  ratio (LDN / bare sequential, medians): {ldn['replies_per_s'] / bare['replies_per_s']:.2f}")


def one_round(updates: int) -> dict:
    """One round, in this (fresh) process: echo, FAQ-sized echo, the LDN bot."""
    with tempfile.TemporaryDirectory() as tmp:
        echo = asyncio.run(echo_rate(updates))
        echo_faq = asyncio.run(echo_rate(updates, faq_sized_reply=True))
        full, cache = asyncio.run(full_rate(updates, str(Path(tmp) / "bench.db")))
        return {"echo": echo, "echo_faq": echo_faq, "full": full, "cache": cache}


def cold_round() -> dict:
    """Every question new: the mix once, in a fresh process."""
    with tempfile.TemporaryDirectory() as tmp:
        cold, cache = asyncio.run(full_rate(len(MIX), str(Path(tmp) / "cold.db")))
        return {"cold": cold, "cache": cache}


def in_fresh_process(*args: str) -> dict:
    """Run this file with ``args`` in a new interpreter and return its JSON: every round
    starts as a freshly started bot would, with no cache warmed by an earlier round."""
    import json
    import subprocess

    out = subprocess.run([sys.executable, __file__, *args], check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def crowd(users: int, latency: float, rounds: int = 3) -> tuple[dict, dict]:
    """``rounds`` times the bare sequential bot, then the LDN bot, each in a fresh process, same
    traffic; the median of each figure (the two bots alternate, so a change of load hits both)."""
    bare_rows, ldn_rows = [], []
    for _ in range(rounds):
        bare_rows.append(in_fresh_process("--one-round", "crowd-bare", "--users", str(users), "--latency", str(latency)))
        ldn_rows.append(in_fresh_process("--one-round", "crowd-ldn", "--users", str(users), "--latency", str(latency)))
    bare, ldn = _median_row(bare_rows), _median_row(ldn_rows)
    for row in (bare, ldn):
        row["latency_ms"] = round(latency * 1000)
    return ldn, bare


def mix(updates: int, rounds: int) -> None:
    import statistics

    results = [in_fresh_process("--one-round", "mix", "--updates", str(updates)) for _ in range(rounds)]
    echo, echo_faq, full = ([r[k] for r in results] for k in ("echo", "echo_faq", "full"))
    cache = results[0]["cache"]
    new = cache["lookups"] - cache["hits"]
    print(f"repeats (beside the headline): {updates} updates, {cache['lookups']} of them questions, "
          f"{cache['hits']} answered from the result cache ({cache['hits'] / updates:.0%} of the updates), "
          f"{new} searched ({new / updates:.0%}), the rest commands;"
          f" offline Bot API, no limits; median of {rounds} rounds, each in a fresh process")
    med = statistics.median
    rounds_of = lambda xs: "  (" + ", ".join(f"{x:.0f}" for x in xs) + ")"  # noqa: E731
    print(f"  echo bot (bare PTB):        {med(echo):8.0f} updates/s" + rounds_of(echo))
    print(f"  echo bot, FAQ-sized reply:  {med(echo_faq):8.0f} updates/s" + rounds_of(echo_faq))
    print(f"  LDN bot (full Application): {med(full):8.0f} updates/s" + rounds_of(full))
    cold_round = in_fresh_process("--one-round", "cold")
    cold, cold_cache = cold_round["cold"], cold_round["cache"]
    print(f"  LDN bot, the mix once (no network; {cold_cache['hits']} cache hits of {cold_cache['lookups']} questions,"
          f" the dev set's own repeats): {cold:8.0f} updates/s  (ratio {cold / med(echo):.2f})")
    print(f"  ratio with repeats (LDN / echo): {med(full) / med(echo):.2f}  (target >= 0.50)")


def main() -> None:
    import json

    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=["all", "crowd", "mix"], default="all")
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.05, help="network round trip of the loopback Bot API (s)")
    parser.add_argument("--updates", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each mode; figures are their medians")
    parser.add_argument("--one-round", choices=["mix", "cold", "crowd-ldn", "crowd-bare"], help=argparse.SUPPRESS)
    parser.add_argument("--serve-crowd", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_crowd:  # the emulated Telegram of a crowd run
        serve_crowd(args.users, args.latency)
        return
    if args.one_round:  # a child process
        if args.one_round.startswith("crowd-"):
            result = asyncio.run(crowd_run(args.one_round.split("-")[1], args.users, args.latency))
        else:
            result = one_round(args.updates) if args.one_round == "mix" else cold_round()
        print(json.dumps(result))
        return
    ldn = bare = None
    if args.mode in ("all", "crowd"):
        ldn, bare = crowd(args.users, args.latency, args.rounds)
        if args.mode == "crowd":
            print_crowd(ldn, bare)
            return
    mix(args.updates, args.rounds)
    if ldn is not None:  # the headline, ratio last
        print_crowd(ldn, bare)


if __name__ == "__main__":
    main()
