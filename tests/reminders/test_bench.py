"""bench/fanout.py at a small size: through the loopback server that enforces Telegram's limits,
with random 429/500 answers, nobody is lost and nobody gets a message twice."""
from __future__ import annotations

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "fanout.py"


def load_bench():
    spec = importlib.util.spec_from_file_location("bench_fanout", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_small_fan_out_with_chaos_loses_nothing_and_duplicates_nothing(monkeypatch):
    import bot.reminders.service as reminders

    monkeypatch.setattr(reminders, "groups_for_countries", reminders.groups_for_countries)  # the bench replaces it; restored after
    bench = load_bench()
    report = await bench.run(recipients=45, mode="broadcast", groups=2, chaos=0.1, timeout=60, quiet=True, retry_base_delay=0.05)
    assert report["recipients"] == 47
    assert report["lost"] == 0 and report["duplicates"] == 0
    assert report["ledger"] == {"sent": 47}
    assert report["429s_seen"] + report["5xx_seen"] > 0      # the retries were exercised


async def test_reminder_fan_out_respects_the_per_chat_limit():
    bench = load_bench()
    report = await bench.run(recipients=35, mode="reminders", timeout=60, quiet=True)
    assert report["lost"] == 0 and report["duplicates"] == 0 and report["ledger"] == {"sent": 35}
