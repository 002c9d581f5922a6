"""``ldn-bot run``: long polling (the default) or a webhook, with the run lock and one startup line.

* Every data file is validated first (:func:`refuse_invalid_data`, the same checks and
  ``file:line: what is wrong`` messages as ``ldn-bot check``, ``events.yaml`` included): on
  any problem the bot does not start (exit status 1).
* The run lock (``<database>.lock``, see :mod:`bot.backup`) is taken first: a second bot
  on the same database refuses to start, and ``ldn-bot restore`` refuses to run under a bot.
* One structured log line ``bot.start`` says what started: version, mode, database path,
  schema version and counts (countries, FAQ entries, events, pending reminders). Never the
  token, never the webhook secret.
* Webhook mode (``ldn-bot run --webhook``) serves ``telegram.webhook.path`` on
  ``listen:port`` (:mod:`bot.webhook` on tornado, the ``webhooks`` extra: each update parsed on
  its own, an unparsable one logged once as a WARNING and skipped) and registers
  ``telegram.webhook.url`` with Telegram together with a secret token, which Telegram
  sends back in ``X-Telegram-Bot-Api-Secret-Token`` on every request; requests without
  it, or with another, are answered 403 and never processed. Without a configured
  secret (``LDN_WEBHOOK_SECRET``) a random one is made for this run.
* When the bot stops, ``stopped_at`` is recorded (so a restore knows the heartbeat is over).
"""
from __future__ import annotations

import logging
import re
import secrets
import sys
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from telegram.error import TelegramError

from bot import __version__
from bot.backup import RunLock
from bot.datafiles import validate_all
from storage import ops, users
from storage.db import schema_version

log = logging.getLogger("ldn.runner")

SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


class WebhookConfigError(ValueError):
    """The webhook settings cannot work; the message says which setting to fix."""


@dataclass(frozen=True)
class WebhookSettings:
    url: str
    listen: str
    port: int
    path: str
    secret_token: str = ""
    secret_generated: bool = False

    def start_kwargs(self) -> dict[str, Any]:
        """Arguments of ``Updater.start_webhook`` (and ``Application.run_webhook``)."""
        return {"listen": self.listen, "port": self.port, "url_path": self.path, "webhook_url": self.url,
                "secret_token": self.secret_token, "allowed_updates": None, "drop_pending_updates": False}

    def loggable(self) -> dict[str, Any]:
        host = urllib.parse.urlsplit(self.url).hostname or "?"
        return {"webhook_host": host, "listen": self.listen, "port": self.port, "path": "/" + self.path,
                "secret": "generated" if self.secret_generated else "configured"}


def webhook_settings(config) -> WebhookSettings:
    """``telegram.webhook`` (url, listen, port, path, secret_token) checked; a missing secret is generated."""
    telegram = config.raw.get("telegram") or {}
    section = telegram.get("webhook") or {}
    url = str(section.get("url") or telegram.get("webhook_url") or "").strip()
    if not url:
        raise WebhookConfigError(
            "webhook mode needs telegram.webhook.url: the public HTTPS address Telegram posts updates to "
            "(e.g. https://bot.example.org/telegram; env LDN_CFG__TELEGRAM__WEBHOOK__URL)")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise WebhookConfigError(f"telegram.webhook.url must be an https:// URL, not {url!r}")
    if parts.scheme != "https" and "api.telegram.org" in config.api_base_url:
        raise WebhookConfigError("telegram.webhook.url must use https:// (Telegram only posts to HTTPS)")
    try:
        port = int(section.get("port") or 8443)
    except (TypeError, ValueError) as exc:
        raise WebhookConfigError("telegram.webhook.port must be a port number") from exc
    if not 0 < port < 65536:
        raise WebhookConfigError("telegram.webhook.port must be between 1 and 65535")
    path = str(section.get("path") or parts.path or "telegram").strip("/")
    secret = section.get("secret_token")
    generated = False
    if secret in (None, ""):
        secret, generated = secrets.token_urlsafe(32), True
    secret = str(secret)
    if not SECRET_RE.match(secret):
        raise WebhookConfigError("telegram.webhook.secret_token (LDN_WEBHOOK_SECRET) must be 1-256 characters "
                                 "of A-Z, a-z, 0-9, _ and -")
    return WebhookSettings(url=url, listen=str(section.get("listen") or "0.0.0.0"), port=port, path=path,
                           secret_token=secret, secret_generated=generated)


