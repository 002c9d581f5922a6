"""Reminders, calendar and broadcasts in chat.

Everyone: ``/reminders`` (upcoming, mute, snooze buttons under each reminder), ``/timezone``,
``/calendar`` (an .ics file), ``/events`` (the calendar as text).
Secretariat: ``/event add|move|cancel|show`` (preview, then confirm), ``/events reload``,
``/broadcast`` (segment -> message -> preview with the count -> confirm; ``/broadcast status``).

The schedule itself lives in the database (:mod:`bot.reminders`); :func:`on_startup` loads the
calendar, sends what fell due while the bot was away (within the grace window), resumes
unfinished broadcasts and schedules the repeating tick on PTB's JobQueue.
"""
from __future__ import annotations

import datetime as dt
import html
import logging
import secrets
import shlex

from telegram import InputFile, Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes

from bot import broadcast as bc
from bot.i18n import LANGS, Raw
from bot.reminders import (CATEGORIES, MUTE_CHOICES, Reminders, calendar_file, calendar_selection, format_when, get_reminders,
                           move_event, relative, resolve_timezone, tz_label, user_timezone)
from bot.reminders import add_event as add_event_db
from bot.reminders import cancel_event as cancel_event_db
from knowledge.events import Event, parse_audience_text, parse_event, parse_local
from knowledge.yamlfile import DataError
from storage import reminders as store
from storage import users
from handlers.common import (GROUP_COMMANDS, Context, authorised, answer_button, cb, edit_or_reply, expect_input, forget_cached_person,
                             input_handler, is_private, keyboard, parse_cb, person, reply, svc, t)

log = logging.getLogger("ldn.handlers.reminders")

CAL_FILENAME = "ldn-tsp-calendar.ics"
SEGMENT_BUTTONS = {"all": "all", "I": "annex:I", "II": "annex:II", "III": "annex:III", "IV": "annex:IV", "V": "annex:V",
                   "pilots": "pilots", "fp": "role:focal_point", "ex": "role:expert", "sec": "role:secretariat", "groups": "groups"}


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
    services = application.bot_data["services"]
    rem = get_reminders(services)
    await rem.ensure_loaded()
    summary = await reminders_tick(application)
    log.info("reminders.started", extra={f"tick_{k}": v for k, v in summary.items()})
    await services.store.run(store.expire_drafts, services.clock.now() - dt.timedelta(days=1))
    for row in await services.store.run(store.broadcasts_in, "sending"):
        rem.spawn(run_broadcast(application, row["id"]))
    queue = application.job_queue
    if queue is not None:
        for job in queue.get_jobs_by_name("reminders.tick"):
            job.schedule_removal()
        seconds = rem.settings.tick_seconds
        queue.run_repeating(_tick_job, interval=seconds, first=seconds, name="reminders.tick",
                            job_kwargs={"max_instances": 1, "coalesce": True, "misfire_grace_time": int(seconds)})


# -- /reminders ---------------------------------------------------------------------------------

