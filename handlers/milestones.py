"""Milestone checklists in the chat.

* Focal points: ``/checklist`` shows their country's steps; buttons change a step's status,
  add a note or attach evidence (a link, a document or a photo).
* Secretariat: ``/checklist ISO3`` (any country, editable), ``/due ISO3 STEP DATE``,
  ``/progress [region|pilots|ISO3|chart]``, ``/overdue [region|pilots|ISO3]`` and
  :func:`export_milestones_command` (wired to ``/export milestones`` by the shared /export).
* Experts may look at any country's checklist (``/checklist ISO3``) without changing it.

Callback data carries the country and the step (``v1:ms:set:KEN:baseline:done``) and is
checked again on every press: a focal point's forged button for another country changes nothing.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import html
import logging

from telegram import Update
from telegram.ext import ApplicationHandlerStop, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot import milestones as ms
from bot.i18n import Raw
from bot.roles import Person
from handlers.common import (authorised, GROUP_COMMANDS, GROUP_INPUT, Context, answer_button, cb, clear_input, edit_or_reply,
                             expect_input, input_handler, is_private, keyboard, parse_cb, person, reply, svc, t)

log = logging.getLogger("ldn.handlers.milestones")

FEATURE = "ms"
BAR_WIDTH = 10
TITLE_IN_BUTTON = 48
TITLE_IN_LIST = 70
OVERDUE_DETAIL_COUNTRIES = 15  # more countries overdue than this: one line per country
EVIDENCE_INPUT = "ms_evidence"
OVERVIEW = "overview"


class _AwaitingEvidence(filters.MessageFilter):
    """Matches messages of users who were asked for milestone evidence, so that the
    document/photo handler below leaves everyone else's files to later handlers."""

    def __init__(self) -> None:
        super().__init__(name="awaiting_milestone_evidence")
        self.users: set[int] = set()

    def filter(self, message) -> bool:
        return message.from_user is not None and message.from_user.id in self.users


AWAITING_EVIDENCE = _AwaitingEvidence()


# -- small helpers ---------------------------------------------------------------------

def _template(context: Context):
    return ms.get_template(svc(context))


def _percent(share: float) -> str:
    return f"{share:.0%}"


def _bar(share: float) -> Raw:
    filled = round(max(0.0, min(1.0, share)) * BAR_WIDTH)
    return Raw("<code>" + "▓" * filled + "░" * (BAR_WIDTH - filled) + "</code>")


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _date(value: dt.date | None) -> str:
    return value.isoformat() if value else ""


# -- rendering -------------------------------------------------------------------------

def _step_line(context: Context, who: Person, s: ms.StepState) -> str:
    title = _short(s.step.title_in(who.lang), TITLE_IN_LIST)
    if s.status == "done":
        when = t(context, who, "ms.when.done", date=_date(s.status_date)) if s.status_date else t(context, who, "ms.status.done")
    elif s.status == "not_applicable":
        when = t(context, who, "ms.status.not_applicable")
    elif s.overdue:
        when = t(context, who, "ms.when.overdue", date=_date(s.due))
    else:
        when = t(context, who, "ms.when.due", date=_date(s.due))
    return f"{s.icon} {s.step.order}. {html.escape(title)} — <i>{when}</i>"


def checklist_text(context: Context, who: Person, iso3: str, steps: list[ms.StepState], editable: bool) -> str:
    services = svc(context)
    done = sum(s.status == "done" for s in steps)
    applicable = sum(s.status != "not_applicable" for s in steps)
    overdue = sum(s.overdue for s in steps)
    share = done / applicable if applicable else 1.0
    summary = t(context, who, "ms.summary", done=done, applicable=applicable, percent=_percent(share))
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
    rows = [[(f"{s.icon} {s.step.order}. {_short(s.step.title_in(who.lang), TITLE_IN_BUTTON)}", cb(FEATURE, "step", iso3, s.step.id))]
            for s in steps]
    return keyboard(rows)


