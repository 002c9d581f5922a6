"""Secretariat broadcasts in chat: ``/broadcast`` (segment -> message -> preview with the count ->
confirm) and ``/broadcast status [id]``. Delivery and figures are :mod:`bot.broadcast`'s;
:func:`on_startup` resumes the broadcasts a stop interrupted."""
from __future__ import annotations

import html
import logging

from telegram import InlineKeyboardMarkup, Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot import broadcast as bc
from bot.reminders.service import get_reminders
from bot.roles import Person
from handlers.common import (GROUP_COMMANDS, Context, answer_button, authorised, cb, edit_or_reply, expect_input, input_handler,
                             is_private, keyboard, parse_cb, person, reply, svc, t)
from knowledge.vocabulary import BroadcastAction, Feature, parse_row_id

log = logging.getLogger("ldn.handlers.broadcast")

#: The segment buttons' codes (in callback data) and the segments they stand for.
SEGMENT_BUTTONS = {"all": "all", "I": "annex:I", "II": "annex:II", "III": "annex:III", "IV": "annex:IV", "V": "annex:V",
                   "pilots": "pilots", "fp": "role:focal_point", "ex": "role:expert", "sec": "role:secretariat", "groups": "groups"}
COUNTRIES_BUTTON = "ctry"
CLOSE_BUTTON = "x"
SUMMARY_FIGURES = ("sent", "total", "failed", "blocked", "pending")
PROGRESS_FIGURES = ("id", "sent", "total", "failed", "blocked")


async def on_startup(application) -> None:
    """Drop stale drafts; resume the broadcasts still sending when the bot stopped."""
    services = application.bot_data["services"]
    rem = get_reminders(services)
    for broadcast_id in await services.store.run(bc.resume, services.clock.now()):
        rem.spawn(run_broadcast(application, broadcast_id))


def _segment_keyboard(context: Context, who: Person) -> InlineKeyboardMarkup:
    services = svc(context)

    def button(code: str) -> tuple[str, str]:
        return html.unescape(services.t(who.lang, f"bc.seg.{code}")), cb(Feature.BROADCAST, BroadcastAction.SEGMENT, code)

    return keyboard([[button("all"), button("pilots")], [button("I"), button("II"), button("III")], [button("IV"), button("V")],
                     [button("fp"), button("ex"), button("sec")], [button(COUNTRIES_BUTTON), button("groups")],
                     [(html.unescape(services.t(who.lang, "button.cancel")), cb(Feature.BROADCAST, BroadcastAction.SEGMENT, CLOSE_BUTTON))]])


async def _ask_text(update: Update, context: Context, who: Person, draft: bc.Draft) -> None:
    if draft.segment is None:  # a draft that has its audience always has a segment
        await edit_or_reply(update, context, t(context, who, "error.stale_button"))
        return
    await expect_input(context, "bc_text", id=draft.broadcast_id)
    await edit_or_reply(update, context, t(context, who, "bc.ask_text", segment=draft.segment.code, people=draft.people, groups=draft.groups))


async def _new_draft(update: Update, context: Context, who, segment: bc.Segment | None) -> None:
    services = svc(context)
    draft = await services.store.run(bc.create_draft, services, who.user_id, segment, services.clock.now())
    if segment is None:
        await expect_input(context, "bc_countries", id=draft.broadcast_id)
        await edit_or_reply(update, context, t(context, who, "bc.ask_countries"))
        return
    await _ask_text(update, context, who, draft)


async def broadcast_command(update: Update, context: Context) -> None:
    if not is_private(update):
        return  # secretariat tools stay silent in groups
    who = await authorised(update, context, secretariat=True)
    if who is None:
        return
    services = svc(context)
    args = context.args or []
    if args and args[0].lower() == "status":
        await broadcast_status(update, context, who, parse_row_id(args[1]) if len(args) > 1 else None)
        return
    if args:
        segment = bc.parse_segment(" ".join(args), services.countries)
        if segment is None:
            await reply(update, context, t(context, who, "bc.bad_segment", text=" ".join(args)[:80]))
            return
        await _new_draft(update, context, who, segment)
        return
    await reply(update, context, t(context, who, "bc.choose"), markup=_segment_keyboard(context, who))


async def broadcast_status(update: Update, context: Context, who, broadcast_id: int | None) -> None:
    services = svc(context)
    rows = await services.store.run(bc.status, broadcast_id)
    if not rows:
        await reply(update, context, t(context, who, "bc.status_none"))
        return
    lines = [t(context, who, "bc.status_title")]
    for figures in rows:
        lines.append(t(context, who, "bc.status_item", id=figures["id"], segment=figures["segment"],
                       state=services.t(who.lang, f"bc.state.{figures['status']}"), **{k: figures[k] for k in SUMMARY_FIGURES}))
    await reply(update, context, "\n".join(lines))


async def _segment_button(update: Update, context: Context, who, code: str) -> None:
    services = svc(context)
    await answer_button(update)
    if code == CLOSE_BUTTON:
        await edit_or_reply(update, context, t(context, who, "common.cancelled"))
        return
    if code == COUNTRIES_BUTTON:
        await _new_draft(update, context, who, None)
        return
    segment = bc.parse_segment(SEGMENT_BUTTONS[code], services.countries) if code in SEGMENT_BUTTONS else None
    if segment is None:
        await edit_or_reply(update, context, t(context, who, "error.stale_button"))
        return
    await _new_draft(update, context, who, segment)


