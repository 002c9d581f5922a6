"""The asker's flow, in private chats: ``/ask``, the FAQ's "Ask an expert" button, the deep
link ``?start=ask``, a photo or document, follow-ups to a query (by a reply, or by the buttons
the intake offers), /myqueries, and the rating and comment after a resolution.

Which private message goes where is decided by :mod:`bot.intake` (rendered by
:mod:`handlers.intake`); this module carries out what it decided. A query is committed before
the bot says "Query #N logged"; then it is posted to the experts' chat (see
:mod:`handlers.helpdesk.outbox`).
"""
from __future__ import annotations

import logging

from telegram import ForceReply, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop

from bot import intake
from bot.helpdesk import asking, lifecycle, relay
from bot.helpdesk.asking import MAX_CANDIDATES
from bot.helpdesk.lifecycle import Rating, Refusal
from bot.helpdesk.rules import FOLLOWABLE, snippet
from bot.intake import AskRight, Created
from bot.roles import Person
from handlers.common import (Context, answer_button, clear_input, edit_or_reply, expect_input, input_handler, is_private, keyboard,
                             message_of, person, reply, t, user_data)
from handlers.helpdesk.outbox import notify_experts, post_query, refresh_card, relay_followup
from handlers.helpdesk.render import button, fmt_time, state_label
from handlers.helpdesk.settings import attachment_of, command_text, kind_of, message_text, now, number, settings, xt
from knowledge.vocabulary import LANGS, DeliveryKind, HelpdeskAction

log = logging.getLogger("ldn.handlers.helpdesk")

MAX_COMMENT = 1000
QUESTION_INPUT = "hd_question"
#: the awaited message for a query (after "↩️ Reply to this message to answer" was pressed)
FOLLOWUP_INPUT = "hd_followup"
#: user_data key: the last query this user created
LAST_CREATED = "hd_last_created"
#: user_data key: when the intake last found nothing of this user's in the database (handlers.intake)
QUIET = "_intake_quiet_at"


def right_of(context: Context, who: Person) -> AskRight:
    return intake.ask_right(who, intake.settings_of(context.services))


async def _refuse_asker(update: Update, context: Context, who: Person) -> bool:
    """True (after answering) when ``who`` may not ask the helpdesk."""
    right = right_of(context, who)
    if right.may_ask:
        return False
    key = "hd.staff_cannot_ask" if right is AskRight.STAFF else "intake.register_to_ask"
    if update.callback_query is not None:
        await answer_button(update)
    await reply(update, context, t(context, who, key))
    return True


def stir(context: Context) -> None:
    """Something of this user's changed (a query, a prompt): the intake reads the database again."""
    if context.user_data is not None:
        context.user_data.pop(QUIET, None)


def _cancel_markup(context: Context, who: Person):
    return keyboard([[(t(context, who, "button.cancel"), button(HelpdeskAction.CANCEL))]])


async def create_query(update: Update, context: Context, who: Person, text: str, *, source: str, lang: str | None = None,
                       candidates: list[str] | None = None, attachments: list[dict] | None = None,
                       asker_message: tuple[int, int] | None = None) -> int | None:
    """Store the question, then (only then) say "Query #N logged", then post it to the experts."""
    services = context.services
    limit = settings(services).max_question_chars
    text = (text or "").strip()
    if intake.is_blank(text):
        await reply(update, context, t(context, who, "error.empty"))
        return None
    if len(text) > limit:
        await reply(update, context, t(context, who, "hd.too_long", length=len(text), limit=limit))
        return None
    if candidates is None:
        candidates = await services.store.read(asking.suggest, services.search, text)
    right = right_of(context, who)
    limit = intake.settings_of(services).daily_query_limit
    made = await services.store.run(intake.create_query, who, right=right, limit=limit, lang=lang if lang in LANGS else who.lang,
                                    text=text, source=source, candidates=[str(c) for c in candidates if c][:MAX_CANDIDATES],
                                    attachments=attachments or [], asker_message=asker_message, now=now(services))
    if context.user_data is not None:
        context.user_data.pop("awaiting", None)  # the prompt (if any) was answered in the same transaction
    stir(context)
    if made.outcome is Created.LIMIT:
        await reply(update, context, t(context, who, "intake.daily_limit", limit=limit))
        return None
    if made.outcome is Created.BLOCKED or made.query_id is None:
        await reply(update, context, t(context, who, "intake.blocked"))
        return None
    qid = made.query_id
    log.info("helpdesk.query_created", extra={"query": qid, "country": who.country, "source": source, "unverified": right is AskRight.VISITOR})
    try:
        sent = await reply(update, context, t(context, who, "intake.logged", n=qid))
    except TelegramError as exc:  # stored already: still post it to the experts
        log.warning("helpdesk.ack_failed", extra={"query": qid, "error": str(exc)})
        sent = None
    if sent is not None:
        await services.store.run(lifecycle.record_ack, qid, sent.chat_id, sent.message_id, now(services))
    user_data(context)[LAST_CREATED] = qid
    try:
        await post_query(context.bot, services, qid)
    except Exception:  # noqa: BLE001 - the query is stored; the periodic job posts it later
        log.exception("helpdesk.post_error", extra={"query": qid})
    return qid


