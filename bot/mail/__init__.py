"""The e-mail channel: focal points who live in their mailbox ask, follow up, get answers,
reminders and a weekly digest by e-mail, on the same queries, experts' chat and delivery
ledger as Telegram.

* :mod:`bot.mail.config`    the ``mail:`` section and the secrets from the environment
* :mod:`bot.mail.compose`   the messages the bot writes (Message-ID, threading headers, reply address)
* :mod:`bot.mail.outbound`  SMTP sending through the delivery ledger (retries, 5xx, at most once)
* :mod:`bot.mail.parsing`   reading a message: addresses, the text (HTML, quotes, signatures), files
* :mod:`bot.mail.filters`   mail that must never become a query (auto-replies, bounces, lists, loops)
* :mod:`bot.mail.intake`    the one service that decides an incoming message's fate (one transaction)
* :mod:`bot.mail.people`    invitations by e-mail, binding an address, the reminder channel
* :mod:`bot.mail.channel`   the running channel: what is sent after an incoming message is committed
* :mod:`bot.mail.receiver`  the SMTP/LMTP receiver (aiosmtpd) for ``LDN_MAIL_LISTEN``
* :mod:`bot.mail.imap`      polling an IMAP mailbox (imap-tools) for ``LDN_IMAP_URL``
"""

#: Queries asked by e-mail carry this ``source`` (kept here, in the package's light front door, so
#: that the helpdesk can tell one without importing the channel's e-mail modules: start-up).
MAIL_SOURCE = "email"


def is_mail_query(query: dict | None) -> bool:
    """Was ``query`` asked by e-mail?"""
    return query is not None and query.get("source") == MAIL_SOURCE
