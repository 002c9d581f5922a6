"""bench/throughput.py at a small size: both modes run, and every update they time is answered."""
from __future__ import annotations

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench" / "throughput.py"


def _bench():
    spec = importlib.util.spec_from_file_location("bench_throughput", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    return bench


def test_throughput_bench_runs_and_every_update_is_answered():
    bench = _bench()
    figures = bench.one_round(80)  # raises if any timed update went unanswered
    assert set(figures) == {"echo", "echo_faq", "full", "cache"}
    assert all(figures[kind] > 0 for kind in ("echo", "echo_faq", "full"))
    asked = [" ".join(m.lower().split()) for m in bench.MIX[:80] if not m.startswith("/")]
    assert figures["cache"] == {"lookups": len(asked), "hits": len(asked) - len(set(asked))}  # each repeat a hit
    questions = [m for m in bench.MIX if not m.startswith("/")]
    assert len(questions) >= 200 and len(bench.MIX) - len(questions) >= 40


def test_crowd_questions_are_all_new_to_the_result_cache():
    questions = _bench().crowd_questions(1000)
    assert len({" ".join(q.lower().split()) for q in questions}) == 1000


async def test_crowd_mode_in_a_tiny_configuration_answers_everyone_in_order():
    bench = _bench()
    ldn = await bench.crowd_run("ldn", 25, latency=0.0)
    assert ldn["unanswered"] == 0 and ldn["replies"] == ldn["expected"] == 25 + 2
    assert ldn["order_kept"] == ldn["order_checked"] == 2
    assert ldn["cache_hits"] == 0 and ldn["cache_lookups"] == 25 and ldn["429s_unhandled"] == 0
    bare = await bench.crowd_run("bare", 10, latency=0.0)
    assert bare["replies"] >= 1 and bare["order_checked"] == 1