async def ask_command(update: Update, context: Context) -> None:
    who = await person(update, context)
    if who is None or await _refuse_asker(update, context, who):
        return
    message = message_of(update)
    text = command_text(message)
    if not text:
        await expect_input(context, QUESTION_INPUT, source="ask")
        await reply(update, context, t(context, who, "hd.prompt_question"), markup=_cancel_markup(context, who))
        return
    await create_query(update, context, who, text, source="ask", asker_message=(message.chat_id, message.message_id))


async def start_ask(update: Update, context: Context, who: Person, payload: str) -> None:
    """Deep link ``?start=ask``: explain and wait for the question."""
    if await _refuse_asker(update, context, who):
        return
    await expect_input(context, QUESTION_INPUT, source="deeplink")
    await reply(update, context, t(context, who, "hd.how_to_ask"), markup=_cancel_markup(context, who))


@input_handler(QUESTION_INPUT)
async def question_input(update: Update, context: Context, who: Person, data: dict) -> None:
    if await _refuse_asker(update, context, who):
        return
    message = message_of(update)
    files = [data["file"]] if data.get("file") else []
    text = message.text or message.caption or ""
    qid = await create_query(update, context, who, text, source=data.get("source") or "ask", attachments=files,
                             asker_message=(message.chat_id, message.message_id))
    if qid is None and len(text.strip()) > settings(context.services).max_question_chars:
        await expect_input(context, QUESTION_INPUT, **data)  # too long: the next message is still the question


@input_handler(FOLLOWUP_INPUT)
async def followup_input(update: Update, context: Context, who: Person, data: dict) -> None:
    """The message typed after "↩️ Reply to this message to answer" was pressed."""
    qid = number(str(data.get("qid") or ""))
    if qid is None:
        await reply(update, context, t(context, who, "error.stale_button"))
        return
    await add_followup(update, context, who, qid, _pending_message(message_of(update)))


# -- private messages: follow-ups, files ----------------------------------------------------------


def _pending_message(message) -> dict:
    return {"message_id": message.message_id, "chat_id": message.chat_id, "kind": kind_of(message),
            "text": message_text(message), "attachment": attachment_of(message)}


def add_rows(context: Context, who: Person, active, mid: int, key: str = "intake.btn.add_to") -> list[list[tuple[str, str]]]:
    """One "➕ Add to query #N" row per active query (newest first), about message ``mid``."""
    return [[(t(context, who, key, n=n), button(HelpdeskAction.FOLLOW_UP, n, mid))] for n in active]