async def reminders_view(context: Context, who) -> tuple[str, object]:
    services = svc(context)
    rem = service(context)
    now = services.clock.now()
    await rem.ensure_loaded()
    items = await services.store.run(rem.upcoming, who.user_id, now)
    mutes = await services.store.run(store.mutes_of, who.user_id)
    row = await services.store.run(users.get_user, who.user_id) or {}
    tz = user_timezone(row, services.countries)
    lines = [t(context, who, "rem.list.title", tz=tz_label(now, tz))]
    if not items:
        lines.append(t(context, who, "rem.list.empty"))
    for item in items:
        when = format_when(services.i18n, who.lang, item.due_at, tz, with_zone=False)
        key = {"snooze": "rem.list.snoozed", "step": "rem.list.step"}.get(item.what, "rem.list.event")
        extra = {"before": relative(services.i18n, who.lang, item.start - item.due_at)} if item.what == "event" else {}
        line = t(context, who, key, when=when, title=item.title, **extra)
        lines.append(line + (" 🔕" if item.muted else ""))
    lines.append("")
    if mutes:
        names = ", ".join(services.t(who.lang, f"rem.cat.{c}") for c in MUTE_CHOICES if c in mutes)
        lines.append(t(context, who, "rem.list.muted", categories=names))
    lines.append(t(context, who, "rem.list.help"))
    rows = []
    for category in CATEGORIES:
        muted = category in mutes
        label = t(context, who, "rem.btn.unmute_cat" if muted else "rem.btn.mute_cat", category=services.t(who.lang, f"rem.cat.{category}"))
        rows.append([(html.unescape(label), cb("rem", "set", category, 0 if muted else 1))])
    all_muted = "all" in mutes
    rows.append([(html.unescape(t(context, who, "rem.btn.unmute_all" if all_muted else "rem.btn.mute_all")), cb("rem", "set", "all", 0 if all_muted else 1))])
    return "\n".join(lines), keyboard(rows)


async def reminders_command(update: Update, context: Context) -> None:
    who = await person(update, context)
    if not is_private(update):
        return
    text, markup = await reminders_view(context, who)
    await reply(update, context, text, markup=markup)


async def reminders_button(update: Update, context: Context) -> None:
    who = await person(update, context)
    parts = parse_cb(update.callback_query.data, "rem")
    services = svc(context)
    rem = service(context)
    now = services.clock.now()
    if not parts or update.effective_chat is None or update.effective_chat.type != "private":
        await answer_button(update, t(context, who, "error.stale_button"))
        return
    action = parts[0]
    if action in ("set", "mute") and len(parts) == 3 and parts[1] in MUTE_CHOICES and parts[2] in ("0", "1"):
        category, muted = parts[1], parts[2] == "1"
        await services.store.run(rem.set_mute, who.user_id, category, muted, now)
        name = services.t(who.lang, f"rem.cat.{category}")
        await answer_button(update, html.unescape(t(context, who, "rem.muted" if muted else "rem.unmuted", category=name)))
        if action == "set":
            text, markup = await reminders_view(context, who)
            await edit_or_reply(update, context, text, markup=markup)
        return
    if action == "snz" and len(parts) == 3 and parts[1].isdigit():
        outcome, when = await services.store.run(rem.snooze, int(parts[1]), who.user_id, parts[2], now)
        if outcome == "not_allowed":
            await answer_button(update, t(context, who, "error.not_allowed"), alert=True)
            return
        if outcome == "stale":
            await answer_button(update, t(context, who, "error.stale_button"))
            return
        if outcome == "too_late":
            await answer_button(update, html.unescape(t(context, who, "rem.snooze_too_late")), alert=True)
            return
        row = await services.store.run(users.get_user, who.user_id) or {}
        local = format_when(services.i18n, who.lang, when, user_timezone(row, services.countries))
        key = "rem.snoozed" if outcome == "ok" else "rem.snooze_already"
        await answer_button(update, html.unescape(t(context, who, key, when=local)))
        if outcome == "ok":
            try:
                await update.callback_query.edit_message_reply_markup(reply_markup=None)
            except BadRequest:
                pass
        return
    await answer_button(update, t(context, who, "error.stale_button"))


# -- /timezone ------------------------------------------------------------------------------

