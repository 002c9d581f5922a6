"""Everything the helpdesk sends: the card (and topic) in the experts' chat, the files and
follow-ups copied next to it, notices, card redraws, messages to the asker and the experts'
answers relayed to them.

Messages go through the delivery ledger (``services.deliverer.send_now``: once per kind and
ref under the kind's promise, retried, classified); the few direct calls (getChat, createForumTopic, edits,
reactions) go through :func:`call_api`, which asks the same classifier. Each send is
followed by one service call recording what came back.
"""
from __future__ import annotations

import logging
from typing import Any

from telegram.constants import ParseMode
from telegram.error import TelegramError

from bot.helpdesk import lifecycle, relay
from bot.helpdesk.lifecycle import Change
from bot.helpdesk.rules import snippet
from bot.mail import is_mail_query
from bot.services import Services
from bot.telegram_errors import SendError, classify
from handlers.common import keyboard
from handlers.helpdesk.render import button, card_markup, render_card
from handlers.helpdesk.settings import now, settings, xt
from knowledge.vocabulary import DeliveryKind, HelpdeskAction, QueryState

log = logging.getLogger("ldn.handlers.helpdesk")

_NO_PREVIEW = {"is_disabled": True}
_NOT_MODIFIED = "message is not modified"


# -- direct Bot API calls ----------------------------------------------------------------------


async def call_api(bot, services: Services, method: str, params: dict) -> Any:
    """One Bot API call that is not a ledger delivery, retried exactly when the deliverer would
    retry (``classify`` says RETRY: 429 after ``retry_after``, 5xx, never-sent timeouts);
    any other error is raised."""
    policy = services.deliverer.policy
    attempt = 0
    while True:
        attempt += 1
        try:
            return await bot.do_api_request(method, api_kwargs=params)
        except TelegramError as exc:
            error = classify(exc)
            if error.kind is not SendError.RETRY or attempt >= policy.attempts:
                raise
            await services.deliverer.sleep(error.retry_after if error.retry_after is not None else policy.backoff(attempt))


async def try_api(bot, services: Services, method: str, params: dict, *, query_id: int) -> bool:
    """:func:`call_api` for what may fail without harm (a redraw, a reaction): logged, not raised.
    An edit that changes nothing counts as done."""
    try:
        await call_api(bot, services, method, params)
        return True
    except TelegramError as exc:
        if _NOT_MODIFIED in str(exc).lower():
            return True
        error = classify(exc)
        log.info("helpdesk.call_failed", extra={"method": method, "query": query_id, "kind": error.kind, "error": error.reason})
        return False


async def _is_forum(bot, services: Services) -> bool:
    configured = settings(services).expert_chat_is_forum
    if configured is not None:
        return configured
    if services.expert_chat_is_forum is not None:
        return services.expert_chat_is_forum
    try:
        chat = await call_api(bot, services, "getChat", {"chat_id": settings(services).expert_chat_id})
    except TelegramError as exc:
        error = classify(exc)
        log.warning("helpdesk.get_chat_failed", extra={"kind": error.kind, "error": error.reason})
        return False
    services.expert_chat_is_forum = bool(isinstance(chat, dict) and chat.get("is_forum"))
    return services.expert_chat_is_forum


def placement(query: dict) -> dict:
    """Where a message about this query goes in the experts' chat: its topic, or as a reply to its card."""
    if query.get("expert_thread_id"):
        return {"message_thread_id": query["expert_thread_id"]}
    if query.get("expert_message_id"):
        return {"reply_parameters": {"message_id": query["expert_message_id"], "allow_sending_without_reply": True}}
    return {}


# -- the experts' chat ---------------------------------------------------------------------------


async def post_query(bot, services: Services, qid: int) -> bool:
    """Post a query to the experts' chat (topic + card + files, then waiting follow-ups); True once posted."""
    if settings(services).expert_chat_id is None:
        return False
    query = await services.store.read(relay.get_query, qid)
    if query is None:
        return False
    if not query.get("posted_at") and not await _post_card(bot, services, qid):
        return False
    await relay_pending_followups(bot, services, qid)
    return True


