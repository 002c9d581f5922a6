"""The channel page of the e-mails' links (``/mail/channels?token=…``), against the real tornado
server of the running Application (tornado's HTTP client), with the e-mails read from the real
aiosmtpd server: every e-mail to a bound person links to it; following the link shows the
choice in the person's language, the form changes it once (one-time nonce), and the next
reminder goes where the person chose; forged, expired and replayed requests change nothing."""
from __future__ import annotations

import datetime as dt
import html
import re
from urllib.parse import urlencode

import pytest
from tornado.httpclient import AsyncHTTPClient, HTTPResponse

from bot.mail import links, people
from bot.reminders import get_reminders
from handlers.reminders import reminders_tick
from knowledge.vocabulary import LANGS
from storage import helpdesk as hd_store
from storage import mail as mail_store
from tests.helpdesk.util import bot_message
from tests.mail.util import HELPDESK, body, mail
from tests.util import EXPERT, EXPERT_CHAT

PUBLIC = "https://ldn.example.org"
TELEGRAM_USER = 4242
ADDRESS = "amina@ministry.example"
LINK_RE = re.compile(re.escape(PUBLIC) + r"/mail/channels\?token=[A-Za-z0-9._=-]+")


@pytest.fixture
def mail_settings():
    return {"from": HELPDESK, "max_message_mb": 1, "max_attachment_mb": 0.5, "web_base_url": PUBLIC}


@pytest.fixture
def mail_vars(mail_vars):
    mail_vars.setenv("LDN_MAIL_WEB_LISTEN", "127.0.0.1:0")
    return mail_vars


@pytest.fixture
async def http():
    client = AsyncHTTPClient(force_instance=True)
    yield client
    client.close()


def _link(msg) -> str:
    found = LINK_RE.findall(body(msg))
    assert len(found) == 1, (msg["Subject"], body(msg))
    return found[0]


def _local(menv, url: str) -> str:
    return url.replace(PUBLIC, f"http://127.0.0.1:{menv.channel.web.port}")


async def _get(http, url: str, **headers: str) -> tuple[int, str]:
    answer: HTTPResponse = await http.fetch(url, raise_error=False, headers=headers)
    return answer.code, answer.body.decode()


async def _post(http, url: str, **fields: str) -> tuple[int, str]:
    answer: HTTPResponse = await http.fetch(url, method="POST", body=urlencode(fields), raise_error=False,
                                            headers={"Content-Type": "application/x-www-form-urlencoded"})
    return answer.code, answer.body.decode()


def _form(page: str) -> dict[str, str]:
    """The hidden fields of the page's form, as a browser would send them back."""
    return {name: html.unescape(value) for name, value in re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page)}


def _radio(page: str, choice: str) -> str:
    found = re.search(rf'<input type="radio" name="channel" value="{choice}"([^>]*)>', page)
    assert found, page
    return found.group(1)


async def _telegram_and_email(menv) -> None:
    """A focal point of Kenya on Telegram who also bound ``ADDRESS`` (invitation opened in
    Telegram, then confirmed by e-mail): reminders go to both."""
    env = menv.bot
    await env.send("/start", user_id=TELEGRAM_USER)
    invite = await env.services.store.run(lambda db: people.invite_by_email(
        db, address=ADDRESS, country="KEN", lang="en", created_by=None, now=env.clock.now(), ttl_days=14))
    await env.send(f"/start {invite.token}", user_id=TELEGRAM_USER)
    await menv.deliver(mail("Re: invitation", f"Confirmed: {invite.code}", message_id="c1@ministry.example"))
    assert mail_store.person_by_id(env.db, TELEGRAM_USER)["channel"] == "both"


async def _next_reminder(menv, person: int) -> dt.datetime:
    service = get_reminders(menv.services)
    await service.ensure_loaded()
    now = menv.bot.clock.now()

    def first(db):
        snap = service.snapshot(db, now)
        snap.people = [service.person(db, person)]
        return min(p.due_at for p in service.plan(snap, now, now + dt.timedelta(days=400), now) if p.chat_id == person)

    return await menv.services.store.read(first)