def step_text(context: Context, who: Person, s: ms.StepState, now: dt.datetime, header: str | None = None) -> str:
    services = svc(context)
    lines = []
    if header:
        lines += [header, ""]
    lines.append(f"{s.icon} <b>{s.step.order}. {html.escape(s.step.title_in(who.lang))}</b> — {html.escape(services.countries.name(s.iso3, who.lang))}")
    lines.append(f"<i>{html.escape(s.step.help_in(who.lang))}</i>")
    lines.append("")
    lines.append(t(context, who, "ms.step.phase", phase=t(context, who, f"ms.phase.{s.step.phase}")))
    if s.custom_due:
        lines.append(t(context, who, "ms.step.due_custom", date=_date(s.due), default=_date(s.step.due)))
    else:
        lines.append(t(context, who, "ms.step.due", date=_date(s.due)))
    status = t(context, who, f"ms.status.{s.status}")
    icon = ms.ICONS[s.status]
    if s.status_date:
        lines.append(t(context, who, "ms.step.status_dated", icon=icon, status=status, date=_date(s.status_date)))
    else:
        lines.append(t(context, who, "ms.step.status", icon=icon, status=status))
    if s.overdue:
        days = (ms.local_today(services.countries, s.iso3, now) - s.due).days
        lines.append(t(context, who, "ms.step.overdue", days=days))
    if s.note:
        lines.append(t(context, who, "ms.step.note", note=s.note))
    if s.evidence_kind == "link" and s.evidence:
        url = html.escape(s.evidence, quote=True)
        lines.append(t(context, who, "ms.step.evidence_link", link=Raw(f'<a href="{url}">{html.escape(_short(s.evidence, 60))}</a>')))
    elif s.evidence_kind in ("document", "photo"):
        lines.append(t(context, who, "ms.step.evidence_file", name=s.evidence_name or t(context, who, f"ms.step.{s.evidence_kind}")))
    if s.changed_at:
        name = s.changed_by_name or (str(s.changed_by) if s.changed_by is not None else (s.changed_via or "—"))
        lines.append(t(context, who, "ms.step.changed", when=s.changed_at[:16].replace("T", " ") + " UTC", name=name))
    return "\n".join(lines)


def step_markup(context: Context, who: Person, s: ms.StepState):
    rows: list[list[tuple[str, str]]] = []
    if who.may_edit_country(s.iso3):
        statuses = [st for st in ms.STATUSES if st != s.status]
        buttons = [(t(context, who, f"ms.btn.{st}"), cb(FEATURE, "set", s.iso3, s.step.id, st)) for st in statuses]
        rows.append(buttons[:2])
        rows.append(buttons[2:])
        rows.append([(t(context, who, "ms.btn.note"), cb(FEATURE, "note", s.iso3, s.step.id)),
                     (t(context, who, "ms.btn.evidence"), cb(FEATURE, "ev", s.iso3, s.step.id))])
    if who.is_secretariat:
        rows.append([(t(context, who, "ms.btn.due"), cb(FEATURE, "due", s.iso3, s.step.id))])
    if s.evidence_kind in ("document", "photo"):
        rows.append([(t(context, who, "ms.btn.open_evidence"), cb(FEATURE, "file", s.iso3, s.step.id))])
    rows.append([(t(context, who, "ms.btn.back"), cb(FEATURE, "view", s.iso3))])
    return keyboard(rows)


async def _load_country(context: Context, iso3: str) -> list[ms.StepState]:
    services = svc(context)
    return await services.store.run(ms.country_steps, _template(context), services.countries, iso3, services.clock.now())


async def _load_step(context: Context, iso3: str, step_id: str) -> ms.StepState | None:
    services = svc(context)
    return await services.store.run(ms.step_state, _template(context), services.countries, iso3, step_id, services.clock.now())


async def show_checklist(update: Update, context: Context, who: Person, iso3: str, *, edit: bool = False) -> None:
    steps = await _load_country(context, iso3)
    text = checklist_text(context, who, iso3, steps, who.may_edit_country(iso3))
    markup = checklist_markup(context, who, iso3, steps)
    if edit:
        await edit_or_reply(update, context, text, markup=markup)
    else:
        await reply(update, context, text, markup=markup)


async def show_step(update: Update, context: Context, who: Person, iso3: str, step_id: str, *, edit: bool,
                    header: str | None = None) -> None:
    state = await _load_step(context, iso3, step_id)
    if state is None:
        return
    text = step_text(context, who, state, svc(context).clock.now(), header)
    markup = step_markup(context, who, state)
    if edit:
        await edit_or_reply(update, context, text, markup=markup)
    else:
        await reply(update, context, text, markup=markup)


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
    elif who.is_focal_point:
        iso3 = who.country
    elif who.is_expert:
        await reply(update, context, t(context, who, "ms.checklist_usage"))
        return
    else:
        await reply(update, context, t(context, who, "error.need_registration"))
        return
    await show_checklist(update, context, who, iso3)