async def _send_button(update: Update, context: Context, who, nonce: str) -> None:
    services = svc(context)
    done = await services.store.run(bc.confirm, services, nonce, who.user_id, services.clock.now())
    if done.outcome != "ok" or done.broadcast_id is None:
        if done.outcome == "unconfirmed":
            log.info("broadcast.confirmation_refused")
        key = {"unconfirmed": "confirm.refused", "not_allowed": "error.not_allowed"}.get(done.outcome, "error.stale_button")
        await answer_button(update, t(context, who, key), alert=True)
        return
    broadcast_id = done.broadcast_id
    await answer_button(update)
    try:
        if update.callback_query is not None:
            await update.callback_query.edit_message_reply_markup(reply_markup=None)
    except BadRequest:
        pass
    try:
        message = await context.bot.send_message(who.user_id, t(context, who, "bc.progress", id=broadcast_id, sent=0, total=done.people,
                                                                failed=0, blocked=0))
        await services.store.run(bc.set_progress_message, broadcast_id, who.user_id, message.message_id)
    except TelegramError:  # the progress message is a courtesy: the broadcast goes out anyway
        log.warning("broadcast.progress_message_failed", extra={"broadcast": broadcast_id})
    get_reminders(services).spawn(run_broadcast(context.application, broadcast_id))


async def broadcast_button(update: Update, context: Context) -> None:
    who = await person(update, context)
    if who is None or update.callback_query is None:
        return
    if not who.is_secretariat:
        await answer_button(update, t(context, who, "error.not_allowed"), alert=True)
        return
    parts = parse_cb(update.callback_query.data, Feature.BROADCAST)
    match parts:
        case [BroadcastAction.SEGMENT, code]:
            await _segment_button(update, context, who, code)
        case [BroadcastAction.CANCEL, number] if parse_row_id(number) is not None:
            services = svc(context)
            if await services.store.run(bc.discard, int(number), who.user_id) != "ok":
                await answer_button(update, t(context, who, "error.not_allowed"), alert=True)
                return
            await answer_button(update)
            await edit_or_reply(update, context, t(context, who, "common.cancelled"))
        case [BroadcastAction.SEND, nonce]:
            await _send_button(update, context, who, nonce)
        case _:
            await answer_button(update, t(context, who, "error.stale_button"))


@input_handler("bc_countries")
async def broadcast_countries_input(update: Update, context: Context, who: Person, data: dict) -> None:
    message = update.effective_message
    if not who.is_secretariat or message is None:
        return
    services = svc(context)
    text = (message.text or "").strip()
    segment = bc.parse_segment("countries:" + text, services.countries)
    if segment is None:
        await expect_input(context, "bc_countries", **data)
        await reply(update, context, t(context, who, "bc.bad_segment", text=text[:80]))
        return
    draft = await services.store.run(bc.set_segment, services, data["id"], who.user_id, segment)
    if draft.outcome != "ok":
        await reply(update, context, t(context, who, "error.stale_button"))
        return
    await _ask_text(update, context, who, draft)


@input_handler("bc_text")
async def broadcast_text_input(update: Update, context: Context, who: Person, data: dict) -> None:
    message = update.effective_message
    if not who.is_secretariat or message is None:
        return
    services = svc(context)
    body = message.text_html if message.text else ""
    if not body.strip():
        await expect_input(context, "bc_text", **data)
        await reply(update, context, t(context, who, "error.empty"))
        return
    if len(body) > bc.MAX_BODY:
        await expect_input(context, "bc_text", **data)
        await reply(update, context, t(context, who, "bc.too_long", limit=bc.MAX_BODY))
        return
    draft = await services.store.run(bc.set_text, services, data["id"], who.user_id, body, services.clock.now())
    if draft.outcome != "ok" or draft.segment is None:
        await reply(update, context, t(context, who, "error.stale_button"))
        return
    preview = services.t(who.lang, "bc.header") + "\n\n" + body
    text = t(context, who, "bc.preview", segment=draft.segment.code, people=draft.people, groups=draft.groups) + "\n\n" + preview
    markup = keyboard([[(html.unescape(t(context, who, "bc.btn.send", count=draft.people + draft.groups)),
                         cb(Feature.BROADCAST, BroadcastAction.SEND, draft.nonce)),
                        (html.unescape(services.t(who.lang, "button.cancel")), cb(Feature.BROADCAST, BroadcastAction.CANCEL, data["id"]))]])
    await reply(update, context, text, markup=markup)


async def run_broadcast(application, broadcast_id: int) -> dict:
    """Send a confirmed broadcast, editing its progress message as it goes."""
    services = application.bot_data["services"]
    bot = application.bot
    target = await services.store.read(bc.progress_target, services, broadcast_id)

    async def progress(figures: dict, final: bool) -> None:
        nonlocal target
        if not target.message_id:  # the progress message may have been written after the sending started
            target = await services.store.read(bc.progress_target, services, broadcast_id)
            if not target.message_id:
                return
        text = services.t(target.lang, "bc.done" if final else "bc.progress", **{k: figures[k] for k in PROGRESS_FIGURES})
        try:
            await bot.edit_message_text(text, chat_id=target.chat_id, message_id=target.message_id)
        except BadRequest as exc:
            if "not modified" not in str(exc).lower():
                raise
        except TelegramError:
            log.info("broadcast.progress_edit_failed", extra={"broadcast": broadcast_id})

    return await bc.send(services, bot, broadcast_id, progress=progress)


# -- registration -------------------------------------------------------------------------------

def handlers():
    return [
        (GROUP_COMMANDS, CommandHandler("broadcast", broadcast_command)),
        (GROUP_COMMANDS, CallbackQueryHandler(broadcast_button, pattern=rf"^v1:{Feature.BROADCAST}:")),
    ]


def commands() -> list[str]:
    return ["broadcast"]