async def _open_topic(bot, services: Services, query: dict) -> None:
    qid, chat_id = query["id"], settings(services).expert_chat_id
    name = f"#{qid} · {query.get('country') or '—'} · {snippet(query['text'], 80)}"[:128]
    try:
        topic = await call_api(bot, services, "createForumTopic", {"chat_id": chat_id, "name": name})
        thread_id = int(topic["message_thread_id"])
    except (TelegramError, KeyError, TypeError, ValueError) as exc:
        log.warning("helpdesk.topic_failed", extra={"query": qid, "error": str(exc)})
        return
    await services.store.run(relay.keep_topic, qid, chat_id, thread_id, now(services))


async def _post_card(bot, services: Services, qid: int) -> bool:
    begun = await services.store.run(relay.begin_post, qid)
    if begun is None:  # posted meanwhile
        return True
    query, attempt = begun
    chat_id, lang = settings(services).expert_chat_id, settings(services).expert_language
    if chat_id is None:
        return False
    if query.get("expert_thread_id") is None and await _is_forum(bot, services):
        await _open_topic(bot, services, query)
    card = await services.store.read(relay.card, qid)
    if card is None:  # erased meanwhile
        return False
    query = card.query
    payload = {"text": render_card(services, card, lang), "parse_mode": ParseMode.HTML.value, "link_preview_options": _NO_PREVIEW,
               "reply_markup": card_markup(services, lang, query).to_dict()}
    if query.get("expert_thread_id"):
        payload["message_thread_id"] = query["expert_thread_id"]
    outcome = await services.deliverer.send_now(bot, kind=DeliveryKind.HELPDESK_CARD, ref=f"{qid}:{attempt}", chat_id=chat_id,
                                                method="sendMessage", payload=payload)
    if outcome.status != "sent" or not outcome.message_id:
        log.warning("helpdesk.post_failed", extra={"query": qid, "status": outcome.status, "error": outcome.error})
        return False
    posted = await services.store.run(relay.keep_card, qid, chat_id, outcome.message_id, query.get("expert_thread_id"), now(services))
    if posted is not None:
        await _post_files(bot, services, posted)
    return True


async def _post_files(bot, services: Services, query: dict) -> None:
    """The files that came with the question, by file_id, next to the card."""
    qid = query["id"]
    for item in await services.store.read(relay.files_to_post, qid, settings(services).expert_chat_id):
        label = item.get("file_name") or item["kind"]
        payload = {"caption": xt(services, "hd.attachment_caption", n=qid, name=label), "parse_mode": ParseMode.HTML.value,
                   **placement(query)}
        photo = item["kind"] == "photo"
        payload["photo" if photo else "document"] = item["file_id"]
        outcome = await services.deliverer.send_now(bot, kind=DeliveryKind.HELPDESK_FILE, ref=str(item["id"]),
                                                    chat_id=query["expert_chat_id"], method="sendPhoto" if photo else "sendDocument",
                                                    payload=payload)
        if outcome.status == "sent" and outcome.message_id:
            await services.store.run(relay.record_relay, qid, chat_id=query["expert_chat_id"], message_id=outcome.message_id,
                                     role="relay", now=now(services))


async def relay_pending_followups(bot, services: Services, qid: int) -> None:
    query, rows = await services.store.read(relay.pending_followups, qid)
    if query is None:
        return
    for row in rows:
        await relay_followup(bot, services, query, row)


async def relay_followup(bot, services: Services, query: dict, row: dict) -> None:
    """Copy one of the asker's follow-up messages into the query's place in the experts' chat."""
    chat_id = query["expert_chat_id"]
    payload = {"from_chat_id": row["chat_id"], "message_id": row["message_id"], **placement(query)}
    outcome = await services.deliverer.send_now(bot, kind=DeliveryKind.HELPDESK_FOLLOW_UP, ref=f"{row['chat_id']}:{row['message_id']}",
                                                chat_id=chat_id, method="copyMessage", payload=payload)
    if outcome.status == "sent" and outcome.message_id:
        await services.store.run(relay.followup_relayed, query["id"], row, chat_id=chat_id, copy_id=outcome.message_id,
                                 now=now(services))
    elif outcome.status != "claimed":
        log.warning("helpdesk.followup_relay_failed", extra={"query": query["id"], "status": outcome.status})


