"""Logs without noise: the log of a 429-heavy fan-out holds one WARNING line per handled 429 (method
and retry_after, no traceback) and no ERROR line at all."""
from __future__ import annotations

import importlib.util
import io
import json
import logging
from pathlib import Path

from bot.logs import JsonFormatter

FANOUT = Path(__file__).resolve().parents[2] / "bench" / "fanout.py"


def _fanout():
    spec = importlib.util.spec_from_file_location("bench_fanout", FANOUT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_a_429_heavy_fan_out_logs_one_warning_per_429_and_no_error():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:  # one in five sends refused with 429 (or 500) at random, on top of Telegram's own limits
        report = await _fanout().run(recipients=120, chaos=0.2, quiet=True, retry_base_delay=0.05)
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert report["lost"] == 0 and report["duplicates"] == 0 and report["429s_seen"] >= 5
    assert [line for line in lines if line["level"] in ("ERROR", "CRITICAL")] == []
    limited = [line for line in lines if line["event"] == "telegram.rate_limited"]
    assert len(limited) == report["429s_seen"]  # each handled 429: one line
    for line in limited:
        assert line["level"] == "WARNING" and line["method"] == "sendMessage" and line["retry_after"] >= 1
        assert "exc" not in line
    assert not any("exc" in line for line in lines)  # no traceback anywhere
