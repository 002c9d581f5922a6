"""Reminders in chat, for everyone: ``/reminders`` (upcoming, mute; snooze and mute buttons under
each reminder), ``/timezone``, ``/calendar`` (an .ics file).

The schedule itself lives in the database (:mod:`bot.reminders`); :func:`on_startup` loads the
calendar, sends what fell due while the bot was away (within the grace window) and schedules the
repeating tick on PTB's JobQueue.
"""
from __future__ import annotations

import html
import logging

from telegram import InlineKeyboardMarkup, InputFile, Update
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes

from bot.i18n import Raw
from bot.reminders import calendar as calendars
from bot.reminders import preferences
from bot.reminders.planner import MUTE_ALL
from bot.reminders.preferences import MUTE_CHOICES
from bot.reminders.render import category_label, format_when, relative
from bot.reminders.service import Reminders, get_reminders
from bot.reminders.zones import resolve_place, resolve_timezone, tz_label
from bot.roles import Person
from handlers.common import (GROUP_COMMANDS, Context, answer_button, cb, edit_or_reply, forget_cached_person, is_private,
                             keyboard, parse_cb, person, reply, svc, t)
from knowledge.vocabulary import REMINDER_CATEGORIES, Feature, ReminderAction, parse_row_id

log = logging.getLogger("ldn.handlers.reminders")

CAL_FILENAME = "ldn-tsp-calendar.ics"
RESET_WORDS = ("reset", "country", "auto", "default")
LIST_KEYS = {"snooze": "rem.list.snoozed", "step": "rem.list.step", "event": "rem.list.event"}
SNOOZE_ANSWERS = {"not_allowed": ("error.not_allowed", True), "stale": ("error.stale_button", False),
                  "too_late": ("rem.snooze_too_late", True)}


def service(context: Context) -> Reminders:
    return get_reminders(svc(context))


# -- start-up and the tick ---------------------------------------------------------------------

async def reminders_tick(application) -> dict:
    """Plan what is due and send it (the repeating job; tests call it directly)."""
    services = application.bot_data["services"]
    result = await get_reminders(services).tick(application.bot)
    return result.as_dict()


async def _tick_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    await reminders_tick(context.application)


async def on_startup(application) -> None:
    rem = get_reminders(application.bot_data["services"])
    await rem.ensure_loaded()
    summary = await reminders_tick(application)
    log.info("reminders.started", extra={f"tick_{k}": v for k, v in summary.items()})
    queue = application.job_queue
    if queue is not None:
        for job in queue.get_jobs_by_name("reminders.tick"):
            job.schedule_removal()
        seconds = rem.settings.tick_seconds
        queue.run_repeating(_tick_job, interval=seconds, first=seconds, name="reminders.tick",
                            job_kwargs={"max_instances": 1, "coalesce": True, "misfire_grace_time": int(seconds)})


# -- /reminders ---------------------------------------------------------------------------------

def _mute_button(context: Context, who, category: str, muted: bool) -> tuple[str, str]:
    if category == MUTE_ALL:
        label = t(context, who, "rem.btn.unmute_all" if muted else "rem.btn.mute_all")
    else:
        label = t(context, who, "rem.btn.unmute_cat" if muted else "rem.btn.mute_cat",
                  category=category_label(svc(context).i18n, who.lang, category))
    return html.unescape(label), cb(Feature.REMINDERS, ReminderAction.SET, category, 0 if muted else 1)