async def notify_experts(bot, services: Services, query: dict, text: str, ref: str) -> None:
    """A notice about a query in the experts' chat (once per ``ref``); replies to it route to the query."""
    chat_id = settings(services).expert_chat_id
    if chat_id is None:
        return
    payload = {"text": text, "parse_mode": ParseMode.HTML.value, "link_preview_options": _NO_PREVIEW, **placement(query)}
    outcome = await services.deliverer.send_now(bot, kind=DeliveryKind.HELPDESK_NOTICE, ref=ref, chat_id=chat_id,
                                                method="sendMessage", payload=payload)
    if outcome.status == "sent" and outcome.message_id:
        await services.store.run(relay.record_relay, query["id"], chat_id=chat_id, message_id=outcome.message_id, role="notice",
                                 now=now(services))


async def refresh_card(bot, services: Services, qid: int) -> None:
    """Redraw the card in the experts' chat (state, priority, assignee, buttons)."""
    card = await services.store.read(relay.card, qid)
    if card is None or not card.query.get("expert_message_id"):
        return
    lang = settings(services).expert_language
    await try_api(bot, services, "editMessageText",
                  {"chat_id": card.query["expert_chat_id"], "message_id": card.query["expert_message_id"],
                   "text": render_card(services, card, lang), "parse_mode": ParseMode.HTML.value,
                   "reply_markup": card_markup(services, lang, card.query).to_dict()}, query_id=qid)


# -- the asker --------------------------------------------------------------------------------------


async def send_to_asker(bot, services: Services, query: dict, *, kind: DeliveryKind, ref: str, key: str, markup=None,
                        **kwargs) -> str:
    """A message to the asker in their language, once per (kind, ref); tells the experts if blocked."""
    if is_mail_query(query) and services.mail is not None:  # asked by e-mail: the notice goes by e-mail
        return await services.mail.notice(query, kind=kind, ref=ref, key=key, **kwargs)
    lang = await services.store.read(relay.asker_language, query)
    text = services.t(lang, key, **kwargs)
    if kind in _REPLY_NOTED:  # the asker is asked to answer: say how (issue #14)
        text += "\n" + services.t(lang, "intake.reply_note")
    payload: dict[str, Any] = {"text": text, "parse_mode": ParseMode.HTML.value, "link_preview_options": _NO_PREVIEW}
    if markup is not None:
        payload["reply_markup"] = markup.to_dict()
    outcome = await services.deliverer.send_now(bot, kind=kind, ref=ref, chat_id=query["asker_id"], method="sendMessage", payload=payload)
    if outcome.status == "sent" and outcome.message_id:  # a reply to it is a follow-up of the query
        await services.store.run(relay.record_relay, query["id"], chat_id=query["asker_id"], message_id=outcome.message_id,
                                 role="nudge" if kind is DeliveryKind.HELPDESK_NUDGE else "asker_notice", now=now(services))
    if outcome.status == "blocked":
        await services.store.run(relay.delivery_blocked, query["id"], kind, now(services))
        await notify_experts(bot, services, query, xt(services, "hd.notice_blocked", n=query["id"]), f"blocked:{kind}:{ref}")
    return outcome.status


#: messages to the asker that ask for an answer, and say "reply to this message to answer"
_REPLY_NOTED = frozenset({DeliveryKind.HELPDESK_NUDGE, DeliveryKind.HELPDESK_PENDING})


def reply_markup(services: Services, lang: str, qid: int) -> dict:
    """The button under a relayed answer: "↩️ Reply to this message to answer" (pressing it
    asks for the message instead, for whoever does not know Telegram's replies)."""
    return keyboard([[(services.t(lang, "intake.btn.reply"), button(HelpdeskAction.REPLY_TO, qid))]]).to_dict()