async def test_follow_the_link_choose_telegram_only_and_the_next_reminder_goes_by_telegram_only(menv, http):
    await _telegram_and_email(menv)
    url = _local(menv, _link(menv.outbox.last(ADDRESS)))  # the confirmation e-mail

    status, page = await _get(http, url)
    assert status == 200 and 'lang="en"' in page and "Where your reminders go" in page
    assert "Reminders and the weekly digest go to: <b>Telegram and e-mail</b>" in page and ADDRESS in page
    assert "checked" in _radio(page, "both") and "disabled" not in _radio(page, "telegram") + _radio(page, "email")
    assert mail_store.person_by_id(menv.db, TELEGRAM_USER)["channel"] == "both"  # a GET changes nothing

    status, page = await _post(http, url, **_form(page), channel="telegram")
    assert status == 200 and "Saved." in page and "go to: <b>Telegram</b>" in page and "checked" in _radio(page, "telegram")
    assert mail_store.person_by_id(menv.db, TELEGRAM_USER)["channel"] == "telegram"

    menv.outbox.clear()
    menv.bot.api.clear()
    due = await _next_reminder(menv, TELEGRAM_USER)
    menv.bot.clock.advance(seconds=(due - menv.bot.clock.now()).total_seconds() + 60)
    assert (await menv.channel.tick())["reminders"] == 0
    assert not [m for m in menv.outbox.to(ADDRESS) if "reminder" in str(m["Subject"]).lower()]
    assert (await reminders_tick(menv.bot.app))["planned"] >= 1
    sent = menv.bot.api.sent("sendMessage", TELEGRAM_USER)
    assert sent and "Workshop" in sent[0].text
    assert not menv.outbox.to(ADDRESS)  # and nothing by e-mail


async def test_forged_expired_and_replayed_requests_change_nothing(menv, http):
    await _telegram_and_email(menv)
    url = _local(menv, _link(menv.outbox.last(ADDRESS)))
    _status, page = await _get(http, url)
    first = _form(page)
    token = first["token"]
    head, _, signature = token.rpartition(".")
    forged = head + "." + ("A" if signature[0] != "A" else "B") + signature[1:]
    someone_else = token.replace(f"{TELEGRAM_USER}.", f"{TELEGRAM_USER + 1}.", 1)
    one_click = links.sign(await menv.channel.link_key(), links.UNSUBSCRIBE,  # a one-click token is no channel-page token
                           mail_store.person_by_id(menv.db, TELEGRAM_USER), menv.bot.clock.now())
    base = url.split("?", 1)[0]
    for bad in (forged, someone_else, one_click, "nonsense", ""):
        status, refused = await _get(http, f"{base}?token={bad}")
        assert status == 403 and "This link is not valid: nothing was changed." in refused and "<form" not in refused, bad
        status, refused = await _post(http, base, token=bad, nonce=first["nonce"], channel="email")
        assert status == 403, bad
    assert mail_store.person_by_id(menv.db, TELEGRAM_USER)["channel"] == "both"

    # a form made for another page (or a nonce edited) is refused as too old / not this one's
    status, page = await _post(http, url, token=token, nonce=first["nonce"][:-2] + "xx", channel="email")
    assert status == 200 and "open too long" in page
    assert mail_store.person_by_id(menv.db, TELEGRAM_USER)["channel"] == "both"

    # each form acts once: sent again (a replay, a double click), it changes nothing
    status, page = await _post(http, url, **first, channel="telegram")
    assert status == 200 and "Saved." in page
    second = _form(page)
    assert second["nonce"] != first["nonce"]
    status, page = await _post(http, url, **second, channel="email")
    assert "Saved." in page and mail_store.person_by_id(menv.db, TELEGRAM_USER)["channel"] == "email"
    for replay in (first, second):
        status, page = await _post(http, url, **replay, channel="telegram")
        assert status == 200 and "This form was sent already" in page and "go to: <b>E-mail</b>" in page
    assert mail_store.person_by_id(menv.db, TELEGRAM_USER)["channel"] == "email"

    # a choice that is no choice
    status, page = await _post(http, url, **_form(page), channel="carrier-pigeon")
    assert status == 400 and "not available to you" in page
    assert mail_store.person_by_id(menv.db, TELEGRAM_USER)["channel"] == "email"

    # a form left open for more than a day, then the link itself after 180 days
    _status, page = await _get(http, url)
    menv.bot.clock.advance(hours=25)
    status, page = await _post(http, url, **_form(page), channel="both")
    assert status == 200 and "open too long" in page and mail_store.person_by_id(menv.db, TELEGRAM_USER)["channel"] == "email"
    menv.bot.clock.advance(days=181)
    status, page = await _get(http, url)
    assert status == 410 and "This link has expired" in page
    status, page = await _post(http, url, token=token, nonce=second["nonce"], channel="both")
    assert status == 410 and mail_store.person_by_id(menv.db, TELEGRAM_USER)["channel"] == "email"