async def timezone_command(update: Update, context: Context) -> None:
    who = await person(update, context)
    if not is_private(update):
        return
    services = svc(context)
    now = services.clock.now()
    value = " ".join(context.args or []).strip()
    if value.lower() in ("reset", "country", "auto", "default"):
        await services.store.run(users.set_timezone, who.user_id, None, now)
        forget_cached_person(context)
        row = await services.store.run(users.get_user, who.user_id) or {}
        tz = user_timezone(row, services.countries)
        await reply(update, context, t(context, who, "tz.reset", tz=tz_label(now, tz), now=format_when(services.i18n, who.lang, now, tz, with_zone=False)))
        return
    if not value:
        row = await services.store.run(users.get_user, who.user_id) or {}
        tz = user_timezone(row, services.countries)
        source = "tz.source.user" if row.get("timezone") else ("tz.source.country" if services.countries.get(row.get("country")) else "tz.source.default")
        await reply(update, context, t(context, who, "tz.current", tz=tz_label(now, tz), source=t(context, who, source),
                                       now=format_when(services.i18n, who.lang, now, tz, with_zone=False)))
        return
    name, suggestions = resolve_timezone(value)
    if name is None:
        text = t(context, who, "tz.unknown", value=value[:60])
        if suggestions:
            hint = ", ".join(f"<code>{html.escape(s)}</code>" for s in suggestions)
            text += "\n" + t(context, who, "tz.suggest", suggestions=Raw(hint))
        await reply(update, context, text)
        return
    await services.store.run(users.set_timezone, who.user_id, name, now)
    forget_cached_person(context)
    await reply(update, context, t(context, who, "tz.set", tz=tz_label(now, name), now=format_when(services.i18n, who.lang, now, name, with_zone=False)))


# -- /calendar ------------------------------------------------------------------------------------

async def calendar_command(update: Update, context: Context) -> None:
    who = await person(update, context)
    services = svc(context)
    rem = service(context)
    await rem.ensure_loaded()
    now = services.clock.now()
    everything = bool(context.args) and context.args[0].lower() == "all"
    lang = who.lang
    if not is_private(update):  # in a group: the whole calendar, in the group's language
        everything = True
        lang = (context.chat_data or {}).get("lang") or who.lang
    events = await services.store.run(store.list_events)
    chosen = calendar_selection(rem, events, country=who.country, role=who.role, everything=everything)
    if not chosen:
        await reply(update, context, t(context, lang, "cal.empty"))
        return
    text = calendar_file(rem, chosen, lang, now)
    active = sum(1 for e in chosen if not e.cancelled)
    await context.bot.send_document(update.effective_chat.id, document=InputFile(text.encode("utf-8"), filename=CAL_FILENAME),
                                    caption=t(context, lang, "cal.caption", count=active))


# -- /events and /event (secretariat edits) --------------------------------------------------------

def _event_line(context: Context, who, event: Event, tz: str | None = None) -> str:
    services = svc(context)
    when = format_when(services.i18n, who.lang, event.start_utc, tz or event.timezone)
    line = t(context, who, "ev.item", id=event.id, when=when, title=event.title_in(who.lang), kind=services.t(who.lang, f"rem.kind.{event.kind}"))
    if who.is_secretariat:
        line += " " + t(context, who, "ev.item_audience", audience=event.audience.describe())
    if event.cancelled:
        line += " " + t(context, who, "ev.cancelled_mark")
    return line


async def events_command(update: Update, context: Context) -> None:
    who = await person(update, context)
    if not is_private(update):
        return
    services = svc(context)
    rem = service(context)
    args = [a.lower() for a in (context.args or [])]
    if args[:1] == ["reload"]:
        if not who.is_secretariat:
            await reply(update, context, t(context, who, "error.not_allowed"))
            return
        try:
            result = await rem.reload(by=who.user_id)
        except DataError as exc:
            problems = "\n".join(html.escape(str(p)) for p in exc.problems[:20])
            await reply(update, context, t(context, who, "ev.reload_failed", problems=Raw(f"<pre>{problems}</pre>")))
            return
        summary = ", ".join(f"{k}: {', '.join(v)}" for k, v in result.items() if v) or t(context, who, "ev.reload_nochange")
        await reply(update, context, t(context, who, "ev.reloaded", summary=summary))
        return
    await rem.ensure_loaded()
    now = services.clock.now()
    show_all = args[:1] == ["all"]
    events = await services.store.run(store.list_events)
    if not who.is_secretariat:
        events = [e for e in events if rem.relevant(e, country=who.country, role=who.role) and not e.cancelled]
    row = await services.store.run(users.get_user, who.user_id) or {}
    tz = None if who.is_secretariat else user_timezone(row, services.countries)
    upcoming = [e for e in events if show_all or e.end_utc >= now]
    past = len(events) - len(upcoming)
    lines = [t(context, who, "ev.title")]
    lines += [_event_line(context, who, e, tz) for e in upcoming] or [t(context, who, "ev.empty")]
    if past:
        lines.append(t(context, who, "ev.past", count=past))
    if who.is_secretariat:
        lines += ["", t(context, who, "ev.usage")]
    else:
        lines += ["", t(context, who, "ev.calendar_hint")]
    await reply(update, context, "\n".join(lines))


