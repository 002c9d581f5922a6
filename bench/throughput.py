"""Throughput: 1,000 users at once at Telegram's cap (the headline), and updates/s through the handlers.

Headline, ``--mode crowd`` (every question never seen before): ``--users`` users (1,000) each send a
question the bot has never seen, all at once, through a loopback Bot API over HTTP
(:class:`tests.loopback_api.LoopbackBotAPI`) that enforces Telegram's limits (30 messages/s overall,
1/s per private chat, 429 with ``retry_after`` beyond them) with a network round trip of
``--latency`` (50 ms) on every request. The LDN bot polls it as ``ldn-bot run`` does (concurrent
chats through :class:`bot.updates.ChatOrderedProcessor`, 429s retried by the rate limiter); one
user in twenty sends ``/help`` right after the question, to check each chat's replies keep their
order. Against it, in the same run: a bare sequential PTB bot (PTB's defaults, no rate limiter)
answering each with an FAQ-sized reply. Printed: replies/s, p50 and p90 latency (update queued ->
reply accepted), 429s seen, unanswered users, order kept; the ratio last.
Targets: >= 28 replies/s, >= 1.3x the bare sequential bot, p50 <= 18 s, no unhandled 429.

Beside it, ``--mode mix`` (repeats, mostly cache hits): updates/s through the full Application on
the offline Bot API (no network, rate limiter off), next to a bare PTB echo bot. The traffic is the
dev set's labelled questions (220, six languages, typos, 32 off-topic) with a command every fifth
update, cycled: with ``--updates 2000`` one update in nine is a question never seen before, the rest
repeats answered from the result cache. Every round starts as a fresh process would; figures are
the median of the rounds. Target: the LDN bot at >= 0.5 of the bare echo bot.

    .venv/bin/python bench/throughput.py                 # both: crowd first, then the mix
    .venv/bin/python bench/throughput.py --mode crowd --users 1000
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


async def full_rate(n: int, db_path: str) -> float:
    """Full Application; the first pass over the mix sees every question for the first time."""
    config = config_from_text("roles:\n  secretariat: [1]\n").with_overrides(storage={"path": db_path})
    api = OfflineBotAPI()
    app = build_application(config, request=api, clock=FakeClock(), rate_limit=False)
    await app.initialize()
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
    return n / elapsed


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


async def crowd_run(kind: str, users: int, latency: float = 0.05, timeout: float = 600.0) -> dict:
    """One bot (``"ldn"`` or ``"bare"``) against ``users`` users writing at once; its figures."""
    import logging
    import statistics

    questions = crowd_questions(users)
    ordered = [1_000_000 + i for i in range(0, users, ORDER_EVERY)]
    with tempfile.TemporaryDirectory() as tmp, \
            LoopbackBotAPI(TOKEN, limits=TelegramLimits(), latency=latency, record_calls=False) as api:
        app = _ldn_bot(api.base_url, str(Path(tmp) / "crowd.db")) if kind == "ldn" else _bare_bot(api.base_url)
        logging.getLogger("telegram.ext.Application").setLevel(logging.CRITICAL)  # the bare bot's lost replies: counted
        await app.initialize()
        await app.updater.start_polling(poll_interval=0.0, timeout=1)
        await app.start()
        expected: dict[int, int] = {}
        started = time.monotonic()
        for i, question in enumerate(questions):
            user_id = 1_000_000 + i
            api.push(_update(question, user_id, 1))
            expected[user_id] = 1
            if user_id in ordered:
                api.push(_update("/help", user_id, 2))
                expected[user_id] = 2
        total, last_id = sum(expected.values()), api.push({})  # an empty update marks the end
        deadline, seen, quiet_since = started + timeout, 0, time.monotonic()
        while len(api.accepted) < total and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
            if len(api.accepted) != seen:
                seen, quiet_since = len(api.accepted), time.monotonic()
            elif api.confirmed_offset > last_id and time.monotonic() - quiet_since > QUIET_SECONDS:
                break  # everything fetched, nothing sent for a while: the rest was lost
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
        if kind == "ldn":
            app.bot_data["services"].store.close()
        accepted = list(api.accepted)
        refused = api.refused_429
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
    return {"bot": kind, "users": users, "replies": len(accepted), "expected": total,
            "unanswered": sum(1 for uid, n in expected.items() if len(texts.get(uid, [])) < n),
            "replies_per_s": len(accepted) / window if accepted else 0.0,
            "p50_s": statistics.median(latencies) if latencies else float("nan"),
            "p90_s": latencies[int(0.9 * (len(latencies) - 1))] if latencies else float("nan"),
            "429s_seen": refused, "order_kept": kept, "order_checked": len(ordered), "seconds": window}


def print_crowd(ldn: dict, bare: dict) -> None:
    print(f"every question new: {ldn['users']} users write at once (one in {ORDER_EVERY} also sends /help), "
          f"Telegram's limits emulated (30 msg/s, 1/s per chat), {ldn['latency_ms']} ms round trip")
    for row in (bare, ldn):
        name = "bare sequential PTB bot" if row["bot"] == "bare" else "LDN bot (ldn-bot run)  "
        print(f"  {name}: {row['replies_per_s']:5.1f} replies/s · p50 {row['p50_s']:5.1f} s · p90 {row['p90_s']:5.1f} s"
              f" · 429s seen {row['429s_seen']} · unanswered {row['unanswered']}"
              f" · order kept {row['order_kept']}/{row['order_checked']}")
    print("  targets: >= 28 replies/s, >= 1.30x the bare bot, p50 <= 18 s, nobody unanswered")
    print(f"  ratio (LDN / bare sequential): {ldn['replies_per_s'] / bare['replies_per_s']:.2f}")


def one_round(updates: int) -> dict:
    """One round, in this (fresh) process: echo, FAQ-sized echo, the LDN bot."""
    with tempfile.TemporaryDirectory() as tmp:
        return {"echo": asyncio.run(echo_rate(updates)),
                "echo_faq": asyncio.run(echo_rate(updates, faq_sized_reply=True)),
                "full": asyncio.run(full_rate(updates, str(Path(tmp) / "bench.db")))}


def cold_round() -> dict:
    """Every question new: the mix once, in a fresh process."""
    with tempfile.TemporaryDirectory() as tmp:
        return {"cold": asyncio.run(full_rate(len(MIX), str(Path(tmp) / "cold.db")))}


def in_fresh_process(*args: str) -> dict:
    """Run this file with ``args`` in a new interpreter and return its JSON: every round
    starts as a freshly started bot would, with no cache warmed by an earlier round."""
    import json
    import subprocess

    out = subprocess.run([sys.executable, __file__, *args], check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def crowd(users: int, latency: float) -> tuple[dict, dict]:
    """The bare sequential bot, then the LDN bot, each in a fresh process, same traffic."""
    bare = in_fresh_process("--one-round", "crowd-bare", "--users", str(users), "--latency", str(latency))
    ldn = in_fresh_process("--one-round", "crowd-ldn", "--users", str(users), "--latency", str(latency))
    for row in (bare, ldn):
        row["latency_ms"] = round(latency * 1000)
    return ldn, bare


def mix(updates: int, rounds: int) -> None:
    import statistics

    results = [in_fresh_process("--one-round", "mix", "--updates", str(updates)) for _ in range(rounds)]
    echo, echo_faq, full = ([r[k] for r in results] for k in ("echo", "echo_faq", "full"))
    questions = len(MIX) - sum(m.startswith("/") for m in MIX)
    new = min(questions, sum(1 for i in range(min(updates, len(MIX))) if not MIX[i].startswith("/")))
    print(f"repeats (beside the headline): {updates} updates, {new} of them questions never seen before"
          f" ({new / updates:.0%}), the rest repeats answered from the result cache and commands;"
          f" offline Bot API, no limits; median of {rounds} rounds, each in a fresh process")
    med = statistics.median
    rounds_of = lambda xs: "  (" + ", ".join(f"{x:.0f}" for x in xs) + ")"  # noqa: E731
    print(f"  echo bot (bare PTB):        {med(echo):8.0f} updates/s" + rounds_of(echo))
    print(f"  echo bot, FAQ-sized reply:  {med(echo_faq):8.0f} updates/s" + rounds_of(echo_faq))
    print(f"  LDN bot (full Application): {med(full):8.0f} updates/s" + rounds_of(full))
    cold = in_fresh_process("--one-round", "cold")["cold"]
    print(f"  LDN bot, the mix once (every question new, no network): {cold:8.0f} updates/s"
          f"  (ratio {cold / med(echo):.2f})")
    print(f"  ratio with repeats (LDN / echo): {med(full) / med(echo):.2f}  (target >= 0.50)")


def main() -> None:
    import json

    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=["all", "crowd", "mix"], default="all")
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.05, help="network round trip of the loopback Bot API (s)")
    parser.add_argument("--updates", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--one-round", choices=["mix", "cold", "crowd-ldn", "crowd-bare"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one_round:  # a child process
        if args.one_round.startswith("crowd-"):
            result = asyncio.run(crowd_run(args.one_round.split("-")[1], args.users, args.latency))
        else:
            result = one_round(args.updates) if args.one_round == "mix" else cold_round()
        print(json.dumps(result))
        return
    ldn = bare = None
    if args.mode in ("all", "crowd"):
        ldn, bare = crowd(args.users, args.latency)
        if args.mode == "crowd":
            print_crowd(ldn, bare)
            return
    mix(args.updates, args.rounds)
    if ldn is not None:  # the headline, ratio last
        print_crowd(ldn, bare)


if __name__ == "__main__":
    main()
