"""The receiver holds 50 connections at once: 50 smtplib clients (threads) connect, wait
for each other, then each hands over a question; every one becomes a query with its card."""
from __future__ import annotations

import asyncio
import smtplib
import threading
from concurrent.futures import ThreadPoolExecutor

from email import policy

from tests.mail.util import HELPDESK, mail
from tests.util import EXPERT_CHAT

CLIENTS = 50


async def test_fifty_concurrent_connections(menv):
    await menv.bind()
    menv.outbox.clear()
    menv.bot.api.clear()
    together = threading.Barrier(CLIENTS, timeout=60)

    def client(n: int) -> tuple[int, bytes]:
        with smtplib.SMTP("127.0.0.1", menv.port, timeout=60) as smtp:
            smtp.ehlo()
            together.wait()  # all 50 connections are open at this point
            msg = mail(f"Question {n}", f"Question number {n} about the baseline.", message_id=f"c{n}@ministry.example")
            smtp.mail("amina@ministry.example")
            smtp.rcpt(HELPDESK)
            return smtp.data(msg.as_bytes(policy=policy.SMTP))

    def run_all():
        with ThreadPoolExecutor(CLIENTS) as pool:
            return list(pool.map(client, range(CLIENTS)))

    replies = await asyncio.to_thread(run_all)
    await menv.channel.settle()
    assert [code for code, _ in replies] == [250] * CLIENTS
    assert menv.db.execute("SELECT count(*) FROM queries WHERE source = 'email'").fetchone()[0] == CLIENTS
    assert menv.db.execute("SELECT count(*) FROM queries WHERE posted_at IS NOT NULL").fetchone()[0] == CLIENTS
    cards = [c for c in menv.bot.api.calls if c.method == "sendMessage" and c.chat_id == EXPERT_CHAT]
    assert len(cards) == CLIENTS
    acks = {m["Subject"] for m in menv.outbox.to("amina@ministry.example")}
    assert len(acks) == CLIENTS
