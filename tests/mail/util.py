"""What the e-mail tests share: a real SMTP server (aiosmtpd) that receives what the bot
sends, and helpers to read those messages with the stdlib ``email`` package."""
from __future__ import annotations

import asyncio
import socket
import smtplib
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from bot.mail.cli import send_invitation

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
        data = msg if isinstance(msg, bytes) else msg.as_bytes(policy=policy.SMTP)  # CRLF line ends, as on the wire
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


class MailEnv:
    """The bot with its e-mail channel (``bot``: the BotEnv) and the SMTP server it sends to."""

    def __init__(self, bot, outbox: Sink):
        self.bot, self.outbox = bot, outbox

    @property
    def services(self):
        return self.bot.services

    @property
    def channel(self):
        return self.services.mail

    @property
    def db(self):
        return self.bot.db

    @property
    def port(self) -> int:
        return self.channel.receiver.port

    async def deliver(self, msg: EmailMessage | bytes, *, sender: str = "amina@ministry.example", rcpt: str = HELPDESK) -> dict:
        """A mail server hands ``msg`` to the bot's receiver (smtplib, in a thread); then
        everything that follows it is done."""
        refused = await asyncio.to_thread(send_to, self.port, msg, sender=sender, rcpt=rcpt)
        await self.channel.settle()
        return refused

    async def bind(self, address: str = "amina@ministry.example", country: str = "KEN", lang: str = "en",
                   name: str = "Amina Njeri") -> int:
        """Invite ``address`` by e-mail and confirm it by replying, as the person would; their user id."""
        services = self.services
        await send_invitation(services, self.channel.cfg, address=address, country=services.countries.get(country), lang=lang, days=14)
        invitation = self.outbox.last(address)
        reply = mail("Re: " + invitation["Subject"], "Yes, I confirm.\n\n> " + body(invitation).replace("\n", "\n> "),
                     sender=f"{name} <{address}>", to=str(invitation["Reply-To"]), in_reply_to=invitation["Message-ID"])
        await self.deliver(reply, sender=address, rcpt=str(invitation["Reply-To"]))
        row = self.db.execute("SELECT user_id FROM mail_people WHERE address = ?", [address]).fetchone()
        assert row is not None, "the address was not bound"
        return row[0]