def _parse_add(text: str, registry) -> tuple[dict | None, str | None]:
    """``key=value`` words (shell quoting) to an event mapping for :func:`parse_event`; (None, error) if unreadable."""
    try:
        words = shlex.split(text)
    except ValueError as exc:
        return None, str(exc)
    data: dict = {}
    titles: dict[str, str] = {}
    places: dict[str, str] = {}
    for word in words:
        if "=" not in word:
            return None, f"expected key=value, got {word!r}"
        key, value = word.split("=", 1)
        key = key.strip().lower()
        if key in ("title", "place") or key.startswith(("title.", "place.")):
            lang = key.split(".", 1)[1] if "." in key else "en"
            if lang not in LANGS:
                return None, f"unknown language in {key!r}"
            (titles if key.startswith("title") else places)[lang] = value
        elif key in ("tz", "timezone", "zone"):
            data["timezone"] = value
        elif key == "audience":
            audience = parse_audience_text(value, registry)
            if audience is None:
                return None, f"audience {value!r} not understood (e.g. KEN,UGA · africa · annex:IV+V · pilots · all · role:secretariat)"
            data["audience"] = audience
        elif key == "offsets":
            data["offsets"] = [v for v in value.replace(" ", ",").split(",") if v]
        elif key in ("id", "kind", "start", "end"):
            data[key] = value
        else:
            return None, f"unknown key {key!r}"
    if titles:
        fallback = titles.get("en") or next(iter(titles.values()))
        data["title"] = {lang: titles.get(lang) or fallback for lang in LANGS}
    if places:
        fallback = places.get("en") or next(iter(places.values()))
        data["place"] = {lang: places.get(lang) or fallback for lang in LANGS}
    return data, None


async def _preview_event(context: Context, who, event: Event, heading: str) -> str:
    services = svc(context)
    rem = service(context)
    count = await services.store.run(lambda db: len(rem.audience_of(db, event)))
    lines = [heading, f"<code>{html.escape(event.id)}</code> · {services.t(who.lang, f'rem.kind.{event.kind}')}",
             f"<b>{html.escape(event.title_in(who.lang))}</b>",
             t(context, who, "ev.preview.when", start=format_when(services.i18n, who.lang, event.start_utc, event.timezone),
               end=format_when(services.i18n, who.lang, event.end_utc, event.timezone))]
    if event.place_in(who.lang):
        lines.append(t(context, who, "rem.event.place", place=event.place_in(who.lang)))
    lines.append(t(context, who, "ev.preview.audience", audience=event.audience.describe(), count=count))
    now = services.clock.now()
    times = [f"{off} → {format_when(services.i18n, who.lang, due, event.timezone)}" for off, due in rem.event_times(event) if due > now]
    lines.append(t(context, who, "ev.preview.reminders", reminders=", ".join(times) or "—"))
    return "\n".join(lines)


def _remember(context: Context, op: dict) -> str:
    token = secrets.token_hex(4)
    context.user_data["event_op"] = {**op, "token": token}
    return token


