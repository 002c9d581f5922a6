"""The knowledge loop: ``/promote N [topic]`` makes a resolved query (question + the experts'
answers) a draft FAQ entry; the secretariat approves or rejects it with its buttons."""
from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ParseMode

from bot.helpdesk import promote
from bot.helpdesk.promote import MAX_ANSWER_CHARS, Promotion
from bot.helpdesk.rules import DONE_STATES
from bot.roles import Person
from bot.services import Services
from handlers.common import Context, answer_button, command_args, edit_or_reply, keyboard, reply, t
from handlers.helpdesk.outbox import placement
from handlers.helpdesk.render import button
from handlers.helpdesk.settings import content_allowed, is_expert_chat, now, number, settings
from handlers.helpdesk.triage import staff_query
from knowledge.vocabulary import DeliveryKind, HelpdeskAction

log = logging.getLogger("ldn.handlers.helpdesk")


def _topics(services: Services) -> list[str]:
    if services.helpdesk_topics is None:
        services.helpdesk_topics = promote.topics(services.config.knowledge_dir)
    return services.helpdesk_topics


def _decision_buttons(services: Services, lang: str, draft_id: int):
    return keyboard([[(services.t(lang, "hd.btn.approve"), button(HelpdeskAction.APPROVE, draft_id)),
                      (services.t(lang, "hd.btn.reject"), button(HelpdeskAction.REJECT, draft_id))]])


async def promote_command(update: Update, context: Context) -> None:
    """``/promote N [topic]``: a resolved query (question + expert answer) becomes a draft FAQ entry."""
    found = await staff_query(update, context, "hd.usage_promote")
    if found is None:
        return
    who, query = found
    services = context.services
    qid = query["id"]
    if query["state"] not in DONE_STATES:
        await reply(update, context, t(context, who, "hd.promote_not_resolved", n=qid))
        return
    topics = _topics(services)
    args = command_args(context)
    asked = args[1].lower() if len(args) > 1 else None
    topic = promote.choose_topic(query, topics, asked)
    if topic is None:
        await reply(update, context, t(context, who, "hd.promote_bad_topic", topic=(asked or "")[:30], topics=", ".join(topics)))
        return
    try:
        draft = await services.store.run(promote.make_draft, query, topic, who.user_id, now(services))
    except ValueError as exc:
        await reply(update, context, t(context, who, "hd.promote_invalid", error=str(exc)[:200]))
        return
    match draft.outcome:
        case Promotion.NO_ANSWER:
            await reply(update, context, t(context, who, "hd.promote_no_answer", n=qid))
            return
        case Promotion.TOO_LONG:
            await reply(update, context, t(context, who, "hd.promote_too_long", n=qid, length=draft.length, limit=MAX_ANSWER_CHARS))
            return
        case Promotion.ALREADY:
            await reply(update, context, t(context, who, "hd.promote_already", n=qid, draft=draft.draft_id))
            return
    draft_id = draft.draft_id
    if draft_id is None:  # not made: the query was reopened meanwhile
        await reply(update, context, t(context, who, "hd.promote_not_resolved", n=qid))
        return
    texts = {"n": qid, "draft": draft_id, "topic": topic, "question": draft.question, "answer": draft.answer}
    preview = t(context, who, "hd.draft_preview", **texts)
    await reply(update, context, preview, markup=_decision_buttons(services, who.lang, draft_id) if who.is_secretariat else None)
    if not who.is_secretariat:
        await reply(update, context, t(context, who, "hd.promote_waiting"))
    expert_chat = settings(services).expert_chat_id
    if not is_expert_chat(update, services) and expert_chat is not None:
        lang = settings(services).expert_language
        payload = {"text": services.t(lang, "hd.draft_preview", **texts), "parse_mode": ParseMode.HTML.value,
                   "reply_markup": _decision_buttons(services, lang, draft_id).to_dict(), **placement(query)}
        await services.deliverer.send_now(context.bot, kind=DeliveryKind.HELPDESK_NOTICE, ref=f"draft:{draft_id}",
                                          chat_id=expert_chat, method="sendMessage", payload=payload)


async def button_draft(update: Update, context: Context, who: Person, args: list[str], *, approve: bool) -> None:
    """The secretariat approves (or rejects) a draft FAQ entry made from a query."""
    services = context.services
    if not who.is_secretariat or not content_allowed(update, services):
        await answer_button(update, t(context, who, "error.not_allowed"), alert=True)
        return
    draft_id = number(args[0]) if args else None
    if draft_id is None:
        await answer_button(update, t(context, who, "error.stale_button"), alert=True)
        return
    try:
        decided, entry_id = await services.store.run(promote.decide_draft, draft_id, approve, who.user_id, now(services),
                                                     services.search)
    except (KeyError, ValueError) as exc:
        log.info("helpdesk.draft_refused", extra={"draft": draft_id, "error": str(exc)})
        decided = False
    if not decided:
        await answer_button(update, t(context, who, "hd.draft_decided"), alert=True)
        return
    await answer_button(update)
    if approve:
        await edit_or_reply(update, context, t(context, who, "hd.draft_approved", draft=draft_id, entry=entry_id))
    else:
        await edit_or_reply(update, context, t(context, who, "hd.draft_rejected", draft=draft_id))
