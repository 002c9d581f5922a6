"""RFC 8058 one-click unsubscribe: reminders and the digest carry a signed per-person https URL
and ``List-Unsubscribe-Post``; the bot's web end (``LDN_MAIL_WEB_LISTEN``) changes nothing on a
GET (a translated page with a button), turns e-mail reminders off on a POST (committed,
idempotent) and refuses forged and expired tokens. Real HTTP requests against the running endpoint."""
from __future__ import annotations

import asyncio
import datetime as dt
import re
import urllib.error
import urllib.request

import pytest

from bot.mail.config import mail_config, problems

from storage import mail as mail_store
from tests.mail.util import HELPDESK

PUBLIC = "https://ldn.example.org"


@pytest.fixture
def mail_settings():
    return {"from": HELPDESK, "max_message_mb": 1, "max_attachment_mb": 0.5, "web_base_url": PUBLIC}


@pytest.fixture
def mail_vars(mail_vars):
    mail_vars.setenv("LDN_MAIL_WEB_LISTEN", "127.0.0.1:0")
    return mail_vars


def _http(url: str, data: bytes | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")
    if data is not None:
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


async def _digest(menv, address="amina@ministry.example", country="KEN", lang="en"):
    person = await menv.bind(address, country, lang)
    clock = menv.bot.clock
    clock.advance(seconds=(dt.datetime(2016, 5, 23, 9, 30, tzinfo=dt.timezone.utc) - clock.now()).total_seconds())
    assert (await menv.channel.tick())["digests"] >= 1
    return person, menv.outbox.last(address)


def _local(menv, url: str) -> str:
    assert url.startswith(PUBLIC + "/mail/unsubscribe/")
    return url.replace(PUBLIC, f"http://127.0.0.1:{menv.channel.web.port}")


async def test_one_click_post_turns_email_reminders_off(menv):
    person, digest = await _digest(menv)
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    links = re.findall(r"<([^>]+)>", digest["List-Unsubscribe"])
    assert links[0].startswith(PUBLIC + "/mail/unsubscribe/") and links[1].startswith("mailto:helpdesk+u")
    url = _local(menv, links[0])

    status, page = await asyncio.to_thread(_http, url)  # a link scanner's GET changes nothing
    assert status == 200 and "Stop reminders by e-mail" in page and 'method="post"' in page
    assert mail_store.person_by_id(menv.db, person)["channel"] == "both"

    status, page = await asyncio.to_thread(_http, url, b"List-Unsubscribe=One-Click")
    assert status == 200 and "no longer come by e-mail" in page
    assert mail_store.person_by_id(menv.db, person)["channel"] == "telegram"
    assert not mail_store.people_for_email(menv.db)
    status, _page = await asyncio.to_thread(_http, url, b"List-Unsubscribe=One-Click")  # again: the same answer
    assert status == 200 and mail_store.person_by_id(menv.db, person)["channel"] == "telegram"

    menv.outbox.clear()
    menv.bot.clock.advance(days=7)
    assert (await menv.channel.tick())["digests"] == 0


async def test_forged_and_expired_tokens_are_refused(menv):
    person, digest = await _digest(menv)
    url = _local(menv, re.findall(r"<([^>]+)>", digest["List-Unsubscribe"])[0])
    head, _, signature = url.rpartition(".")
    forged = head + "." + ("A" if signature[0] != "A" else "B") + signature[1:]
    other = url.replace(f"/unsubscribe/{person}.", f"/unsubscribe/{person + 1}.")
    for bad in (forged, other, url.rsplit("/", 1)[0] + "/nonsense"):
        status, page = await asyncio.to_thread(_http, bad, b"List-Unsubscribe=One-Click")
        assert status == 403 and "not valid" in page, bad
    assert mail_store.person_by_id(menv.db, person)["channel"] == "both"

    menv.bot.clock.advance(days=181)
    status, page = await asyncio.to_thread(_http, url, b"List-Unsubscribe=One-Click")
    assert status == 410 and "expired" in page
    assert mail_store.person_by_id(menv.db, person)["channel"] == "both"


async def test_the_confirmation_page_is_in_the_persons_language(menv):
    _person, digest = await _digest(menv, "awa@environnement.example", "SEN", "fr")
    url = _local(menv, re.findall(r"<([^>]+)>", digest["List-Unsubscribe"])[0])
    status, page = await asyncio.to_thread(_http, url)
    assert status == 200 and 'lang="fr"' in page and "Ne plus recevoir de rappels par courriel" in page


def test_the_web_end_needs_its_public_address_and_its_listen_address():
    env = {"LDN_SMTP_URL": "smtp://127.0.0.1:2525", "LDN_MAIL_WEB_LISTEN": "127.0.0.1:8025"}
    assert mail_config({"from": HELPDESK, "web_base_url": PUBLIC}, env).web_listen.port == 8025
    assert "mail.web_base_url" in problems({"from": HELPDESK}, env)[0]
    assert "LDN_MAIL_WEB_LISTEN" in problems({"from": HELPDESK, "web_base_url": PUBLIC}, {"LDN_SMTP_URL": env["LDN_SMTP_URL"]})[0]
    assert "HOST:PORT" in problems({"from": HELPDESK, "web_base_url": PUBLIC}, {**env, "LDN_MAIL_WEB_LISTEN": "8025"})[0]
