"""The web end of the e-mails' links, on ``LDN_MAIL_WEB_LISTEN`` (a small tornado server on the
bot's event loop; ``mail.web_base_url`` is the public address a reverse proxy gives it):

* ``POST /mail/unsubscribe/<token>``: RFC 8058 one-click (the mail program posts
  ``List-Unsubscribe=One-Click``): reminders and the digest no longer by e-mail, committed
  before the answer, idempotent; a forged token is ``403``, an expired one ``410``.
* ``GET`` of the same address changes nothing (link scanners fetch links): a page in the
  person's language with a button that posts the form.
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
from knowledge.vocabulary import LANGS

log = logging.getLogger("ldn.mail")

_STATUS = {links.LinkCheck.OK: 200, links.LinkCheck.FORGED: 403, links.LinkCheck.EXPIRED: 410}
_PAGE = """<!doctype html>
<html lang="{lang}" dir="{dir}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<meta name="robots" content="noindex"><title>{title}</title></head>
<body style="font-family: sans-serif; max-width: 36em; margin: 3em auto; padding: 0 1em">
<h1 style="font-size: 1.3em">{title}</h1><p>{text}</p>{form}</body></html>"""


class UnsubscribeEndpoint(tornado.web.RequestHandler):
    def initialize(self, channel: Any) -> None:
        self.channel = channel

    def log_exception(self, typ: Any, value: BaseException | None, tb: Any) -> None:
        log.warning("mail.web_error", extra={"error": type(value).__name__ if value else None})

    def _page(self, status: int, lang: str, title_key: str, text_key: str, form: str = "") -> None:
        services = self.channel.services
        self.set_status(status)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(_PAGE.format(lang=lang, dir="rtl" if lang == "ar" else "ltr", title=services.t(lang, title_key),
                                 text=services.t(lang, text_key), form=form))

    def _lang(self, person: dict | None) -> str:
        lang = (person or {}).get("lang")
        return lang if lang in LANGS else self.channel.services.config.default_language

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
            return self._page(_STATUS[checked.outcome], lang, "mail.web.refused.title", f"mail.web.{checked.outcome}")
        button = self.channel.services.t(lang, "mail.web.button")
        form = (f'<form method="post" action="{html.escape(links.UNSUBSCRIBE_PATH + token)}">'
                '<input type="hidden" name="List-Unsubscribe" value="One-Click">'
                f'<button type="submit" style="font-size: 1.1em; padding: .5em 1em">{button}</button></form>')
        self._page(200, lang, "mail.web.confirm.title", "mail.web.confirm", form)

    async def post(self, token: str) -> None:
        checked = await self._checked(token, act=True)
        lang = self._lang(checked.person)
        if checked.outcome is not links.LinkCheck.OK:
            log.info("mail.unsubscribe_refused", extra={"outcome": checked.outcome})
            return self._page(_STATUS[checked.outcome], lang, "mail.web.refused.title", f"mail.web.{checked.outcome}")
        log.info("mail.unsubscribed", extra={"person": (checked.person or {}).get("user_id"), "by": "one-click"})
        self._page(200, lang, "mail.web.done.title", "mail.web.done")


class _Quiet(tornado.web.Application):
    def log_request(self, handler: tornado.web.RequestHandler) -> None:
        """No access log: the tokens are in the paths."""


class MailWeb:
    """``await start()`` listens (``port``: the bound port); ``await close()``."""

    def __init__(self, channel: Any, endpoint: Endpoint):
        self.channel, self.endpoint = channel, endpoint
        self.app = _Quiet([(rf"{links.UNSUBSCRIBE_PATH}([A-Za-z0-9._=-]+)", UnsubscribeEndpoint, {"channel": channel})])
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
