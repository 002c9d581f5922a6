"""Reading an incoming message: who sent it, what it replies to, its text as a person wrote
it (HTML turned into clean text, quoted history and signatures trimmed) and its files."""
from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr
from html.parser import HTMLParser

MSGID_RE = re.compile(r"<([^<>\s]+)>")

# Where a reply's quoted history begins, in the mail programs and languages focal points use.
_QUOTE_HEADERS = [
    r"^On .{0,200}wrote:\s*$", r"^Le .{0,200}a écrit\s*:\s*$", r"^El .{0,200}escribió:\s*$", r"^Em .{0,200}escreveu:\s*$",
    r"^Am .{0,200}schrieb .{0,80}:\s*$", r"^.{0,200}(написал|написала|пишет)\s*:\s*$", r"^在.{0,200}写道[:：]\s*$",
    r"^.{0,200}كتب\s*[:：]?\s*$", r"^-{2,}\s*(Original Message|Message d'origine|Mensaje original|Исходное сообщение)\s*-{2,}\s*$",
    r"^_{20,}\s*$", r"^(From|De|Von|От|发件人|من)\s*[:：] .{1,200}$",
]
QUOTE_START_RE = re.compile("|".join(f"(?:{p})" for p in _QUOTE_HEADERS), re.IGNORECASE)
_SIGNATURE_RE = re.compile(r"^(-- ?|—\s*|Sent from my .{1,40}|Envoyé de mon .{1,40}|Enviado desde mi .{1,40}|Отправлено с .{1,40}|"
                           r"Get Outlook for .{1,40}|发自我的.{1,20})$", re.IGNORECASE)


@dataclass(frozen=True)
class Attachment:
    name: str
    mime: str
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass
class Incoming:
    """One received message, read."""

    message_id: str
    sender: str                  # the author's address (From), lower case
    sender_name: str | None
    envelope_sender: str | None  # MAIL FROM ('' for a bounce; None when not known, e.g. from IMAP)
    recipients: list[str]        # envelope recipients and To/Cc, lower case
    subject: str
    text: str                    # what the person wrote, trimmed
    replies_to: list[str]        # In-Reply-To, then References newest first
    attachments: list[Attachment] = field(default_factory=list)
    size: int = 0
    message: EmailMessage | None = field(default=None, repr=False)


def message_ids(value: str | None) -> list[str]:
    return MSGID_RE.findall(str(value or ""))


class _TextOfHtml(HTMLParser):
    """HTML mail as plain text: block elements become line breaks; scripts, styles and the
    quoted history that mail programs mark (blockquote, gmail_quote, Outlook's reply div) go."""

    BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "table", "ul", "ol", "section"}
    SKIP = {"script", "style", "head", "title", "blockquote"}
    QUOTE_MARKS = ("gmail_quote", "divrplyfwdmsg", "appendonsend", "moz-cite-prefix", "yahoo_quoted", "protonmail_quote")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip_depth = 0
        self.stack: list[bool] = []
        self.stopped = False

    def handle_starttag(self, tag, attrs):
        marks = " ".join(str(v).lower() for k, v in attrs if k in ("class", "id") and v)
        quoted = tag in self.SKIP or any(m in marks for m in self.QUOTE_MARKS)
        if tag in ("br", "hr", "img", "meta", "link", "input"):
            if tag == "br":
                self.parts.append("\n")
            return
        self.stack.append(quoted)
        if quoted:
            self.skip_depth += 1
        if tag in self.BLOCKS and not self.skip_depth:
            self.parts.append("\n")
        if tag == "li" and not self.skip_depth:
            self.parts.append("• ")

    def handle_endtag(self, tag):
        if tag in ("br", "hr", "img", "meta", "link", "input") or not self.stack:
            return
        if self.stack.pop():
            self.skip_depth -= 1
        if tag in self.BLOCKS and not self.skip_depth:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.skip_depth:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    parser = _TextOfHtml()
    parser.feed(markup)
    parser.close()
    text = html.unescape("".join(parser.parts)).replace("\xa0", " ")
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def trim_reply(text: str) -> str:
    """What the person wrote: the text above the quoted history and the signature."""
    kept: list[str] = []
    for line in text.replace("\r\n", "\n").split("\n"):
        stripped = line.strip()
        if stripped.startswith(">") or QUOTE_START_RE.match(stripped) or _SIGNATURE_RE.match(line.rstrip()):
            break
        kept.append(line.rstrip())
    trimmed = "\n".join(kept).strip()
    return re.sub(r"\n{3,}", "\n\n", trimmed) or text.strip()[:4000]


def _text_of(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, ValueError):
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else str(payload or "")
    return html_to_text(content) if part.get_content_subtype() == "html" else content


def _attachments(msg: EmailMessage) -> list[Attachment]:
    found = []
    for part in msg.iter_attachments():
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        name = part.get_filename() or f"attachment.{part.get_content_subtype()}"
        found.append(Attachment(name.replace("/", "_")[:120], part.get_content_type().lower(), data))
    return found


def parse(raw: bytes, envelope_sender: str | None = None, envelope_recipients: list[str] | None = None) -> Incoming:
    msg = message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    name, address = parseaddr(str(msg.get("From", "")))
    recipients = [a.lower() for a in envelope_recipients or []]
    recipients += [a.lower() for _, a in getaddresses([str(v) for v in msg.get_all("To", []) + msg.get_all("Cc", [])]) if a]
    own_id = message_ids(msg.get("Message-ID"))
    replies = message_ids(msg.get("In-Reply-To")) + list(reversed(message_ids(msg.get("References"))))
    return Incoming(
        message_id=own_id[0] if own_id else "sha256." + hashlib.sha256(raw).hexdigest()[:40],
        sender=address.lower(), sender_name=name or None, envelope_sender=None if envelope_sender is None else envelope_sender.lower(),
        recipients=list(dict.fromkeys(recipients)), subject=" ".join(str(msg.get("Subject", "")).split()),
        text=trim_reply(_text_of(msg)), replies_to=list(dict.fromkeys(replies)), attachments=_attachments(msg),
        size=len(raw), message=msg)