async def event_command(update: Update, context: Context) -> None:
    if not is_private(update):
        return  # secretariat tools stay silent in groups
    who = await authorised(update, context, secretariat=True)
    if who is None:
        return
    services = svc(context)
    rem = service(context)
    await rem.ensure_loaded()
    args = context.args or []
    sub = args[0].lower() if args else ""
    if sub == "add":
        raw = update.effective_message.text.split(None, 2)
        data, error = _parse_add(raw[2] if len(raw) > 2 else "", services.countries)
        if data is None:
            await reply(update, context, t(context, who, "ev.invalid", problems=error) + "\n\n" + t(context, who, "ev.usage"))
            return
        problems: list = []
        event = parse_event(data, "chat", known_countries={c.iso3 for c in services.countries}, problems=problems)
        if event is None:
            text = "\n".join(p.message for p in problems)
            await reply(update, context, t(context, who, "ev.invalid", problems=text) + "\n\n" + t(context, who, "ev.usage"))
            return
        if await services.store.run(store.get_event, event.id) is not None:
            await reply(update, context, t(context, who, "ev.exists", id=event.id))
            return
        token = _remember(context, {"op": "add", "data": data})
        text = await _preview_event(context, who, event, t(context, who, "ev.preview.add"))
        await reply(update, context, text, markup=keyboard([[(html.unescape(services.t(who.lang, "button.confirm")), cb("evt", "ok", token)),
                                                                (html.unescape(services.t(who.lang, "button.cancel")), cb("evt", "no", token))]]))
        return
    if sub in ("move", "cancel", "show") and len(args) >= 2:
        event = await services.store.run(store.get_event, args[1].lower())
        if event is None:
            await reply(update, context, t(context, who, "ev.not_found", id=args[1][:40]))
            return
        if sub == "show":
            text = await _preview_event(context, who, event, t(context, who, "ev.preview.show"))
            if event.cancelled:
                text += "\n" + t(context, who, "ev.cancelled_mark")
            await reply(update, context, text)
            return
        if event.cancelled:
            await reply(update, context, t(context, who, "ev.already_cancelled", id=event.id))
            return
        if sub == "move":
            start = parse_local(args[2]) if len(args) >= 3 else None
            end = parse_local(args[3]) if len(args) >= 4 else None
            if start is None or (len(args) >= 4 and (end is None or end < start)):
                await reply(update, context, t(context, who, "ev.move_usage"))
                return
            moved = event.moved_to(start, end)
            token = _remember(context, {"op": "move", "id": event.id, "version": event.version,
                                        "start": moved.start.isoformat(), "end": moved.end.isoformat()})
            heading = t(context, who, "ev.preview.move", old=format_when(services.i18n, who.lang, event.start_utc, event.timezone))
            text = await _preview_event(context, who, moved, heading)
            await reply(update, context, text, markup=keyboard([[(html.unescape(services.t(who.lang, "button.confirm")), cb("evt", "ok", token)),
                                                                    (html.unescape(services.t(who.lang, "button.cancel")), cb("evt", "no", token))]]))
            return
        count = await services.store.run(lambda db: len(rem.audience_of(db, event)))
        token = _remember(context, {"op": "cancel", "id": event.id, "version": event.version})
        text = await _preview_event(context, who, event, t(context, who, "ev.preview.cancel"))
        await reply(update, context, text, markup=keyboard([
            [(html.unescape(t(context, who, "ev.btn.cancel_notify", count=count)), cb("evt", "ok", token, "notify"))],
            [(html.unescape(t(context, who, "ev.btn.cancel_silent")), cb("evt", "ok", token, "silent"))],
            [(html.unescape(t(context, who, "ev.btn.keep")), cb("evt", "no", token))]]))
        return
    await reply(update, context, t(context, who, "ev.usage"))


