"""The asker's flow, in private chats: ``/ask``, the FAQ's "Ask an expert" button, the deep
link ``?start=ask``, a photo or document, follow-ups to a query (and the choice of which
query a message continues), /myqueries, and the rating and comment after a resolution.

A query is committed before the bot says "Query #N logged"; then it is posted to the
experts' chat (see :mod:`handlers.helpdesk.outbox`). This module is the one place private
messages enter the helpdesk, so the intake (issue #14) can replace it as a whole.
"""
from __future__ import annotations

import logging

from telegram import ForceReply, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop

from bot.helpdesk import asking, lifecycle, relay
from bot.helpdesk.asking import MAX_CANDIDATES
from bot.helpdesk.lifecycle import Rating, Refusal
from bot.helpdesk.rules import FOLLOWABLE, snippet
from bot.roles import Person
from handlers.common import (Context, answer_button, clear_input, edit_or_reply, expect_input, input_handler, is_private, keyboard,
                             person, reply, t)
from handlers.helpdesk.outbox import notify_experts, post_query, refresh_card, relay_followup
from handlers.helpdesk.render import button, fmt_time, state_label
from handlers.helpdesk.settings import attachment_of, command_text, kind_of, message_text, now, number, settings, xt
from knowledge.vocabulary import LANGS, DeliveryKind, HelpdeskAction

log = logging.getLogger("ldn.handlers.helpdesk")

MAX_COMMENT = 1000
QUESTION_INPUT = "hd_question"
#: user_data keys: a message waiting for "which query?" and the last query this user created
PENDING_MESSAGE = "hd_pending_msg"
LAST_CREATED = "hd_last_created"


async def _refuse_asker(update: Update, context: Context, who: Person) -> bool:
    """True (after answering) when ``who`` may not ask the helpdesk."""
    if who.is_focal_point:
        return False
    key = "hd.staff_cannot_ask" if who.is_expert else "error.need_registration"
    if update.callback_query is not None:
        await answer_button(update)
    await reply(update, context, t(context, who, key))
    return True


def _cancel_markup(context: Context, who: Person):
    return keyboard([[(t(context, who, "button.cancel"), button(HelpdeskAction.CANCEL))]])


async def create_query(update: Update, context: Context, who: Person, text: str, *, source: str, lang: str | None = None,
                       candidates: list[str] | None = None, attachments: list[dict] | None = None,
                       asker_message: tuple[int, int] | None = None) -> int | None:
    """Store the question, then (only then) say "Query #N logged", then post it to the experts."""
    services = context.services
    limit = settings(services).max_question_chars
    text = (text or "").strip()
    if not text:
        await reply(update, context, t(context, who, "error.empty"))
        return None
    if len(text) > limit:
        await reply(update, context, t(context, who, "hd.too_long", length=len(text), limit=limit))
        return None
    if candidates is None:
        candidates = await services.store.read(asking.suggest, services.search, text)
    qid = await services.store.run(lifecycle.create_query, asker_id=who.user_id, country=who.country,
                                   lang=lang if lang in LANGS else who.lang, text=text, source=source,
                                   candidates=[str(c) for c in candidates if c][:MAX_CANDIDATES], attachments=attachments or [],
                                   asker_message=asker_message, now=now(services))
    log.info("helpdesk.query_created", extra={"query": qid, "country": who.country, "source": source})
    try:
        sent = await reply(update, context, t(context, who, "hd.logged", n=qid))
    except TelegramError as exc:  # stored already: still post it to the experts
        log.warning("helpdesk.ack_failed", extra={"query": qid, "error": str(exc)})
        sent = None
    if sent is not None:
        await services.store.run(lifecycle.record_ack, qid, update.effective_chat.id, sent.message_id, now(services))
    context.user_data[LAST_CREATED] = qid
    try:
        await post_query(context.bot, services, qid)
    except Exception:  # noqa: BLE001 - the query is stored; the periodic job posts it later
        log.exception("helpdesk.post_error", extra={"query": qid})
    return qid


async def ask_command(update: Update, context: Context) -> None:
    who = await person(update, context)
    if await _refuse_asker(update, context, who):
        return
    message = update.effective_message
    text = command_text(message)
    if not text:
        expect_input(context, QUESTION_INPUT, source="ask")
        await reply(update, context, t(context, who, "hd.prompt_question"), markup=_cancel_markup(context, who))
        return
    await create_query(update, context, who, text, source="ask", asker_message=(message.chat_id, message.message_id))


async def start_ask(update: Update, context: Context, who: Person, payload: str) -> None:
    """Deep link ``?start=ask``: explain and wait for the question."""
    if await _refuse_asker(update, context, who):
        return
    expect_input(context, QUESTION_INPUT, source="deeplink")
    await reply(update, context, t(context, who, "hd.how_to_ask"), markup=_cancel_markup(context, who))


