"""The helpdesk: a focal point's question the FAQ could not answer becomes a logged query;
experts answer it from their group chat through the bot; the secretariat triages.

One module per job:

* :mod:`~handlers.helpdesk.asking`   the asker's flow in private chats (/ask, the FAQ's button, ``?start=ask``,
  files, follow-ups, /myqueries, rating and comment)
* :mod:`~handlers.helpdesk.experts`  experts' replies in their chat, routed to the query and relayed
* :mod:`~handlers.helpdesk.buttons`  the button dispatcher and the card's buttons
* :mod:`~handlers.helpdesk.triage`   /queue /query /assign /priority /tag /stats /export
* :mod:`~handlers.helpdesk.promote`  /promote and the draft's approve/reject buttons
* :mod:`~handlers.helpdesk.tick`     the periodic job
* :mod:`~handlers.helpdesk.outbox`   everything the helpdesk sends (ledger deliveries, the few direct calls)
* :mod:`~handlers.helpdesk.render`, :mod:`~handlers.helpdesk.settings`: the card, labels, settings

The rules and every read and write are services in :mod:`bot.helpdesk`.
"""
from __future__ import annotations

import logging

from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from handlers import core
from handlers.common import GROUP_COMMANDS, GROUP_FOLLOWUP
from handlers.helpdesk.asking import ask_command, myqueries, private_message, start_ask
from handlers.helpdesk.buttons import on_button
from handlers.helpdesk.experts import expert_message
from handlers.helpdesk.promote import promote_command
from handlers.helpdesk.saved import saved_command
from handlers.helpdesk.settings import settings
from handlers.helpdesk.tick import helpdesk_tick, tick_job
from handlers.helpdesk.triage import (assign_command, export_command, priority_command, query_command, queue_command, stats_command,
                                      tag_command)
from knowledge.vocabulary import CALLBACK_VERSION, Feature

__all__ = ["handlers", "helpdesk_tick", "on_startup"]

log = logging.getLogger("ldn.handlers.helpdesk")

DEEP_LINK = "ask"
core.START_HOOKS[DEEP_LINK] = start_ask


async def on_startup(application) -> None:
    core.START_HOOKS[DEEP_LINK] = start_ask
    s = settings(application.bot_data["services"])
    application.job_queue.run_repeating(tick_job, interval=s.tick_interval.total_seconds(), first=60, name="helpdesk.tick")
    if s.expert_chat_id is None:
        log.warning("helpdesk.no_expert_chat", extra={"hint": "set helpdesk.expert_chat_id or LDN_EXPERT_CHAT_ID"})


def handlers():
    private = filters.ChatType.PRIVATE
    message = filters.UpdateType.MESSAGE
    media = filters.PHOTO | filters.Document.ALL
    return [
        (GROUP_COMMANDS, CommandHandler("ask", ask_command, filters=private)),
        (GROUP_COMMANDS, CommandHandler("myqueries", myqueries)),
        (GROUP_COMMANDS, CommandHandler("queue", queue_command)),
        (GROUP_COMMANDS, CommandHandler("query", query_command)),
        (GROUP_COMMANDS, CommandHandler("assign", assign_command)),
        (GROUP_COMMANDS, CommandHandler("priority", priority_command)),
        (GROUP_COMMANDS, CommandHandler("tag", tag_command)),
        (GROUP_COMMANDS, CommandHandler("stats", stats_command)),
        (GROUP_COMMANDS, CommandHandler("export", export_command)),
        (GROUP_COMMANDS, CommandHandler("promote", promote_command)),
        (GROUP_COMMANDS, CommandHandler("saved", saved_command)),
        (GROUP_COMMANDS, CallbackQueryHandler(on_button, pattern=rf"^{CALLBACK_VERSION}:{Feature.HELPDESK}:")),
        (GROUP_FOLLOWUP, MessageHandler(private & message & media & ~filters.COMMAND, private_message)),
        (GROUP_FOLLOWUP, MessageHandler(filters.ChatType.GROUPS & message & ~filters.COMMAND & ~filters.StatusUpdate.ALL, expert_message)),
    ]