async def private_message(update: Update, context: Context) -> None:
    """Group 20: a private photo or document (texts go to :mod:`handlers.intake`): a follow-up when it
    replies to a query's message, the file of an awaited question, or an offer to file it."""
    message = update.effective_message
    if message is None or not is_private(update):
        return
    attachment = attachment_of(message)
    if attachment is None:
        return
    services = context.services
    who = await person(update, context)
    if who is None:
        return
    right = right_of(context, who)
    reply_to = message.reply_to_message.message_id if message.reply_to_message is not None else None
    decision = await services.store.run(intake.decide, who, chat_id=message.chat_id, reply_to=reply_to, text=message.caption or "",
                                        has_file=True, now=now(services), right=right)
    fate, awaited = decision.fate, decision.awaited or {}
    if fate is intake.Fate.BLOCKED:
        await reply(update, context, t(context, who, "intake.blocked"))
    elif (fate is intake.Fate.FOLLOW_UP or fate is intake.Fate.COMMENT) and decision.query_id is not None:
        await add_followup(update, context, who, decision.query_id, _pending_message(message))
    elif fate is intake.Fate.INPUT and awaited.get("name") == QUESTION_INPUT:
        data = dict(awaited.get("data") or {})
        if message.caption and message.caption.strip():
            await create_query(update, context, who, message.caption, source=data.get("source") or "file",
                               attachments=[attachment], asker_message=(message.chat_id, message.message_id))
        else:
            await expect_input(context, QUESTION_INPUT, **{**data, "file": attachment})
            await reply(update, context, t(context, who, "hd.file_received"))
    elif fate is intake.Fate.INPUT and awaited.get("name") == FOLLOWUP_INPUT:
        await clear_input(context)
        await followup_input(update, context, who, awaited.get("data") or {})
    elif right.may_ask:
        await services.store.run(intake.keep_offer, who, chat_id=message.chat_id, message_id=message.message_id,
                                 text=message.caption or "", kind=kind_of(message), attachment=attachment, now=now(services))
        active = [n for n, _ in decision.active]
        rows = [[(t(context, who, "hd.btn.ask_with_file"), button(HelpdeskAction.FILE_AS_NEW, message.message_id))]]
        rows += add_rows(context, who, active, message.message_id)
        rows.append([(t(context, who, "intake.btn.cancel"), button(HelpdeskAction.CANCEL, message.message_id))])
        await reply(update, context, t(context, who, "hd.offer_file"), markup=keyboard(rows))
    else:
        return  # not for the helpdesk: the fallback says what the bot can read
    raise ApplicationHandlerStop


async def add_followup(update: Update, context: Context, who: Person, qid: int, pending: dict) -> None:
    """Add the message to query ``qid``; "➕ Added to query #N" only once it is committed."""
    services = context.services
    stir(context)
    result = await services.store.run(lifecycle.add_followup, qid, who.user_id, chat_id=pending["chat_id"],
                                      message_id=pending["message_id"], kind=pending["kind"], text=pending["text"] or None,
                                      attachment=pending["attachment"], now=now(services))
    if not result.added:
        if result.reason is Refusal.CLOSED:
            await reply(update, context, t(context, who, "hd.followup_closed", n=qid))
        elif result.reason is Refusal.DUPLICATE:
            await reply(update, context, t(context, who, "hd.followup_added", n=qid))
        else:
            await reply(update, context, t(context, who, "error.stale_button"))
        return
    key = "hd.followup_reopened" if result.reopened_from else "hd.followup_added"
    await reply(update, context, t(context, who, key, n=qid))
    query, row = result.query, result.message
    if query is None or row is None:  # erased meanwhile: nothing to relay
        return
    try:
        if not query.get("posted_at"):
            await post_query(context.bot, services, qid)
        else:
            await relay_followup(context.bot, services, query, row)
        if result.reopened_from:
            await notify_experts(context.bot, services, query, xt(services, "hd.notice_reopened", n=qid),
                                 f"reopened:{pending['chat_id']}:{pending['message_id']}")
            await refresh_card(context.bot, services, qid)
    except Exception:  # noqa: BLE001 - stored; the periodic job relays it later
        log.exception("helpdesk.followup_relay_error", extra={"query": qid})