def refuse_invalid_data(config) -> int:
    """1 after printing every problem of the data files (as ``ldn-bot check`` does), 0 if there is none."""
    problems, _counts = validate_all(config)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        log.error("bot.refused", extra={"problems": len(problems), "hint": "run `ldn-bot check` and fix each file:line"})
    return 1 if problems else 0


# -- the startup line ---------------------------------------------------------------------------

def _yaml_event_count(config) -> int | None:
    try:
        from knowledge.yamlfile import load_file

        data = load_file(Path(config.knowledge_dir) / "events.yaml") or {}
        events = data.get("events") if isinstance(data, dict) else None
        return len(events) if isinstance(events, list) else None
    except Exception:  # noqa: BLE001 - a count in a log line must never stop the start
        return None


def startup_fields(services, mode: str) -> dict[str, Any]:
    """What ``bot.start`` logs: nothing secret (no token, no webhook secret, no personal data)."""
    db = services.store.db
    events = ops.event_count(db)
    return {
        "version": __version__,
        "mode": mode,
        "db": str(services.config.db_path),
        "schema": schema_version(db),
        "countries": len(services.countries),
        "faq_entries": ops.faq_entry_count(db),
        "events": events if events else _yaml_event_count(services.config),  # first start: table not loaded yet
        "pending_reminders": ops.pending_reminders(db),
    }


# -- run ----------------------------------------------------------------------------------------

def run(application, config, webhook: bool = False) -> int:
    """Run the bot until SIGINT/SIGTERM; the exit status for ``ldn-bot run``."""
    services = application.bot_data["services"]
    mode = "webhook" if webhook else "polling"
    settings = None
    if webhook:
        try:
            settings = webhook_settings(config)
        except WebhookConfigError as exc:
            print(f"ldn-bot run --webhook: {exc}", file=sys.stderr)
            return 2
    lock = None
    if str(config.db_path) != ":memory:":
        lock = RunLock(config.db_path)
        if not lock.acquire():
            print(f"another ldn-bot is already running on {config.db_path} (lock {lock.path} is held)", file=sys.stderr)
            return 1
    try:
        fields = startup_fields(services, mode)
        if settings is not None:
            fields.update(settings.loggable())
        log.info("bot.start", extra=fields)
        services.mode = mode
        if settings is not None:
            if settings.secret_generated:
                log.warning("webhook.secret_generated", extra={"hint": "set LDN_WEBHOOK_SECRET to keep one secret across restarts"})
            # imported here: tornado comes with the optional ``webhooks`` extra, needed only in this mode
            from bot.webhook import run_webhook

            polling = application.bot_data.get("polling")
            if polling is not None:
                polling.set()  # no getUpdates will come: the menus and the index need not wait for one
            run_webhook(application, settings)
        else:
            application.run_polling(allowed_updates=None, drop_pending_updates=False)
        return 0
    except TelegramError as exc:  # PTB has logged the details (e.g. Telegram unreachable, invalid token)
        log.error("bot.failed", extra={"mode": mode, "error": str(exc)})
        return 1
    except Exception:
        log.exception("bot.failed", extra={"mode": mode})
        return 1
    finally:
        try:
            now = services.clock.now()
            users.set_state(services.store.db, "stopped_at", now.isoformat(), now)
        except Exception:  # noqa: BLE001 - the database may be gone
            log.warning("bot.stop_not_recorded")
        if lock is not None:
            lock.release()
