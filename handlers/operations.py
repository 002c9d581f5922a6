"""Operations in chat: /status (secretariat), /privacy and /forgetme (everyone); the bookkeeping
that lets ``ldn-bot status`` see a running bot (last update received, heartbeat); the daily backup.

``/forgetme`` asks for confirmation with a button carrying a one-time nonce bound to the
person who asked (bot/confirmations.py): valid for a few minutes, once, for them alone.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, CallbackQueryHandler, CommandHandler, TypeHandler

from bot import backup as backup_mod
from bot import l10n, menus
from bot import people, privacy
from bot import status as status_mod
from bot.i18n import LANG_NAMES, Raw
from handlers.common import (GROUP_COMMANDS, authorised, GROUP_TRACK, Context, answer_button, cb, edit_or_reply, is_private,
                             keyboard, parse_cb, person, reply, svc, t)
from knowledge.isotime import parse_instant
from knowledge.vocabulary import Feature, OperationsAction

log = logging.getLogger("ldn.handlers.operations")

# Runs before every other group (also before GROUP_TRACK's own handlers), never answers.
GROUP_OPS_TRACK = GROUP_TRACK - 1
LAST_UPDATE_EVERY = dt.timedelta(seconds=5)   # at most one write of last_update_at per 5 s


# -- bookkeeping ----------------------------------------------------------------------------------

async def track_update(update: object, context: Context) -> None:
    """Remember when the last update arrived (cheap: at most one write every few seconds)."""
    services = svc(context)
    now = services.clock.now()
    last = services.last_update_written
    if last is not None and abs(now - last) < LAST_UPDATE_EVERY:
        return
    services.last_update_written = now
    await services.store.run(people.mark_update_received, now)


async def heartbeat(services) -> None:
    now = services.clock.now()
    await services.store.run(people.mark_heartbeat, now)


async def daily_backup(services) -> backup_mod.BackupResult | None:
    """The daily backup job: a dated copy in ``operations.backup_dir``, older ones pruned."""
    settings = backup_mod.ops_settings(services.config)
    now = services.clock.now()
    try:
        settings.backup_dir.mkdir(parents=True, exist_ok=True)
        result = await asyncio.to_thread(backup_mod.backup, services.config.db_path, settings.backup_dir, now)
        removed = await asyncio.to_thread(backup_mod.prune, settings.backup_dir, settings.backup_keep)
    except (backup_mod.BackupError, OSError) as exc:
        log.error("backup.failed", extra={"error": str(exc)})
        return None
    log.info("backup.done", extra={"path": str(result.path), "bytes": result.size, "pruned": len(removed),
                                   "seconds": round(result.seconds, 3)})
    return result


async def _heartbeat_job(context: Context) -> None:
    await heartbeat(svc(context))
    try:  # a role granted or revoked since (``ldn-bot role grant``): that person's menu follows
        await menus.refresh_staff_menus(context.application)
    except TelegramError as exc:
        log.warning("menus.not_refreshed", extra={"error": str(exc)})


async def _backup_job(context: Context) -> None:
    await daily_backup(svc(context))


async def on_startup(application) -> None:
    services = application.bot_data["services"]
    await services.store.run(people.sync_country_registry, services.countries, services.clock.now())
    await heartbeat(services)
    jobs = application.job_queue
    if jobs is None:
        return
    jobs.run_repeating(_heartbeat_job, interval=backup_mod.HEARTBEAT_SECONDS, first=backup_mod.HEARTBEAT_SECONDS,
                       name="ops.heartbeat")
    try:
        settings = backup_mod.ops_settings(services.config)
    except backup_mod.BackupError as exc:
        log.error("backup.bad_settings", extra={"error": str(exc)})
        return
    if settings.backup_daily and str(services.config.db_path) != ":memory:":
        jobs.run_daily(_backup_job, time=dt.time(settings.backup_hour_utc, 0, tzinfo=dt.timezone.utc), name="ops.backup")
        log.info("backup.scheduled", extra={"hour_utc": settings.backup_hour_utc, "dir": str(settings.backup_dir),
                                            "keep": settings.backup_keep})


# -- /status ---------------------------------------------------------------------------------------

async def status_command(update: Update, context: Context) -> None:
    who = await authorised(update, context, secretariat=True, private=True)
    if who is None:
        return
    services = svc(context)
    data = await services.store.run(status_mod.gather, services.config, services.clock.now(), running=True)
    fields = status_mod.render_fields(data)
    fields.update(_status_words(context, who, data, services.mode))
    fields["retryable"] = str(data["deliveries"]["retryable"])
    fields["backup_daily"] = t(context, who, "common.on" if data["backup"]["daily"] else "common.off")
    await reply(update, context, t(context, who, "status.text", **fields))


def _span(lang: str, seconds: int) -> str:
    """``1 hour 30 minutes``, ``3 дня 4 часа``: the two largest units, in words."""
    days, rest = divmod(max(0, seconds), 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts: list[tuple[int, dt.timedelta, l10n.Granularity]] = [(days, dt.timedelta(days=days), "day"), (hours, dt.timedelta(hours=hours), "hour"),
             (minutes, dt.timedelta(minutes=minutes), "minute")]
    shown = [l10n.duration(lang, delta, granularity=unit) for n, delta, unit in parts if n][:2]
    return " ".join(shown) or l10n.duration(lang, dt.timedelta(0))


def _status_words(context: Context, who, data: dict, mode: str | None) -> dict[str, str]:
    """The fields of /status a person reads as words in their language (never a bare "-")."""
    lang = who.lang
    unknown = t(context, who, "status.unknown")

    def when(stamp: str | None, ago: int | None, missing: str) -> str:
        moment = parse_instant(stamp)
        if moment is None:
            return missing
        text = status_mod.stamp(stamp)
        if ago is not None:
            text += " (" + (t(context, who, "status.just_now") if ago < 60
                            else l10n.relative(lang, dt.timedelta(seconds=-ago))) + ")"
        return text

    uptime = data["uptime_seconds"]
    return {
        "mode": t(context, who, f"status.mode.{mode}") if mode in ("polling", "webhook", "console") else t(context, who, "status.mode.unknown"),
        "uptime": _span(lang, uptime) if uptime is not None else unknown,
        "started": when(data["started_at"], None, unknown),
        "last_update": when(data["last_update_at"], data["last_update_ago_seconds"], t(context, who, "status.never")),
        "last_backup": when(data["backup"]["last_backup_at"], data["backup"]["last_backup_ago_seconds"], t(context, who, "status.never")),
    }


# -- /privacy --------------------------------------------------------------------------------------

CATEGORIES = ("queries", "faq", "milestones", "messages", "reminders", "groups", "roles")


def _language(context: Context, who, chosen: str | None) -> str:
    """The language the bot speaks to them: the one chosen with /language, else Telegram's (said so)."""
    if chosen in LANG_NAMES:
        return LANG_NAMES[chosen]
    return t(context, who, "privacy.lang_default", lang=LANG_NAMES.get(who.lang, who.lang))