async def reminders_view(context: Context, who: Person) -> tuple[str, InlineKeyboardMarkup]:
    services = svc(context)
    rem = service(context)
    now = services.clock.now()
    await rem.ensure_loaded()
    view = await services.store.run(preferences.overview, rem, who.user_id, now)
    lines = [t(context, who, "rem.list.title", tz=tz_label(now, view.tz))]
    if not view.items:
        lines.append(t(context, who, "rem.list.empty"))
    for item in view.items:
        when = format_when(services.i18n, who.lang, item.due_at, view.tz, with_zone=False)
        extra = ({"before": relative(services.i18n, who.lang, item.start - item.due_at)}
                 if item.what == "event" and item.start is not None else {})
        line = t(context, who, LIST_KEYS[item.what], when=when, title=item.title, **extra)
        lines.append(line + (" 🔕" if item.muted else ""))
    lines.append("")
    if view.mutes:
        names = ", ".join(category_label(services.i18n, who.lang, c) for c in MUTE_CHOICES if c in view.mutes)
        lines.append(t(context, who, "rem.list.muted", categories=names))
    lines.append(t(context, who, "rem.list.help"))
    rows = [[_mute_button(context, who, c, c in view.mutes)] for c in REMINDER_CATEGORIES]
    rows.append([_mute_button(context, who, MUTE_ALL, MUTE_ALL in view.mutes)])
    return "\n".join(lines), keyboard(rows)


async def reminders_command(update: Update, context: Context) -> None:
    who = await person(update, context)
    if who is None or not is_private(update):
        return
    text, markup = await reminders_view(context, who)
    await reply(update, context, text, markup=markup)


async def _mute(update: Update, context: Context, who, action: str, category: str, muted: bool) -> None:
    services = svc(context)
    await services.store.run(preferences.set_mute, who.user_id, category, muted, services.clock.now())
    name = category_label(services.i18n, who.lang, category)
    await answer_button(update, html.unescape(t(context, who, "rem.muted" if muted else "rem.unmuted", category=name)))
    if action == ReminderAction.SET:
        text, markup = await reminders_view(context, who)
        await edit_or_reply(update, context, text, markup=markup)


async def _snooze(update: Update, context: Context, who, delivery_id: int, choice: str) -> None:
    services = svc(context)
    done = await services.store.run(preferences.snooze, service(context), delivery_id, who.user_id, choice, services.clock.now())
    if done.outcome in SNOOZE_ANSWERS or done.due is None:  # only a snooze that was (or is) set has a time
        key, alert = SNOOZE_ANSWERS.get(done.outcome, ("error.stale_button", False))
        await answer_button(update, html.unescape(t(context, who, key)), alert=alert)
        return
    local = format_when(services.i18n, who.lang, done.due, done.tz)
    await answer_button(update, html.unescape(t(context, who, "rem.snoozed" if done.outcome == "ok" else "rem.snooze_already",
                                                when=local)))
    if done.outcome == "ok" and update.callback_query is not None:
        try:
            await update.callback_query.edit_message_reply_markup(reply_markup=None)
        except BadRequest:
            pass


async def reminders_button(update: Update, context: Context) -> None:
    who = await person(update, context)
    if who is None or update.callback_query is None:
        return
    parts = parse_cb(update.callback_query.data, Feature.REMINDERS)
    if not parts or update.effective_chat is None or update.effective_chat.type != "private":
        await answer_button(update, t(context, who, "error.stale_button"))
        return
    match parts:
        case [ReminderAction.SET | ReminderAction.MUTE as action, category, flag] if category in MUTE_CHOICES and flag in ("0", "1"):
            await _mute(update, context, who, action, category, flag == "1")
        case [ReminderAction.SNOOZE, delivery_id, choice] if parse_row_id(delivery_id) is not None:
            await _snooze(update, context, who, int(delivery_id), choice)
        case [ReminderAction.ZONE, zone_name] if resolve_timezone(zone_name)[0] == zone_name:
            await _set_zone(update, context, who, zone_name)
        case _:
            await answer_button(update, t(context, who, "error.stale_button"))


# -- /timezone ------------------------------------------------------------------------------

def _zone_button(context: Context, who, label: str, zone: str, now) -> list[tuple[str, str]]:
    return [(f"{label} · {tz_label(now, zone)}"[:64], cb(Feature.REMINDERS, ReminderAction.ZONE, zone))]


