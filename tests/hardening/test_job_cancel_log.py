"""A job still running when the job queue stops is cancelled by APScheduler, which logs it as an
ERROR with a traceback; an ERROR means an operator must act, and a clean stop needs none."""
from __future__ import annotations

import asyncio
import io
import json
import logging

from bot.logs import setup_logging


async def test_a_job_cancelled_by_a_clean_stop_is_one_info_line_without_traceback(env):
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    stream = io.StringIO()
    setup_logging("INFO", stream=stream)
    started = asyncio.Event()

    async def long_job(context):
        started.set()
        await asyncio.sleep(30)

    queue = env.app.job_queue
    try:
        await queue.start()
        queue.run_once(long_job, 0, name="long-running")
        await asyncio.wait_for(started.wait(), 10)
        await queue.stop(wait=False)
        for _ in range(50):  # the executor's done-callback runs on a later loop iteration
            if "job.cancelled_at_shutdown" in stream.getvalue():
                break
            await asyncio.sleep(0.02)
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]
    cancelled = [line for line in lines if line["event"] == "job.cancelled_at_shutdown"]
    assert [(line["level"], line["logger"].startswith("apscheduler")) for line in cancelled] == [("INFO", True)], lines
    assert "long-running" in cancelled[0]["job"]
    assert not [line for line in lines if line["level"] in ("ERROR", "CRITICAL")], lines
    assert "Traceback" not in stream.getvalue()
