"""What the e-mail tests share: a real SMTP server (aiosmtpd) that receives what the bot
sends, and helpers to read those messages with the stdlib ``email`` package."""
from __future__ import annotations

import socket
import smtplib
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller

HELPDESK = "helpdesk@ldn.example.org"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Sink:
    """The aiosmtpd handler: keeps every accepted message; ``fail_next`` answers the next
    DATA commands with the given SMTP replies instead ("451 ...", "550 ...")."""

    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def fail_next(self, *replies: str) -> None:
        with self.lock:
            self.failures.extend(replies)

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            if self.failures:
                return self.failures.pop(0)
        msg = message_from_bytes(envelope.content, policy=policy.default)
        with self.arrived:
            self.messages.append(msg)  # type: ignore[arg-type]
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self.arrived.notify_all()
        return "250 2.0.0 Ok: queued as TEST"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address.lower() in str(m["To"]).lower()]

    def last(self, address: str) -> EmailMessage:
        found = self.to(address)
        assert found, f"no e-mail to {address}; got {[str(m['To']) for m in self.messages]}"
        return found[-1]

    def clear(self) -> None:
        self.messages.clear()
        self.envelopes.clear()


def start_sink() -> tuple[Controller, Sink]:
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    return controller, sink


def body(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""


def attachments(msg: EmailMessage) -> list[tuple[str, bytes]]:
    return [(part.get_filename(), part.get_content()) for part in msg.iter_attachments()]


def send_to(port: int, msg: EmailMessage | bytes, *, sender: str = "amina@ministry.example", rcpt: str = HELPDESK) -> dict:
    """Hand a message to the bot's receiver with smtplib, as a mail server would."""
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        data = msg if isinstance(msg, bytes) else msg.as_bytes()
        return smtp.sendmail(sender, [rcpt], data)


def mail(subject: str, text: str, *, sender: str = "Amina Njeri <amina@ministry.example>", to: str = HELPDESK,
         message_id: str | None = None, in_reply_to: str | None = None, references: str | None = None,
         html: str | None = None, headers: dict | None = None) -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, to, subject
    if message_id:
        msg["Message-ID"] = f"<{message_id}>"
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if references:
        msg["References"] = references
    for key, value in (headers or {}).items():
        msg[key] = value
    msg.set_content(text)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    return msg
