"""The experts' chat: an expert's reply to a query's message (the card, a notice, a copied
follow-up) or a message in its forum topic is routed to the query through the routing
table, recorded, and relayed to the asker exactly once."""
from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ApplicationHandlerStop

from bot.helpdesk import lifecycle, relay
from bot.helpdesk.lifecycle import Refusal
from handlers.common import Context, person, reply
from handlers.helpdesk.outbox import deliver_answer, refresh_card, try_api
from handlers.helpdesk.settings import attachment_of, is_expert_chat, kind_of, message_text, now, xt

log = logging.getLogger("ldn.handlers.helpdesk")

#: The quiet sign under an expert's message that the focal point got it.
DELIVERED_REACTION = [{"type": "emoji", "emoji": "👍"}]


async def _route(context: Context, message) -> dict | None:
    """The routing row a message in the experts' chat belongs to (its topic first, then what it replies to)."""
    services = context.services
    if message.is_topic_message and message.message_thread_id:
        found = await services.store.read(relay.route, message.chat_id, message.message_thread_id)
        if found and found["role"] == "topic":
            return found
    if message.reply_to_message is not None:
        return await services.store.read(relay.route, message.chat_id, message.reply_to_message.message_id)
    return None


async def expert_message(update: Update, context: Context) -> None:
    """Group 20 in the experts' chat: a reply to a query's message, or a message in its topic."""
    services = context.services
    message = update.effective_message
    if message is None or not is_expert_chat(update, services):
        return
    routed = await _route(context, message)
    if routed is None:
        replied = message.reply_to_message
        if replied is not None and replied.from_user is not None and replied.from_user.id == context.bot.id:
            await reply(update, context, xt(services, "hd.reply_unroutable"))
            raise ApplicationHandlerStop
        return  # the experts talking among themselves
    who = await person(update, context)
    qid, chat_id = routed["query_id"], message.chat_id
    if who is None or not who.is_expert:
        await reply(update, context, xt(services, "hd.reply_not_expert"))
        raise ApplicationHandlerStop
    result = await services.store.run(lifecycle.record_expert_reply, qid, who.user_id, chat_id=chat_id, message_id=message.message_id,
                                      kind=kind_of(message), text=message_text(message) or None,
                                      attachment=attachment_of(message), now=now(services))
    if not result.recorded or result.query is None:
        if result.reason is Refusal.CLOSED:
            await reply(update, context, xt(services, "hd.reply_closed", n=qid))
        raise ApplicationHandlerStop
    log.info("helpdesk.expert_reply", extra={"query": qid, "expert": who.user_id})
    status = await deliver_answer(context.bot, services, result.query, chat_id, message.message_id)
    if status == "sent":
        await try_api(context.bot, services, "setMessageReaction",
                      {"chat_id": chat_id, "message_id": message.message_id, "reaction": DELIVERED_REACTION}, query_id=qid)
    if result.opened or result.query.get("assignee_id") == who.user_id:
        await refresh_card(context.bot, services, qid)
    raise ApplicationHandlerStop
