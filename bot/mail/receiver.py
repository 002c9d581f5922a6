"""The SMTP (or LMTP) receiver for ``LDN_MAIL_LISTEN``: the organisation's mail server
forwards the helpdesk's mail here. Built on aiosmtpd, served on the bot's own event loop.

Each message is answered ``250`` only once its fate is committed (a crash before that
makes the forwarding server try again; a message seen twice is recognised by its
Message-ID). Recipients outside the helpdesk's domain are refused (``550``): this is no
relay. Messages far over the size limit are refused in the SMTP dialogue (``552``); those
a little over it are taken and answered by e-mail (:mod:`bot.mail.intake`).
"""
from __future__ import annotations

import asyncio
import logging

from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, Session

from bot.mail.channel import MailChannel
from bot.mail.config import Endpoint

log = logging.getLogger("ldn.mail")

#: The SMTP dialogue refuses what is over this many times the configured limit.
HARD_LIMIT_FACTOR = 4


class _Handler:
    def __init__(self, channel: MailChannel):
        self.channel = channel
        self.domain = "@" + channel.cfg.domain

    async def handle_RCPT(self, server, session: Session, envelope: Envelope, address: str, rcpt_options) -> str:
        if not address.lower().endswith(self.domain):
            return "550 5.7.1 Relaying denied: this server only receives mail for the helpdesk"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or envelope.content
        raw = content if isinstance(content, bytes) else str(content).encode("utf-8", "surrogateescape")
        recipients = list(envelope.rcpt_tos)
        try:
            decision = await self.channel.receive(raw, envelope.mail_from or "", recipients)
        except Exception:  # noqa: BLE001 - not committed: the sending server keeps it and tries again
            log.exception("mail.receive_failed")
            return self._per_recipient(server, recipients, "451 4.3.0 Temporary failure, please try again later")
        return self._per_recipient(server, recipients, f"250 2.0.0 OK {decision.fate}")

    @staticmethod
    def _per_recipient(server, recipients: list[str], reply: str) -> str:
        """SMTP answers DATA once; LMTP (RFC 2033 4.2) once per accepted recipient, in RCPT order.
        The message is taken once (its fate decided from all its recipients together), so every
        recipient gets the same answer."""
        if not isinstance(server, LMTP):
            return reply
        code, _, text = reply.partition(" ")
        return "\r\n".join(f"{code} {text} <{rcpt}>" for rcpt in recipients)


class MailReceiver:
    """``await start()`` listens; ``port`` is the bound port (useful with port 0); ``await close()``."""

    def __init__(self, channel: MailChannel, endpoint: Endpoint):
        self.channel, self.endpoint = channel, endpoint
        self.server: asyncio.base_events.Server | None = None
        self.port: int | None = None

    def _protocol(self):
        cls = LMTP if self.endpoint.scheme == "lmtp" else SMTP
        limit = self.channel.cfg.max_message_bytes * HARD_LIMIT_FACTOR
        return cls(_Handler(self.channel), data_size_limit=limit, enable_SMTPUTF8=True, hostname=self.channel.cfg.domain,
                   ident="LDN TSP helpdesk", timeout=120)

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(self._protocol, host=self.endpoint.host, port=self.endpoint.port, backlog=200)
        self.port = self.server.sockets[0].getsockname()[1]
        log.info("mail.listening", extra={"host": self.endpoint.host, "port": self.port, "protocol": self.endpoint.scheme})

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None
