"""The programme's calendar in chat: ``/events`` (everyone: the calendar as text) and, for the
secretariat, ``/event add|move|cancel|show`` (a preview, then Confirm) and ``/events reload``.

Dates and offsets are checked at the edge (:mod:`bot.reminders.admin`): a date outside the
accepted range or an offset that is not a duration gets a translated answer naming the range.
"""
from __future__ import annotations

import datetime as dt
import html
import logging

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.i18n import Raw
from bot.reminders import admin
from bot.reminders.admin import Outcome, Preview
from bot.reminders.render import format_when, kind_label
from bot.reminders.service import Reminders, get_reminders
from bot.roles import Person
from handlers.common import (GROUP_COMMANDS, Context, answer_button, authorised, cb, edit_or_reply, is_private, keyboard, parse_cb,
                             person, reply, svc, t)
from knowledge.events import Event, parse_add_words, parse_local
from knowledge.vocabulary import EventAction, Feature
from knowledge.yamlfile import DataError

log = logging.getLogger("ldn.handlers.events")


def service(context: Context) -> Reminders:
    return get_reminders(svc(context))


# -- /events -------------------------------------------------------------------------------------

def _event_line(context: Context, who: Person, event: Event, tz: str | None = None) -> str:
    services = svc(context)
    when = format_when(services.i18n, who.lang, event.start_utc, tz or event.timezone)
    line = t(context, who, "ev.item", id=event.id, when=when, title=event.title_in(who.lang), kind=kind_label(services.i18n, who.lang, event.kind))
    if who.is_secretariat:
        line += " " + t(context, who, "ev.item_audience", audience=event.audience.describe())
    if event.cancelled:
        line += " " + t(context, who, "ev.cancelled_mark")
    return line


async def _reload(update: Update, context: Context, who: Person) -> None:
    if not who.is_secretariat:
        await reply(update, context, t(context, who, "error.not_allowed"))
        return
    try:
        result = await service(context).reload(by=who.user_id)
    except DataError as exc:
        problems = "\n".join(html.escape(str(p)) for p in exc.problems[:20])
        await reply(update, context, t(context, who, "ev.reload_failed", problems=Raw(f"<pre>{problems}</pre>")))
        return
    summary = ", ".join(f"{k}: {', '.join(v)}" for k, v in result.items() if v) or t(context, who, "ev.reload_nochange")
    await reply(update, context, t(context, who, "ev.reloaded", summary=summary))


async def events_command(update: Update, context: Context) -> None:
    who = await person(update, context)
    if who is None or not is_private(update):
        return
    services = svc(context)
    args = [a.lower() for a in (context.args or [])]
    if args[:1] == ["reload"]:
        await _reload(update, context, who)
        return
    rem = service(context)
    await rem.ensure_loaded()
    events, past, tz = await services.store.run(admin.listing, rem, who.user_id, staff=who.is_secretariat,
                                                show_all=args[:1] == ["all"], now=services.clock.now())
    lines = [t(context, who, "ev.title")]
    lines += [_event_line(context, who, e, tz) for e in events] or [t(context, who, "ev.empty")]
    if past:
        lines.append(t(context, who, "ev.past", count=past))
    lines += ["", t(context, who, "ev.usage" if who.is_secretariat else "ev.calendar_hint")]
    await reply(update, context, "\n".join(lines))


# -- /event: preview, then confirm --------------------------------------------------------------

def _preview_text(context: Context, who: Person, found: Preview, event: Event, heading: str) -> str:
    """``found`` as the secretariat reads it before confirming; ``event`` is ``found.event``."""
    services = svc(context)
    lines = [heading, f"<code>{html.escape(event.id)}</code> · {kind_label(services.i18n, who.lang, event.kind)}",
             f"<b>{html.escape(event.title_in(who.lang))}</b>",
             t(context, who, "ev.preview.when", start=format_when(services.i18n, who.lang, event.start_utc, event.timezone),
               end=format_when(services.i18n, who.lang, event.end_utc, event.timezone))]
    if event.place_in(who.lang):
        lines.append(t(context, who, "rem.event.place", place=event.place_in(who.lang)))
    lines.append(t(context, who, "ev.preview.audience", audience=event.audience.describe(), count=found.audience))
    times = [f"{off} → {format_when(services.i18n, who.lang, due, event.timezone)}" for off, due in found.reminders or []]
    lines.append(t(context, who, "ev.preview.reminders", reminders=", ".join(times)) if times
                 else t(context, who, "ev.preview.no_reminders"))
    return "\n".join(lines)