def _country_row(context: Context, who, now, current: str | None) -> list[list[tuple[str, str]]]:
    """The button for the zone of the person's own country (unless it is already theirs)."""
    country = svc(context).countries.get(who.country) if who.country else None
    if country is None or not country.timezone or country.timezone == current:
        return []
    return [_zone_button(context, who, "📍 " + country.name(who.lang), country.timezone, now)]


async def timezone_command(update: Update, context: Context) -> None:
    who = await person(update, context)
    if who is None or not is_private(update):
        return
    services = svc(context)
    now = services.clock.now()
    value = " ".join(context.args or []).strip()
    if not value:
        zone = await services.store.run(preferences.timezone_of, services.countries, who.user_id)
        rows = _country_row(context, who, now, zone.tz)
        await reply(update, context, t(context, who, "tz.current", tz=tz_label(now, zone.tz), source=t(context, who, f"tz.source.{zone.source}"),
                                       now=format_when(services.i18n, who.lang, now, zone.tz, with_zone=False)),
                    markup=keyboard(rows) if rows else None)
        return
    reset = value.lower() in RESET_WORDS
    name, places, suggestions = (None, [], []) if reset else resolve_place(value, services.countries)
    if places:  # a name several places share: one button per zone
        rows = [_zone_button(context, who, p.name(who.lang), p.zone, now) for p in places]
        await reply(update, context, t(context, who, "tz.which", value=value[:60]), markup=keyboard(rows))
        return
    if name is None and not reset:
        text = t(context, who, "tz.unknown", value=value[:60])
        if suggestions:
            hint = ", ".join(f"<code>{html.escape(s)}</code>" for s in suggestions)
            text += "\n" + t(context, who, "tz.suggest", suggestions=Raw(hint))
        rows = _country_row(context, who, now, None)
        await reply(update, context, text, markup=keyboard(rows) if rows else None)
        return
    await _set_zone(update, context, who, name, reset)


async def _set_zone(update: Update, context: Context, who, name: str | None, reset: bool = False) -> None:
    services = svc(context)
    now = services.clock.now()
    zone = await services.store.run(preferences.set_timezone, services.countries, who.user_id, name, now)
    forget_cached_person(context)
    text = t(context, who, "tz.reset" if reset else "tz.set", tz=tz_label(now, zone.tz),
             now=format_when(services.i18n, who.lang, now, zone.tz, with_zone=False))
    if update.callback_query is not None:
        await answer_button(update)
        await edit_or_reply(update, context, text)
    else:
        await reply(update, context, text)


# -- /calendar ------------------------------------------------------------------------------------

async def calendar_command(update: Update, context: Context) -> None:
    who = await person(update, context)
    chat = update.effective_chat
    if who is None or chat is None:
        return
    services = svc(context)
    rem = service(context)
    await rem.ensure_loaded()
    args = context.args or []
    everything = bool(args) and args[0].lower() == "all"
    lang = who.lang
    if not is_private(update):  # in a group: the whole calendar, in the group's language
        everything = True
        lang = (context.chat_data or {}).get("lang") or who.lang
    found = await services.store.run(calendars.calendar_for, rem, country=who.country, role=who.role, everything=everything,
                                     lang=lang, now=services.clock.now())
    if found is None:
        await reply(update, context, t(context, lang, "cal.empty"))
        return
    await context.bot.send_document(chat.id, document=InputFile(found.text.encode("utf-8"), filename=CAL_FILENAME),
                                    caption=t(context, lang, "cal.caption", count=found.events))


# -- registration -------------------------------------------------------------------------------

def handlers():
    return [
        (GROUP_COMMANDS, CommandHandler("reminders", reminders_command)),
        (GROUP_COMMANDS, CommandHandler("timezone", timezone_command)),
        (GROUP_COMMANDS, CommandHandler("calendar", calendar_command)),
        (GROUP_COMMANDS, CallbackQueryHandler(reminders_button, pattern=rf"^v1:{Feature.REMINDERS}:")),
    ]


def commands() -> list[str]:
    return ["reminders", "calendar", "timezone"]
