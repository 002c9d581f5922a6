"""The helpdesk's buttons: one dispatcher over :class:`HelpdeskAction`, and the experts' card
buttons (assign to me, priority, pending, resolve), a query's view and the queue's pages.

Every press re-reads the query and checks who is pressing; card buttons carry the state they
were drawn for, so an old button after a change only redraws the card.
"""
from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ParseMode

from bot.helpdesk import lifecycle, relay
from bot.helpdesk.lifecycle import Change, Refusal
from bot.helpdesk.rules import CODE_STATES, PRIORITIES, QueueFilter
from bot.roles import Person
from handlers import paging
from handlers.common import Context, answer_button, parse_cb, person, t
from handlers.helpdesk import asking, promote, saved
from handlers.helpdesk.outbox import on_state_changed, refresh_card, try_api
from handlers.helpdesk.render import card_markup, render_card
from handlers.helpdesk.settings import content_allowed, is_expert_chat, now, number, settings
from handlers.helpdesk.triage import may_view, queue_screen, show_query
from knowledge.vocabulary import Feature, HelpdeskAction, QueryState

log = logging.getLogger("ldn.handlers.helpdesk")

#: The state a card button moves its query to.
_STATE_OF = {HelpdeskAction.PENDING: QueryState.PENDING, HelpdeskAction.RESOLVE: QueryState.RESOLVED}
#: Refusals that mean "this button is out of date": the pressed message is redrawn.
_STALE_REASONS = (Refusal.STALE, Refusal.INVALID, Refusal.CLOSED, Refusal.NOT_FOUND)


async def on_button(update: Update, context: Context) -> None:
    pressed = update.callback_query
    who = await person(update, context)
    if pressed is None or who is None:
        return
    parts = parse_cb(pressed.data, Feature.HELPDESK) or []
    try:
        action = HelpdeskAction(parts[0]) if parts else None
    except ValueError:
        action = None
    if action is None:
        await _stale(update, context, who)
        return
    args = parts[1:]
    match action:
        case HelpdeskAction.ASK:
            await asking.button_ask(update, context, who, args)
        case HelpdeskAction.CANCEL:
            await asking.button_cancel(update, context, who, args)
        case HelpdeskAction.FOLLOW_UP:
            await asking.button_follow_up(update, context, who, args)
        case HelpdeskAction.FILE_AS_NEW:
            await asking.button_file_as_new(update, context, who, args)
        case HelpdeskAction.RATE:
            await asking.button_rate(update, context, who, args)
        case HelpdeskAction.REPLY_TO:
            await asking.button_reply_to(update, context, who, args)
        case HelpdeskAction.SHOW_QUERY:
            await button_open(update, context, who, args)
        case HelpdeskAction.QUEUE_PAGE:
            await button_queue_page(update, context, who, args)
        case HelpdeskAction.ANSWER_WITH_FAQ | HelpdeskAction.SEND_FAQ:
            await (saved.button_answer_with_faq if action is HelpdeskAction.ANSWER_WITH_FAQ else saved.button_send_faq)(
                update, context, who, args)
        case HelpdeskAction.APPROVE | HelpdeskAction.REJECT:
            await promote.button_draft(update, context, who, args, approve=action is HelpdeskAction.APPROVE)
        case _:
            await button_card(update, context, who, args, action)


async def _not_allowed(update: Update, context: Context, who: Person) -> None:
    await answer_button(update, t(context, who, "error.not_allowed"), alert=True)


async def _stale(update: Update, context: Context, who: Person) -> None:
    await answer_button(update, t(context, who, "error.stale_button"), alert=True)


async def _checked_query(update: Update, context: Context, who: Person, args: list[str]) -> tuple[dict | None, str | None]:
    """For experts' buttons: the query, if the presser may act and the button is current."""
    services = context.services
    if not who.is_expert or not content_allowed(update, services):
        await _not_allowed(update, context, who)
        return None, None
    qid = number(args[0]) if args else None
    expect = CODE_STATES.get(args[1]) if len(args) > 1 else None
    query = await services.store.read(relay.get_query, qid) if qid is not None else None
    if query is None or expect is None:
        await _stale(update, context, who)
        return None, None
    if query["state"] != expect:
        await _stale(update, context, who)
        await _redraw_pressed(update, context, query["id"])
        return None, None
    return query, expect


def _is_card(message, query: dict) -> bool:
    return (message is not None and message.chat.id == query.get("expert_chat_id")
            and message.message_id == query.get("expert_message_id"))