async def event_button(update: Update, context: Context) -> None:
    who = await person(update, context)
    if not who.is_secretariat:
        await answer_button(update, t(context, who, "error.not_allowed"), alert=True)
        return
    parts = parse_cb(update.callback_query.data, "evt")
    op = (context.user_data or {}).get("event_op")
    if not parts or len(parts) < 2 or not op or op.get("token") != parts[1]:
        await answer_button(update, t(context, who, "error.stale_button"), alert=True)
        return
    services = svc(context)
    rem = service(context)
    now = services.clock.now()
    context.user_data.pop("event_op", None)
    await answer_button(update)
    if parts[0] == "no":
        await edit_or_reply(update, context, t(context, who, "common.cancelled"))
        return
    if op["op"] == "add":
        event = parse_event(op["data"], "chat", known_countries={c.iso3 for c in services.countries})
        ok = await services.store.run(add_event_db, event, now, who.user_id)
        await edit_or_reply(update, context, t(context, who, "ev.added" if ok else "ev.exists", id=event.id))
        return
    if op["op"] == "move":
        moved = await services.store.run(move_event, op["id"], dt.datetime.fromisoformat(op["start"]),
                                         dt.datetime.fromisoformat(op["end"]), now, who.user_id, op["version"])
        if moved is None:
            await edit_or_reply(update, context, t(context, who, "error.stale_button"))
            return
        await edit_or_reply(update, context, t(context, who, "ev.moved", id=moved.id,
                                               when=format_when(services.i18n, who.lang, moved.start_utc, moved.timezone)))
        return
    if op["op"] == "cancel":
        cancelled = await services.store.run(cancel_event_db, op["id"], now, who.user_id, op["version"])
        if cancelled is None:
            await edit_or_reply(update, context, t(context, who, "error.stale_button"))
            return
        notified = 0
        if len(parts) > 2 and parts[2] == "notify":
            notified = await services.store.run(rem.notify_cancelled, cancelled, now)
            if notified:
                rem.spawn(rem.flush(context.bot))
        await edit_or_reply(update, context, t(context, who, "ev.cancelled", id=cancelled.id, count=notified))


# -- /broadcast ---------------------------------------------------------------------------------

def _segment_keyboard(context: Context, who) -> object:
    services = svc(context)

    def button(code: str) -> tuple[str, str]:
        return html.unescape(services.t(who.lang, f"bc.seg.{code}")), cb("bc", "seg", code)

    return keyboard([[button("all"), button("pilots")], [button("I"), button("II"), button("III")], [button("IV"), button("V")],
                     [button("fp"), button("ex"), button("sec")], [button("ctry"), button("groups")],
                     [(html.unescape(services.t(who.lang, "button.cancel")), cb("bc", "seg", "x"))]])


async def _ask_text(update: Update, context: Context, who, broadcast_id: int, segment: bc.Segment) -> None:
    services = svc(context)
    people, groups = await services.store.run(bc.counts, services, segment)
    await expect_input(context, "bc_text", id=broadcast_id)
    await edit_or_reply(update, context, t(context, who, "bc.ask_text", segment=segment.code, people=people, groups=groups))


async def broadcast_command(update: Update, context: Context) -> None:
    if not is_private(update):
        return  # secretariat tools stay silent in groups
    who = await authorised(update, context, secretariat=True)
    if who is None:
        return
    services = svc(context)
    args = context.args or []
    if args and args[0].lower() == "status":
        await broadcast_status(update, context, who, int(args[1]) if len(args) > 1 and args[1].isdigit() else None)
        return
    if args:
        segment = bc.parse_segment(" ".join(args), services.countries)
        if segment is None:
            await reply(update, context, t(context, who, "bc.bad_segment", text=" ".join(args)[:80]))
            return
        broadcast_id = await services.store.run(store.create_broadcast, who.user_id, segment.code, services.clock.now())
        await _ask_text(update, context, who, broadcast_id, segment)
        return
    await reply(update, context, t(context, who, "bc.choose"), markup=_segment_keyboard(context, who))


