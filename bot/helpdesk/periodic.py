"""What the periodic job reads and records: queries still to post, the actions due now
(decided by :func:`bot.helpdesk.rules.tick_actions`), and the flag each action sets once
(only the run that sets it tells anybody)."""
from __future__ import annotations

import datetime as dt

from bot.helpdesk.lifecycle import mark_flag
from bot.helpdesk.rules import TICK_STATES, Action, Settings, SlaTarget, TickAction, tick_actions
from storage import helpdesk as store

#: The audit event of each flagged action.
_EVENTS = {TickAction.WARN: "sla_warning", TickAction.BREACH: "overdue", TickAction.NUDGE: "nudge"}


def unposted(db) -> list[int]:
    """Queries not yet on the experts' chat (its outage, or a crash before the card)."""
    return [q["id"] for q in store.unposted(db)]


def due_actions(db, now: dt.datetime, settings: Settings) -> list[Action]:
    return tick_actions(store.in_states(db, TICK_STATES), now, settings)


def flag_name(action: Action) -> str:
    """The query column an action sets once (``warned_first``, ``breached_resolution``, ``nudged_at`` ...)."""
    if action.kind is TickAction.NUDGE:
        return "nudged_at"
    prefix = "warned_" if action.kind is TickAction.WARN else "breached_"
    return prefix + ("first" if action.target is SlaTarget.FIRST_RESPONSE else "resolution")


def flag(db, action: Action, now: dt.datetime) -> dict | None:
    """Set the action's flag with its event; the query if this call set it, else None (done already)."""
    detail = action.target if action.kind is not TickAction.NUDGE else None
    if not mark_flag(db, action.query_id, flag_name(action), now, _EVENTS[action.kind], detail):
        return None
    return store.get_query(db, action.query_id)
