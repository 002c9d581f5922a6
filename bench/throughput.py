"""Updates per second through the full Application, next to a bare PTB echo bot, same run.

Both run in-process on the offline Bot API (no network), with the rate limiter off, so
the figure is the cost of our handlers, database and search per update. Usage:

    .venv/bin/python bench/throughput.py [--updates 2000] [--rounds 3]

The traffic: the dev set's labelled questions (220, six languages, typos, 32 off-topic)
with a command every fifth update, cycled; ``--updates 2000`` makes one update in nine
a question the bot has never seen (each distinct question is new once, then repeats).
Every round starts as a fresh process would (the search engine's shared caches
emptied, a new database); figures are the median of the rounds, each round printed.
Target: the LDN bot at >= 0.5 of the bare echo bot.
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


def main() -> None:
    import json
    import statistics

    parser = argparse.ArgumentParser()
    parser.add_argument("--updates", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--one-round", choices=["mix", "cold"], help=argparse.SUPPRESS)  # a child process
    args = parser.parse_args()
    if args.one_round:
        print(json.dumps(one_round(args.updates) if args.one_round == "mix" else cold_round()))
        return
    results = [in_fresh_process("--one-round", "mix", "--updates", str(args.updates)) for _ in range(args.rounds)]
    echo, echo_faq, full = ([r[k] for r in results] for k in ("echo", "echo_faq", "full"))
    questions = len(MIX) - sum(m.startswith("/") for m in MIX)
    new = min(questions, sum(1 for i in range(min(args.updates, len(MIX))) if not MIX[i].startswith("/")))
    print(f"traffic: {args.updates} updates, {new} of them questions never seen before ({new / args.updates:.0%}),"
          f" the rest repeats and commands; median of {args.rounds} rounds, each in a fresh process")
    med = statistics.median
    rounds = lambda xs: "  (" + ", ".join(f"{x:.0f}" for x in xs) + ")"  # noqa: E731
    print(f"echo bot (bare PTB):        {med(echo):8.0f} updates/s" + rounds(echo))
    print(f"echo bot, FAQ-sized reply:  {med(echo_faq):8.0f} updates/s" + rounds(echo_faq)
          + "  same PTB, a 900-character answer with five buttons")
    print(f"LDN bot (full Application): {med(full):8.0f} updates/s" + rounds(full))
    print(f"ratio:                      {med(full) / med(echo):8.2f}  (target >= 0.50)")
    print(f"ratio to the FAQ-sized echo: {med(full) / med(echo_faq):7.2f}")
    cold = in_fresh_process("--one-round", "cold")["cold"]
    print(f"LDN bot, every question new (no repeats): {cold:8.0f} updates/s  (ratio {cold / med(echo):.2f})")


if __name__ == "__main__":
    main()
