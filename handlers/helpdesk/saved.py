"""Experts answer in the asker's language, from the experts' chat.

* ``/saved add NAME`` (texts on the next lines, ``en: …``, ``fr: …``; see bot/helpdesk/saved.py),
  ``/saved`` (the list), ``/saved NAME`` in a query's thread (its topic, or a reply to one of
  its messages): the asker's-language text goes to the asker;
* the card's "📚 Answer with an FAQ entry": the entries that best match the question (or
  ``/saved faq WORDS`` in the thread for other words), one button each; the one tapped goes to
  the asker in their language, resolved for them (their workshop, deadline, next step).

Either way the bot posts the text in the query's place in the experts' chat, records it as the
expert's reply and relays it like any expert's reply (the delivery ledger's at-least-once
promise, the 👍 when delivered, the notices when not).
"""
from __future__ import annotations

import html
import logging

from telegram import Update
from telegram.constants import ParseMode

from bot.helpdesk import relay
from bot.helpdesk import saved as rules
from bot.helpdesk.rules import CODE_STATES
from bot.roles import Person
from bot.services import Services
from handlers.common import Context, answer_button, keyboard, message_of, person, reply
from handlers.faq import render_answer, search
from handlers.helpdesk.outbox import deliver_answer, placement, refresh_card, try_api
from handlers.helpdesk.render import button
from handlers.helpdesk.settings import is_expert_chat, now, number, settings, xt
from handlers.personal import personal_answer
from knowledge.vocabulary import LANG_NAMES, DeliveryKind, HelpdeskAction

log = logging.getLogger("ldn.handlers.helpdesk")

DELIVERED_REACTION = [{"type": "emoji", "emoji": "👍"}]
MAX_ENTRIES = 5


async def _thread_query(context: Context, message) -> int | None:
    """The query whose thread ``message`` is in (its forum topic, or a reply to one of its messages)."""
    services = context.services
    if message.is_topic_message and message.message_thread_id:
        found = await services.store.read(relay.route, message.chat_id, message.message_thread_id)
        if found and found["role"] == "topic":
            return found["query_id"]
    if message.reply_to_message is not None:
        found = await services.store.read(relay.route, message.chat_id, message.reply_to_message.message_id)
        if found:
            return found["query_id"]
    return None


async def saved_command(update: Update, context: Context) -> None:
    services = context.services
    who = await person(update, context)
    if who is None:
        return
    message = message_of(update)
    if not is_expert_chat(update, services) or not who.is_expert:
        await reply(update, context, services.t(who.lang, "saved.experts_only"))
        return
    first, _, body = (message.text or "").partition("\n")
    words = first.split()[1:]
    if not words:
        rows = await services.store.read(rules.saved_names)
        if not rows:
            await reply(update, context, xt(services, "saved.list_empty"))
            return
        lines = [f"• <code>{html.escape(name)}</code> ({', '.join(langs)})" for name, langs in rows]
        await reply(update, context, xt(services, "saved.list_header", count=len(rows)) + "\n" + "\n".join(lines))
        return
    if words[0].lower() == "add":
        await _add(update, context, who, words[1] if len(words) == 2 else "", body)
        return
    qid = await _thread_query(context, message)
    if qid is None:
        await reply(update, context, xt(services, "saved.not_in_thread"))
        return
    if words[0].lower() == "faq":
        await _offer_entries(update, context, qid, " ".join(words[1:]) + ("\n" + body if body else ""))
        return
    chosen = await services.store.read(rules.saved_for_query, words[0], qid)
    if chosen is None:
        await reply(update, context, xt(services, "saved.not_found", name=words[0][:32]))
        return
    sent = await send_as_answer(context.bot, services, chosen.query, who, html.escape(chosen.text),
                                ref=f"saved:{message.chat_id}:{message.message_id}", source=f"saved:{words[0].lower()}")
    if sent and chosen.fallback:
        await reply(update, context, xt(services, "saved.fallback_note", n=qid, name=words[0].lower(),
                                        lang=LANG_NAMES.get(chosen.lang, chosen.lang)))


async def _add(update: Update, context: Context, who: Person, name: str, body: str) -> None:
    services = context.services
    outcome = await services.store.run(rules.save, name, body, who.user_id, now(services))
    if not outcome.ok:
        await reply(update, context, xt(services, f"saved.error.{outcome.error}") + "\n\n" + xt(services, "saved.usage"))
        return
    key = "saved.added" if outcome.new else "saved.replaced"
    await reply(update, context, xt(services, key, name=outcome.name, langs=", ".join(outcome.langs)))


