"""A country's checklist in the chat: ``/checklist [ISO3]``, one step's card, a status change,
the evidence file. The helpers every milestones handler renders with live here too.

Focal points see and change their own country; the secretariat any country; experts may look
at any country's checklist without changing it.
"""
from __future__ import annotations

import datetime as dt
import html
import logging

from telegram import Update

from bot import milestones as ms
from bot.i18n import Raw
from bot.roles import Person
from handlers.common import Context, answer_button, authorised, cb, clip, edit_or_reply, keyboard, reply, svc, t
from knowledge.vocabulary import Feature, MilestoneAction

log = logging.getLogger("ldn.handlers.milestones")

FEATURE = Feature.MILESTONES
BAR_WIDTH = 10
TITLE_IN_BUTTON = 48
TITLE_IN_LIST = 70


# -- small helpers ---------------------------------------------------------------------

def template_of(context: Context):
    return ms.get_template(svc(context))


def percent(share: float) -> str:
    return f"{share:.0%}"


def bar(share: float) -> Raw:
    filled = round(max(0.0, min(1.0, share)) * BAR_WIDTH)
    return Raw("<code>" + "▓" * filled + "░" * (BAR_WIDTH - filled) + "</code>")


def short(text: str, limit: int) -> str:
    """At most ``limit`` characters, cut at a word with "…" (the buttons' own rule)."""
    return clip(text, limit)


def day(value: dt.date | None) -> str:
    return value.isoformat() if value else ""


# -- rendering -------------------------------------------------------------------------

def _step_line(context: Context, who: Person, s: ms.StepState) -> str:
    title = short(s.step.title_in(who.lang), TITLE_IN_LIST)
    if s.status == "done":
        when = t(context, who, "ms.when.done", date=day(s.status_date)) if s.status_date else t(context, who, "ms.status.done")
    elif s.status == "not_applicable":
        when = t(context, who, "ms.status.not_applicable")
    elif s.overdue and s.status == "in_progress":
        when = t(context, who, "ms.when.in_progress_overdue", date=day(s.due))
    elif s.overdue:
        when = t(context, who, "ms.when.overdue", date=day(s.due))
    elif s.status == "in_progress":
        when = t(context, who, "ms.when.in_progress", date=day(s.due))
    else:
        when = t(context, who, "ms.when.due", date=day(s.due))
    return f"{icon_of(s)} {s.step.order}. {html.escape(title)} — <i>{when}</i>"


def icon_of(s: ms.StepState) -> str:
    """A step under way keeps its 🔄 even when late (the line then says both)."""
    if s.overdue and s.status == "in_progress":
        return ms.ICONS["in_progress"] + ms.OVERDUE_ICON
    return s.icon


def checklist_text(context: Context, who: Person, iso3: str, steps: list[ms.StepState], editable: bool) -> str:
    services = svc(context)
    done = sum(s.status == "done" for s in steps)
    applicable = sum(s.status != "not_applicable" for s in steps)
    overdue = sum(s.overdue for s in steps)
    share = done / applicable if applicable else 1.0
    summary = t(context, who, "ms.summary", done=done, applicable=applicable, percent=percent(share))
    if overdue:
        summary += " · " + t(context, who, "ms.summary_overdue", count=overdue)
    lines = [t(context, who, "ms.title", country=services.countries.name(iso3, who.lang)), summary]
    phase = None
    for s in steps:
        if s.step.phase != phase:
            phase = s.step.phase
            lines.append("")
            lines.append(f"<b>{t(context, who, f'ms.phase.{phase}')}</b>")
        lines.append(_step_line(context, who, s))
    lines.append("")
    lines.append(t(context, who, "ms.legend"))
    lines.append(t(context, who, "ms.hint_edit" if editable else "ms.hint_view"))
    return "\n".join(lines)


def checklist_markup(context: Context, who: Person, iso3: str, steps: list[ms.StepState]):
    rows = [[(f"{icon_of(s)} {s.step.order}. {short(s.step.title_in(who.lang), TITLE_IN_BUTTON)}",
              cb(FEATURE, MilestoneAction.STEP, iso3, s.step.id))] for s in steps]
    return keyboard(rows)