# -- buttons ------------------------------------------------------------------------------

# action -> (number of arguments after the action, permission)
ACTIONS = {
    "view": (1, "see"), "step": (2, "see"), "file": (2, "see"),
    "set": (3, "edit"), "note": (2, "edit"), "ev": (2, "edit"),
    "due": (2, "secretariat"), "prog": (1, "secretariat"), "chart": (0, "secretariat"),
}


def _allowed(who: Person, permission: str, iso3: str | None) -> bool:
    if permission == "see":
        return who.may_see_country(iso3)
    if permission == "edit":
        return who.may_edit_country(iso3)
    return who.is_secretariat


async def button(update: Update, context: Context) -> None:
    who = await person(update, context)
    parts = parse_cb(update.callback_query.data, FEATURE)
    services = svc(context)
    template = _template(context)
    if not parts or parts[0] not in ACTIONS or len(parts) != ACTIONS[parts[0]][0] + 1:
        await answer_button(update, t(context, who, "error.stale_button"), alert=True)
        return
    action, args = parts[0], parts[1:]
    nargs, permission = ACTIONS[action]
    iso3 = None
    if action not in ("prog", "chart"):
        country = services.countries.get(args[0])
        if country is None or country.iso3 != args[0]:
            await answer_button(update, t(context, who, "error.stale_button"), alert=True)
            return
        iso3 = country.iso3
    if not _allowed(who, permission, iso3):
        log.warning("milestones.forbidden_button", extra={"user": who.user_id, "action": action, "country": iso3})
        await answer_button(update, t(context, who, "error.not_allowed"), alert=True)
        return
    if not is_private(update):
        await answer_button(update, t(context, who, "ms.private_only"), alert=True)
        return
    step_id = args[1] if nargs >= 2 else None
    if step_id is not None and template.get(step_id) is None:
        await answer_button(update, t(context, who, "error.stale_button"), alert=True)
        return

    if action == "view":
        await answer_button(update)
        await show_checklist(update, context, who, iso3, edit=True)
    elif action == "step":
        await answer_button(update)
        await show_step(update, context, who, iso3, step_id, edit=True)
    elif action == "set":
        await _set_status(update, context, who, iso3, step_id, args[2])
    elif action == "note":
        await answer_button(update)
        await expect_input(context, "ms_note", iso3=iso3, step=step_id)
        await reply(update, context, t(context, who, "ms.ask.note", title=template.get(step_id).title_in(who.lang), limit=ms.NOTE_LIMIT))
    elif action == "ev":
        await answer_button(update)
        await expect_input(context, EVIDENCE_INPUT, iso3=iso3, step=step_id)
        AWAITING_EVIDENCE.users.add(who.user_id)
        await reply(update, context, t(context, who, "ms.ask.evidence", title=template.get(step_id).title_in(who.lang)))
    elif action == "due":
        await answer_button(update)
        step = template.get(step_id)
        await expect_input(context, "ms_due", iso3=iso3, step=step_id)
        await reply(update, context, t(context, who, "ms.ask.due", title=step.title_in(who.lang),
                                        country=services.countries.name(iso3, who.lang), default=_date(step.due)))
    elif action == "file":
        await _send_evidence(update, context, who, iso3, step_id)
    elif action == "prog":
        await answer_button(update)
        await show_progress(update, context, who, None if args[0] == OVERVIEW else args[0], edit=True)
    elif action == "chart":
        await answer_button(update)
        await send_chart(update, context, who)


async def _set_status(update: Update, context: Context, who: Person, iso3: str, step_id: str, status: str) -> None:
    services = svc(context)
    if status not in ms.STATUSES:
        await answer_button(update, t(context, who, "error.stale_button"), alert=True)
        return
    outcome = await services.store.run(ms.set_status, _template(context), services.countries, iso3, step_id, status,
                                       services.clock.now(), who.user_id)
    if outcome.code == "same":
        await answer_button(update, t(context, who, "error.stale_button"), alert=True)
        await show_step(update, context, who, iso3, step_id, edit=True)
        return
    if not outcome.ok:
        await answer_button(update, t(context, who, "error.stale_button"), alert=True)
        return
    log.info("milestones.status", extra={"user": who.user_id, "country": iso3, "step": step_id, "status": status})
    await answer_button(update, t(context, who, "ms.saved.status", status=t(context, who, f"ms.status.{status}")))
    await show_step(update, context, who, iso3, step_id, edit=True)


