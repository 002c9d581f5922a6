"""The periodic job: posts what did not reach the experts' chat, tries relays again, warns of
SLA targets near and past, nudges askers of pending queries, resolves and closes.

Idempotent: each step first sets its flag in the database (only one run wins), then tells
people. Scheduled by :func:`handlers.helpdesk.on_startup`; tests call :func:`helpdesk_tick`.
"""
from __future__ import annotations

import datetime as dt
import logging

from bot.helpdesk import lifecycle, periodic, relay
from bot.helpdesk.rules import Action, SlaTarget, TickAction, stored_at
from bot.services import Services
from handlers.common import Context
from handlers.helpdesk.outbox import (deliver_answer, notify_experts, on_state_changed, post_query, refresh_card, relay_followup,
                                      send_to_asker)
from handlers.helpdesk.render import hours_text
from handlers.helpdesk.settings import now as now_of
from handlers.helpdesk.settings import settings
from knowledge.vocabulary import DeliveryKind, QueryState

log = logging.getLogger("ldn.handlers.helpdesk")


async def helpdesk_tick(application) -> dict[str, int]:
    """SLA warnings and breaches, nudges, auto-resolve, closing, and retries of what did not get through."""
    services: Services = application.bot_data["services"]
    bot = application.bot
    done = {"posted": 0, **{kind.value: 0 for kind in TickAction}, "retried": 0}
    for qid in await services.store.read(periodic.unposted):
        try:
            if await post_query(bot, services, qid):
                done["posted"] += 1
        except Exception:  # noqa: BLE001 - one query must not stop the others
            log.exception("helpdesk.tick_post_failed", extra={"query": qid})
    done["retried"] += await _retry_relays(bot, services)
    now = now_of(services)
    for action in await services.store.read(periodic.due_actions, now, settings(services)):
        try:
            if await _do_action(bot, services, action, now):
                done[action.kind] += 1
        except Exception:  # noqa: BLE001
            log.exception("helpdesk.tick_action_failed", extra={"query": action.query_id, "action": action.kind})
    return done


async def _sla_notice(bot, services: Services, action: Action, now: dt.datetime) -> bool:
    query = await services.store.run(periodic.flag, action, now)
    if query is None:
        return False
    s, qid = settings(services), action.query_id
    lang = s.expert_language
    first, resolution = s.targets(query["priority"])
    limit = first if action.target is SlaTarget.FIRST_RESPONSE else resolution
    target = services.t(lang, f"hd.target.{action.target}")
    priority = services.t(lang, f"hd.priority.{query['priority']}")
    if action.kind is TickAction.WARN:
        due_at = action.due_at if action.due_at is not None else now  # rules.sla_actions always sets it
        hours = max(0.0, (due_at - now).total_seconds() / 3600)
        text = services.t(lang, "hd.sla_warn", n=qid, priority=priority, target=target, hours=f"{hours:.1f}",
                          due=due_at.strftime("%Y-%m-%d %H:%M UTC"))
    else:
        text = services.t(lang, "hd.sla_breach", n=qid, priority=priority, target=target,
                          limit=hours_text(services, lang, limit.total_seconds() / 3600))
        await refresh_card(bot, services, qid)
    await notify_experts(bot, services, query, text, f"{periodic.flag_name(action)}:{qid}")
    return True


async def _do_action(bot, services: Services, action: Action, now: dt.datetime) -> bool:
    qid = action.query_id
    match action.kind:
        case TickAction.WARN | TickAction.BREACH:
            return await _sla_notice(bot, services, action, now)
        case TickAction.NUDGE:
            query = await services.store.run(periodic.flag, action, now)
            if query is None:
                return False
            closes = (stored_at(query["pending_since"]) + settings(services).auto_resolve_after).strftime("%Y-%m-%d")
            await send_to_asker(bot, services, query, kind=DeliveryKind.HELPDESK_NUDGE, ref=f"{qid}:{query['pending_since']}",
                                key="hd.nudge", n=qid, date=closes)
            return True
        case TickAction.AUTO_RESOLVE:
            change = await services.store.run(lifecycle.change_state, qid, QueryState.RESOLVED, None, now,
                                              expect=QueryState.PENDING, detail="auto")
            if not change.ok:
                return False
            await refresh_card(bot, services, qid)
            await on_state_changed(bot, services, change, auto=True)
            return True
        case TickAction.CLOSE:
            change = await services.store.run(lifecycle.change_state, qid, QueryState.CLOSED, None, now,
                                              expect=QueryState.RESOLVED, detail="auto")
            if change.ok:
                await refresh_card(bot, services, qid)
            return change.ok
    return False


async def _retry_relays(bot, services: Services) -> int:
    """Expert replies and follow-ups that failed on a transient error: try again (see
    :func:`bot.helpdesk.relay.answers_to_retry`); a message sent or in doubt is never sent again."""
    retried = 0
    for retry in await services.store.run(relay.answers_to_retry):
        row = retry.row
        status = await deliver_answer(bot, services, retry.query, row["chat_id"], row["message_id"], delivery_id=retry.delivery_id)
        retried += status == "sent"
    for retry in await services.store.run(relay.followups_to_retry):
        await relay_followup(bot, services, retry.query, retry.row)
    return retried


async def tick_job(context: Context) -> None:
    await helpdesk_tick(context.application)
