"""Messages per second through the e-mail receiver, and the time from handing a message over
to its card in the experts' chat, next to a bare aiosmtpd server that accepts and discards.

The LDN side is the whole path: smtplib clients (threads, persistent connections) →
aiosmtpd receiver on the bot's loop → parse, filter, FAQ search, query committed → 250 →
acknowledgement e-mail through the ledger to a local SMTP server → card on the offline Bot
API. The anchor: the same clients and messages against an aiosmtpd server whose handler
only answers 250. Usage:

    .venv/bin/python bench/mail.py [--messages 1000] [--clients 10]

The last line is the ratio LDN / anchor (messages per second).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import smtplib
import statistics
import sys
import tempfile
import threading
import time
from email import policy
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiosmtpd.controller import Controller  # noqa: E402

from bot.app import build_application, build_services  # noqa: E402
from bot.clock import FakeClock  # noqa: E402
from bot.config import config_from_text  # noqa: E402
from bot.mail import people  # noqa: E402
from bot.offline import OfflineBotAPI  # noqa: E402
from tests.mail.util import HELPDESK, free_port, mail, start_sink  # noqa: E402
from tests.util import CONFIG_TEXT  # noqa: E402

SENDER = "amina@ministry.example"
TOPICS = ["land productivity baseline", "soil organic carbon data", "land cover classes", "the 2018 report", "Trends.Earth",
          "the regional workshop", "voluntary targets", "the national working group"]


def messages(n: int) -> list[bytes]:
    return [mail(f"Question {i}", f"How do we handle {TOPICS[i % len(TOPICS)]} for district {i}?", message_id=f"b{i}@ministry.example",
                 sender=f"Amina <{SENDER}>").as_bytes(policy=policy.SMTP) for i in range(n)]


def send_all(port: int, payloads: list[bytes], clients: int, started: dict[str, float]) -> float:
    """Hand every message over from ``clients`` threads; the seconds it took."""
    parts = [payloads[i::clients] for i in range(clients)]

    def client(batch: list[bytes]) -> None:
        with smtplib.SMTP("127.0.0.1", port, timeout=120) as smtp:
            for data in batch:
                key = data.split(b"Message-ID: <", 1)[1].split(b">", 1)[0].decode()
                started[key] = time.perf_counter()
                smtp.sendmail(SENDER, [HELPDESK], data)

    threads = [threading.Thread(target=client, args=(batch,)) for batch in parts]
    begin = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - begin


class _Discard:
    async def handle_DATA(self, server, session, envelope):
        return "250 OK"


def anchor(payloads: list[bytes], clients: int) -> float:
    controller = Controller(_Discard(), hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        seconds = send_all(controller.port, payloads, clients, {})
    finally:
        controller.stop()
    return len(payloads) / seconds


async def ldn(payloads: list[bytes], clients: int) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="ldn-mail-bench-"))
    controller, sink = start_sink()
    saved = {name: os.environ.get(name) for name in ("LDN_SMTP_URL", "LDN_MAIL_LISTEN", "LDN_IMAP_URL")}
    os.environ.update({"LDN_SMTP_URL": f"smtp://127.0.0.1:{controller.port}", "LDN_MAIL_LISTEN": "127.0.0.1:0"})
    os.environ.pop("LDN_IMAP_URL", None)
    try:
        config = config_from_text(CONFIG_TEXT).with_overrides(storage={"path": str(workdir / "ldn.db")},
                                                              mail={"from": HELPDESK})
        clock = FakeClock("2016-05-20T08:00:00Z")
        services = build_services(config, clock=clock)
        app = build_application(config, request=OfflineBotAPI(), clock=clock, rate_limit=False, services=services)
        await app.initialize()
        await app.post_init(app)
        channel = services.mail
        invite = await services.store.run(lambda db: people.invite_by_email(db, address=SENDER, country="KEN", lang="en",
                                                                             created_by=None, now=clock.now(), ttl_days=14))
        await channel.receive(mail("Re: invitation", invite.code, sender=SENDER).as_bytes(), SENDER, [HELPDESK])
        await channel.settle()
        carded: dict[int, float] = {}
        post_card = channel.hooks.post_card

        async def timed_post_card(qid: int) -> bool:
            done = await post_card(qid)
            carded[qid] = time.perf_counter()
            return done

        channel.hooks.post_card = timed_post_card
        started: dict[str, float] = {}
        seconds = await asyncio.to_thread(send_all, channel.receiver.port, payloads, clients, started)
        await channel.settle()
        total = time.perf_counter() - min(started.values())
        rows = services.store.db.execute("SELECT message_id, query_id FROM mail_messages WHERE direction = 'in' AND fate = 'query'")
        latency = sorted(carded[qid] - started[mid] for mid, qid in rows if qid in carded and mid in started)
        if len(latency) != len(payloads):
            raise SystemExit(f"only {len(latency)} of {len(payloads)} messages reached the experts' chat")
        idle = []
        for i in range(5):  # one message at a time on an idle bot
            single = mail(f"Idle {i}", f"How do we handle {TOPICS[i]} alone?", message_id=f"idle{i}@ministry.example",
                          sender=f"Amina <{SENDER}>").as_bytes(policy=policy.SMTP)
            begin = time.perf_counter()
            await asyncio.to_thread(send_all, channel.receiver.port, [single], 1, {})
            await channel.settle()
            idle.append(time.perf_counter() - begin)
        acks = len(sink.messages) - len(idle)
        await channel.close()
        await app.shutdown()
        services.store.close()
    finally:
        controller.stop()
        shutil.rmtree(workdir, ignore_errors=True)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return {"accepted_per_s": len(payloads) / seconds, "carded_per_s": len(payloads) / total, "acks": acks,
            "card_median_ms": statistics.median(latency) * 1000, "idle_card_ms": statistics.median(idle) * 1000, "card_p95_ms": latency[int(len(latency) * 0.95) - 1] * 1000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=10)
    args = parser.parse_args()
    payloads = messages(args.messages)
    bare = anchor(payloads, args.clients)
    figures = asyncio.run(ldn(payloads, args.clients))
    print(f"{args.messages} messages from {args.clients} SMTP clients (persistent connections)")
    print(f"anchor: bare aiosmtpd, accept and discard: {bare:8.0f} messages/s")
    print(f"LDN receiver, messages accepted (250):     {figures['accepted_per_s']:8.0f} messages/s")
    print(f"LDN, every card on the experts' chat:       {figures['carded_per_s']:8.0f} messages/s "
          f"({figures['acks'] - 1} acknowledgements e-mailed)")
    print(f"time to the experts' card under that load: median {figures['card_median_ms']:.0f} ms, p95 {figures['card_p95_ms']:.0f} ms")
    print(f"time to the experts' card, one message on an idle bot: median {figures['idle_card_ms']:.0f} ms")
    print(f"ratio: {figures['carded_per_s'] / bare:.3f}  (LDN cards per second / bare aiosmtpd messages per second)")


if __name__ == "__main__":
    main()
