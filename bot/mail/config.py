"""The ``mail:`` section of config.yaml and the secrets that only the environment holds.

=======================  ======================================================================
``LDN_SMTP_URL``         outbound: ``smtp://user@host:587`` (STARTTLS) or ``smtps://user@host:465``
``LDN_SMTP_PASSWORD``    its password
``LDN_MAIL_LISTEN``      inbound: ``HOST:PORT`` of the SMTP receiver (``lmtp://HOST:PORT`` for LMTP)
``LDN_IMAP_URL``         inbound: ``imaps://user@host/INBOX`` (``imap://`` with STARTTLS)
``LDN_IMAP_PASSWORD``    its password
``LDN_MAIL_WEB_LISTEN``  ``HOST:PORT`` of the web end of the e-mails' links (one-click unsubscribe),
                         reached at ``mail.web_base_url`` through a reverse proxy
=======================  ======================================================================
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any, Mapping
from urllib.parse import unquote, urlsplit

from knowledge.durations import DurationError, parse_duration

ENV_VARS = ("LDN_SMTP_URL", "LDN_SMTP_PASSWORD", "LDN_MAIL_LISTEN", "LDN_IMAP_URL", "LDN_IMAP_PASSWORD", "LDN_MAIL_WEB_LISTEN")
ADDRESS_RE = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$|^[^@\s<>]+@localhost$")

DEFAULTS: dict[str, Any] = {
    "from": None,                 # the helpdesk address, e.g. helpdesk@ldn.example.org
    "name": "LDN TSP helpdesk",   # the display name of the From header
    "max_message_mb": 10,         # incoming messages over this get the size answer
    "max_attachment_mb": 8,       # each file carried to the experts' chat (Telegram bots: 50 MB)
    "attachment_types": ["application/pdf", "image/tiff", "image/png", "image/jpeg", "text/csv",
                         "application/vnd.ms-excel",
                         "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                         "application/vnd.oasis.opendocument.spreadsheet", "application/zip"],
    "imap_poll": "60s",           # IMAP: how long one IDLE waits before polling again
    "timeout": 30,                # seconds, SMTP and IMAP connections
    "web_base_url": None,         # where one-click unsubscribe links point (https://...), optional
}


@dataclass(frozen=True)
class Endpoint:
    scheme: str
    host: str
    port: int
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    path: str = ""

    @property
    def implicit_tls(self) -> bool:
        return self.scheme in ("smtps", "imaps")

    @property
    def loopback(self) -> bool:
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return self.host == "localhost"


@dataclass(frozen=True)
class MailConfig:
    address: str | None
    name: str
    max_message_bytes: int
    max_attachment_bytes: int
    attachment_types: tuple[str, ...]
    imap_poll_seconds: float
    timeout: float
    web_base_url: str | None
    smtp: Endpoint | None
    listen: Endpoint | None
    imap: Endpoint | None
    web_listen: Endpoint | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.address and self.smtp)

    @property
    def domain(self) -> str:
        return (self.address or "helpdesk@localhost").rsplit("@", 1)[1]

    @property
    def local_part(self) -> str:
        return (self.address or "helpdesk@localhost").rsplit("@", 1)[0]

    def plus_address(self, tag: str) -> str:
        """``helpdesk+<tag>@domain``: the helpdesk address with a sub-address."""
        return f"{self.local_part}+{tag}@{self.domain}"


_DEFAULT_PORTS = {"smtp": 587, "smtps": 465, "imap": 143, "imaps": 993, "lmtp": 24}


def _endpoint(value: str, schemes: tuple[str, ...], password: str | None, what: str) -> Endpoint:
    secret = what.replace("_URL", "_PASSWORD")
    parts = urlsplit(value)
    if parts.scheme not in schemes:
        raise ValueError(f"{what} must start with {' or '.join(s + '://' for s in schemes)}")
    if not parts.hostname:
        raise ValueError(f"{what} has no host")
    try:
        port = parts.port or _DEFAULT_PORTS[parts.scheme]
    except ValueError as exc:
        raise ValueError(f"{what}: {exc}") from exc
    if parts.password:
        raise ValueError(f"{what} must not carry a password: set {secret}")
    return Endpoint(parts.scheme, parts.hostname, port, unquote(parts.username) if parts.username else None, password,
                    unquote(parts.path.lstrip("/")))


def _listen(value: str) -> Endpoint:
    if "://" in value:
        ep = _endpoint(value, ("smtp", "lmtp"), None, "LDN_MAIL_LISTEN")
        return Endpoint(ep.scheme, ep.host, ep.port if urlsplit(value).port is not None else 25)
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ValueError("LDN_MAIL_LISTEN must be HOST:PORT (e.g. 127.0.0.1:2525), or lmtp://HOST:PORT")
    return Endpoint("smtp", host.strip("[]"), int(port))


def _web_listen(value: str) -> Endpoint:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ValueError("LDN_MAIL_WEB_LISTEN must be HOST:PORT (e.g. 127.0.0.1:8025)")
    return Endpoint("http", host.strip("[]"), int(port))


def _megabytes(section: Mapping, key: str) -> int:
    value = float(section[key])
    if value <= 0:
        raise ValueError(f"mail.{key} must be a positive number of megabytes")
    return int(value * 1024 * 1024)


def mail_config(section: Mapping | None, env: Mapping[str, str]) -> MailConfig:
    """The channel's settings; raises ValueError (one sentence naming the setting) when invalid."""
    raw = {**DEFAULTS, **{k: v for k, v in (section or {}).items() if v is not None}}
    address = raw.get("from")
    if address is not None and not ADDRESS_RE.match(str(address)):
        raise ValueError(f"mail.from must be an e-mail address (got {address!r})")
    smtp = listen = imap = None
    if env.get("LDN_SMTP_URL"):
        smtp = _endpoint(env["LDN_SMTP_URL"], ("smtp", "smtps"), env.get("LDN_SMTP_PASSWORD") or None, "LDN_SMTP_URL")
    if env.get("LDN_MAIL_LISTEN"):
        listen = _listen(env["LDN_MAIL_LISTEN"])
    if env.get("LDN_IMAP_URL"):
        imap = _endpoint(env["LDN_IMAP_URL"], ("imap", "imaps"), env.get("LDN_IMAP_PASSWORD") or None, "LDN_IMAP_URL")
        if not imap.user:
            raise ValueError("LDN_IMAP_URL needs the mailbox user: imaps://user@host/INBOX")
    if (smtp or listen or imap) and not address:
        raise ValueError("mail.from (the helpdesk address) is needed once LDN_SMTP_URL, LDN_MAIL_LISTEN or LDN_IMAP_URL is set")
    if (listen or imap) and not smtp:
        raise ValueError("receiving e-mail (LDN_MAIL_LISTEN, LDN_IMAP_URL) needs LDN_SMTP_URL to answer")
    types = raw["attachment_types"]
    if not isinstance(types, list) or not all(isinstance(t, str) and "/" in t for t in types):
        raise ValueError("mail.attachment_types must be a list of MIME types such as application/pdf")
    try:
        poll = parse_duration(str(raw["imap_poll"]), "s").total_seconds()
    except DurationError as exc:
        raise ValueError(f"mail.imap_poll: {exc}") from exc
    web = raw.get("web_base_url")
    if web is not None and not str(web).startswith(("http://", "https://")):
        raise ValueError("mail.web_base_url must start with https:// (or http://)")
    web_listen = _web_listen(env["LDN_MAIL_WEB_LISTEN"]) if env.get("LDN_MAIL_WEB_LISTEN") else None
    if bool(web) != bool(web_listen):
        raise ValueError("one-click unsubscribe needs both mail.web_base_url (the public address) and LDN_MAIL_WEB_LISTEN")
    return MailConfig(
        address=str(address).lower() if address else None, name=str(raw["name"]),
        max_message_bytes=_megabytes(raw, "max_message_mb"), max_attachment_bytes=_megabytes(raw, "max_attachment_mb"),
        attachment_types=tuple(t.lower() for t in types), imap_poll_seconds=poll, timeout=float(raw["timeout"]),
        web_base_url=str(web).rstrip("/") if web else None, smtp=smtp, listen=listen, imap=imap,
        web_listen=web_listen)


def problems(section: Mapping | None, env: Mapping[str, str]) -> list[str]:
    """What ``ldn-bot check`` says about the mail settings ([] when valid)."""
    try:
        mail_config(section, env)
    except (ValueError, TypeError, KeyError) as exc:
        return [str(exc)]
    return []
