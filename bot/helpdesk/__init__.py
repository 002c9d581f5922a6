"""The helpdesk's services: plain functions, no Telegram objects, ``now`` always passed in.

* :mod:`bot.helpdesk.rules`     settings, transitions, the SLA clock, the periodic job's decisions, queue filters
* :mod:`bot.helpdesk.lifecycle` the changes of a query (create, state, triage fields, follow-ups, replies, ratings)
* :mod:`bot.helpdesk.relay`     what is recorded around the messages carried to and from the experts' chat
* :mod:`bot.helpdesk.asking`    what the asker's flow reads (suggestions, which query a message continues)
* :mod:`bot.helpdesk.triage`    what the staff commands read (queue, thread, users)
* :mod:`bot.helpdesk.reports`   figures and the CSV export
* :mod:`bot.helpdesk.promote`   a resolved query becomes a draft FAQ entry

Functions that touch the database take the sqlite-utils ``Database`` first and are called
as one service call each (``await services.store.run(fn, ...)``: one transaction).
The names most callers need are gathered here.
"""
from __future__ import annotations

from bot.helpdesk.lifecycle import (Change, Followup, Reply, add_followup, assign, change_state, comment, create_query, mark_flag,
                                    rate, record_ack, record_expert_reply, reopen_state, retag, set_priority)
from bot.helpdesk.promote import promotion_texts, record_promotion
from bot.helpdesk.relay import record_delivery, record_relay
from bot.helpdesk.reports import EXPORT_COLUMNS, Group, Stats, compute_stats, export_queries_csv
from bot.helpdesk.rules import (ACTIVE, CODE_STATES, DEFAULT_SLA, DEFAULTS, FOLLOWABLE, MAX_TAGS, PRIORITIES, QUEUE_VIEWS, STATE_CODES,
                                STATES, TRANSITIONS, Action, QueueFilter, Settings, first_response_time, normalise_tag,
                                parse_duration, parse_queue_args, paused, resolution_time, settings_from, sla_actions,
                                sla_elapsed, snippet, tick_actions)

__all__ = [
    "ACTIVE", "CODE_STATES", "DEFAULTS", "DEFAULT_SLA", "EXPORT_COLUMNS", "FOLLOWABLE", "MAX_TAGS", "PRIORITIES", "QUEUE_VIEWS",
    "STATES", "STATE_CODES", "TRANSITIONS", "Action", "Change", "Followup", "Group", "QueueFilter", "Reply", "Settings", "Stats",
    "add_followup", "assign", "change_state", "comment", "compute_stats", "create_query", "export_queries_csv",
    "first_response_time", "mark_flag", "normalise_tag", "parse_duration", "parse_queue_args", "paused", "promotion_texts",
    "rate", "record_ack", "record_delivery", "record_expert_reply", "record_promotion", "record_relay", "reopen_state",
    "resolution_time", "retag", "set_priority", "settings_from", "sla_actions", "sla_elapsed", "snippet", "tick_actions",
]