async def myqueries(update: Update, context: Context) -> None:
    who = await person(update, context)
    if who is None:
        return
    services = context.services
    if not is_private(update):
        await reply(update, context, t(context, who, "error.private_only"))
        return
    right = right_of(context, who)
    if not right.may_ask:
        await reply(update, context, t(context, who, "hd.staff_use_queue" if right is AskRight.STAFF else "intake.register_to_ask"))
        return
    country = who.country if right is AskRight.FOCAL_POINT else None
    rows = await services.store.read(asking.asker_queries, who.user_id, country)
    if not rows:
        await reply(update, context, t(context, who, "hd.myqueries_empty"))
        return
    lines = [t(context, who, "hd.myqueries_title")]
    for q in rows:
        lines.append(t(context, who, "hd.myqueries_line", n=q["id"], state=state_label(services, who.lang, q["state"]),
                       date=fmt_time(q["created_at"])[:10], text=snippet(q["text"], 70)))
    buttons = [(f"#{q['id']}", button(HelpdeskAction.SHOW_QUERY, q["id"])) for q in rows[:12]]
    await reply(update, context, "\n".join(lines), markup=keyboard([buttons[i:i + 4] for i in range(0, len(buttons), 4)]))


# -- the asker's buttons (dispatched by handlers.helpdesk.buttons) ---------------------------------


async def _not_allowed(update: Update, context: Context, who: Person) -> None:
    await answer_button(update, t(context, who, "error.not_allowed"), alert=True)


async def _stale(update: Update, context: Context, who: Person) -> None:
    await answer_button(update, t(context, who, "error.stale_button"), alert=True)


async def button_ask(update: Update, context: Context, who: Person, args: list[str]) -> None:
    """"Ask an expert" under "not helpful": the question it stored becomes a query."""
    if not is_private(update):
        await _not_allowed(update, context, who)
        return
    if await _refuse_asker(update, context, who):
        return
    last = context.user_data.pop("last_question", None) if context.user_data is not None else None
    await answer_button(update)
    if not isinstance(last, dict) or not str(last.get("text") or "").strip():
        done = user_data(context).get(LAST_CREATED)
        await reply(update, context, t(context, who, "hd.already_logged", n=done) if done else t(context, who, "hd.askq_missing"))
        return
    candidates = [str(c) for c in (last.get("candidates") or []) if c]
    await create_query(update, context, who, str(last["text"]), source="faq", lang=last.get("lang"), candidates=candidates)


async def button_cancel(update: Update, context: Context, who: Person, args: list[str]) -> None:
    """✖ Cancel: the prompt, or the offer on a message, is dropped."""
    await clear_input(context)
    mid = number(args[0]) if args else None
    if mid is not None:
        await context.services.store.run(intake.take_offer, who.user_id, mid, now(context.services))
    await answer_button(update)
    await edit_or_reply(update, context, t(context, who, "common.cancelled"))


async def _offer(update: Update, context: Context, who: Person, mid: int | None) -> dict | None:
    """The message a button is about (taken: a second press finds nothing), or None after saying so."""
    offer = None
    if mid is not None:
        offer = await context.services.store.run(intake.take_offer, who.user_id, mid, now(context.services))
    if offer is None:
        await answer_button(update, t(context, who, "intake.offer_gone"), alert=True)
    return offer


async def button_follow_up(update: Update, context: Context, who: Person, args: list[str]) -> None:
    """➕ Add to query #N: the message the buttons are about becomes a follow-up of N."""
    qid = number(args[0]) if args else None
    mid = number(args[1]) if len(args) > 1 else None
    if not is_private(update) or not right_of(context, who).may_ask:
        await _not_allowed(update, context, who)
        return
    query = await context.services.store.read(relay.get_query, qid) if qid is not None else None
    if qid is None or query is None or query["asker_id"] != who.user_id:
        await _not_allowed(update, context, who)
        return
    if query["state"] not in FOLLOWABLE:
        await _stale(update, context, who)
        return
    offer = await _offer(update, context, who, mid)
    if offer is None:
        return
    await answer_button(update)
    pending = {"message_id": offer["message_id"], "chat_id": offer["chat_id"], "kind": offer["kind"], "text": offer["text"],
               "attachment": offer["attachment"]}
    await add_followup(update, context, who, qid, pending)


