"""bench/mail.py at a small size: it runs, and every message it times reaches the experts' chat."""
from __future__ import annotations

import asyncio
import importlib.util
import os
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "mail.py"


def test_mail_bench_runs_and_every_message_gets_its_card():
    spec = importlib.util.spec_from_file_location("bench_mail", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    payloads = bench.messages(30)
    figures = asyncio.run(bench.ldn(payloads, 3))  # raises if a message did not reach the experts' chat
    assert figures["acks"] == 31 and figures["carded_per_s"] > 0 and figures["card_p95_ms"] >= figures["card_median_ms"]
    assert bench.anchor(payloads, 3) > 0
    assert "LDN_MAIL_LISTEN" not in os.environ  # the bench leaves the environment as it found it