async def _send_evidence(update: Update, context: Context, who: Person, iso3: str, step_id: str) -> None:
    state = await _load_step(context, iso3, step_id)
    if state is None or state.evidence_kind not in ("document", "photo") or not state.evidence:
        await answer_button(update, t(context, who, "error.stale_button"), alert=True)
        return
    await answer_button(update)
    chat_id = update.effective_chat.id
    caption = f"{state.step.order}. {state.step.title_in(who.lang)} — {svc(context).countries.name(iso3, who.lang)}"[:1000]
    if state.evidence_kind == "photo":
        await context.bot.send_photo(chat_id, photo=state.evidence, caption=html.escape(caption))
    else:
        await context.bot.send_document(chat_id, document=state.evidence, caption=html.escape(caption))


# -- awaited input: note, evidence, due date -------------------------------------------------

async def _input_target(update: Update, context: Context, who: Person, data: dict, *,
                        secretariat: bool = False) -> tuple[str, str] | None:
    """``(iso3, step)`` the awaited input is for, if it still exists and ``who`` may change it
    (its country's focal point or the secretariat; only the secretariat with ``secretariat``);
    otherwise answer "not allowed" and return None."""
    services = svc(context)
    country = services.countries.get(data.get("iso3"))
    step = _template(context).get(data.get("step"))
    allowed = country is not None and step is not None and (
        who.is_secretariat if secretariat else who.may_edit_country(country.iso3))
    if not allowed:
        await reply(update, context, t(context, who, "error.not_allowed"))
        return None
    return country.iso3, step.id


@input_handler("ms_note")
async def note_input(update: Update, context: Context, who: Person, data: dict) -> None:
    target = await _input_target(update, context, who, data)
    if target is None:
        return
    iso3, step_id = target
    text = (update.effective_message.text or "").strip()
    if len(text) > ms.NOTE_LIMIT:
        await expect_input(context, "ms_note", iso3=iso3, step=step_id)
        await reply(update, context, t(context, who, "ms.bad.note_long", limit=ms.NOTE_LIMIT))
        return
    services = svc(context)
    note = None if text in ("", ms.CLEAR) else text
    await services.store.run(ms.set_note, _template(context), services.countries, iso3, step_id, note, services.clock.now(), who.user_id)
    header = t(context, who, "ms.saved.note" if note else "ms.saved.note_removed")
    await show_step(update, context, who, iso3, step_id, edit=False, header=header)


@input_handler(EVIDENCE_INPUT)
async def evidence_input(update: Update, context: Context, who: Person, data: dict) -> None:
    AWAITING_EVIDENCE.users.discard(who.user_id)
    target = await _input_target(update, context, who, data)
    if target is None:
        return
    iso3, step_id = target
    text = (update.effective_message.text or "").strip()
    services = svc(context)
    if text == ms.CLEAR:
        await services.store.run(ms.set_evidence, _template(context), services.countries, iso3, step_id, None, None,
                                 services.clock.now(), who.user_id)
        await show_step(update, context, who, iso3, step_id, edit=False, header=t(context, who, "ms.saved.evidence_removed"))
        return
    if ms.parse_link(text) is None:
        await expect_input(context, EVIDENCE_INPUT, iso3=iso3, step=step_id)
        AWAITING_EVIDENCE.users.add(who.user_id)
        await reply(update, context, t(context, who, "ms.bad.evidence"))
        return
    await services.store.run(ms.set_evidence, _template(context), services.countries, iso3, step_id, "link", text,
                             services.clock.now(), who.user_id)
    await show_step(update, context, who, iso3, step_id, edit=False, header=t(context, who, "ms.saved.evidence"))


