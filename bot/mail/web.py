"""The web end of the e-mails' links, on ``LDN_MAIL_WEB_LISTEN`` (a small tornado server on the
bot's event loop; ``mail.web_base_url`` is the public address a reverse proxy gives it):

* ``POST /mail/unsubscribe/<token>``: RFC 8058 one-click (the mail program posts
  ``List-Unsubscribe=One-Click``): reminders and the digest no longer by e-mail, committed
  before the answer, idempotent; a forged token is ``403``, an expired one ``410``.
* ``GET`` of the same address changes nothing (link scanners fetch links): a page in the
  person's language with a button that posts the form.
* ``GET /mail/channels?token=…``: the page of the link at the end of every e-mail: where the
  person's reminders and digest go, and a form (Telegram / e-mail / both; a choice they cannot
  have shown disabled, with why). ``POST`` with the same token and the form's one-time nonce
  changes the choice (one transaction, the service /channels uses) and confirms; the same
  form sent again changes nothing. Forged and expired tokens: ``403`` and ``410``.
"""
from __future__ import annotations

import html
import logging
from typing import Any

import tornado.httpserver
import tornado.netutil
import tornado.web

from bot.mail import links
from bot.mail.config import Endpoint
from knowledge.vocabulary import LANGS, ReminderChannel

log = logging.getLogger("ldn.mail")

_STATUS = {links.LinkCheck.OK: 200, links.LinkCheck.FORGED: 403, links.LinkCheck.EXPIRED: 410}
_PAGE = """<!doctype html>
<html lang="{lang}" dir="{dir}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<meta name="robots" content="noindex"><title>{title}</title></head>
<body style="font-family: sans-serif; max-width: 36em; margin: 3em auto; padding: 0 1em">
<h1 style="font-size: 1.3em">{title}</h1><p>{text}</p>{form}</body></html>"""
#: The pages carry the person's token in their address: never framed, never sent on as a Referer.
_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
}


def browser_lang(header: str) -> str | None:
    """The first of our languages in an ``Accept-Language`` header, by its weight (``fr-CA;q=0.8``)."""
    ranked = []
    for n, item in enumerate(header.split(",")):
        tag, _, params = item.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                continue
        code = tag.strip().lower().split("-")[0]
        if code in LANGS and weight > 0:
            ranked.append((-weight, n, code))
    return min(ranked)[2] if ranked else None


class _Page(tornado.web.RequestHandler):
    def initialize(self, channel: Any) -> None:
        self.channel = channel

    def log_exception(self, typ: Any, value: BaseException | None, tb: Any) -> None:
        log.warning("mail.web_error", extra={"error": type(value).__name__ if value else None})

    def t(self, lang: str, key: str, **kwargs: Any) -> str:
        return self.channel.services.t(lang, key, **kwargs)

    def _page(self, status: int, lang: str, title_key: str, text: str, form: str = "") -> None:
        self.set_status(status)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        for name, value in _HEADERS.items():
            self.set_header(name, value)
        self.finish(_PAGE.format(lang=lang, dir="rtl" if lang == "ar" else "ltr", title=self.t(lang, title_key), text=text, form=form))

    def _lang(self, person: dict | None) -> str:
        """The person's language; for a link that names nobody, the browser's (Accept-Language)."""
        lang = (person or {}).get("lang")
        if lang in LANGS:
            return str(lang)
        return browser_lang(self.request.headers.get("Accept-Language", "")) or self.channel.services.config.default_language

    def _refused(self, outcome: links.LinkCheck, person: dict | None) -> None:
        lang = self._lang(person)
        self._page(_STATUS[outcome], lang, "mail.web.refused.title", self.t(lang, f"mail.web.{outcome}"))


class UnsubscribeEndpoint(_Page):
    async def _checked(self, token: str, act: bool) -> links.Checked:
        store, now = self.channel.services.store, self.channel.services.clock.now()
        key = await self.channel.link_key()
        if act:
            return await store.run(links.unsubscribe_by_link, key, token, now)
        return await store.read(links.check, key, links.UNSUBSCRIBE, token, now)

    async def get(self, token: str) -> None:
        checked = await self._checked(token, act=False)
        lang = self._lang(checked.person)
        if checked.outcome is not links.LinkCheck.OK:
            return self._refused(checked.outcome, checked.person)
        button = self.t(lang, "mail.web.button")
        form = ('<form method="post">'  # to this very address, whatever prefix the reverse proxy gives it
                '<input type="hidden" name="List-Unsubscribe" value="One-Click">'
                f'<button type="submit" style="font-size: 1.1em; padding: .5em 1em">{button}</button></form>')
        self._page(200, lang, "mail.web.confirm.title", self.t(lang, "mail.web.confirm"), form)

    async def post(self, token: str) -> None:
        checked = await self._checked(token, act=True)
        if checked.outcome is not links.LinkCheck.OK:
            log.info("mail.unsubscribe_refused", extra={"outcome": checked.outcome})
            return self._refused(checked.outcome, checked.person)
        lang = self._lang(checked.person)
        log.info("mail.unsubscribed", extra={"person": (checked.person or {}).get("user_id"), "by": "one-click"})
        self._page(200, lang, "mail.web.done.title", self.t(lang, "mail.web.done"))


