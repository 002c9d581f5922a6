"""``ldn-bot mail test ADDRESS``: send one message through the configured SMTP server and
print what the server said. (``ldn-bot invite --email`` and ``ldn-bot check`` use
:func:`send_invitation` and :func:`bot.mail.config.problems`.)"""
from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from bot.clock import clock_from_env
from bot.config import load_config
from bot.i18n import load_translator
from bot.mail import compose, people
from bot.mail.config import ADDRESS_RE, MailConfig, mail_config
from bot.mail.outbound import MailOutcome, MailSender, SmtpFate, send_test
from knowledge.vocabulary import DeliveryKind


def config_of(config) -> MailConfig:
    return mail_config(config.section("mail"), os.environ)


def cmd_mail_test(args, loader) -> int:
    config = load_config(getattr(args, "config", None))
    try:
        cfg = config_of(config)
    except ValueError as exc:
        print(f"mail: {exc}", file=sys.stderr)
        return 1
    if not cfg.enabled:
        print("mail: set mail.from in config.yaml and LDN_SMTP_URL (and LDN_SMTP_PASSWORD) first", file=sys.stderr)
        return 1
    if not ADDRESS_RE.match(args.address):
        print(f"mail: {args.address!r} is not an e-mail address", file=sys.stderr)
        return 2
    i18n = load_translator(Path(config.knowledge_dir) / "strings")
    result = asyncio.run(send_test(cfg, args.address, clock_from_env(config.now_override).now(),
                                   compose.mt(i18n, args.lang, "mail.test.body")))
    where = f"{cfg.smtp.scheme}://{cfg.smtp.host}:{cfg.smtp.port}" if cfg.smtp else "smtp"
    print(f"{where}: {result.fate.value}: {result.describe()}")
    return 0 if result.fate is SmtpFate.ACCEPTED else 1


async def send_invitation(services, cfg: MailConfig, *, address: str, country, lang: str, days: int) -> tuple[people.EmailInvite, MailOutcome]:
    """Create the invitation (Telegram link + e-mail code) and e-mail it through the ledger."""
    now = services.clock.now()
    invite = await services.store.run(lambda db: people.invite_by_email(db, address=address, country=country.iso3, lang=lang,
                                                                         created_by=None, now=now, ttl_days=days))
    text = compose.mt(services.i18n, lang, "mail.invite.body", country=country.name(lang), link=services.deep_link(invite.token),
                      code=invite.code, expires=f"{invite.expires:%Y-%m-%d}")
    subject = compose.mt(services.i18n, lang, "mail.invite.subject", country=country.name(lang)) + f" [{invite.code}]"
    out = compose.Outgoing(to=address, subject=subject, text=text, reply_to=cfg.plus_address(f"c{invite.code}"), auto="auto-generated")
    sender = MailSender(services.store, services.clock, cfg, services.deliverer.policy)
    outcome = await sender.send(kind=DeliveryKind.EMAIL, ref=f"invite:{invite.code}", person_id=0, message=compose.build(cfg, out, now))
    return invite, outcome


def add_commands(sub, loader, with_config) -> None:
    p = with_config(sub.add_parser("mail", help="the e-mail channel: send a test message"))
    mail_sub = p.add_subparsers(dest="mail_command", required=True)
    t = with_config(mail_sub.add_parser("test", help="send a test message and print what the SMTP server said"))
    t.add_argument("address")
    t.add_argument("--lang", default="en", choices=["en", "fr", "es", "ru", "ar", "zh"])
    t.set_defaults(func=lambda args: cmd_mail_test(args, loader))