def _evidence_line(context: Context, who: Person, s: ms.StepState) -> str | None:
    if s.evidence_kind == "link" and s.evidence:
        url = html.escape(s.evidence, quote=True)
        return t(context, who, "ms.step.evidence_link", link=Raw(f'<a href="{url}">{html.escape(short(s.evidence, 60))}</a>'))
    if s.evidence_kind in ("document", "photo"):
        return t(context, who, "ms.step.evidence_file", name=s.evidence_name or t(context, who, f"ms.step.{s.evidence_kind}"))
    return None


def step_text(context: Context, who: Person, s: ms.StepState, now: dt.datetime, header: str | None = None) -> str:
    services = svc(context)
    lines = []
    if header:
        lines += [header, ""]
    lines.append(f"{icon_of(s)} <b>{s.step.order}. {html.escape(s.step.title_in(who.lang))}</b> — "
                 f"{html.escape(services.countries.name(s.iso3, who.lang))}")
    lines.append(f"<i>{html.escape(s.step.help_in(who.lang))}</i>")
    lines.append("")
    lines.append(t(context, who, "ms.step.phase", phase=t(context, who, f"ms.phase.{s.step.phase}")))
    if s.custom_due:
        lines.append(t(context, who, "ms.step.due_custom", date=day(s.due), default=day(s.step.due)))
    else:
        lines.append(t(context, who, "ms.step.due", date=day(s.due)))
    status = t(context, who, f"ms.status.{s.status}")
    icon = ms.ICONS[s.status]
    if s.status_date:
        lines.append(t(context, who, "ms.step.status_dated", icon=icon, status=status, date=day(s.status_date)))
    else:
        lines.append(t(context, who, "ms.step.status", icon=icon, status=status))
    if s.overdue and s.due is not None:  # an overdue step always has its due date
        days = (ms.local_today(services.countries, s.iso3, now) - s.due).days
        lines.append(t(context, who, "ms.step.overdue", count=days))
    if s.note:
        lines.append(t(context, who, "ms.step.note", note=s.note))
    evidence = _evidence_line(context, who, s)
    if evidence:
        lines.append(evidence)
    if s.changed_at:
        name = s.changed_by_name or (str(s.changed_by) if s.changed_by is not None else (s.changed_via or "—"))
        lines.append(t(context, who, "ms.step.changed", when=s.changed_at[:16].replace("T", " ") + " UTC", name=name))
    return "\n".join(lines)


def step_markup(context: Context, who: Person, s: ms.StepState):
    rows: list[list[tuple[str, str]]] = []
    if who.may_edit_country(s.iso3):
        statuses = [st for st in ms.STATUSES if st != s.status]
        buttons = [(t(context, who, f"ms.btn.{st}"), cb(FEATURE, MilestoneAction.SET, s.iso3, s.step.id, st)) for st in statuses]
        rows.append(buttons[:2])
        rows.append(buttons[2:])
        rows.append([(t(context, who, "ms.btn.note"), cb(FEATURE, MilestoneAction.NOTE, s.iso3, s.step.id)),
                     (t(context, who, "ms.btn.evidence"), cb(FEATURE, MilestoneAction.EVIDENCE, s.iso3, s.step.id))])
    if who.is_secretariat:
        rows.append([(t(context, who, "ms.btn.due"), cb(FEATURE, MilestoneAction.DUE, s.iso3, s.step.id))])
    if s.evidence_kind in ("document", "photo"):
        rows.append([(t(context, who, "ms.btn.open_evidence"), cb(FEATURE, MilestoneAction.OPEN_EVIDENCE, s.iso3, s.step.id))])
    rows.append([(t(context, who, "ms.btn.back"), cb(FEATURE, MilestoneAction.VIEW, s.iso3))])
    return keyboard(rows)


async def load_step(context: Context, iso3: str, step_id: str) -> ms.StepState | None:
    services = svc(context)
    return await services.store.read(ms.step_state, template_of(context), services.countries, iso3, step_id, services.clock.now())


