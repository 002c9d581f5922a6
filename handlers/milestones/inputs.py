"""What a milestones button asks the user to type or send next: a note, evidence (a link, a
document or a photo), a country due date; and ``/due ISO3 STEP DATE`` (secretariat).

Every awaited input checks again that its step still exists and that the user may change it.
"""
from __future__ import annotations

import datetime as dt
import logging

from telegram import Update
from telegram.ext import ApplicationHandlerStop, filters

from bot import milestones as ms
from bot.roles import Person
from handlers.common import Context, authorised, clear_input, expect_input, input_handler, is_private, person, reply, svc, t
from handlers.milestones.checklist import day, render_step, template_of
from knowledge.isotime import MAX_DATE, MIN_DATE, DateRangeError, check_range

log = logging.getLogger("ldn.handlers.milestones")

NOTE_INPUT = "ms_note"
EVIDENCE_INPUT = "ms_evidence"
DUE_INPUT = "ms_due"
BAD_DATE, OUT_OF_RANGE = "bad", "range"


class _AwaitingEvidence(filters.MessageFilter):
    """Matches messages of users who were asked for milestone evidence, so that the
    document/photo handler leaves everyone else's files to later handlers."""

    def __init__(self) -> None:
        super().__init__(name="awaiting_milestone_evidence")
        self.users: set[int] = set()

    def filter(self, message) -> bool:
        return message.from_user is not None and message.from_user.id in self.users


AWAITING_EVIDENCE = _AwaitingEvidence()


# -- the prompts (buttons of a step's card) -------------------------------------------------

async def ask_note(update: Update, context: Context, who: Person, iso3: str, step_id: str) -> None:
    await expect_input(context, NOTE_INPUT, iso3=iso3, step=step_id)
    title = template_of(context).get(step_id).title_in(who.lang)
    await reply(update, context, t(context, who, "ms.ask.note", title=title, limit=ms.NOTE_LIMIT))


async def ask_evidence(update: Update, context: Context, who: Person, iso3: str, step_id: str) -> None:
    await expect_input(context, EVIDENCE_INPUT, iso3=iso3, step=step_id)
    AWAITING_EVIDENCE.users.add(who.user_id)
    title = template_of(context).get(step_id).title_in(who.lang)
    await reply(update, context, t(context, who, "ms.ask.evidence", title=title))


async def ask_due(update: Update, context: Context, who: Person, iso3: str, step_id: str) -> None:
    step = template_of(context).get(step_id)
    await expect_input(context, DUE_INPUT, iso3=iso3, step=step_id)
    await reply(update, context, t(context, who, "ms.ask.due", title=step.title_in(who.lang),
                                    country=svc(context).countries.name(iso3, who.lang), default=day(step.due)))


# -- the answers -------------------------------------------------------------------------------

async def _input_target(update: Update, context: Context, who: Person, data: dict, *,
                        secretariat: bool = False) -> tuple[str, str] | None:
    """``(iso3, step)`` the awaited input is for, if it still exists and ``who`` may change it
    (its country's focal point or the secretariat; only the secretariat with ``secretariat``);
    otherwise answer "not allowed" and return None."""
    services = svc(context)
    country = services.countries.get(data.get("iso3"))
    step = template_of(context).get(data.get("step"))
    if country is None or step is None or not (
            who.is_secretariat if secretariat else who.may_edit_country(country.iso3)):
        await reply(update, context, t(context, who, "error.not_allowed"))
        return None
    return country.iso3, step.id


def _text(update: Update) -> str:
    """The text of the message that answered a question (a caption-less file has none)."""
    message = update.effective_message
    return (message.text or "").strip() if message is not None else ""


@input_handler(NOTE_INPUT)
async def note_input(update: Update, context: Context, who: Person, data: dict) -> None:
    target = await _input_target(update, context, who, data)
    if target is None:
        return
    iso3, step_id = target
    text = _text(update)
    if len(text) > ms.NOTE_LIMIT:
        await expect_input(context, NOTE_INPUT, iso3=iso3, step=step_id)
        await reply(update, context, t(context, who, "ms.bad.note_long", limit=ms.NOTE_LIMIT))
        return
    services = svc(context)
    note = None if text in ("", ms.CLEAR) else text
    outcome = await services.store.run(ms.set_note, template_of(context), services.countries, iso3, step_id, note,
                                       services.clock.now(), who.user_id)
    header = t(context, who, "ms.saved.note" if note else "ms.saved.note_removed")
    await render_step(update, context, who, outcome.state, edit=False, header=header)


@input_handler(EVIDENCE_INPUT)
async def evidence_input(update: Update, context: Context, who: Person, data: dict) -> None:
    AWAITING_EVIDENCE.users.discard(who.user_id)
    target = await _input_target(update, context, who, data)
    if target is None:
        return
    iso3, step_id = target
    text = _text(update)
    services = svc(context)
    if text == ms.CLEAR:
        outcome = await services.store.run(ms.set_evidence, template_of(context), services.countries, iso3, step_id, None,
                                           None, services.clock.now(), who.user_id)
        await render_step(update, context, who, outcome.state, edit=False, header=t(context, who, "ms.saved.evidence_removed"))
        return
    if ms.parse_link(text) is None:
        await expect_input(context, EVIDENCE_INPUT, iso3=iso3, step=step_id)
        AWAITING_EVIDENCE.users.add(who.user_id)
        await reply(update, context, t(context, who, "ms.bad.evidence"))
        return
    outcome = await services.store.run(ms.set_evidence, template_of(context), services.countries, iso3, step_id, "link",
                                       text, services.clock.now(), who.user_id)
    await render_step(update, context, who, outcome.state, edit=False, header=t(context, who, "ms.saved.evidence"))