async def broadcast_status(update: Update, context: Context, who, broadcast_id: int | None) -> None:
    services = svc(context)
    rows = await services.store.run(store.recent_broadcasts, 5)
    if broadcast_id is not None:
        rows = [r for r in [await services.store.run(store.get_broadcast, broadcast_id)] if r and r["status"] != "draft"]
    if not rows:
        await reply(update, context, t(context, who, "bc.status_none"))
        return
    lines = [t(context, who, "bc.status_title")]
    for row in rows:
        figures = await services.store.run(bc.tally, row["id"])
        lines.append(t(context, who, "bc.status_item", id=row["id"], segment=row["segment"], state=services.t(who.lang, f"bc.state.{row['status']}"),
                       **{k: figures[k] for k in ("sent", "total", "failed", "blocked", "pending")}))
    await reply(update, context, "\n".join(lines))


async def broadcast_button(update: Update, context: Context) -> None:
    who = await person(update, context)
    if not who.is_secretariat:
        await answer_button(update, t(context, who, "error.not_allowed"), alert=True)
        return
    parts = parse_cb(update.callback_query.data, "bc")
    services = svc(context)
    now = services.clock.now()
    if not parts or len(parts) < 2:
        await answer_button(update, t(context, who, "error.stale_button"))
        return
    action, arg = parts[0], parts[1]
    if action == "seg":
        await answer_button(update)
        if arg == "x":
            await edit_or_reply(update, context, t(context, who, "common.cancelled"))
            return
        if arg == "ctry":
            broadcast_id = await services.store.run(store.create_broadcast, who.user_id, "countries:", now)
            await expect_input(context, "bc_countries", id=broadcast_id)
            await edit_or_reply(update, context, t(context, who, "bc.ask_countries"))
            return
        code = SEGMENT_BUTTONS.get(arg)
        segment = bc.parse_segment(code, services.countries) if code else None
        if segment is None:
            await edit_or_reply(update, context, t(context, who, "error.stale_button"))
            return
        broadcast_id = await services.store.run(store.create_broadcast, who.user_id, segment.code, now)
        await _ask_text(update, context, who, broadcast_id, segment)
        return
    if not arg.isdigit():
        await answer_button(update, t(context, who, "error.stale_button"))
        return
    broadcast_id = int(arg)
    row = await services.store.run(store.get_broadcast, broadcast_id)
    if row is None or row["created_by"] != who.user_id:
        await answer_button(update, t(context, who, "error.not_allowed"), alert=True)
        return
    if action == "no":
        await services.store.run(store.cancel_draft, broadcast_id)
        await answer_button(update)
        await edit_or_reply(update, context, t(context, who, "common.cancelled"))
        return
    if action == "go":
        total = await services.store.run(bc.start, services, broadcast_id, now)
        if total is None:
            await answer_button(update, t(context, who, "error.stale_button"), alert=True)
            return
        await answer_button(update)
        try:
            await update.callback_query.edit_message_reply_markup(reply_markup=None)
        except BadRequest:
            pass
        try:
            message = await context.bot.send_message(who.user_id, t(context, who, "bc.progress", id=broadcast_id, sent=0, total=total,
                                                                    failed=0, blocked=0))
            await services.store.run(store.set_progress_message, broadcast_id, who.user_id, message.message_id)
        except TelegramError:  # the progress message is a courtesy: the broadcast goes out anyway
            log.warning("broadcast.progress_message_failed", extra={"broadcast": broadcast_id})
        service(context).spawn(run_broadcast(context.application, broadcast_id))
        return
    await answer_button(update, t(context, who, "error.stale_button"))


@input_handler("bc_countries")
async def broadcast_countries_input(update: Update, context: Context, who, data: dict) -> None:
    if not who.is_secretariat:
        return
    services = svc(context)
    text = (update.effective_message.text or "").strip()
    segment = bc.parse_segment("countries:" + text, services.countries)
    if segment is None:
        await expect_input(context, "bc_countries", **data)
        await reply(update, context, t(context, who, "bc.bad_segment", text=text[:80]))
        return
    if not await services.store.run(store.update_draft, data["id"], segment=segment.code):
        await reply(update, context, t(context, who, "error.stale_button"))
        return
    await _ask_text(update, context, who, data["id"], segment)


