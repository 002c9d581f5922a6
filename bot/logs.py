"""Structured logging: one JSON object per line, never the token, no message bodies at INFO."""
from __future__ import annotations

import asyncio
import json
import logging
import re
import sys

_TOKEN = re.compile(r"\d{5,}:[A-Za-z0-9_-]{20,}")
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


def redact(text: str) -> str:
    """Hide anything that looks like a bot token (e.g. inside a Bot API URL)."""
    return _TOKEN.sub("<token>", text)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, object] = {"ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"), "level": record.levelname,
                "logger": record.name, "event": redact(record.getMessage())}
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                data[key] = value if isinstance(value, (int, float, bool, type(None))) else redact(str(value))
        if record.exc_info:
            data["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(data, ensure_ascii=False)


class JobCancelledAtShutdown(logging.Filter):
    """APScheduler's asyncio executor cancels the jobs still running when the job queue stops and
    logs each as an ERROR with a CancelledError traceback. A job interrupted by a clean stop needs no
    operator (reminders and deliveries are resumed from the ledger on the next start), so the record
    is rewritten as one INFO line without the traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if (record.name.startswith("apscheduler") and record.exc_info
                and isinstance(record.exc_info[1], asyncio.CancelledError)):
            job = record.args[0] if isinstance(record.args, tuple) and record.args else None
            record.levelno, record.levelname = logging.INFO, "INFO"
            record.msg, record.args, record.exc_info, record.exc_text = "job.cancelled_at_shutdown", (), None, None
            record.__dict__["job"] = str(job) if job is not None else None
        return True


def setup_logging(level: str = "INFO", stream=sys.stderr) -> None:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(JobCancelledAtShutdown())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every request URL, which contains the token: keep it quiet.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