async def evidence_file(update: Update, context: Context) -> None:
    """A document or photo sent in private while the user is attaching milestone evidence."""
    awaiting = context.user_data.get("awaiting") if context.user_data is not None else None
    message = update.effective_message
    if update.effective_user is None or message is None:
        return
    AWAITING_EVIDENCE.users.discard(update.effective_user.id)
    if not awaiting or awaiting.get("name") != EVIDENCE_INPUT or not is_private(update):
        return  # cancelled or replaced meanwhile
    who = await person(update, context)
    if who is None:
        return
    await clear_input(context)
    target = await _input_target(update, context, who, awaiting.get("data") or {})
    if target is None:
        raise ApplicationHandlerStop
    iso3, step_id = target
    if message.document is not None:
        kind, file_id, name = "document", message.document.file_id, message.document.file_name
    else:
        kind, file_id, name = "photo", message.photo[-1].file_id, None
    services = svc(context)
    outcome = await services.store.run(ms.set_evidence, template_of(context), services.countries, iso3, step_id, kind,
                                       file_id, services.clock.now(), who.user_id, name)
    log.info("milestones.evidence", extra={"user": who.user_id, "country": iso3, "step": step_id, "kind": kind})
    await render_step(update, context, who, outcome.state, edit=False, header=t(context, who, "ms.saved.evidence"))
    raise ApplicationHandlerStop


# -- due dates -------------------------------------------------------------------------------

def parse_due(text: str) -> dt.date | None | str:
    """``default`` / ``-`` -> None; a date within the accepted range -> date; otherwise
    :data:`BAD_DATE` or :data:`OUT_OF_RANGE`."""
    text = text.strip()
    if text.lower() in ("default", ms.CLEAR):
        return None
    try:
        value = dt.date.fromisoformat(text)
    except ValueError:
        return BAD_DATE
    try:
        check_range(value)
    except DateRangeError:
        return OUT_OF_RANGE
    return value


async def refuse_due(update: Update, context: Context, who: Person, problem: str, text: str) -> None:
    if problem == OUT_OF_RANGE:
        await reply(update, context, t(context, who, "ms.bad.date_range", text=text[:40], min=MIN_DATE.isoformat(),
                                        max=MAX_DATE.isoformat()))
    else:
        await reply(update, context, t(context, who, "ms.bad.date", text=text[:40]))


async def apply_due(update: Update, context: Context, who: Person, iso3: str, step_id: str, due: dt.date | None) -> None:
    services = svc(context)
    template = template_of(context)
    outcome = await services.store.run(ms.set_due, template, services.countries, iso3, step_id, due, services.clock.now(),
                                       who.user_id)
    step = template.get(step_id)
    country = services.countries.name(iso3, who.lang)
    if due is None or due == step.due:
        header = t(context, who, "ms.saved.due_default", country=country, step=step.title_in(who.lang), date=day(step.due))
    else:
        header = t(context, who, "ms.saved.due", country=country, step=step.title_in(who.lang), date=day(due))
    await render_step(update, context, who, outcome.state, edit=False, header=header)


@input_handler(DUE_INPUT)
async def due_input(update: Update, context: Context, who: Person, data: dict) -> None:
    target = await _input_target(update, context, who, data, secretariat=True)
    if target is None:
        return
    text = _text(update)
    due = parse_due(text)
    if isinstance(due, str):
        await expect_input(context, DUE_INPUT, iso3=target[0], step=target[1])
        await refuse_due(update, context, who, due, text)
        return
    await apply_due(update, context, who, target[0], target[1], due)


async def due_command(update: Update, context: Context) -> None:
    """``/due ISO3 STEP YYYY-MM-DD|default`` (secretariat): a country-specific due date."""
    who = await authorised(update, context, secretariat=True, private=True, private_only_key="ms.private_only")
    if who is None:
        return
    template = template_of(context)
    steps = ", ".join(f"{s.order} {s.id}" for s in template)
    args = context.args or []
    if len(args) != 3:
        await reply(update, context, t(context, who, "ms.due_usage", steps=steps))
        return
    country = svc(context).countries.get(args[0])
    if country is None:
        await reply(update, context, t(context, who, "ms.unknown_country", code=args[0][:12]))
        return
    step = template.get(args[1].lower()) or (template.by_order(int(args[1])) if args[1].isdecimal() and len(args[1]) < 7 else None)
    if step is None:
        await reply(update, context, t(context, who, "ms.unknown_step", step=args[1][:30], steps=steps))
        return
    due = parse_due(args[2])
    if isinstance(due, str):
        await refuse_due(update, context, who, due, args[2])
        return
    await apply_due(update, context, who, country.iso3, step.id, due)
