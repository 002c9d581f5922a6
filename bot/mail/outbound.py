"""Sending e-mail through the delivery ledger.

Each e-mail is a ledger row (``deliveries``, ``method = 'email'``, recipient = the person
record) written ``queued``, claimed (committed) before the SMTP transaction, and marked:

* the server accepted it (250 after DATA): ``sent`` - never sent again;
* 4xx, or the connection failed before DATA: tried again with backoff, then queued again
  for the periodic flush (:meth:`MailSender.flush_due`) up to :data:`MAX_LEDGER_ATTEMPTS`;
* 5xx: ``failed`` with the server's answer (shown to the experts for an answer);
* the connection broke during DATA: ``uncertain`` (the promise of ``DeliveryKind.EMAIL``
  is at most once: the server may have accepted it).
"""
from __future__ import annotations

import asyncio
import datetime as dt
import functools
import json
import logging
import smtplib
import ssl
from dataclasses import dataclass
from email import policy as email_policy
from email.message import EmailMessage
from enum import StrEnum
from typing import Awaitable, Callable

from bot.delivery import RetryPolicy, promise_of
from bot.mail.compose import Outgoing, build
from bot.mail.config import Endpoint, MailConfig
from storage import mail as mail_store

log = logging.getLogger("ldn.mail")

#: A row that kept failing on transient errors is given up after this many ledger attempts.
MAX_LEDGER_ATTEMPTS = 8


class SmtpFate(StrEnum):
    ACCEPTED = "accepted"
    RETRY = "retry"          # 4xx, or no connection before DATA
    REFUSED = "refused"      # 5xx: permanent
    UNCERTAIN = "uncertain"  # the connection broke while the message was being handed over


@dataclass(frozen=True)
class SmtpResult:
    fate: SmtpFate
    code: int | None
    reply: str

    def describe(self) -> str:
        return f"{self.code} {self.reply}".strip() if self.code else self.reply


def _reply_text(value) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return " ".join(text.split())[:300]


def _by_code(code: int, reply) -> SmtpResult:
    return SmtpResult(SmtpFate.REFUSED if 500 <= code < 600 else SmtpFate.RETRY, code, _reply_text(reply))


@functools.lru_cache(maxsize=1)
def tls_context() -> ssl.SSLContext:
    """The system's trusted certificates, loaded once (loading them costs ~40 ms)."""
    return ssl.create_default_context()


def _connect(ep: Endpoint, timeout: float, helo_name: str) -> smtplib.SMTP:
    if ep.implicit_tls:
        return smtplib.SMTP_SSL(ep.host, ep.port, local_hostname=helo_name, timeout=timeout, context=tls_context())
    smtp = smtplib.SMTP(ep.host, ep.port, local_hostname=helo_name, timeout=timeout)
    smtp.ehlo()
    if smtp.has_extn("starttls"):
        smtp.starttls(context=tls_context())
        smtp.ehlo()
    elif ep.user and not ep.loopback:
        smtp.quit()
        raise smtplib.SMTPNotSupportedError("the server offers no STARTTLS: the password is not sent in clear")
    return smtp


def transact(ep: Endpoint, timeout: float, sender: str, recipients: list[str], data: bytes) -> SmtpResult:
    """One SMTP transaction (blocking: run it in a thread) and what it came to."""
    phase = "connect"
    try:
        smtp = _connect(ep, timeout, sender.rsplit("@", 1)[-1] or "localhost")
        try:
            if ep.user:
                smtp.login(ep.user, ep.password or "")
            phase = "envelope"
            code, reply = smtp.mail(sender)
            if code != 250:
                return _by_code(code, reply)
            for rcpt in recipients:
                code, reply = smtp.rcpt(rcpt)
                if code not in (250, 251):
                    return _by_code(code, reply)
            phase = "data"
            code, reply = smtp.data(data)
            if code != 250:
                return _by_code(code, reply)
            return SmtpResult(SmtpFate.ACCEPTED, code, _reply_text(reply))
        finally:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()
    except smtplib.SMTPNotSupportedError as exc:
        return SmtpResult(SmtpFate.REFUSED, None, str(exc))
    except smtplib.SMTPResponseException as exc:  # the server answered: its code decides
        return _by_code(exc.smtp_code, exc.smtp_error)
    except (smtplib.SMTPException, OSError) as exc:
        fate = SmtpFate.UNCERTAIN if phase == "data" else SmtpFate.RETRY
        return SmtpResult(fate, None, f"{type(exc).__name__}: {exc}"[:300])


@dataclass
class MailOutcome:
    delivery_id: int
    status: str              # sent | queued | failed | uncertain | claimed | ...
    error: str | None = None
    server: str | None = None
    message_id: str | None = None
    ref: str | None = None


Sleeper = Callable[[float], Awaitable[None]]


def message_payload(msg: EmailMessage) -> dict:
    """What the ledger row keeps: the whole message, and its envelope."""
    return {"to": [str(msg["To"].addresses[0].addr_spec)], "message_id": str(msg["Message-ID"]).strip("<>"),
            "raw": msg.as_string(policy=email_policy.SMTP)}