@input_handler("bc_text")
async def broadcast_text_input(update: Update, context: Context, who, data: dict) -> None:
    if not who.is_secretariat:
        return
    services = svc(context)
    message = update.effective_message
    body = message.text_html if message.text else ""
    if not body.strip():
        await expect_input(context, "bc_text", **data)
        await reply(update, context, t(context, who, "error.empty"))
        return
    if len(body) > bc.MAX_BODY:
        await expect_input(context, "bc_text", **data)
        await reply(update, context, t(context, who, "bc.too_long", limit=bc.MAX_BODY))
        return
    row = await services.store.run(store.get_broadcast, data["id"])
    if row is None or row["status"] != "draft" or row["created_by"] != who.user_id:
        await reply(update, context, t(context, who, "error.stale_button"))
        return
    await services.store.run(store.update_draft, data["id"], text=body)
    segment = bc.parse_segment(row["segment"], services.countries)
    people, groups = await services.store.run(bc.counts, services, segment)
    preview = services.t(who.lang, "bc.header") + "\n\n" + body
    text = t(context, who, "bc.preview", segment=segment.code, people=people, groups=groups) + "\n\n" + preview
    markup = keyboard([[(html.unescape(t(context, who, "bc.btn.send", count=people + groups)), cb("bc", "go", data["id"])),
                        (html.unescape(services.t(who.lang, "button.cancel")), cb("bc", "no", data["id"]))]])
    await reply(update, context, text, markup=markup)


async def run_broadcast(application, broadcast_id: int) -> dict:
    """Send a confirmed broadcast, editing its progress message as it goes."""
    services = application.bot_data["services"]
    row = await services.store.run(store.get_broadcast, broadcast_id)
    creator = await services.store.run(users.get_user, row["created_by"]) if row else None
    lang = (creator or {}).get("lang") or services.config.default_language
    bot = application.bot

    async def progress(figures: dict, final: bool) -> None:
        if not row or not row.get("progress_message_id"):
            fresh = await services.store.run(store.get_broadcast, broadcast_id)
            if not fresh or not fresh.get("progress_message_id"):
                return
            chat_id, message_id = fresh["progress_chat_id"], fresh["progress_message_id"]
        else:
            chat_id, message_id = row["progress_chat_id"], row["progress_message_id"]
        key = "bc.done" if final else "bc.progress"
        text = services.t(lang, key, **{k: figures[k] for k in ("id", "sent", "total", "failed", "blocked")})
        try:
            await bot.edit_message_text(text, chat_id=chat_id, message_id=message_id)
        except BadRequest as exc:
            if "not modified" not in str(exc).lower():
                raise
        except TelegramError:
            log.info("broadcast.progress_edit_failed", extra={"broadcast": broadcast_id})

    return await bc.send(services, bot, broadcast_id, progress=progress)


# -- registration -------------------------------------------------------------------------------

def handlers():
    return [
        (GROUP_COMMANDS, CommandHandler("reminders", reminders_command)),
        (GROUP_COMMANDS, CommandHandler("timezone", timezone_command)),
        (GROUP_COMMANDS, CommandHandler("calendar", calendar_command)),
        (GROUP_COMMANDS, CommandHandler("events", events_command)),
        (GROUP_COMMANDS, CommandHandler("event", event_command)),
        (GROUP_COMMANDS, CommandHandler("broadcast", broadcast_command)),
        (GROUP_COMMANDS, CallbackQueryHandler(reminders_button, pattern=r"^v1:rem:")),
        (GROUP_COMMANDS, CallbackQueryHandler(event_button, pattern=r"^v1:evt:")),
        (GROUP_COMMANDS, CallbackQueryHandler(broadcast_button, pattern=r"^v1:bc:")),
    ]


def commands() -> list[str]:
    return ["reminders", "calendar", "timezone", "events", "broadcast"]

