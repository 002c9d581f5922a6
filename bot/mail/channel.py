"""The running e-mail channel: an incoming message is read, its fate decided and committed
(:func:`bot.mail.intake.take`), and only then answered, put on the experts' chat and its
files posted; the experts' answers and the helpdesk's notices to an e-mail asker go out
through the ledger as threaded e-mail.

What it needs of the experts' chat (post a card, a notice, a file; redraw a card) comes in
as :class:`Hooks`, given by ``handlers/channels.py`` at start-up, so this module knows no
Telegram object.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

from bot.helpdesk import relay
from bot.mail import compose, digest, links, outbound
from bot.mail.compose import Outgoing, mt
from bot.mail.config import MailConfig
from bot.mail.intake import Decision, Fate, Policy, take
from bot.mail.parsing import Incoming, html_to_text, parse
from bot.reminders import get_reminders
from knowledge.vocabulary import DeliveryKind, LANGS
from storage import helpdesk as hd_store
from storage import mail as store

log = logging.getLogger("ldn.mail")

#: How much of each FAQ answer the acknowledgement quotes.
FAQ_ANSWER_CHARS = 600
#: The Bot API lets a bot download files up to 20 MB (getFile).
BOT_API_DOWNLOAD_BYTES = 20 * 1024 * 1024


@dataclass
class Hooks:
    """What the channel asks of the experts' chat (async functions bound to the running bot)."""

    post_card: Callable[[int], Awaitable[bool]]
    notify_experts: Callable[[dict, str, str], Awaitable[None]]   # (query, HTML text, ref)
    refresh_card: Callable[[int], Awaitable[None]]
    post_file: Callable[[dict, str, bytes, str], Awaitable[bool]]  # (query, file name, content, HTML caption)
    expert_lang: str = "en"
    download: Callable[[str], Awaitable[bytes | None]] | None = None  # a file of the experts' chat by file_id (None: failed)


@dataclass(frozen=True)
class Thread:
    """What an e-mail about a query needs: the asker's address and language, and the thread."""

    query: dict
    person_id: int
    address: str
    name: str | None
    lang: str
    subject: str
    token: str
    last_in: str | None
    references: list[str]
    unsubscribe_token: str | None = None


def thread_of(db, qid: int, default_lang: str) -> Thread | None:
    query = hd_store.get_query(db, qid)
    thread = store.thread(db, qid)
    if query is None or thread is None:
        return None
    person = store.person_by_id(db, query["asker_id"]) or {}
    lang = str(person.get("lang") if person.get("lang") in LANGS else (query.get("lang") or default_lang))
    return Thread(query, query["asker_id"], person.get("address") or thread["address"], person.get("display_name"), lang,
                  thread["subject"], thread["token"], store.last_inbound(db, qid), store.thread_message_ids(db, qid),
                  person.get("unsubscribe_token"))


def expert_message(db, chat_id: int, message_id: int) -> dict | None:
    return hd_store.route(db, chat_id, message_id)