async def show_checklist(update: Update, context: Context, who: Person, iso3: str, *, edit: bool = False) -> None:
    services = svc(context)
    steps = await services.store.read(ms.country_steps, template_of(context), services.countries, iso3, services.clock.now())
    text = checklist_text(context, who, iso3, steps, who.may_edit_country(iso3))
    markup = checklist_markup(context, who, iso3, steps)
    if edit:
        await edit_or_reply(update, context, text, markup=markup)
    else:
        await reply(update, context, text, markup=markup)


async def render_step(update: Update, context: Context, who: Person, state: ms.StepState | None, *, edit: bool,
                      header: str | None = None) -> None:
    """A step's card (``edit``: in place of the message the button was on)."""
    if state is None:
        return
    text = step_text(context, who, state, svc(context).clock.now(), header)
    markup = step_markup(context, who, state)
    if edit:
        await edit_or_reply(update, context, text, markup=markup)
    else:
        await reply(update, context, text, markup=markup)


async def show_step(update: Update, context: Context, who: Person, iso3: str, step_id: str, *, edit: bool,
                    header: str | None = None) -> None:
    await render_step(update, context, who, await load_step(context, iso3, step_id), edit=edit, header=header)


# -- /checklist -----------------------------------------------------------------------

async def checklist_command(update: Update, context: Context) -> None:
    who = await authorised(update, context, private=True, private_only_key="ms.private_only")
    if who is None:
        return
    services = svc(context)
    if context.args:
        country = services.countries.get(context.args[0])
        if country is None:
            await reply(update, context, t(context, who, "ms.unknown_country", code=context.args[0][:12]))
            return
        if not who.may_see_country(country.iso3):
            await reply(update, context, t(context, who, "error.not_allowed"))
            return
        iso3 = country.iso3
    elif who.is_focal_point and who.country:  # a focal point always has a country
        iso3 = who.country
    elif who.is_expert:
        await reply(update, context, t(context, who, "ms.checklist_usage"))
        return
    else:
        await reply(update, context, t(context, who, "error.need_registration"))
        return
    await show_checklist(update, context, who, iso3)


# -- a step's buttons: status, evidence file ------------------------------------------------

async def set_status(update: Update, context: Context, who: Person, iso3: str, step_id: str, status: str) -> None:
    """``set``: the new status, its history row written with it (one service call)."""
    services = svc(context)
    if status not in ms.STATUSES:
        await answer_button(update, t(context, who, "error.stale_button"), alert=True)
        return
    outcome = await services.store.run(ms.set_status, template_of(context), services.countries, iso3, step_id, status,
                                       services.clock.now(), who.user_id)
    if outcome.code == "same":
        await answer_button(update, t(context, who, "error.stale_button"), alert=True)
        await render_step(update, context, who, outcome.state, edit=True)
        return
    if not outcome.ok:
        await answer_button(update, t(context, who, "error.stale_button"), alert=True)
        return
    log.info("milestones.status", extra={"user": who.user_id, "country": iso3, "step": step_id, "status": status})
    await answer_button(update, t(context, who, "ms.saved.status", status=t(context, who, f"ms.status.{status}")))
    await render_step(update, context, who, outcome.state, edit=True)


async def send_evidence(update: Update, context: Context, who: Person, iso3: str, step_id: str) -> None:
    state = await load_step(context, iso3, step_id)
    if state is None or state.evidence_kind not in ("document", "photo") or not state.evidence:
        await answer_button(update, t(context, who, "error.stale_button"), alert=True)
        return
    await answer_button(update)
    if update.effective_chat is None:
        return
    chat_id = update.effective_chat.id
    caption = f"{state.step.order}. {state.step.title_in(who.lang)} — {svc(context).countries.name(iso3, who.lang)}"[:1000]
    if state.evidence_kind == "photo":
        await context.bot.send_photo(chat_id, photo=state.evidence, caption=html.escape(caption))
    else:
        await context.bot.send_document(chat_id, document=state.evidence, caption=html.escape(caption))