def _confirm_keyboard(context: Context, who: Person, token: str) -> InlineKeyboardMarkup:
    services = svc(context)
    return keyboard([[(html.unescape(services.t(who.lang, "button.confirm")), cb(Feature.EVENTS, EventAction.CONFIRM, token)),
                      (html.unescape(services.t(who.lang, "button.cancel")), cb(Feature.EVENTS, EventAction.CANCEL, token))]])


def _cancel_keyboard(context: Context, who: Person, token: str, count: int) -> InlineKeyboardMarkup:
    return keyboard([
        [(html.unescape(t(context, who, "ev.btn.cancel_notify", count=count)), cb(Feature.EVENTS, EventAction.CONFIRM, token, "notify"))],
        [(html.unescape(t(context, who, "ev.btn.cancel_silent")), cb(Feature.EVENTS, EventAction.CONFIRM, token, "silent"))],
        [(html.unescape(t(context, who, "ev.btn.keep")), cb(Feature.EVENTS, EventAction.CANCEL, token))]])


def _refusal(context: Context, who: Person, found: Preview, event_id: str = "") -> str:
    """The answer to a preview or confirmation that did not go through."""
    if found.event is not None:
        event_id = found.event.id
    match found.outcome:
        case Outcome.DATE_RANGE:
            return t(context, who, "ev.date_range", **admin.DATE_RANGE)
        case Outcome.BAD_OFFSET:
            return t(context, who, "ev.bad_offset", **admin.OFFSET_RANGE)
        case Outcome.INVALID:
            return t(context, who, "ev.invalid", problems=found.problems) + "\n\n" + t(context, who, "ev.usage")
        case Outcome.EXISTS:
            return t(context, who, "ev.exists", id=event_id)
        case Outcome.NOT_FOUND:
            return t(context, who, "ev.not_found", id=event_id[:40])
        case Outcome.ALREADY_CANCELLED:
            return t(context, who, "ev.already_cancelled", id=event_id)
    return t(context, who, "error.stale_button")


async def _add(update: Update, context: Context, who: Person) -> None:
    services = svc(context)
    message = update.effective_message
    raw = (message.text or "").split(None, 2) if message else []
    if len(raw) < 3 or not raw[2].strip():  # nothing to check yet: how to write one, not a list of faults
        await reply(update, context, t(context, who, "ev.usage"))
        return
    data, error = parse_add_words(raw[2] if len(raw) > 2 else "", services.countries)
    if data is None:
        await reply(update, context, t(context, who, "ev.invalid", problems=error) + "\n\n" + t(context, who, "ev.usage"))
        return
    found = await services.store.run(admin.preview_add, service(context), data, services.clock.now(), who.user_id)
    if found.outcome is not Outcome.OK or found.event is None:
        await reply(update, context, _refusal(context, who, found))
        return
    await reply(update, context, _preview_text(context, who, found, found.event, t(context, who, "ev.preview.add")),
                markup=_confirm_keyboard(context, who, found.nonce))


def _move_times(args: list[str]) -> tuple[dt.datetime, dt.datetime | None] | None:
    """``/event move ID START [END]``: the new local start (and end); None if unreadable."""
    start = parse_local(args[2]) if len(args) >= 3 else None
    end = parse_local(args[3]) if len(args) >= 4 else None
    if start is None or (len(args) >= 4 and (end is None or end < start)):
        return None
    return start, end