def reaches(page: links.ChannelsPage) -> ReminderChannel | None:
    """Where reminders go in effect: the stored choice, less the channel the person lacks."""
    current = page.current
    telegram = page.telegram and current in (ReminderChannel.TELEGRAM, ReminderChannel.BOTH)
    email = page.email and current in (ReminderChannel.EMAIL, ReminderChannel.BOTH)
    if telegram and email:
        return ReminderChannel.BOTH
    return ReminderChannel.TELEGRAM if telegram else ReminderChannel.EMAIL if email else None


class ChannelsEndpoint(_Page):
    """``/mail/channels?token=…``: where reminders go, shown and chosen."""

    def _render(self, page: links.ChannelsPage, token: str) -> None:
        if page.outcome is not links.LinkCheck.OK or page.person is None:
            return self._refused(page.outcome, page.person)
        lang, person = self._lang(page.person), page.person
        now = reaches(page)
        channel = self.t(lang, f"mail.channel.{now}") if now else self.t(lang, "mail.web.channels.off")
        shown = self.t(lang, "mail.channels.show", address=person.get("address") or "—", channel=channel).replace("\n", "<br>")
        notes = {links.FormOutcome.SAVED: "saved", links.FormOutcome.USED: "used", links.FormOutcome.STALE: "stale",
                 links.FormOutcome.UNAVAILABLE: "unavailable"}
        if page.form is not None:
            shown = f"<strong>{self.t(lang, 'mail.web.channels.' + notes[page.form])}</strong></p><p>{shown}"
        choices, told = [], set()
        for choice in ReminderChannel:
            usable = page.available(choice)
            lacks = "no_email" if choice is ReminderChannel.EMAIL or (page.telegram and not usable) else "no_telegram"
            why = ""
            if not usable and lacks not in told:
                why = self.t(lang, f"mail.web.channels.{lacks}")
                told.add(lacks)
            attrs = (" checked" if choice == now else "") + ("" if usable else " disabled")
            choices.append(f'<p><label><input type="radio" name="channel" value="{choice.value}"{attrs}> {self.t(lang, "mail.channel." + choice)}'
                           f'</label>{f"<br><small>{why}</small>" if why else ""}</p>')
        form = (f'<form method="post"><p>{self.t(lang, "mail.web.channels.choose")}</p>{"".join(choices)}'
                f'<input type="hidden" name="token" value="{html.escape(token)}">'
                f'<input type="hidden" name="nonce" value="{html.escape(page.nonce)}">'
                f'<p><button type="submit" style="font-size: 1.1em; padding: .5em 1em">{self.t(lang, "mail.web.channels.save")}</button></p>'
                f'<p><small>{self.t(lang, "mail.web.channels.answers")}</small></p></form>')
        self._page(400 if page.form is links.FormOutcome.UNAVAILABLE else 200, lang, "mail.web.channels.title", shown, form)

    async def get(self) -> None:
        token = self.get_query_argument("token", "")
        services = self.channel.services
        page = await services.store.read(links.channels_page, await self.channel.link_key(), token, services.clock.now())
        self._render(page, token)

    async def post(self) -> None:
        token = self.get_body_argument("token", None) or self.get_query_argument("token", "")
        services = self.channel.services
        page = await services.store.run(links.choose_by_link, await self.channel.link_key(), token, self.get_body_argument("nonce", ""),
                                        self.get_body_argument("channel", ""), services.clock.now())
        log.info("mail.channel_page", extra={"outcome": page.form or page.outcome, "person": (page.person or {}).get("user_id"),
                                             "channel": page.current})
        self._render(page, token)


class _Quiet(tornado.web.Application):
    def log_request(self, handler: tornado.web.RequestHandler) -> None:
        """No access log: the tokens are in the paths."""


class MailWeb:
    """``await start()`` listens (``port``: the bound port); ``await close()``."""

    def __init__(self, channel: Any, endpoint: Endpoint):
        self.channel, self.endpoint = channel, endpoint
        self.app = _Quiet([(rf"{links.UNSUBSCRIBE_PATH}([A-Za-z0-9._=-]+)", UnsubscribeEndpoint, {"channel": channel}),
                           (rf"{links.CHANNELS_PATH}/?", ChannelsEndpoint, {"channel": channel})])
        self.server: tornado.httpserver.HTTPServer | None = None
        self.port: int | None = None

    async def start(self) -> None:
        self.server = tornado.httpserver.HTTPServer(self.app, xheaders=True)
        sockets = tornado.netutil.bind_sockets(self.endpoint.port, address=self.endpoint.host)
        self.server.add_sockets(sockets)
        self.port = sockets[0].getsockname()[1]
        log.info("mail.web_listening", extra={"host": self.endpoint.host, "port": self.port})

    async def close(self) -> None:
        if self.server is not None:
            self.server.stop()
            await self.server.close_all_connections()
            self.server = None