class MailChannel:
    def __init__(self, services: Any, cfg: MailConfig, hooks: Hooks | None = None):
        self.services, self.cfg, self.hooks = services, cfg, hooks
        helpdesk = services.config.section("helpdesk")
        self.policy = Policy(cfg, visitors=str(helpdesk.get("visitors") or "register"), default_lang=services.config.default_language,
                             max_question_chars=int(helpdesk.get("max_question_chars") or 3000))
        self.sender = outbound.MailSender(services.store, services.clock, cfg, services.deliverer.policy, services.deliverer.sleep)
        self.tasks: set[asyncio.Task] = set()
        self.received: dict[str, int] = {}
        self.receiver: Any = None   # bot.mail.receiver.MailReceiver, for LDN_MAIL_LISTEN
        self.poller: Any = None     # bot.mail.imap.ImapPoller, for LDN_IMAP_URL
        self.web: Any = None        # bot.mail.web.MailWeb, for LDN_MAIL_WEB_LISTEN
        self._link_key: bytes | None = None

    async def close(self) -> None:
        if self.receiver is not None:
            await self.receiver.close()
        if self.poller is not None:
            self.poller.stop()
        if self.web is not None:
            await self.web.close()
        await self.settle()

    # -- incoming --------------------------------------------------------------------------

    async def receive(self, raw: bytes, envelope_sender: str | None = None, recipients: list[str] | None = None) -> Decision:
        """Read, decide and commit one message; what follows (answers, the experts' chat) runs
        after, in the background (:meth:`settle` waits for it)."""
        mail = parse(raw, envelope_sender, recipients)
        decision = await self.services.store.run(take, mail, self.policy, self.services.search, self.services.clock.now())
        self.received[decision.fate] = self.received.get(decision.fate, 0) + 1
        log.info("mail.received", extra={"fate": decision.fate, "query": (decision.query or {}).get("id"), "skip": decision.skip})
        task = asyncio.get_running_loop().create_task(self._after(decision, mail))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return decision

    async def settle(self) -> None:
        """Wait until everything that follows the messages received so far is done."""
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)

    async def _after(self, decision: Decision, mail: Incoming) -> None:
        try:
            match decision.fate:
                case Fate.QUERY:
                    await self._acknowledge(decision, mail)
                    await self._to_experts((decision.query or {})["id"])
                case Fate.FOLLOWUP:
                    await self._followup(decision)
                case Fate.RATING:
                    await self._rated(decision, mail)
                case Fate.CONFIRM | Fate.CONFIRM_FAILED if decision.answer:
                    await self._confirmed(decision, mail)
                case Fate.UNKNOWN | Fate.TOO_BIG if decision.answer:
                    await self._notice(decision, mail)
                case Fate.UNSUBSCRIBED:
                    lang = self._lang(decision.person)
                    text = mt(self.services.i18n, lang, "mail.unsubscribed.body")
                    await self._direct(mail, (decision.person or {}).get("user_id") or 0, f"unsubscribed:{mail.message_id}",
                                       "Re: " + compose.bare_subject(mail.subject), text + await self._channels_note(decision.person, lang, text))
        except Exception:  # noqa: BLE001 - committed already: the periodic job posts and sends what is left
            log.exception("mail.after_failed", extra={"fate": decision.fate})

    def _lang(self, person: dict | None) -> str:
        lang = (person or {}).get("lang")
        return lang if lang in LANGS else self.services.config.default_language

    def _faq_items(self, ids: list[str], lang: str) -> str:
        items = []
        for entry_id in ids[:3]:
            entry = self.services.search.get(entry_id) if self.services.search is not None else None
            if entry is None:
                continue
            text = entry.text(lang)
            answer = html_to_text(text.a)
            answer = answer if len(answer) <= FAQ_ANSWER_CHARS else answer[:FAQ_ANSWER_CHARS].rsplit(" ", 1)[0] + " …"
            items.append(f"• {text.q}\n{answer}")
        return "\n\n".join(items)

    async def _mail_query(self, qid: int, *, ref: str, text: str, reply: bool = False, auto: str | None = "auto-replied",
                          attachments: list | None = None) -> outbound.MailOutcome | None:
        """An e-mail about query ``qid`` to its asker, threaded, through the ledger."""
        thread = await self.services.store.read(thread_of, qid, self.services.config.default_language)
        if thread is None:
            return None
        text += await self._channels_note({"user_id": thread.person_id, "unsubscribe_token": thread.unsubscribe_token}, thread.lang, text)
        out = Outgoing(to=thread.address, to_name=thread.name, subject=compose.tagged_subject(qid, thread.subject, reply=reply),
                       text=text, reply_to=compose.query_reply_address(self.cfg, qid, thread.token), in_reply_to=thread.last_in,
                       references=thread.references, auto=auto, attachments=attachments or [])
        message = compose.build(self.cfg, out, self.services.clock.now())
        return await self.sender.send(kind=DeliveryKind.EMAIL, ref=ref, person_id=thread.person_id, message=message, query_id=qid)

    async def _channels_note(self, person: dict | None, lang: str, text: str) -> str:
        """The last lines of every e-mail to a bound person: the signed link to the channel page
        (with ``mail.web_base_url``; else how to change where reminders go), appended to the
        signature block ``-- `` when the text has one."""
        if person and person.get("user_id") and not person.get("unsubscribe_token"):
            person = await self.services.store.read(store.person_by_id, int(person["user_id"]))
        if not person or not person.get("unsubscribe_token"):
            return ""
        if self.cfg.web_base_url:
            note = mt(self.services.i18n, lang, "mail.channels_link_note", link=f"<{await self.channels_link(person)}>")
        else:
            note = mt(self.services.i18n, lang, "mail.channels_note", address=self.unsubscribe_address(person))
        return ("\n" if "\n-- \n" in text else "\n\n-- \n") + note

    async def _acknowledge(self, decision: Decision, mail: Incoming) -> None:
        qid, lang = (decision.query or {})["id"], self._lang(decision.person)
        i18n = self.services.i18n
        items = self._faq_items(decision.candidates, lang)
        faq = mt(i18n, lang, "mail.ack.faq", items=items) if items else ""
        await self._mail_query(qid, ref=f"ack:{qid}", text=mt(i18n, lang, "mail.ack.body", n=qid, faq=faq))

    async def _to_experts(self, qid: int) -> None:
        if self.hooks is None:
            return
        if await self.hooks.post_card(qid):
            await self.post_files(qid)

    async def post_files(self, qid: int | None = None) -> int:
        """Files of e-mails whose card is on the experts' chat: posted next to it (once), or the
        experts told why not."""
        if self.hooks is None:
            return 0
        posted = 0
        for item in await self.services.store.read(store.waiting_files, qid):
            query = await self.services.store.read(hd_store.get_query, item["query_id"])
            lang = self.hooks.expert_lang
            if item["state"] == "refused":
                reason = item["reason"]
                await self.hooks.notify_experts(query, self.services.t(lang, "mail.experts.file_skipped", n=query["id"], name=item["name"],
                                                                       reason=f"{item['size'] // 1024} KB, {item['mime_type']}"),
                                                f"mailfile:{item['id']}:{reason}")
                await self.services.store.run(store.file_done, item["id"], "told", reason)
                continue
            caption = self.services.t(lang, "mail.experts.file", n=query["id"], name=item["name"])
            if await self.hooks.post_file(query, item["name"], item["content"], caption):
                await self.services.store.run(store.file_done, item["id"], "posted")
                posted += 1
        return posted

    async def _followup(self, decision: Decision) -> None:
        query = decision.query or {}
        if self.hooks is None or not query.get("posted_at"):
            return  # the card is not there yet: it shows the question; the tick posts the card
        text = self.services.t(self.hooks.expert_lang, "mail.experts.followup", n=query["id"], text=decision.followup_text or "")
        await self.hooks.notify_experts(query, text, f"mailfollowup:{decision.row_id}")
        await self.post_files(query["id"])
        if decision.reopened_from:
            await self.hooks.refresh_card(query["id"])

    async def _rated(self, decision: Decision, mail: Incoming) -> None:
        qid = (decision.query or {})["id"]
        if decision.answer:
            await self._mail_query(qid, ref=f"rated:{qid}", text=mt(self.services.i18n, self._lang(decision.person), "mail.rated.body", n=qid))
        if self.hooks is not None:
            await self.hooks.refresh_card(qid)

    async def _direct(self, mail: Incoming, person_id: int, ref: str, subject: str, text: str) -> None:
        """An automatic answer to a message that is not about a query (threaded on it)."""
        out = Outgoing(to=mail.sender, to_name=mail.sender_name, subject=subject, text=text, in_reply_to=mail.message_id,
                       references=[mail.message_id])
        await self.sender.send(kind=DeliveryKind.EMAIL, ref=ref, person_id=person_id,
                               message=compose.build(self.cfg, out, self.services.clock.now()))

    async def _confirmed(self, decision: Decision, mail: Incoming) -> None:
        done = decision.confirmation
        lang = done.lang if done else self._lang(decision.person)
        i18n, subject = self.services.i18n, "Re: " + compose.bare_subject(mail.subject)
        if decision.fate is Fate.CONFIRM and done is not None:
            country = self.services.countries.get(done.country)
            text = mt(i18n, lang, "mail.confirmed.body", address=mail.sender, country=country.name(lang) if country else done.country)
            text += await self._channels_note(decision.person, lang, text)
            await self._direct(mail, done.user_id or 0, f"confirmed:{mail.message_id}", mt(i18n, lang, "mail.confirmed.subject"), text)
        else:
            await self._direct(mail, 0, f"confirm_failed:{mail.message_id}", subject, mt(i18n, lang, "mail.confirm_failed.body"))

    async def _notice(self, decision: Decision, mail: Incoming) -> None:
        lang, i18n = self._lang(decision.person), self.services.i18n
        if decision.fate is Fate.TOO_BIG:
            text = mt(i18n, lang, "mail.too_big.body", size=f"{mail.size / 1048576:.1f}", limit=f"{self.cfg.max_message_bytes / 1048576:.0f}")
        else:
            text = mt(i18n, lang, "mail.unknown.body")
        await self._direct(mail, (decision.person or {}).get("user_id") or 0, f"{decision.fate}:{mail.message_id}",
                           mt(i18n, lang, "mail.unknown.subject"), text)

    # -- the experts' answers and the helpdesk's notices ---------------------------------------

    async def answer(self, query: dict, chat_id: int, message_id: int, *, delivery_id: int | None = None) -> str:
        """An expert's (recorded) reply to an e-mail query, as a threaded e-mail; its relay
        status (``sent | pending | failed | held``), recorded; the experts told of a refusal."""
        if delivery_id is not None:
            return "held"  # a Telegram ledger row: e-mail answers are retried by the mail tick
        qid, ref = query["id"], f"answer:{chat_id}:{message_id}"
        built = await self.services.store.read(store.queued_id, DeliveryKind.EMAIL, ref, query["asker_id"])
        if built is not None:  # this answer was built before: the ledger decides (never sent twice, nothing downloaded again)
            return await self._answer_went(query, chat_id, message_id, await self.sender.deliver(built))
        row = await self.services.store.read(expert_message, chat_id, message_id) or {}
        thread = await self.services.store.read(thread_of, qid, self.services.config.default_language)
        lang = thread.lang if thread else self.services.config.default_language
        files, missing = await self._answer_file(query, chat_id, message_id)
        note = "\n\n" + mt(self.services.i18n, lang, "mail.answer.file_missing", name=missing) if missing else ""
        text = f"{row.get('text') or ''}{note}\n\n-- \n{mt(self.services.i18n, lang, 'mail.answer.footer', n=qid)}"
        outcome = await self._mail_query(qid, ref=ref, text=text, reply=True, auto=None, attachments=files)
        return await self._answer_went(query, chat_id, message_id, outcome)

    async def _answer_file(self, query: dict, chat_id: int, message_id: int) -> tuple[list[tuple[str, str, bytes]], str | None]:
        """The document or photo of an expert's answer, downloaded through the Bot API, as an
        attachment; or, when it is too large or cannot be fetched, its name (the experts told why)."""
        item = await self.services.store.read(store.message_attachment, chat_id, message_id)
        if item is None:
            return [], None
        qid, photo = query["id"], item["kind"] == "photo"
        name = item.get("file_name") or (f"photo-{qid}.jpg" if photo else f"file-{qid}")
        mime = item.get("mime_type") or ("image/jpeg" if photo else "application/octet-stream")
        limit = min(self.cfg.max_attachment_bytes, BOT_API_DOWNLOAD_BYTES)
        size = item.get("file_size")
        content = None
        if (size is None or size <= limit) and self.hooks is not None and self.hooks.download is not None:
            content = await self.hooks.download(item["file_id"])
            size = len(content) if content is not None else size
        if content is not None and len(content) <= limit:
            return [(name, mime, content)], None
        too_big = size is not None and size > limit
        if self.hooks is not None:
            key = "mail.experts.answer_file_too_big" if too_big else "mail.experts.answer_file_failed"
            text = self.services.t(self.hooks.expert_lang, key, n=qid, name=name, size=f"{(size or 0) / 1048576:.1f}",
                                   limit=f"{limit / 1048576:.1f}")
            await self.hooks.notify_experts(query, text, f"mailanswerfile:{chat_id}:{message_id}")
        log.warning("mail.answer_file_left_out", extra={"query": qid, "too_big": too_big})
        return [], name

    async def _answer_went(self, query: dict, chat_id: int, message_id: int, outcome: outbound.MailOutcome | None) -> str:
        status = {"sent": "sent", "failed": "failed", "queued": "pending"}.get(outcome.status if outcome else "failed", "held")
        error = outcome.error if outcome else "no e-mail thread for this query"
        await self.services.store.run(lambda db: relay.record_delivery(db, query["id"], chat_id=chat_id, message_id=message_id,
                                                                      status=status, now=self.services.clock.now(), error=error))
        if status == "failed" and self.hooks is not None:
            text = self.services.t(self.hooks.expert_lang, "mail.experts.refused", n=query["id"], error=(error or "")[:200])
            await self.hooks.notify_experts(query, text, f"mailrefused:{chat_id}:{message_id}")
        return status

    async def notice(self, query: dict, *, kind: str, ref: str, key: str, **kwargs: Any) -> str:
        """A helpdesk message to an e-mail asker (pending, resolved, rating ...), once per (kind, ref)."""
        qid = query["id"]
        thread = await self.services.store.read(thread_of, qid, self.services.config.default_language)
        lang = thread.lang if thread else self.services.config.default_language
        i18n = self.services.i18n
        if kind == DeliveryKind.HELPDESK_RATE and thread is not None:
            address = compose.query_reply_address(self.cfg, qid, thread.token)
            links = "\n".join(f"{'★' * i}{'☆' * (5 - i)}  <mailto:{address}?subject=%5BLDN%20%23{qid}%5D%20rating%20{i}>"
                              for i in range(5, 0, -1))
            text = mt(i18n, lang, "mail.rate.body", n=qid, links=links)
        elif kind == DeliveryKind.HELPDESK_PENDING:
            text = mt(i18n, lang, "mail.pending.body", n=qid, days=kwargs.get("days", ""))
        elif kind == DeliveryKind.HELPDESK_RESOLVED:
            text = mt(i18n, lang, "mail.resolved_again.body", n=qid)
        else:
            text = html_to_text(i18n.t(lang, key, **kwargs))
        outcome = await self._mail_query(qid, ref=f"{kind}:{ref}", text=text)
        return outcome.status if outcome else "failed"

    # -- the periodic job ------------------------------------------------------------------------

    async def tick(self) -> dict[str, int]:
        """Queued e-mails that are due (4xx and connection retries), and files still to post."""
        done = {"sent": 0, "failed": 0, "files": 0}
        for outcome in await self.sender.flush_due():
            done["sent" if outcome.status == "sent" else "failed"] += outcome.status in ("sent", "failed")
            ref = outcome.ref or ""
            if ref.startswith("answer:") and outcome.status in ("sent", "failed"):
                _, chat, message = ref.split(":")
                route = await self.services.store.read(expert_message, int(chat), int(message))
                query = await self.services.store.read(hd_store.get_query, route["query_id"]) if route else None
                if query is not None:
                    await self._answer_went(query, int(chat), int(message), outcome)
        done["files"] = await self.post_files()
        done["reminders"] = await self.send_reminders()
        done["digests"] = await self.send_digests()
        return done

    # -- reminders and the weekly digest ------------------------------------------------------------

    def unsubscribe_address(self, person: dict) -> str:
        return self.cfg.plus_address(f"u{person['unsubscribe_token']}")

    async def link_key(self) -> bytes:
        if self._link_key is None:
            self._link_key = await self.services.store.run(links.link_key, self.services.clock.now())
        return self._link_key

    async def channels_link(self, person: dict) -> str:
        """The signed link to the person's channel page (needs ``mail.web_base_url``)."""
        token = links.sign(await self.link_key(), links.CHANNELS, person, self.services.clock.now())
        return links.channels_url(self.cfg.web_base_url or "", token)

    async def _footer(self, person: dict, lang: str) -> tuple[str, tuple[str, ...]]:
        """The footer of reminders and digests, and their List-Unsubscribe links (the signed
        one-click URL first when ``mail.web_base_url`` is set, then the mailto: address); with
        ``mail.web_base_url`` the footer links to the channel page too."""
        mailto = f"mailto:{self.unsubscribe_address(person)}?subject=unsubscribe"
        if not self.cfg.web_base_url:
            return "\n\n-- \n" + mt(self.services.i18n, lang, "mail.footer", unsubscribe=f"<{mailto}>"), (mailto,)
        token = links.sign(await self.link_key(), links.UNSUBSCRIBE, person, self.services.clock.now())
        found = (f"{self.cfg.web_base_url}{links.UNSUBSCRIBE_PATH}{token}", mailto)
        footer = mt(self.services.i18n, lang, "mail.footer_link", link=f"<{await self.channels_link(person)}>", unsubscribe=f"<{found[0]}>")
        return "\n\n-- \n" + footer, found

    async def _to_person(self, person: dict, lang: str, *, ref: str, subject: str, text: str, ics: str | None) -> outbound.MailOutcome:
        footer, link = await self._footer(person, lang)
        out = Outgoing(to=person["address"], to_name=person.get("display_name"), subject=subject, text=text + footer,
                       auto="auto-generated", unsubscribe=link, attachments=[("ldn-tsp.ics", "text/calendar", ics.encode())] if ics else [])
        return await self.sender.send(kind=DeliveryKind.EMAIL, ref=ref, person_id=person["user_id"],
                                      message=compose.build(self.cfg, out, self.services.clock.now()))

    async def send_reminders(self) -> int:
        """The reminders due for those who get them by e-mail, once each."""
        service = get_reminders(self.services)
        await service.ensure_loaded()
        due = await self.services.store.read(digest.reminders_due, service, self.services.clock.now())
        sent = 0
        for item in due:
            i18n = self.services.i18n
            title = item.text.split("\n", 1)[0].strip("🔔⏰📅 ").strip()
            text = item.text + ("\n\n" + mt(i18n, item.lang, "mail.ics_note") if item.ics else "")
            outcome = await self._to_person(item.person, item.lang, ref=digest.REMINDER_PREFIX + item.ref,
                                            subject=mt(i18n, item.lang, "mail.reminder.subject", title=title[:120]), text=text, ics=item.ics)
            sent += outcome.status == "sent"
        return sent

    def _digest_text(self, item: digest.Digest) -> str:
        i18n, lang = self.services.i18n, item.lang
        country = self.services.countries.get(item.person.get("country"))
        parts = [mt(i18n, lang, "mail.digest.intro", country=country.name(lang) if country else "—")]
        if item.queries:
            lines = [f"• #{q['id']} ({html_to_text(i18n.t(lang, 'hd.state.' + q['state']))}): {q['text'].splitlines()[0][:100]}"
                     for q in item.queries]
            parts.append(mt(i18n, lang, "mail.digest.queries") + "\n" + "\n".join(lines))
        else:
            parts.append(mt(i18n, lang, "mail.digest.no_queries"))
        if item.steps:
            parts.append(mt(i18n, lang, "mail.digest.steps") + "\n" + "\n".join(
                "• " + mt(i18n, lang, "mail.digest.step", title=title, due=due.isoformat()) for title, due in item.steps))
        if item.events:
            parts.append(mt(i18n, lang, "mail.digest.events") + "\n" + "\n".join(
                f"• {e.title_in(lang)}: {e.start:%Y-%m-%d %H:%M} ({e.timezone})" for e in item.events))
        if item.faq:
            parts.append(mt(i18n, lang, "mail.digest.faq") + "\n" + "\n".join(f"• {q}" for q in item.faq))
        parts.append(mt(i18n, lang, "mail.digest.reply"))
        return "\n\n".join(parts)

    async def send_digests(self) -> int:
        """Monday's digest, once a week per person (recorded before it is sent: at most once)."""
        service = get_reminders(self.services)
        now = self.services.clock.now()
        sent = 0
        for item in await self.services.store.read(digest.digests_due, service, self.services.search, now):
            if not await self.services.store.run(digest.digest_sent, item.person["user_id"], item.week):
                continue
            subject = mt(self.services.i18n, item.lang, "mail.digest.subject", date=now.strftime("%Y-%m-%d"))
            outcome = await self._to_person(item.person, item.lang, ref=f"digest:{item.week}", subject=subject,
                                            text=self._digest_text(item), ics=item.ics)
            sent += outcome.status == "sent"
        return sent