async def _edit(update: Update, context: Context, who: Person, sub: str, args: list[str]) -> None:
    services = svc(context)
    rem = service(context)
    now = services.clock.now()
    event_id = args[1].lower()
    if sub == "move":
        times = _move_times(args)
        if times is None:
            found = await services.store.run(admin.inspect, rem, event_id, now, live=True)
            await reply(update, context, _refusal(context, who, found, args[1]) if found.outcome is not Outcome.OK
                        else t(context, who, "ev.move_usage"))
            return
        found = await services.store.run(admin.preview_move, rem, event_id, times[0], times[1], now, who.user_id)
    elif sub == "cancel":
        found = await services.store.run(admin.preview_cancel, rem, event_id, now, who.user_id)
    else:
        found = await services.store.run(admin.inspect, rem, event_id, now, live=False)
    event = found.event
    if found.outcome is not Outcome.OK or event is None:
        await reply(update, context, _refusal(context, who, found, args[1]))
        return
    if sub == "show":
        text = _preview_text(context, who, found, event, t(context, who, "ev.preview.show"))
        await reply(update, context, text + ("\n" + t(context, who, "ev.cancelled_mark") if event.cancelled else ""))
        return
    if sub == "move":
        old = found.old or event
        heading = t(context, who, "ev.preview.move", old=format_when(services.i18n, who.lang, old.start_utc, old.timezone))
        await reply(update, context, _preview_text(context, who, found, event, heading),
                    markup=_confirm_keyboard(context, who, found.nonce))
        return
    await reply(update, context, _preview_text(context, who, found, event, t(context, who, "ev.preview.cancel")),
                markup=_cancel_keyboard(context, who, found.nonce, found.audience))


async def event_command(update: Update, context: Context) -> None:
    if not is_private(update):
        return  # secretariat tools stay silent in groups
    who = await authorised(update, context, secretariat=True)
    if who is None:
        return
    await service(context).ensure_loaded()
    args = context.args or []
    sub = args[0].lower() if args else ""
    if sub == "add":
        await _add(update, context, who)
    elif sub in ("move", "cancel", "show") and len(args) >= 2:
        await _edit(update, context, who, sub, args)
    else:
        await reply(update, context, t(context, who, "ev.usage"))


def _done_text(context: Context, who: Person, done: Preview) -> str:
    """What a confirmed /event add, move or cancel did."""
    services = svc(context)
    event = done.event
    if done.outcome is not Outcome.OK or event is None:
        return _refusal(context, who, done)
    if done.op == "add":
        return t(context, who, "ev.added", id=event.id)
    if done.op == "move":
        return t(context, who, "ev.moved", id=event.id, when=format_when(services.i18n, who.lang, event.start_utc, event.timezone))
    return t(context, who, "ev.cancelled", id=event.id, count=done.notified)


async def event_button(update: Update, context: Context) -> None:
    who = await person(update, context)
    query = update.callback_query
    if who is None or query is None:
        return
    if not who.is_secretariat:
        await answer_button(update, t(context, who, "error.not_allowed"), alert=True)
        return
    services = svc(context)
    parts = parse_cb(query.data, Feature.EVENTS)
    if not parts or len(parts) < 2 or parts[0] not in (EventAction.CONFIRM, EventAction.CANCEL):
        await answer_button(update, t(context, who, "error.stale_button"), alert=True)
        return
    rem = service(context)
    now = services.clock.now()
    if parts[0] == EventAction.CANCEL:
        if not await services.store.run(admin.decline, parts[1], who.user_id, now):
            await answer_button(update, t(context, who, "confirm.refused"), alert=True)
            return
        await answer_button(update)
        await edit_or_reply(update, context, t(context, who, "common.cancelled"))
        return
    done = await services.store.run(admin.confirm, rem, parts[1], who.user_id, len(parts) > 2 and parts[2] == "notify", now)
    if done.outcome is Outcome.UNCONFIRMED:  # forged, someone else's, pressed twice or too old: nothing done
        log.info("event.confirmation_refused")
        await answer_button(update, t(context, who, "confirm.refused"), alert=True)
        return
    if done.notified:
        rem.spawn(rem.flush(context.bot))
    await answer_button(update)
    await edit_or_reply(update, context, _done_text(context, who, done))


# -- registration -------------------------------------------------------------------------------

def handlers():
    return [
        (GROUP_COMMANDS, CommandHandler("events", events_command)),
        (GROUP_COMMANDS, CommandHandler("event", event_command)),
        (GROUP_COMMANDS, CallbackQueryHandler(event_button, pattern=rf"^v1:{Feature.EVENTS}:")),
    ]


def commands() -> list[str]:
    return ["events"]