async def evidence_file(update: Update, context: Context) -> None:
    """A document or photo sent in private while the user is attaching milestone evidence."""
    awaiting = context.user_data.get("awaiting") if context.user_data is not None else None
    if not awaiting or awaiting.get("name") != EVIDENCE_INPUT or not is_private(update):
        AWAITING_EVIDENCE.users.discard(update.effective_user.id)  # cancelled or replaced meanwhile
        return
    AWAITING_EVIDENCE.users.discard(update.effective_user.id)
    message = update.effective_message
    who = await person(update, context)
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
    await services.store.run(ms.set_evidence, _template(context), services.countries, iso3, step_id, kind, file_id,
                             services.clock.now(), who.user_id, name)
    log.info("milestones.evidence", extra={"user": who.user_id, "country": iso3, "step": step_id, "kind": kind})
    await show_step(update, context, who, iso3, step_id, edit=False, header=t(context, who, "ms.saved.evidence"))
    raise ApplicationHandlerStop


def _parse_due(text: str) -> dt.date | None | str:
    """``default`` / ``-`` -> None; a date -> date; anything else -> "bad"."""
    text = text.strip()
    if text.lower() in ("default", ms.CLEAR):
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return "bad"


async def _apply_due(update: Update, context: Context, who: Person, iso3: str, step_id: str, due: dt.date | None) -> None:
    services = svc(context)
    template = _template(context)
    await services.store.run(ms.set_due, template, services.countries, iso3, step_id, due, services.clock.now(), who.user_id)
    step = template.get(step_id)
    country = services.countries.name(iso3, who.lang)
    if due is None or due == step.due:
        header = t(context, who, "ms.saved.due_default", country=country, step=step.title_in(who.lang), date=_date(step.due))
    else:
        header = t(context, who, "ms.saved.due", country=country, step=step.title_in(who.lang), date=_date(due))
    await show_step(update, context, who, iso3, step_id, edit=False, header=header)


@input_handler("ms_due")
async def due_input(update: Update, context: Context, who: Person, data: dict) -> None:
    target = await _input_target(update, context, who, data, secretariat=True)
    if target is None:
        return
    text = (update.effective_message.text or "").strip()
    due = _parse_due(text)
    if due == "bad":
        await expect_input(context, "ms_due", iso3=target[0], step=target[1])
        await reply(update, context, t(context, who, "ms.bad.date", text=text[:40]))
        return
    await _apply_due(update, context, who, target[0], target[1], due)


async def due_command(update: Update, context: Context) -> None:
    """``/due ISO3 STEP YYYY-MM-DD|default`` (secretariat): a country-specific due date."""
    who = await authorised(update, context, secretariat=True, private=True, private_only_key="ms.private_only")
    if who is None:
        return
    template = _template(context)
    steps = ", ".join(f"{s.order} {s.id}" for s in template)
    args = context.args or []
    if len(args) != 3:
        await reply(update, context, t(context, who, "ms.due_usage", steps=steps))
        return
    country = svc(context).countries.get(args[0])
    if country is None:
        await reply(update, context, t(context, who, "ms.unknown_country", code=args[0][:12]))
        return
    step = template.get(args[1].lower()) or (template.by_order(int(args[1])) if args[1].isdigit() else None)
    if step is None:
        await reply(update, context, t(context, who, "ms.unknown_step", step=args[1][:30], steps=steps))
        return
    due = _parse_due(args[2])
    if due == "bad":
        await reply(update, context, t(context, who, "ms.bad.date", text=args[2][:40]))
        return
    await _apply_due(update, context, who, country.iso3, step.id, due)


# -- /progress, /overdue ------------------------------------------------------------------

def _circle_name(context: Context, who: Person, key: str) -> str:
    services = svc(context)
    if key.startswith("annex:"):
        return " + ".join(t(context, who, f"ms.region.{a}") for a in key[len("annex:"):].split("+"))
    if key.startswith("group:"):
        return t(context, who, f"ms.group.{key[len('group:'):]}")
    if key in ("pilots", "all"):
        return t(context, who, f"ms.region.{key}")
    return services.countries.name(key, who.lang)


def _group_line(context: Context, who: Person, name: str, group: ms.GroupProgress) -> str:
    line = t(context, who, "ms.progress.line", bar=_bar(group.share), percent=_percent(group.share), name=name,
             count=len(group.countries))
    if group.overdue:
        line += f" · ⚠️ {group.overdue}"
    return line