async def _redraw_pressed(update: Update, context: Context, qid: int, menu: str = "main") -> None:
    """Redraw the message the button was on (the card, or a /query view) with the current state."""
    services = context.services
    cq = update.callback_query
    if cq is None or cq.message is None:
        return
    lang = settings(services).expert_language
    if not is_expert_chat(update, services):
        who = await person(update, context)
        lang = who.lang if who is not None else lang
    card = await services.store.read(relay.card, qid)
    if card is None:
        return
    markup = card_markup(services, lang, card.query, menu).to_dict()
    where = {"chat_id": cq.message.chat.id, "message_id": cq.message.message_id}
    if _is_card(cq.message, card.query) or menu != "main":
        await try_api(context.bot, services, "editMessageText",
                      {**where, "text": render_card(services, card, lang), "parse_mode": ParseMode.HTML.value, "reply_markup": markup},
                      query_id=qid)
    else:
        await try_api(context.bot, services, "editMessageReplyMarkup", {**where, "reply_markup": markup}, query_id=qid)


async def _after_change(update: Update, context: Context, who: Person, query: dict, toast_key: str, **kwargs) -> None:
    await answer_button(update, t(context, who, toast_key, n=query["id"], **kwargs))
    await refresh_card(context.bot, context.services, query["id"])
    pressed = update.callback_query
    if not _is_card(pressed.message if pressed is not None else None, query):
        await _redraw_pressed(update, context, query["id"])


async def _change_refused(update: Update, context: Context, who: Person, change: Change) -> None:
    if change.reason is Refusal.SAME:
        await answer_button(update, t(context, who, "hd.unchanged"))
    elif change.reason in _STALE_REASONS:
        await _stale(update, context, who)
        if change.query:
            await _redraw_pressed(update, context, change.query["id"])
    else:
        await _not_allowed(update, context, who)


async def button_card(update: Update, context: Context, who: Person, args: list[str], action: HelpdeskAction) -> None:
    services = context.services
    query, expect = await _checked_query(update, context, who, args)
    if query is None:
        return
    qid = query["id"]
    match action:
        case HelpdeskAction.PRIORITY_MENU | HelpdeskAction.BACK:
            await answer_button(update)
            await _redraw_pressed(update, context, qid, "priority" if action is HelpdeskAction.PRIORITY_MENU else "main")
        case HelpdeskAction.SET_PRIORITY:
            level = args[2] if len(args) > 2 else ""
            if level not in PRIORITIES:
                await _stale(update, context, who)
                return
            change = await services.store.run(lifecycle.set_priority, qid, level, who.user_id, now(services), expect=expect)
            if not change.ok or change.query is None:
                await _change_refused(update, context, who, change)
                return
            await _after_change(update, context, who, change.query, "hd.toast_priority", priority=t(context, who, f"hd.priority.{level}"))
        case HelpdeskAction.ASSIGN:
            change = await services.store.run(lifecycle.assign, qid, who.user_id, who.user_id, now(services), expect=expect)
            if not change.ok or change.query is None:
                await _change_refused(update, context, who, change)
                return
            await _after_change(update, context, who, change.query, "hd.toast_assigned", name=who.name)
        case HelpdeskAction.PENDING | HelpdeskAction.RESOLVE:
            to = _STATE_OF[action]
            change = await services.store.run(lifecycle.change_state, qid, to, who.user_id, now(services), expect=expect, detail="button")
            if not change.ok or change.query is None:
                await _change_refused(update, context, who, change)
                return
            await _after_change(update, context, who, change.query, "hd.toast_state", state=t(context, who, f"hd.state.{to}"))
            await on_state_changed(context.bot, services, change)


async def button_open(update: Update, context: Context, who: Person, args: list[str]) -> None:
    services = context.services
    qid = number(args[0]) if args else None
    if qid is None:
        await _stale(update, context, who)
        return
    if not content_allowed(update, services):
        await _not_allowed(update, context, who)
        return
    query = await services.store.read(relay.get_query, qid)
    if query is None or not may_view(who, query):
        await _not_allowed(update, context, who)
        return
    await answer_button(update)
    await show_query(update, context, who, query)


async def button_queue_page(update: Update, context: Context, who: Person, args: list[str]) -> None:
    services = context.services
    if not who.is_expert or not content_allowed(update, services):
        await paging.refuse_not_allowed(update, context, who, "/queue")
        return
    page = paging.page_number(args[0]) if args else None
    flt = QueueFilter.decode(args[1:]) if len(args) == 4 else None
    if page is None or flt is None:
        await paging.refuse_stale(update, context, who, "/queue")
        return
    await answer_button(update)
    await paging.show(update, context, who, await queue_screen(context, who, flt, page), edit=True)
