"""Configuration: ``config.yaml`` plus environment overrides, as one frozen object.

Secrets never live in config.yaml: the bot token comes from ``TELEGRAM_BOT_TOKEN``.
Environment variables win over the file:

=========================  ==========================================
``TELEGRAM_BOT_TOKEN``     the bot token (never logged)
``TELEGRAM_API_BASE_URL``  ``http://HOST:PORT/bot`` for a self-hosted Bot API
``LDN_DB``                 database path (``storage.path``)
``LDN_EXPERT_CHAT_ID``     experts' group chat id (``helpdesk.expert_chat_id``)
``LDN_NOW``                start the clock at this instant (e.g. ``2016-05-20T08:00:00Z``)
``LDN_SECRETARIAT_IDS``    comma-separated user ids with the secretariat role
``LDN_BOT_USERNAME``       the bot's username for deep links when offline
``LDN_WEBHOOK_SECRET``     webhook secret token (``telegram.webhook.secret_token``)
``LDN_CFG__SECTION__KEY``  any other setting, value parsed as YAML
=========================  ==========================================
"""
from __future__ import annotations

import functools

import copy
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml

from knowledge.vocabulary import LANGS
from knowledge.yamlfile import DataError, Node, Problem, load_file, load_text

DEFAULT_API_BASE_URL = "https://api.telegram.org/bot"
DEFAULT_CONFIG_PATH = Path("config.yaml")
PACKAGE_ROOT = Path(__file__).resolve().parent.parent

DEFAULTS: dict[str, Any] = {
    "telegram": {
        "api_base_url": DEFAULT_API_BASE_URL,
        "bot_username": "ldn_tsp_bot",
        "webhook": {"url": None, "listen": "0.0.0.0", "port": 8443, "path": "telegram", "secret_token": None},
    },
    "storage": {"path": "data/ldn.db"},
    "knowledge": {"dir": None},
    "roles": {"secretariat": [], "experts": []},
    "i18n": {"default_language": "en"},
    "invites": {"ttl_days": 14},
    "helpdesk": {"expert_chat_id": None},
    "reminders": {},
    "logging": {"level": "INFO"},
}


def _merge(base: dict, extra: Mapping) -> dict:
    out = copy.deepcopy(base)
    for key, value in (extra or {}).items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _int_list_cached(value: Any) -> tuple[int, ...]:
    """:func:`_int_list` of a role list, remembered (it is read for every update)."""
    key = value if isinstance(value, (int, str, type(None))) else tuple(value)
    return _int_list_memo(key)


@functools.lru_cache(maxsize=64)
def _int_list_memo(value: Any) -> tuple[int, ...]:
    return _int_list(value)


def _int_list(value: Any) -> tuple[int, ...]:
    if value in (None, ""):
        return ()
    if isinstance(value, (int, str)):
        value = str(value).split(",")
    return tuple(int(str(v).strip()) for v in value if str(v).strip())


@dataclass(frozen=True)
class Config:
    """Everything the bot needs to start; built by :func:`load_config`."""

    raw: dict = field(repr=False)
    path: Path | None = None
    token: str | None = field(default=None, repr=False)
    now_override: str | None = None

    # -- core settings ---------------------------------------------------
    @property
    def api_base_url(self) -> str:
        return str(self.raw["telegram"]["api_base_url"]).rstrip("/")

    @property
    def api_file_url(self) -> str:
        """``http://HOST:PORT/bot`` becomes ``http://HOST:PORT/file/bot``."""
        base = self.api_base_url
        if base.endswith("/bot"):
            return base[: -len("/bot")] + "/file/bot"
        return base + "/file"

    @property
    def bot_username(self) -> str:
        return str(self.raw["telegram"].get("bot_username") or "ldn_tsp_bot").lstrip("@")

    @property
    def db_path(self) -> str:
        """Relative paths are taken from the working directory, like every CLI tool."""
        return str(self.raw["storage"]["path"])

    @property
    def knowledge_dir(self) -> Path:
        custom = self.raw.get("knowledge", {}).get("dir")
        return Path(custom) if custom else PACKAGE_ROOT / "knowledge"

    @property
    def secretariat_ids(self) -> tuple[int, ...]:
        return _int_list_cached(self.raw["roles"].get("secretariat"))

    @property
    def expert_ids(self) -> tuple[int, ...]:
        return _int_list_cached(self.raw["roles"].get("experts"))

    @property
    def default_language(self) -> str:
        return str(self.raw["i18n"].get("default_language") or "en")

    @property
    def invite_ttl_days(self) -> int:
        return int(self.raw["invites"].get("ttl_days") or 14)

    @property
    def expert_chat_id(self) -> int | None:
        value = self.raw.get("helpdesk", {}).get("expert_chat_id")
        return int(value) if value not in (None, "") else None

    def section(self, name: str) -> dict:
        """A feature's own settings (plain dict); features apply their own defaults."""
        return copy.deepcopy(self.raw.get(name) or {})

    def with_overrides(self, **sections: Mapping) -> "Config":
        """A copy with some settings replaced (used by tests and the console)."""
        return Config(raw=_merge(self.raw, sections), path=self.path, token=self.token, now_override=self.now_override)