def _zone(context: Context, who, profile: dict) -> str:
    """The zone their reminders use: the one chosen with /timezone, else their country's, else UTC."""
    if profile.get("timezone"):
        return profile["timezone"]
    country = svc(context).countries.get(profile.get("country")) if profile.get("country") else None
    if country is not None and country.timezone:
        return t(context, who, "privacy.tz_country", tz=country.timezone)
    return t(context, who, "privacy.tz_default", tz="UTC")


async def privacy_command(update: Update, context: Context) -> None:
    who = await person(update, context)
    if who is None:
        return
    if not is_private(update):
        await reply(update, context, t(context, who, "error.private_only"))
        return
    services = svc(context)
    data = await services.store.read(privacy.summary, who.user_id)
    none = t(context, who, "common.none")
    profile = data["profile"] or {}
    country = services.countries.name(profile.get("country"), who.lang) if profile.get("country") else none
    profile_text = t(context, who, "privacy.profile", user_id=who.user_id, name=profile.get("first_name") or none,
                     username=("@" + profile["username"]) if profile.get("username") else none,
                     lang=_language(context, who, profile.get("lang")), role=t(context, who, f"role.{profile.get('role') or 'guest'}"),
                     country=country, timezone=_zone(context, who, profile))
    counts = data["counts"]
    lines = [t(context, who, "privacy.record", what=t(context, who, f"privacy.cat.{cat}"), count=counts[cat])
             for cat in CATEGORIES if counts.get(cat)]
    extra = sum(n for cat, n in counts.items() if cat not in CATEGORIES)
    if extra:
        lines.append(t(context, who, "privacy.record", what=t(context, who, "privacy.cat.other"), count=extra))
    records = "\n".join(lines) if lines else t(context, who, "privacy.records_none")

    await reply(update, context, t(context, who, "privacy.text", profile=Raw(profile_text), records=Raw(records)))