async def _offer_entries(update: Update, context: Context, qid: int, words: str | None = None) -> None:
    """The FAQ entries that best match the query's question (or ``words``), one button each."""
    services = context.services
    asking = await services.store.read(rules.asker_of, qid)
    if asking is None:
        await reply(update, context, xt(services, "saved.not_in_thread"))
        return
    text = (words or "").strip() or asking.query["text"]
    hits = await search(services, text, limit=MAX_ENTRIES)
    ids = [hit.id for hit in hits] or list(asking.query.get("candidates") or [])
    lang = settings(services).expert_language
    rows = []
    for entry_id in ids[:MAX_ENTRIES]:
        entry = services.search.get(entry_id) if services.search else None
        data = button(HelpdeskAction.SEND_FAQ, qid, entry_id)
        if entry is not None and len(data.encode()) <= 64:
            rows.append([(("📚 " + entry.text(lang).q)[:60], data)])
    if not rows:
        await reply(update, context, xt(services, "saved.faq_none"))
        return
    await reply(update, context, xt(services, "saved.faq_pick", n=qid, lang=LANG_NAMES.get(asking.lang, asking.lang)),
                markup=keyboard(rows))


async def button_answer_with_faq(update: Update, context: Context, who: Person, args: list[str]) -> None:
    """The card's 📚 button (``af QID STATE``): the matching entries, in the query's place."""
    services = context.services
    qid = number(args[0]) if args else None
    if not who.is_expert or not is_expert_chat(update, services):
        await answer_button(update, services.t(who.lang, "error.not_allowed"), alert=True)
        return
    if qid is None or (len(args) > 1 and args[1] not in CODE_STATES):
        await answer_button(update, services.t(who.lang, "error.stale_button"), alert=True)
        return
    await answer_button(update)
    await _offer_entries(update, context, qid)


async def button_send_faq(update: Update, context: Context, who: Person, args: list[str]) -> None:
    """``sf QID ENTRY``: the entry goes to the asker in their language, as this expert's answer."""
    services = context.services
    if not who.is_expert or not is_expert_chat(update, services):
        await answer_button(update, services.t(who.lang, "error.not_allowed"), alert=True)
        return
    qid = number(args[0]) if args else None
    entry = services.search.get(args[1]) if qid is not None and len(args) > 1 and services.search else None
    asking = await services.store.read(rules.asker_of, qid) if entry is not None else None
    if asking is None or entry is None:
        await answer_button(update, services.t(who.lang, "error.stale_button"), alert=True)
        return
    asker = Person(asking.query["asker_id"], "", None, asking.lang, asking.role, asking.country)
    answer = await personal_answer(services, asker, entry, asking.lang, offer_countries=False)
    text = render_answer(services, entry, asking.lang, answer.text)
    pressed = update.callback_query.message if update.callback_query is not None else None
    ref = f"faq:{qid}:{entry.id}:{pressed.message_id if pressed else 0}"
    sent = await send_as_answer(context.bot, services, asking.query, who, text, ref=ref, source=f"faq:{entry.id}")
    await answer_button(update, xt(services, "saved.faq_sent" if sent else "saved.faq_not_sent", n=qid,
                                   lang=LANG_NAMES.get(asking.lang, asking.lang)))


async def send_as_answer(bot, services: Services, query: dict, expert: Person, text: str, *, ref: str, source: str) -> bool:
    """Post ``text`` (safe HTML) in the query's place in the experts' chat, record it as
    ``expert``'s reply and relay it to the asker; True once it is recorded."""
    chat_id = settings(services).expert_chat_id
    if chat_id is None:  # no experts' chat configured: nowhere to post it
        return False
    payload = {"text": text, "parse_mode": ParseMode.HTML.value, "link_preview_options": {"is_disabled": True}, **placement(query)}
    outcome = await services.deliverer.send_now(bot, kind=DeliveryKind.HELPDESK_NOTICE, ref=f"answer:{ref}", chat_id=chat_id,
                                                method="sendMessage", payload=payload)
    if outcome.status != "sent" or not outcome.message_id:
        log.warning("helpdesk.answer_post_failed", extra={"query": query["id"], "status": outcome.status})
        return False
    result = await services.store.run(rules.record_answer, query["id"], expert.user_id, chat_id=chat_id,
                                      message_id=outcome.message_id, text=text, source=source, now=now(services))
    if not result.recorded or result.query is None:
        return False
    log.info("helpdesk.answer_in_language", extra={"query": query["id"], "expert": expert.user_id, "source": source})
    status = await deliver_answer(bot, services, result.query, chat_id, outcome.message_id)
    if status == "sent":
        await try_api(bot, services, "setMessageReaction",
                      {"chat_id": chat_id, "message_id": outcome.message_id, "reaction": DELIVERED_REACTION}, query_id=query["id"])
    if result.opened or result.query.get("assignee_id") == expert.user_id:
        await refresh_card(bot, services, query["id"])
    return True