def _apply_env(raw: dict, env: Mapping[str, str]) -> dict:
    raw = copy.deepcopy(raw)
    if env.get("TELEGRAM_API_BASE_URL"):
        raw["telegram"]["api_base_url"] = env["TELEGRAM_API_BASE_URL"]
    if env.get("LDN_DB"):
        raw["storage"]["path"] = env["LDN_DB"]
    if env.get("LDN_EXPERT_CHAT_ID"):
        raw.setdefault("helpdesk", {})["expert_chat_id"] = int(env["LDN_EXPERT_CHAT_ID"])
    if env.get("LDN_SECRETARIAT_IDS"):
        raw["roles"]["secretariat"] = list(_int_list(env["LDN_SECRETARIAT_IDS"]))
    if env.get("LDN_BOT_USERNAME"):
        raw["telegram"]["bot_username"] = env["LDN_BOT_USERNAME"]
    if env.get("LDN_WEBHOOK_SECRET"):
        raw["telegram"].setdefault("webhook", {})["secret_token"] = env["LDN_WEBHOOK_SECRET"]
    for key, value in env.items():
        if not key.startswith("LDN_CFG__"):
            continue
        parts = [p.lower() for p in key[len("LDN_CFG__"):].split("__") if p]
        if not parts:
            continue
        target = raw
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = yaml.safe_load(value)
    return raw


def validate_raw(raw: Mapping, where: Node | None, filename: str) -> list[Problem]:
    """Problems in the merged configuration (types and ranges of core settings)."""
    problems: list[Problem] = []

    def line(*keys: str) -> int:
        node = where
        for key in keys[:-1]:
            node = node.get(key) if isinstance(node, Node) else None
        return node.line_of(keys[-1]) if isinstance(node, Node) else 1

    url = str(raw["telegram"].get("api_base_url") or "")
    if not url.startswith(("http://", "https://")):
        problems.append(Problem(filename, line("telegram", "api_base_url"), "telegram.api_base_url must start with http:// or https://"))
    if raw["i18n"].get("default_language") not in LANGS:
        problems.append(Problem(filename, line("i18n", "default_language"), f"i18n.default_language must be one of {' '.join(LANGS)}"))
    for key in ("secretariat", "experts"):
        try:
            _int_list(raw["roles"].get(key))
        except (TypeError, ValueError):
            problems.append(Problem(filename, line("roles", key), f"roles.{key} must be a list of numeric Telegram user ids"))
    try:
        if int(raw["invites"].get("ttl_days") or 14) <= 0:
            raise ValueError
    except (TypeError, ValueError):
        problems.append(Problem(filename, line("invites", "ttl_days"), "invites.ttl_days must be a positive number"))
    chat = raw.get("helpdesk", {}).get("expert_chat_id")
    if chat not in (None, ""):
        try:
            int(chat)
        except (TypeError, ValueError):
            problems.append(Problem(filename, line("helpdesk", "expert_chat_id"), "helpdesk.expert_chat_id must be a numeric chat id"))
    if "token" in raw.get("telegram", {}):
        problems.append(Problem(filename, line("telegram", "token"), "the bot token must not be in config.yaml: set TELEGRAM_BOT_TOKEN"))
    return problems


def load_config(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Read config.yaml (if present), apply defaults and environment; raise DataError if invalid."""
    env = os.environ if env is None else env
    file_data: Any = {}
    cfg_path: Path | None = None
    if path is not None or DEFAULT_CONFIG_PATH.exists():
        cfg_path = Path(path) if path is not None else DEFAULT_CONFIG_PATH
        file_data = load_file(cfg_path) or {}
        if not isinstance(file_data, dict):
            raise DataError([Problem(str(cfg_path), 1, "config must be a mapping of sections")])
    raw = _merge(DEFAULTS, _plain(file_data))
    raw = _apply_env(raw, env)
    problems = validate_raw(raw, file_data if isinstance(file_data, Node) else None, str(cfg_path or "config.yaml"))
    if problems:
        raise DataError(problems)
    return Config(raw=raw, path=cfg_path.resolve() if cfg_path else None, token=env.get("TELEGRAM_BOT_TOKEN") or None, now_override=env.get("LDN_NOW") or None)


def config_from_text(text: str, env: Mapping[str, str] | None = None) -> Config:
    """Build a Config from YAML text (tests)."""
    data = load_text(text) or {}
    raw = _apply_env(_merge(DEFAULTS, _plain(data)), env or {})
    problems = validate_raw(raw, data if isinstance(data, Node) else None, "<config>")
    if problems:
        raise DataError(problems)
    return Config(raw=raw, token=(env or {}).get("TELEGRAM_BOT_TOKEN"), now_override=(env or {}).get("LDN_NOW"))