# -- /forgetme -------------------------------------------------------------------------------------

async def forgetme_command(update: Update, context: Context) -> None:
    who = await person(update, context)
    if who is None:
        return
    if not is_private(update):
        await reply(update, context, t(context, who, "error.private_only"))
        return
    services = svc(context)
    nonce = await services.store.run(privacy.ask_to_forget, who.user_id, services.clock.now())
    markup = keyboard([[(t(context, who, "forget.button_yes"), cb(Feature.OPERATIONS, OperationsAction.FORGET, nonce)),
                        (t(context, who, "forget.button_no"), cb(Feature.OPERATIONS, OperationsAction.KEEP))]])
    key = "forget.confirm_focal_point" if who.is_focal_point else "forget.confirm"
    await reply(update, context, t(context, who, key), markup=markup)


async def forget_button(update: Update, context: Context) -> None:
    query, tg_user = update.callback_query, update.effective_user
    if query is None or tg_user is None:
        return
    parts = parse_cb(query.data, Feature.OPERATIONS) or []
    services = svc(context)
    # the names we knew before this update refreshes them: a renamed person is scrubbed under both
    stored = await services.store.read(people.profile, tg_user.id)
    who = await person(update, context)
    if who is None:
        return
    action = parts[0] if parts else None
    if action == OperationsAction.KEEP:
        await answer_button(update)
        await edit_or_reply(update, context, t(context, who, "forget.kept"))
        return
    if action != OperationsAction.FORGET or len(parts) != 2 or not is_private(update):
        await answer_button(update, t(context, who, "error.stale_button"), alert=True)
        return
    lang = who.lang  # the user row is about to go: answer in the language we know now
    names: tuple[tuple[str | None, str | None], ...] = ((stored["first_name"], stored["username"]),) if stored else ()
    result = await privacy.forget_everywhere(services.store, parts[1], who.user_id, services.clock.now(),
                                             names + ((tg_user.first_name, tg_user.username),))
    if result is None:  # forged, someone else's, pressed twice or too old: nobody is forgotten
        log.info("privacy.confirmation_refused", extra={"how": "chat"})
        await answer_button(update, t(context, who, "forget.not_confirmed"), alert=True)
        return
    if context.user_data is not None:
        context.user_data.clear()
    if context.chat_data is not None:
        context.chat_data.clear()
    log.info("privacy.forgotten", extra={"how": "chat", "rows": result.total, "unregistered": len(result.unregistered)})
    await answer_button(update)
    await edit_or_reply(update, context, t(context, lang, "forget.done", count=result.total))
    raise ApplicationHandlerStop  # nothing else may touch (and so re-create) the user row for this update


def handlers():
    return [
        (GROUP_OPS_TRACK, TypeHandler(Update, track_update)),
        (GROUP_COMMANDS, CommandHandler("status", status_command)),
        (GROUP_COMMANDS, CommandHandler("privacy", privacy_command)),
        (GROUP_COMMANDS, CommandHandler("forgetme", forgetme_command)),
        (GROUP_COMMANDS, CallbackQueryHandler(forget_button, pattern=r"^v1:ops:")),
    ]
