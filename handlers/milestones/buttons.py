"""The milestones buttons: ``v1:ms:<action>:<country>[:<step>[:<status>]]`` (and
``v1:ms:prog:<circle>``, ``v1:ms:chart``, the pages ``v1:ms:od|pp:<circle>:<page>``).

Callback data is forgeable: every press is checked again (a known action with its number of
arguments, a real country and step, the presser's right to see or change that country, a
private chat) before it is handed to the job's module.
"""
from __future__ import annotations

import logging
from typing import Awaitable, Callable

from telegram import Update

from bot.roles import Person
from handlers import paging
from handlers.common import Context, answer_button, is_private, parse_cb, person, svc, t
from handlers.milestones import checklist, inputs, secretariat
from handlers.milestones.checklist import FEATURE, template_of
from knowledge.vocabulary import MilestoneAction

log = logging.getLogger("ldn.handlers.milestones")

SEE, EDIT, SECRETARIAT = "see", "edit", "secretariat"
# action -> (number of arguments after the action, permission)
ACTIONS: dict[str, tuple[int, str]] = {
    MilestoneAction.VIEW: (1, SEE), MilestoneAction.STEP: (2, SEE), MilestoneAction.OPEN_EVIDENCE: (2, SEE),
    MilestoneAction.SET: (3, EDIT), MilestoneAction.NOTE: (2, EDIT), MilestoneAction.EVIDENCE: (2, EDIT),
    MilestoneAction.DUE: (2, SECRETARIAT), MilestoneAction.PROGRESS: (1, SECRETARIAT), MilestoneAction.CHART: (0, SECRETARIAT),
    MilestoneAction.OVERDUE: (2, SECRETARIAT), MilestoneAction.PROGRESS_PAGE: (2, SECRETARIAT),
}
_NO_COUNTRY = (MilestoneAction.PROGRESS, MilestoneAction.CHART, MilestoneAction.OVERDUE, MilestoneAction.PROGRESS_PAGE)
_COMMANDS: dict[str, str] = {  # the command that draws each paged list afresh
    MilestoneAction.OVERDUE: "/overdue", MilestoneAction.PROGRESS_PAGE: "/progress"}


def _allowed(who: Person, permission: str, iso3: str | None) -> bool:
    if permission == SEE:
        return who.may_see_country(iso3)
    if permission == EDIT:
        return who.may_edit_country(iso3)
    return who.is_secretariat


async def _refused(update: Update, context: Context, who: Person, action: str, args: list[str]) -> str | None:
    """The key of the reason a press is refused, or None; ``args[0]`` is checked as a country."""
    nargs, permission = ACTIONS[action]
    iso3 = None
    if action not in _NO_COUNTRY:
        country = svc(context).countries.get(args[0])
        if country is None or country.iso3 != args[0]:
            return "error.stale_button"
        iso3 = country.iso3
    if not _allowed(who, permission, iso3):
        log.warning("milestones.forbidden_button", extra={"user": who.user_id, "action": action, "country": iso3})
        return "error.not_allowed"
    if not is_private(update):
        return "ms.private_only"
    if nargs >= 2 and action not in _NO_COUNTRY and template_of(context).get(args[1]) is None:
        return "error.stale_button"
    return None


Press = Callable[[Update, Context, Person, list[str]], Awaitable[None]]


async def _view(update, context, who, args):
    await answer_button(update)
    await checklist.show_checklist(update, context, who, args[0], edit=True)


async def _step(update, context, who, args):
    await answer_button(update)
    await checklist.show_step(update, context, who, args[0], args[1], edit=True)


async def _set(update, context, who, args):
    await checklist.set_status(update, context, who, args[0], args[1], args[2])


async def _open_evidence(update, context, who, args):
    await checklist.send_evidence(update, context, who, args[0], args[1])


async def _note(update, context, who, args):
    await answer_button(update)
    await inputs.ask_note(update, context, who, args[0], args[1])


async def _evidence(update, context, who, args):
    await answer_button(update)
    await inputs.ask_evidence(update, context, who, args[0], args[1])


async def _due(update, context, who, args):
    await answer_button(update)
    await inputs.ask_due(update, context, who, args[0], args[1])


async def _progress(update, context, who, args):
    await answer_button(update)
    await secretariat.show_progress(update, context, who, None if args[0] == secretariat.OVERVIEW else args[0], edit=True)


async def _chart(update, context, who, args):
    await answer_button(update)
    await secretariat.send_chart(update, context, who)


async def _overdue(update, context, who, args):
    page = paging.page_number(args[1])
    if page is None:
        await paging.refuse_stale(update, context, who, "/overdue")
        return
    await answer_button(update)
    await secretariat.show_overdue(update, context, who, args[0], page, edit=True)


async def _progress_page(update, context, who, args):
    page = paging.page_number(args[1])
    if page is None:
        await paging.refuse_stale(update, context, who, "/progress")
        return
    await answer_button(update)
    await secretariat.show_progress(update, context, who, args[0], page=page, edit=True)


PRESSES: dict[str, Press] = {
    MilestoneAction.VIEW: _view, MilestoneAction.STEP: _step, MilestoneAction.SET: _set,
    MilestoneAction.OPEN_EVIDENCE: _open_evidence, MilestoneAction.NOTE: _note, MilestoneAction.EVIDENCE: _evidence,
    MilestoneAction.DUE: _due, MilestoneAction.PROGRESS: _progress, MilestoneAction.CHART: _chart,
    MilestoneAction.OVERDUE: _overdue, MilestoneAction.PROGRESS_PAGE: _progress_page,
}


async def button(update: Update, context: Context) -> None:
    who = await person(update, context)
    if who is None or update.callback_query is None:
        return
    parts = parse_cb(update.callback_query.data, FEATURE)
    if parts and parts[0] in _COMMANDS and len(parts) != ACTIONS[parts[0]][0] + 1:
        await paging.refuse_stale(update, context, who, _COMMANDS[parts[0]])  # a page button cut short
        return
    if not parts or parts[0] not in ACTIONS or len(parts) != ACTIONS[parts[0]][0] + 1:
        await answer_button(update, t(context, who, "error.stale_button"), alert=True)
        return
    action, args = parts[0], parts[1:]
    refused = await _refused(update, context, who, action, args)
    if refused:
        await answer_button(update, t(context, who, refused), alert=True)
        return
    await PRESSES[action](update, context, who, args)
