"""Milestone checklists in the chat, one module per job:

* :mod:`~handlers.milestones.checklist` - ``/checklist [ISO3]``, a step's card, a status change
  (focal points: their country; the secretariat: any; experts: look only);
* :mod:`~handlers.milestones.inputs` - the note, evidence and due date a button asks for, ``/due``;
* :mod:`~handlers.milestones.secretariat` - ``/progress``, ``/overdue``, ``/export milestones``;
* :mod:`~handlers.milestones.buttons` - every ``v1:ms:...`` button, checked again on each press.

Callback data carries the country and the step (``v1:ms:set:KEN:baseline:done``): a focal
point's forged button for another country changes nothing.
"""
from __future__ import annotations

import logging

from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot import milestones as ms
from handlers.common import GROUP_COMMANDS, GROUP_INPUT
from handlers.milestones.buttons import button
from handlers.milestones.checklist import checklist_command
from handlers.milestones.inputs import AWAITING_EVIDENCE, due_command, evidence_file
from handlers.milestones.secretariat import export_milestones_command, overdue_command, progress_command

log = logging.getLogger("ldn.handlers.milestones")

__all__ = ["export_milestones_command", "handlers", "on_startup"]


async def on_startup(application) -> None:
    """Record the template's steps in the database (steps added to the template appear, nothing is lost)."""
    services = application.bot_data["services"]
    template = ms.get_template(services)
    result = await services.store.run(ms.sync_template, template, services.clock.now())
    log.info("milestones.template", extra={"steps": len(template), **result})


def handlers():
    private = filters.ChatType.PRIVATE
    files = private & filters.UpdateType.MESSAGE & (filters.Document.ALL | filters.PHOTO) & AWAITING_EVIDENCE
    return [
        (GROUP_COMMANDS, CommandHandler("checklist", checklist_command)),
        (GROUP_COMMANDS, CommandHandler("progress", progress_command)),
        (GROUP_COMMANDS, CommandHandler("overdue", overdue_command)),
        (GROUP_COMMANDS, CommandHandler("due", due_command)),
        (GROUP_COMMANDS, CallbackQueryHandler(button, pattern=r"^v1:ms:")),
        (GROUP_INPUT, MessageHandler(files, evidence_file)),
    ]
