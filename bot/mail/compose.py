"""The messages the bot writes: headers that make them thread, be recognised as automatic
(RFC 3834 ``Auto-Submitted``) and be unsubscribed from in one click (RFC 8058)."""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

from bot.i18n import Raw
from bot.mail.config import MailConfig

SUBJECT_TAG_RE = re.compile(r"\[LDN #(\d+)\]")
_REPLY_PREFIX_RE = re.compile(r"^\s*((re|fw|fwd|aw|wg|sv|tr|rv|res|отв|回复|答复|رد)\s*(\[\d+\])?\s*[:：]\s*)+", re.IGNORECASE)


def mt(i18n, lang: str, key: str, /, **kwargs) -> str:
    """A translated string for a plain-text e-mail: the arguments are not HTML-escaped."""
    return i18n.t(lang, key, **{k: Raw(str(v)) for k, v in kwargs.items()})


def new_message_id(cfg: MailConfig) -> str:
    """A fresh Message-ID (without the angle brackets) in the helpdesk's domain."""
    return f"ldn.{secrets.token_hex(10)}@{cfg.domain}"


def bracket(message_id: str) -> str:
    return f"<{message_id}>"


def bare_subject(subject: str | None) -> str:
    """The subject without Re:/Fwd: prefixes and without the ``[LDN #N]`` tag."""
    text = SUBJECT_TAG_RE.sub("", _REPLY_PREFIX_RE.sub("", subject or "")).strip()
    return _REPLY_PREFIX_RE.sub("", text).strip()


def tagged_subject(qid: int, subject: str, *, reply: bool = False) -> str:
    """``[LDN #N] original subject`` (``Re: [LDN #N] ...`` for an answer)."""
    base = f"[LDN #{qid}] {bare_subject(subject)}".strip()
    return f"Re: {base}" if reply else base


def query_reply_address(cfg: MailConfig, qid: int, token: str) -> str:
    """``helpdesk+q<N>-<token>@domain``: the per-query reply address."""
    return cfg.plus_address(f"q{qid}-{token}")


@dataclass
class Outgoing:
    """What one e-mail says and how it threads; :func:`build` makes the message."""

    to: str
    subject: str
    text: str
    to_name: str | None = None
    reply_to: str | None = None
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    auto: str | None = "auto-replied"   # Auto-Submitted value; None for a human's answer
    unsubscribe: tuple[str, ...] = ()   # List-Unsubscribe: the one-click https URL and/or a mailto:
    attachments: list[tuple[str, str, bytes]] = field(default_factory=list)  # (name, mime type, content)
    message_id: str | None = None


def build(cfg: MailConfig, out: Outgoing, now) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = formataddr((cfg.name, cfg.address or ""))
    msg["To"] = str(Address(display_name=out.to_name or "", addr_spec=out.to))
    msg["Subject"] = out.subject
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = bracket(out.message_id or new_message_id(cfg))
    if out.reply_to:
        msg["Reply-To"] = out.reply_to
    if out.in_reply_to:
        msg["In-Reply-To"] = bracket(out.in_reply_to)
    if out.references:
        msg["References"] = " ".join(bracket(r) for r in out.references[-20:])
    if out.auto:
        msg["Auto-Submitted"] = out.auto
        msg["X-Auto-Response-Suppress"] = "All"  # Exchange: no out-of-office answer to this
    if out.unsubscribe:
        msg["List-Unsubscribe"] = ", ".join(f"<{link}>" for link in out.unsubscribe)
        if any(link.startswith(("https:", "http:")) for link in out.unsubscribe):  # RFC 8058 one-click
            msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg["X-LDN-Helpdesk"] = "1"
    msg.set_content(out.text)
    for name, mime, content in out.attachments:
        maintype, _, subtype = mime.partition("/")
        msg.add_attachment(content, maintype=maintype or "application", subtype=subtype or "octet-stream", filename=name)
    return msg