async def button_file_as_new(update: Update, context: Context, who: Person, args: list[str]) -> None:
    """🆕 New question / Ask an expert: the message the buttons are about becomes a new query."""
    mid = number(args[0]) if args else None
    if not is_private(update):
        await _not_allowed(update, context, who)
        return
    if await _refuse_asker(update, context, who):
        return
    offer = await _offer(update, context, who, mid)
    if offer is None:
        return
    await answer_button(update)
    files = [offer["attachment"]] if offer.get("attachment") else []
    text = (offer.get("text") or "").strip()
    if not text:
        await expect_input(context, QUESTION_INPUT, source="file", file=files[0] if files else None)
        await edit_or_reply(update, context, t(context, who, "hd.file_needs_question"))
        return
    await create_query(update, context, who, text, source="file" if files else "faq", attachments=files, lang=offer.get("lang"),
                       candidates=offer.get("candidates") or [], asker_message=(offer["chat_id"], offer["message_id"]))


async def button_reply_to(update: Update, context: Context, who: Person, args: list[str]) -> None:
    """"↩️ Reply to this message to answer", pressed: the next message goes to the query."""
    qid = number(args[0]) if args else None
    query = await context.services.store.read(relay.get_query, qid) if qid is not None and is_private(update) else None
    if query is None or query["asker_id"] != who.user_id:
        await _not_allowed(update, context, who)
        return
    if query["state"] not in FOLLOWABLE:
        await answer_button(update, t(context, who, "hd.followup_closed", n=qid), alert=True)
        return
    await answer_button(update)
    await expect_input(context, FOLLOWUP_INPUT, qid=qid)
    await reply(update, context, t(context, who, "intake.reply_prompt", n=qid), markup=_cancel_markup(context, who))


async def button_rate(update: Update, context: Context, who: Person, args: list[str]) -> None:
    """The asker's 1-5 rating, once: it closes the resolved query; a comment is then invited (optional)."""
    services = context.services
    qid = number(args[0]) if args else None
    score = number(args[1]) if len(args) > 1 else None
    chat = update.effective_chat
    if chat is None or not is_private(update):
        await _not_allowed(update, context, who)
        return
    if qid is None or score is None:
        await _stale(update, context, who)
        return
    outcome, change = await services.store.run(lifecycle.rate_and_close, qid, who.user_id, score, now(services))
    if outcome is Rating.ALREADY:
        await answer_button(update, t(context, who, "hd.already_rated"), alert=True)
        return
    if outcome is Rating.NOT_YOURS:
        await _not_allowed(update, context, who)
        return
    if outcome is not Rating.OK:
        await _stale(update, context, who)
        return
    await answer_button(update)
    await edit_or_reply(update, context, t(context, who, "hd.rated", n=qid, stars="⭐" * score))
    if change is not None and change.ok:
        await refresh_card(context.bot, services, qid)
    # ForceReply opens a reply to the invitation; the reply is recognised through the routing table.
    prompt = await services.deliverer.send_now(context.bot, kind=DeliveryKind.HELPDESK_COMMENT_PROMPT, ref=str(qid),
                                               chat_id=chat.id, method="sendMessage",
                                               payload={"text": t(context, who, "hd.comment_prompt", n=qid), "parse_mode": ParseMode.HTML.value,
                                                        "reply_markup": ForceReply(selective=False).to_dict()})
    if prompt.status == "sent" and prompt.message_id:
        await services.store.run(relay.record_relay, qid, chat_id=chat.id, message_id=prompt.message_id,
                                 role="comment_prompt", now=now(services))
    query = await services.store.read(relay.get_query, qid)
    if query is not None:
        await notify_experts(context.bot, services, query, xt(services, "hd.notice_rated", n=qid, score=score), f"rated:{qid}")


async def comment_reply(update: Update, context: Context, who: Person, qid: int) -> None:
    """A reply to the comment invitation: stored once, shown to the experts."""
    services = context.services
    text = (message_of(update).text or "").strip()
    if not text:
        await reply(update, context, t(context, who, "error.empty"))
        return
    if len(text) > MAX_COMMENT:
        await reply(update, context, t(context, who, "hd.comment_too_long", limit=MAX_COMMENT))
        return
    query = await services.store.run(lifecycle.comment_on, qid, who.user_id, text, now(services))
    if query is None:
        await reply(update, context, t(context, who, "hd.comment_already"))
        return
    await reply(update, context, t(context, who, "hd.comment_thanks"))
    await notify_experts(context.bot, services, query, xt(services, "hd.notice_comment", n=qid, comment=text), f"comment:{qid}")