def _relay_status(outcome_status: str, late: bool) -> str:
    """A relayed answer's status in the routing table, from the ledger's outcome."""
    if outcome_status in ("sent", "blocked", "failed"):
        return outcome_status
    return "held" if late or outcome_status in ("claimed", "uncertain") else "failed"


async def deliver_answer(bot, services: Services, query: dict, chat_id: int, message_id: int, *,
                         delivery_id: int | None = None) -> str:
    """Relay an expert's (already recorded) message to the asker (at least once), record how it
    went and tell the experts when it did not go (or went late). ``delivery_id``: the ledger
    row to send again (the periodic job's retry of a transient failure)."""
    if is_mail_query(query) and services.mail is not None:  # asked by e-mail: a threaded e-mail through the ledger
        return await services.mail.answer(query, chat_id, message_id, delivery_id=delivery_id)
    late = delivery_id is not None
    if delivery_id is None:
        lang = await services.store.read(relay.asker_language, query)
        payload: dict[str, Any] = {"from_chat_id": chat_id, "message_id": message_id,
                                   "reply_markup": reply_markup(services, lang, query["id"])}
        if query.get("ack_message_id"):
            payload["reply_parameters"] = {"message_id": query["ack_message_id"], "allow_sending_without_reply": True}
        outcome = await services.deliverer.send_now(bot, kind=DeliveryKind.EXPERT_ANSWER, ref=f"{chat_id}:{message_id}",
                                                    chat_id=query["asker_id"], method="copyMessage", payload=payload)
    else:
        outcome = await services.deliverer.deliver(bot, delivery_id)
    status = _relay_status(outcome.status, late)
    await services.store.run(relay.record_delivery, query["id"], chat_id=chat_id, message_id=message_id, status=status,
                             now=now(services), asker_chat=query["asker_id"], copy_id=outcome.message_id, error=outcome.error)
    qid, ref = query["id"], f"{chat_id}:{message_id}"
    if status == "blocked":
        await notify_experts(bot, services, query, xt(services, "hd.notice_blocked", n=qid), f"blocked:{ref}")
    elif status == "failed" and not late:
        await notify_experts(bot, services, query, xt(services, "hd.notice_failed", n=qid, error=(outcome.error or "")[:120]),
                             f"failed:{ref}")
    elif status == "sent" and late:
        await notify_experts(bot, services, query, xt(services, "hd.notice_delivered_late", n=qid), f"late:{ref}")
    return status


def _days(services: Services) -> int:
    return max(1, round(settings(services).auto_resolve_after.total_seconds() / 86400))


async def on_state_changed(bot, services: Services, change: Change, *, auto: bool = False) -> None:
    """What the asker and the experts are told after a state change (already committed)."""
    query = change.query
    if query is None:  # nothing changed: nothing to tell
        return
    qid = query["id"]
    if change.after == QueryState.PENDING:
        await send_to_asker(bot, services, query, kind=DeliveryKind.HELPDESK_PENDING, ref=f"{qid}:{query['pending_since']}",
                            key="hd.pending_notice", n=qid, days=_days(services))
    elif change.after == QueryState.RESOLVED:
        if await services.store.run(lifecycle.ask_rating, qid, query["asker_id"], now(services)):
            stars = [[(str(i) + "⭐", button(HelpdeskAction.RATE, qid, i)) for i in range(1, 6)]]
            key = "hd.auto_resolved_rate" if auto else "hd.resolved_rate"
            await send_to_asker(bot, services, query, kind=DeliveryKind.HELPDESK_RATE, ref=str(qid), key=key,
                                markup=keyboard(stars), n=qid)
        else:
            await send_to_asker(bot, services, query, kind=DeliveryKind.HELPDESK_RESOLVED, ref=f"{qid}:{query['resolved_at']}",
                                key="hd.resolved_again", n=qid)
        if auto:
            await notify_experts(bot, services, query, xt(services, "hd.notice_auto_resolved", n=qid, days=_days(services)),
                                 f"auto:{qid}:{query['resolved_at']}")