def progress_overview_text(context: Context, who: Person, progress: ms.Progress, today: dt.date) -> str:
    total = progress.total
    lines = [t(context, who, "ms.progress.title", count=len(total.countries), date=today.isoformat()),
             t(context, who, "ms.progress.totals", done=total.done, applicable=total.applicable,
               percent=_percent(total.share), complete=total.complete_countries)]
    if total.overdue:
        lines.append(t(context, who, "ms.progress.overdue", count=total.overdue, countries=total.overdue_countries))
    lines += ["", t(context, who, "ms.progress.by_region")]
    lines += [_group_line(context, who, t(context, who, f"ms.region.{g.key}"), g) for g in progress.by_annex]
    lines += ["", t(context, who, "ms.progress.by_group"),
              _group_line(context, who, t(context, who, "ms.region.pilots"), progress.pilots),
              _group_line(context, who, t(context, who, "ms.region.others"), progress.others),
              "", t(context, who, "ms.progress.hint")]
    return "\n".join(lines)


def progress_overview_markup(context: Context, who: Person, progress: ms.Progress):
    buttons = [(t(context, who, f"ms.region.{g.key}").split(" (")[0].split("（")[0], cb(FEATURE, "prog", g.key)) for g in progress.by_annex]
    buttons.append((t(context, who, "ms.region.pilots"), cb(FEATURE, "prog", "pilots")))
    rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
    rows.append([(t(context, who, "ms.btn.chart"), cb(FEATURE, "chart"))])
    return keyboard(rows)


def progress_circle_text(context: Context, who: Person, name: str, progress: ms.Progress, today: dt.date) -> str:
    services = svc(context)
    total = progress.total
    lines = [t(context, who, "ms.progress.circle_title", name=name, count=len(total.countries), date=today.isoformat()),
             t(context, who, "ms.summary", done=total.done, applicable=total.applicable, percent=_percent(total.share))]
    if total.overdue:
        lines.append(t(context, who, "ms.progress.overdue", count=total.overdue, countries=total.overdue_countries))
    lines.append("")
    for c in sorted(progress.countries, key=lambda c: (-c.share, -c.done, c.iso3)):
        line = t(context, who, "ms.progress.country_line", bar=_bar(c.share), done=c.done, applicable=c.applicable,
                 iso3=c.iso3, name=services.countries.name(c.iso3, who.lang))
        if c.overdue:
            line += f" · ⚠️ {c.overdue}"
        lines.append(line)
    return "\n".join(lines)


async def show_progress(update: Update, context: Context, who: Person, arg: str | None, *, edit: bool = False) -> None:
    services = svc(context)
    template = _template(context)
    now = services.clock.now()
    today = now.date()
    if not arg:
        progress = await services.store.run(ms.progress, template, services.countries, now)
        text = progress_overview_text(context, who, progress, today)
        markup = progress_overview_markup(context, who, progress)
    else:
        resolved = services.countries.resolve_circle(arg)
        if resolved is None:
            await reply(update, context, t(context, who, "ms.progress.unknown", text=arg[:40]))
            return
        key, iso3s = resolved
        if len(iso3s) == 1 and key == iso3s[0]:
            await show_checklist(update, context, who, key, edit=edit)
            return
        progress = await services.store.run(ms.progress, template, services.countries, now, iso3s)
        text = progress_circle_text(context, who, _circle_name(context, who, key), progress, today)
        markup = keyboard([[(t(context, who, "ms.btn.overview"), cb(FEATURE, "prog", OVERVIEW))]])
    if edit:
        await edit_or_reply(update, context, text, markup=markup)
    else:
        await reply(update, context, text, markup=markup)


async def send_chart(update: Update, context: Context, who: Person) -> None:
    from bot.progress_chart import render_progress_chart

    services = svc(context)
    now = services.clock.now()
    progress = await services.store.run(ms.progress, _template(context), services.countries, now)
    png = await asyncio.to_thread(render_progress_chart, progress)
    total = progress.total
    caption = t(context, who, "ms.progress.chart_caption", date=now.date().isoformat(), done=total.done,
                applicable=total.applicable, percent=_percent(total.share))
    await context.bot.send_photo(update.effective_chat.id, photo=png, caption=caption)


async def progress_command(update: Update, context: Context) -> None:
    who = await authorised(update, context, secretariat=True, private=True, private_only_key="ms.private_only")
    if who is None:
        return
    arg = " ".join(context.args or []).strip()
    if arg.lower() == "chart":
        await send_chart(update, context, who)
        return
    await show_progress(update, context, who, arg or None)