@input_handler(QUESTION_INPUT)
async def question_input(update: Update, context: Context, who: Person, data: dict) -> None:
    if await _refuse_asker(update, context, who):
        return
    message = update.effective_message
    files = [data["file"]] if data.get("file") else []
    qid = await create_query(update, context, who, message.text or "", source=data.get("source") or "ask", attachments=files,
                             asker_message=(message.chat_id, message.message_id))
    if qid is None:  # empty or too long: the next message is still the question (/cancel stops)
        expect_input(context, QUESTION_INPUT, **data)


# -- private messages: follow-ups, files ----------------------------------------------------------


def _pending_message(message) -> dict:
    return {"message_id": message.message_id, "chat_id": message.chat_id, "kind": kind_of(message),
            "text": message_text(message), "attachment": attachment_of(message)}


async def private_message(update: Update, context: Context) -> None:
    """Group 20: a focal point's private text/photo/document that continues a query (or starts one with a file)."""
    message = update.effective_message
    if message is None or not is_private(update):
        return
    who = await person(update, context)
    if not who.is_focal_point:
        return
    attachment = attachment_of(message)
    awaiting = context.user_data.get("awaiting") if context.user_data is not None else None
    if attachment and awaiting and awaiting.get("name") == QUESTION_INPUT:
        awaiting.setdefault("data", {})["file"] = attachment
        if message.caption:
            clear_input(context)
            await create_query(update, context, who, message.caption, source=awaiting["data"].get("source") or "file",
                               attachments=[attachment], asker_message=(message.chat_id, message.message_id))
        else:
            await reply(update, context, t(context, who, "hd.file_received"))
        raise ApplicationHandlerStop
    reply_to = message.reply_to_message.message_id if message.reply_to_message is not None else None
    found = await context.services.store.read(asking.continuation, who.user_id, who.country, message.chat_id, reply_to)
    if found.routed and found.routed["role"] == "comment_prompt" and message.text:
        await comment_reply(update, context, who, found.routed["query_id"])
        raise ApplicationHandlerStop
    if found.target is not None:
        await add_followup(update, context, who, found.target, _pending_message(message))
        raise ApplicationHandlerStop
    if len(found.candidates) > 1:
        context.user_data[PENDING_MESSAGE] = _pending_message(message)
        rows = [[(f"#{q['id']} · {snippet(q['text'], 40)}", button(HelpdeskAction.FOLLOW_UP, q["id"], message.message_id))]
                for q in found.candidates[:6]]
        rows.append([(t(context, who, "hd.btn.new_query"), button(HelpdeskAction.FILE_AS_NEW, message.message_id)),
                     (t(context, who, "button.cancel"), button(HelpdeskAction.CANCEL))])
        await reply(update, context, t(context, who, "hd.choose_query"), markup=keyboard(rows))
        raise ApplicationHandlerStop
    if attachment:
        context.user_data[PENDING_MESSAGE] = _pending_message(message)
        await reply(update, context, t(context, who, "hd.offer_file"),
                    markup=keyboard([[(t(context, who, "hd.btn.ask_with_file"), button(HelpdeskAction.FILE_AS_NEW, message.message_id)),
                                      (t(context, who, "button.cancel"), button(HelpdeskAction.CANCEL))]]))
        raise ApplicationHandlerStop


async def add_followup(update: Update, context: Context, who: Person, qid: int, pending: dict) -> None:
    services = context.services
    result = await services.store.run(lifecycle.add_followup, qid, who.user_id, chat_id=pending["chat_id"],
                                      message_id=pending["message_id"], kind=pending["kind"], text=pending["text"] or None,
                                      attachment=pending["attachment"], now=now(services))
    if not result.added:
        if result.reason is Refusal.CLOSED:
            await reply(update, context, t(context, who, "hd.followup_closed", n=qid))
        elif result.reason is Refusal.NOT_FOUND:
            await reply(update, context, t(context, who, "error.stale_button"))
        return
    key = "hd.followup_reopened" if result.reopened_from else "hd.followup_added"
    await reply(update, context, t(context, who, key, n=qid))
    query = result.query
    try:
        if not query.get("posted_at"):
            await post_query(context.bot, services, qid)
        else:
            await relay_followup(context.bot, services, query, result.message)
        if result.reopened_from:
            await notify_experts(context.bot, services, query, xt(services, "hd.notice_reopened", n=qid),
                                 f"reopened:{pending['chat_id']}:{pending['message_id']}")
            await refresh_card(context.bot, services, qid)
    except Exception:  # noqa: BLE001 - stored; the periodic job relays it later
        log.exception("helpdesk.followup_relay_error", extra={"query": qid})