def queue_mail(db, kind: str, ref: str, person_id: int, payload: dict, query_id: int | None, now: dt.datetime) -> int:
    """The ledger row of an e-mail and, for a query's e-mail, its place in the thread."""
    delivery_id, new = mail_store.enqueue(db, kind=kind, ref=ref, person_id=person_id, payload=payload, due_at=now, now=now,
                                          promise=promise_of(kind))
    if new and query_id is not None:
        mail_store.add_message(db, message_id=payload["message_id"], query_id=query_id, direction="out", address=payload["to"][0],
                               fate="sent", now=now, detail=kind)
    return delivery_id


class MailSender:
    """Sends the e-mail rows of the ledger over SMTP. One per process (``services.mail.sender``)."""

    def __init__(self, store, clock, cfg: MailConfig, policy: RetryPolicy | None = None, sleep: Sleeper = asyncio.sleep):
        self.store, self.clock, self.cfg = store, clock, cfg
        self.policy = policy or RetryPolicy()
        self.sleep = sleep
        self.stats = {"sent": 0, "retries": 0, "refused": 0, "uncertain": 0}

    async def send(self, *, kind: str, ref: str, person_id: int, message: EmailMessage, query_id: int | None = None) -> MailOutcome:
        """Record and send at once, once per (kind, ref, person); with ``query_id`` the message
        joins the query's thread (its Message-ID recorded with the ledger row, in one transaction)."""
        now = self.clock.now()
        payload = message_payload(message)
        delivery_id = await self.store.run(queue_mail, kind, ref, person_id, payload, query_id, now)
        return await self.deliver(delivery_id)

    async def deliver(self, delivery_id: int) -> MailOutcome:
        row = await self.store.run(mail_store.claim, delivery_id, self.clock.now())
        if row is None:
            current = await self.store.read(mail_store.get, delivery_id) or {}
            return MailOutcome(delivery_id, current.get("status") or "missing", current.get("error"), ref=current.get("ref"))
        payload = json.loads(row["payload"])
        data = payload["raw"].encode("utf-8")
        smtp, sender = self.cfg.smtp, self.cfg.address
        if smtp is None or sender is None:
            return await self._not_sent(row, SmtpResult(SmtpFate.REFUSED, None, "no outbound server configured (LDN_SMTP_URL)"))
        attempt = 0
        while True:
            attempt += 1
            result = await asyncio.to_thread(transact, smtp, self.cfg.timeout, sender, payload["to"], data)
            if result.fate is SmtpFate.ACCEPTED:
                self.stats["sent"] += 1
                await self.store.run(mail_store.finish, delivery_id, "sent", self.clock.now(), None)
                log.info("mail.sent", extra={"delivery": delivery_id, "kind": row["kind"]})
                return MailOutcome(delivery_id, "sent", server=result.describe(), message_id=payload.get("message_id"), ref=row["ref"])
            if result.fate is SmtpFate.RETRY and attempt < self.policy.attempts:
                self.stats["retries"] += 1
                log.info("mail.retry", extra={"delivery": delivery_id, "reason": result.describe()})
                await self.sleep(self.policy.backoff(attempt))
                continue
            return await self._not_sent(row, result)

    async def _not_sent(self, row: dict, result: SmtpResult) -> MailOutcome:
        delivery_id, now, reason = row["id"], self.clock.now(), result.describe()
        if result.fate is SmtpFate.RETRY and (row.get("attempts") or 0) < MAX_LEDGER_ATTEMPTS:
            await self.store.run(mail_store.postpone, delivery_id, now + dt.timedelta(seconds=self.policy.max_delay), reason)
            log.warning("mail.postponed", extra={"delivery": delivery_id, "reason": reason})
            return MailOutcome(delivery_id, "queued", reason, reason, ref=row["ref"])
        status = "uncertain" if result.fate is SmtpFate.UNCERTAIN else "failed"
        self.stats["uncertain" if status == "uncertain" else "refused"] += 1
        await self.store.run(mail_store.finish, delivery_id, status, now, reason)
        log.warning("mail.not_sent", extra={"delivery": delivery_id, "status": status, "reason": reason})
        return MailOutcome(delivery_id, status, reason, reason, ref=row["ref"])

    async def flush_due(self) -> list[MailOutcome]:
        """Send every queued e-mail that is due (the periodic job)."""
        ids = await self.store.run(mail_store.due, self.clock.now())
        return [await self.deliver(delivery_id) for delivery_id in ids]


async def send_test(cfg: MailConfig, to: str, now: dt.datetime, text: str) -> SmtpResult:
    """``ldn-bot mail test ADDRESS``: one message straight over SMTP (no ledger), and the server's answer."""
    if cfg.smtp is None or cfg.address is None:
        return SmtpResult(SmtpFate.REFUSED, None, "set mail.from and LDN_SMTP_URL")
    msg = build(cfg, Outgoing(to=to, subject="LDN TSP helpdesk: test message", text=text, auto="auto-generated"), now)
    return await asyncio.to_thread(transact, cfg.smtp, cfg.timeout, cfg.address, [to], msg.as_bytes(policy=email_policy.SMTP))

