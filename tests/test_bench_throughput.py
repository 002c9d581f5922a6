"""bench/throughput.py at a small size: it runs, and the LDN bot answers every update it times."""
from __future__ import annotations

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench" / "throughput.py"


def test_throughput_bench_runs_and_every_update_is_answered():
    spec = importlib.util.spec_from_file_location("bench_throughput", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    figures = bench.one_round(80)  # raises if any timed update went unanswered
    assert set(figures) == {"echo", "echo_faq", "full"} and all(rate > 0 for rate in figures.values())
    questions = [m for m in bench.MIX if not m.startswith("/")]
    assert len(questions) >= 200 and len(bench.MIX) - len(questions) >= 40