async def test_without_telegram_only_email_can_be_chosen(menv, http):
    person = await menv.bind()  # invited and confirmed by e-mail only: an e-mail-only record
    url = _local(menv, _link(menv.outbox.last(ADDRESS)))
    status, page = await _get(http, url)
    assert status == 200 and "go to: <b>E-mail</b>" in page  # stored "both", but only e-mail reaches them
    assert "disabled" in _radio(page, "telegram") and "disabled" in _radio(page, "both")
    assert "checked" in _radio(page, "email") and "disabled" not in _radio(page, "email")
    assert page.count("you do not use the bot in Telegram yet") == 1
    status, page = await _post(http, url, **_form(page), channel="telegram")
    assert status == 400 and "not available to you" in page
    assert mail_store.person_by_id(menv.db, person)["channel"] == "both"
    status, page = await _post(http, url, **_form(page), channel="email")
    assert status == 200 and "Saved." in page and mail_store.person_by_id(menv.db, person)["channel"] == "email"


async def test_every_email_carries_the_link_and_one_click_still_works(menv, http):
    person = await menv.bind()
    confirmed = menv.outbox.last(ADDRESS)
    await menv.deliver(mail("SOC data", "Where do the SOC data come from?", message_id="q1@ministry.example"))
    ack = menv.outbox.last(ADDRESS)
    qid = menv.db.execute("SELECT max(id) FROM queries").fetchone()[0]
    card_id = hd_store.get_query(menv.db, qid)["expert_message_id"]
    await menv.bot.send("From SoilGrids 250 m.", user_id=EXPERT, chat_id=EXPERT_CHAT, chat_type="supergroup", reply_to=bot_message(card_id))
    answer = menv.outbox.last(ADDRESS)
    due = await _next_reminder(menv, person)
    menv.bot.clock.advance(seconds=(due - menv.bot.clock.now()).total_seconds() + 60)
    assert (await menv.channel.tick())["reminders"] >= 1
    reminder = menv.outbox.last(ADDRESS)
    clock = menv.bot.clock
    clock.advance(seconds=(dt.datetime(2016, 5, 30, 9, 30, tzinfo=dt.timezone.utc) - clock.now()).total_seconds())
    assert (await menv.channel.tick())["digests"] == 1
    digest = menv.outbox.last(ADDRESS)
    assert ack["Subject"].startswith(f"[LDN #{qid}]") and answer["Subject"].startswith("Re: [LDN")
    assert reminder["Subject"].startswith("LDN TSP reminder:") and digest["Subject"].startswith("Your LDN TSP week")
    pages = set()
    for msg in (confirmed, ack, answer, reminder, digest):
        link = _link(msg)
        status, page = await _get(http, _local(menv, link))
        assert status == 200 and ADDRESS in page, msg["Subject"]
        pages.add(link)
        text = body(msg).replace("\r\n", "\n")
        assert text.count("\n-- \n") == 1 and text.rstrip().endswith(">"), msg["Subject"]  # one signature block, the links at its end
    for msg in (reminder, digest):  # RFC 8058 one-click, beside the link
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert re.findall(r"<([^>]+)>", msg["List-Unsubscribe"])[0].startswith(PUBLIC + "/mail/unsubscribe/")
    one_click = _local(menv, re.findall(r"<([^>]+)>", digest["List-Unsubscribe"])[0])
    status, page = await _post(http, one_click, **{"List-Unsubscribe": "One-Click"})
    assert status == 200 and "no longer come by e-mail" in page
    assert mail_store.person_by_id(menv.db, person)["channel"] == "telegram"
    status, page = await _get(http, _local(menv, _link(digest)))  # the page shows it: nothing reaches an e-mail-only person now
    assert "nowhere at the moment" in page and "checked" not in page


@pytest.mark.parametrize("lang", LANGS)
async def test_the_page_renders_in_each_language(menv, http, lang):
    address = f"fp-{lang}@ministry.example"
    await menv.bind(address, "SEN", lang, name="Fatou")
    url = _local(menv, _link(menv.outbox.last(address)))
    status, page = await _get(http, url)
    i18n = menv.services.i18n
    assert status == 200 and f'lang="{lang}"' in page and f'dir="{"rtl" if lang == "ar" else "ltr"}"' in page
    for key in ("mail.web.channels.title", "mail.web.channels.choose", "mail.web.channels.save", "mail.web.channels.no_telegram",
                "mail.web.channels.answers", "mail.channel.telegram", "mail.channel.email", "mail.channel.both"):
        assert i18n.t(lang, key) in page, (lang, key)
    if lang != "en":
        assert i18n.t("en", "mail.web.channels.choose") not in page
    status, page = await _post(http, url, **_form(page), channel="email")
    assert status == 200 and i18n.t(lang, "mail.web.channels.saved") in page
    # a forged link names nobody: its refusal is in the browser's language
    status, page = await _get(http, url[:-1] + ("A" if url[-1] != "A" else "B"), **{"Accept-Language": f"{lang};q=0.9, de;q=1"})
    assert status == 403 and f'lang="{lang}"' in page and i18n.t(lang, "mail.web.forged") in page