async def myqueries(update: Update, context: Context) -> None:
    who = await person(update, context)
    services = context.services
    if not is_private(update):
        await reply(update, context, t(context, who, "error.private_only"))
        return
    if not who.is_focal_point:
        await reply(update, context, t(context, who, "hd.staff_use_queue" if who.is_expert else "error.need_registration"))
        return
    rows = await services.store.read(asking.asker_queries, who.user_id, who.country)
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
    """The FAQ's "Ask an expert" button: the question it stored becomes a query."""
    if not is_private(update):
        await _not_allowed(update, context, who)
        return
    if await _refuse_asker(update, context, who):
        return
    last = context.user_data.pop("last_question", None) if context.user_data is not None else None
    await answer_button(update)
    if not isinstance(last, dict) or not str(last.get("text") or "").strip():
        done = context.user_data.get(LAST_CREATED)
        await reply(update, context, t(context, who, "hd.already_logged", n=done) if done else t(context, who, "hd.askq_missing"))
        return
    candidates = [str(c) for c in (last.get("candidates") or []) if c]
    await create_query(update, context, who, str(last["text"]), source="faq", lang=last.get("lang"), candidates=candidates)


async def button_cancel(update: Update, context: Context, who: Person, args: list[str]) -> None:
    clear_input(context)
    if context.user_data is not None:
        context.user_data.pop(PENDING_MESSAGE, None)
    await answer_button(update)
    await edit_or_reply(update, context, t(context, who, "common.cancelled"))


async def button_follow_up(update: Update, context: Context, who: Person, args: list[str]) -> None:
    """The asker chose which query a message belongs to."""
    pending = context.user_data.get(PENDING_MESSAGE) if context.user_data is not None else None
    qid = number(args[0]) if args else None
    mid = number(args[1]) if len(args) > 1 else None
    if not is_private(update) or not who.is_focal_point:
        await _not_allowed(update, context, who)
        return
    if qid is None or pending is None or pending.get("message_id") != mid:
        await _stale(update, context, who)
        return
    query = await context.services.store.read(relay.get_query, qid)
    if query is None or query["asker_id"] != who.user_id or query.get("country") != who.country:
        await _not_allowed(update, context, who)
        return
    if query["state"] not in FOLLOWABLE:
        await _stale(update, context, who)
        return
    context.user_data.pop(PENDING_MESSAGE, None)
    await answer_button(update)
    await edit_or_reply(update, context, t(context, who, "hd.followup_choice", n=qid))
    await add_followup(update, context, who, qid, pending)


async def button_file_as_new(update: Update, context: Context, who: Person, args: list[str]) -> None:
    """A pending message (text or file) becomes a new query."""
    pending = context.user_data.get(PENDING_MESSAGE) if context.user_data is not None else None
    mid = number(args[0]) if args else None
    if not is_private(update):
        await _not_allowed(update, context, who)
        return
    if await _refuse_asker(update, context, who):
        return
    if pending is None or pending.get("message_id") != mid:
        await _stale(update, context, who)
        return
    context.user_data.pop(PENDING_MESSAGE, None)
    await answer_button(update)
    files = [pending["attachment"]] if pending.get("attachment") else []
    text = (pending.get("text") or "").strip()
    if not text:
        expect_input(context, QUESTION_INPUT, source="file", file=files[0] if files else None)
        await edit_or_reply(update, context, t(context, who, "hd.file_needs_question"))
        return
    await create_query(update, context, who, text, source="file" if files else "followup", attachments=files,
                       asker_message=(pending["chat_id"], pending["message_id"]))


async def button_rate(update: Update, context: Context, who: Person, args: list[str]) -> None:
    """The asker's 1-5 rating, once: it closes the resolved query; a comment is then invited (optional)."""
    services = context.services
    qid = number(args[0]) if args else None
    score = number(args[1]) if len(args) > 1 else None
    if not is_private(update):
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
    if change.ok:
        await refresh_card(context.bot, services, qid)
    # ForceReply opens a reply to the invitation; the reply is recognised through the routing table.
    prompt = await services.deliverer.send_now(context.bot, kind=DeliveryKind.HELPDESK_COMMENT_PROMPT, ref=str(qid),
                                               chat_id=update.effective_chat.id, method="sendMessage",
                                               payload={"text": t(context, who, "hd.comment_prompt", n=qid), "parse_mode": ParseMode.HTML.value,
                                                        "reply_markup": ForceReply(selective=False).to_dict()})
    if prompt.status == "sent" and prompt.message_id:
        await services.store.run(relay.record_relay, qid, chat_id=update.effective_chat.id, message_id=prompt.message_id,
                                 role="comment_prompt", now=now(services))
    query = await services.store.read(relay.get_query, qid)
    await notify_experts(context.bot, services, query, xt(services, "hd.notice_rated", n=qid, score=score), f"rated:{qid}")


async def comment_reply(update: Update, context: Context, who: Person, qid: int) -> None:
    """A reply to the comment invitation: stored once, shown to the experts."""
    services = context.services
    text = (update.effective_message.text or "").strip()
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
