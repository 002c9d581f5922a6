"""Mail that must never become a query, nor get an automatic answer (which is how mail loops
start): auto-replies and out-of-office notices, bounces and delivery reports, mailing-list
traffic, and mail from the helpdesk itself."""
from __future__ import annotations

import re
from enum import StrEnum

from bot.mail.config import MailConfig
from bot.mail.parsing import Incoming

# Subjects of out-of-office notices that carry none of the headers (older Exchange and webmail).
_AUTO_SUBJECT_RE = re.compile(r"^(automatic reply|auto(matic)?[- ]?reply|out of (the )?office\s*:|réponse automatique|absent du bureau|"
                              r"respuesta automática|fuera de la oficina|автоответ|автоматический ответ|自动回复|رد تلقائي)",
                              re.IGNORECASE)
_DAEMONS = ("mailer-daemon", "postmaster", "mail-daemon", "noreply-dmarc-support")


class Skip(StrEnum):
    AUTO_REPLY = "auto_reply"
    BOUNCE = "bounce"
    LIST = "list"
    OWN = "own"


def never_a_query(mail: Incoming, cfg: MailConfig) -> Skip | None:
    """Why this message is dropped without an answer, or None for a message a person wrote."""
    msg = mail.message
    headers = {k.lower(): str(v).strip().lower() for k, v in (msg.items() if msg is not None else [])}
    local = mail.sender.split("@", 1)[0]
    own_plus = mail.sender.startswith(cfg.local_part + "+") and mail.sender.endswith("@" + cfg.domain)
    if mail.sender == cfg.address or own_plus or "x-ldn-helpdesk" in headers:
        return Skip.OWN
    null_sender = mail.envelope_sender in ("", "<>") or headers.get("return-path") == "<>"
    if (msg is not None and msg.get_content_type() == "multipart/report") or local in _DAEMONS or null_sender:
        return Skip.BOUNCE
    if headers.get("auto-submitted", "no") != "no" or "x-autoreply" in headers or "x-autorespond" in headers \
            or headers.get("precedence") in ("auto_reply", "junk") or _AUTO_SUBJECT_RE.match(mail.subject or ""):
        return Skip.AUTO_REPLY
    if headers.get("precedence") in ("bulk", "list") or "list-id" in headers or "list-unsubscribe" in headers \
            or "list-post" in headers:
        return Skip.LIST
    return None
