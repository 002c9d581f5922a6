"""The bot's health at a glance: ``ldn-bot status`` and ``/status`` (secretariat).

:func:`gather` reads everything from the database (and the lock file), so the command
line sees a running bot from outside: uptime, last update received, queue sizes,
failed deliveries, database size and the last backup. Figures of a feature that is not
installed are ``None``.
"""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

from bot import __version__
from storage import ops
from storage.db import latest_version, parse_iso, schema_version


def database_size(db_path: str | Path) -> int | None:
    """Bytes on disk: the database plus its write-ahead log."""
    if str(db_path) == ":memory:":
        return None
    total = 0
    for suffix in ("", "-wal"):
        try:
            total += os.path.getsize(str(db_path) + suffix)
        except OSError:
            if not suffix:
                return None
    return total


def gather(db, config, now: dt.datetime, *, running: bool | None = None) -> dict[str, Any]:
    """Everything ``status`` shows, as plain JSON-ready data.

    ``running``: None to find out from the lock file (command line), True inside the bot.
    """
    from bot.backup import HEARTBEAT_STALE, lock_held, ops_settings

    state = ops.state_values(db, ["started_at", "heartbeat", "stopped_at", "last_update_at", "last_backup_at", "restored_at"])
    if running is None:
        running = lock_held(config.db_path)
    started = parse_iso(state["started_at"])
    heartbeat = parse_iso(state["heartbeat"])
    uptime = int((now - started).total_seconds()) if running and started else None
    deliveries = ops.delivery_counts(db)
    try:
        settings = ops_settings(config)
        backup_daily, backup_dir = settings.backup_daily, str(settings.backup_dir)
    except Exception:  # noqa: BLE001 - a bad setting is reported by `ldn-bot check`, not here
        backup_daily, backup_dir = False, None
    last_backup = parse_iso(state["last_backup_at"])
    return {
        "version": __version__,
        "running": bool(running),
        "started_at": state["started_at"],
        "uptime_seconds": uptime,
        "heartbeat": state["heartbeat"],
        "heartbeat_stale": bool(running and heartbeat and now - heartbeat > HEARTBEAT_STALE),
        "stopped_at": state["stopped_at"],
        "last_update_at": state["last_update_at"],
        "last_update_ago_seconds": _ago(now, state["last_update_at"]),
        "queries": ops.query_queue(db),
        "pending_reminders": ops.pending_reminders(db),
        "deliveries": {
            "pending": deliveries.get("pending", 0),
            "failed": deliveries.get("failed", 0),
            "blocked": deliveries.get("blocked", 0),
            "uncertain": deliveries.get("uncertain", 0),
            "retryable": len(ops.retryable_ids(db)),
        },
        "users": ops.user_counts(db),
        "database": {
            "path": str(config.db_path),
            "size_bytes": database_size(config.db_path),
            "schema_version": schema_version(db),
            "latest_version": latest_version(),
        },
        "backup": {
            "last_backup_at": state["last_backup_at"],
            "last_backup_ago_seconds": _ago(now, state["last_backup_at"]),
            "daily": backup_daily,
            "dir": backup_dir,
            "overdue": bool(backup_daily and (last_backup is None or now - last_backup > dt.timedelta(hours=26))),
        },
        "restored_at": state["restored_at"],
    }


def _ago(now: dt.datetime, stamp: str | None) -> int | None:
    when = parse_iso(stamp)
    return int((now - when).total_seconds()) if when else None


def duration(seconds: int | None) -> str:
    """``3d 4h 5m`` / ``4h 5m`` / ``5m 10s``; ``-`` for unknown."""
    if seconds is None:
        return "-"
    seconds = max(0, int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h {minutes}m"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {secs}s"


def size(num: int | None) -> str:
    if num is None:
        return "-"
    value = float(num)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{num} B"  # pragma: no cover


def stamp(text: str | None, ago: int | None = None) -> str:
    """``2016-05-20 08:00 UTC (5m 0s ago)`` or ``-``."""
    when = parse_iso(text)
    if when is None:
        return "-"
    out = when.strftime("%Y-%m-%d %H:%M UTC")
    return f"{out} ({duration(ago)})" if ago is not None else out


def render_fields(data: dict[str, Any]) -> dict[str, str]:
    """The status as display strings (shared by the command line and the chat's translations)."""
    q = data["queries"] or {}
    d = data["deliveries"]
    db = data["database"]
    b = data["backup"]
    return {
        "version": data["version"],
        "uptime": duration(data["uptime_seconds"]),
        "started": stamp(data["started_at"]),
        "last_update": stamp(data["last_update_at"], data["last_update_ago_seconds"]),
        "q_new": str(q.get("new", "-")) if q else "-",
        "q_open": str(q.get("open", "-")) if q else "-",
        "q_pending": str(q.get("pending", "-")) if q else "-",
        "q_overdue": str(q.get("overdue", "-")) if q else "-",
        "reminders": str(data["pending_reminders"]),
        "pending": str(d["pending"]),
        "failed": str(d["failed"]),
        "blocked": str(d["blocked"]),
        "uncertain": str(d["uncertain"]),
        "db_size": size(db["size_bytes"]),
        "schema": f"{db['schema_version']}/{db['latest_version']}",
        "last_backup": stamp(b["last_backup_at"], b["last_backup_ago_seconds"]),
        "backup_daily": "on" if b["daily"] else "off",
    }


def render_text(data: dict[str, Any]) -> str:
    """Plain text for ``ldn-bot status``."""
    f = render_fields(data)
    state = "running" if data["running"] else "not running"
    if data["running"] and data["heartbeat_stale"]:
        state += " (heartbeat stale!)"
    lines = [
        f"ldn-bot {f['version']}: {state}" + (f", up {f['uptime']} since {f['started']}" if data["running"] else
                                               (f", stopped {stamp(data['stopped_at'])}" if data["stopped_at"] else "")),
        f"last update received: {f['last_update']}",
        f"helpdesk queries: new {f['q_new']}, open {f['q_open']}, pending {f['q_pending']}, overdue {f['q_overdue']}",
        f"reminders pending: {f['reminders']}",
        f"deliveries: pending {f['pending']}, failed {f['failed']} ({data['deliveries']['retryable']} retryable), "
        f"blocked {f['blocked']}, uncertain {f['uncertain']}",
        f"users: {data['users']['users']} ({data['users']['focal_points']} focal points, "
        f"{data['users']['countries_with_focal_point']} countries)",
        f"database: {data['database']['path']}, {f['db_size']}, schema {f['schema']}",
        f"last backup: {f['last_backup']}; daily backup {f['backup_daily']}"
        + (f" to {data['backup']['dir']}" if data["backup"]["daily"] else "")
        + (" — OVERDUE" if data["backup"]["overdue"] else ""),
    ]
    if data["database"]["schema_version"] < data["database"]["latest_version"]:
        lines.append("note: the database will be migrated when the bot next starts")
    return "\n".join(lines)