async def overdue_command(update: Update, context: Context) -> None:
    who = await authorised(update, context, secretariat=True, private=True, private_only_key="ms.private_only")
    if who is None:
        return
    services = svc(context)
    template = _template(context)
    now = services.clock.now()
    iso3s = None
    arg = " ".join(context.args or []).strip()
    if arg:
        resolved = services.countries.resolve_circle(arg)
        if resolved is None:
            await reply(update, context, t(context, who, "ms.progress.unknown", text=arg[:40]))
            return
        iso3s = resolved[1]
    overdue = await services.store.run(ms.overdue_by_country, template, services.countries, now, iso3s)
    today = now.date().isoformat()
    if not overdue:
        await reply(update, context, t(context, who, "ms.overdue.none", date=today))
        return
    count = sum(len(v) for v in overdue.values())
    lines = [t(context, who, "ms.overdue.title", count=count, countries=len(overdue), date=today)]
    ordered = sorted(overdue.items(), key=lambda item: services.countries.name(item[0], who.lang).casefold())
    if len(overdue) > OVERDUE_DETAIL_COUNTRIES:
        # many countries: one line each (step numbers), with the step titles once
        shown = sorted({s.step.order for steps in overdue.values() for s in steps})
        legend = "; ".join(f"{n}. {_short(template.by_order(n).title_in(who.lang), 40)}" for n in shown)
        lines += [t(context, who, "ms.overdue.steps_legend", steps=legend), ""]
        for iso3, steps in ordered:
            local = ms.local_today(services.countries, iso3, now)
            lines.append(t(context, who, "ms.overdue.compact_line", iso3=iso3, name=services.countries.name(iso3, who.lang),
                           steps=", ".join(str(s.step.order) for s in steps), days=max((local - s.due).days for s in steps)))
        lines += ["", t(context, who, "ms.overdue.hint")]
    else:
        for iso3, steps in ordered:
            local = ms.local_today(services.countries, iso3, now)
            lines.append("")
            lines.append(f"<b>{html.escape(services.countries.name(iso3, who.lang))}</b> ({iso3})")
            for s in steps:
                lines.append(t(context, who, "ms.overdue.line", order=s.step.order, title=_short(s.step.title_in(who.lang), TITLE_IN_LIST),
                               due=_date(s.due), days=(local - s.due).days))
    await reply(update, context, "\n".join(lines))


# -- /export milestones (dispatched by the shared /export command) ---------------------------

async def export_milestones_command(update: Update, context: Context) -> None:
    """Send the secretariat every country's milestones as a CSV document (``/export milestones``)."""
    who = await authorised(update, context, secretariat=True, private=True, private_only_key="ms.private_only")
    if who is None:
        return
    services = svc(context)
    template = _template(context)
    text = await services.store.run(ms.export_milestones_csv, template, services.countries)
    today = services.clock.now().date().isoformat()
    caption = t(context, who, "ms.export.caption", countries=len(services.countries), steps=len(template), date=today)
    await context.bot.send_document(update.effective_chat.id, document=text.encode("utf-8"),
                                    filename=f"ldn-milestones-{today}.csv", caption=caption)


# -- wiring -------------------------------------------------------------------------------

async def on_startup(application) -> None:
    """Record the template's steps in the database (steps added to the template appear, nothing is lost)."""
    services = application.bot_data["services"]
    template = ms.get_template(services)
    result = await services.store.run(ms.sync_template, template, services.clock.now())
    log.info("milestones.template", extra={"steps": len(template), **result})


def handlers():
    private = filters.ChatType.PRIVATE
    return [
        (GROUP_COMMANDS, CommandHandler("checklist", checklist_command)),
        (GROUP_COMMANDS, CommandHandler("progress", progress_command)),
        (GROUP_COMMANDS, CommandHandler("overdue", overdue_command)),
        (GROUP_COMMANDS, CommandHandler("due", due_command)),
        (GROUP_COMMANDS, CallbackQueryHandler(button, pattern=r"^v1:ms:")),
        (GROUP_INPUT, MessageHandler(private & filters.UpdateType.MESSAGE & (filters.Document.ALL | filters.PHOTO) & AWAITING_EVIDENCE,
                                     evidence_file)),
    ]
