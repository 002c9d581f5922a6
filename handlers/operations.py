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
from telegram.ext import ApplicationHandlerStop, CallbackQueryHandler, CommandHandler, TypeHandler

from bot import backup as backup_mod
from bot import people, privacy
from bot import status as status_mod
from bot.i18n import LANG_NAMES, Raw
from handlers.common import (GROUP_COMMANDS, authorised, GROUP_TRACK, Context, answer_button, cb, edit_or_reply, is_private,
                             keyboard, parse_cb, person, reply, svc, t)
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
    fields["mode"] = services.mode or "-"
    fields["retryable"] = str(data["deliveries"]["retryable"])
    fields["backup_daily"] = t(context, who, "common.on" if data["backup"]["daily"] else "common.off")
    await reply(update, context, t(context, who, "status.text", **fields))


# -- /privacy --------------------------------------------------------------------------------------

CATEGORIES = ("queries", "faq", "milestones", "messages", "reminders", "groups", "roles")


async def privacy_command(update: Update, context: Context) -> None:
    who = await person(update, context)
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
                     lang=LANG_NAMES.get(profile.get("lang") or "", none), role=t(context, who, f"role.{profile.get('role') or 'guest'}"),
                     country=country, timezone=profile.get("timezone") or none)
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
    parts = parse_cb(update.callback_query.data, Feature.OPERATIONS)
    tg_user = update.effective_user
    services = svc(context)
    # the names we knew before this update refreshes them: a renamed person is scrubbed under both
    stored = await services.store.read(people.profile, tg_user.id)
    who = await person(update, context)
    action = parts[0] if parts else None
    if action == OperationsAction.KEEP:
        await answer_button(update)
        await edit_or_reply(update, context, t(context, who, "forget.kept"))
        return
    if action != OperationsAction.FORGET or len(parts) != 2 or not is_private(update):
        await answer_button(update, t(context, who, "error.stale_button"), alert=True)
        return
    lang = who.lang  # the user row is about to go: answer in the language we know now
    names = ((stored["first_name"], stored["username"]),) if stored else ()
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
