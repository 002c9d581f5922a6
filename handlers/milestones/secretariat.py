"""The secretariat's views of every country: ``/progress [region|pilots|ISO3|chart]``,
``/overdue [region|pilots|ISO3]`` and :func:`export_milestones_command` (wired to
``/export milestones`` by the shared /export)."""
from __future__ import annotations

import asyncio
import datetime as dt
import html

from telegram import Update

from bot import milestones as ms
from bot.i18n import Raw
from bot.roles import Person
from handlers.common import Context, authorised, cb, edit_or_reply, keyboard, reply, svc, t
from handlers.milestones.checklist import FEATURE, TITLE_IN_LIST, bar, day, percent, short, show_checklist, template_of
from knowledge.vocabulary import MilestoneAction

OVERDUE_PAGE = 8   # countries per page of /overdue (each with its late steps)
OVERDUE_TOP = 5    # steps and countries named in the summary above the page
ALL = "all"
OVERVIEW = "overview"
# The names the /progress chart lines below use (kept as they were: they are being rewritten).
_template = template_of
_percent = percent


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
    line = t(context, who, "ms.progress.line", bar=bar(group.share), percent=percent(group.share), name=name,
             count=len(group.countries))
    if group.overdue:
        line += f" · ⚠️ {group.overdue}"
    return line


def progress_overview_text(context: Context, who: Person, progress: ms.Progress, today: dt.date) -> str:
    total = progress.total
    lines = [t(context, who, "ms.progress.title", count=len(total.countries), date=today.isoformat()),
             t(context, who, "ms.progress.totals", done=total.done, applicable=total.applicable,
               percent=percent(total.share), complete=total.complete_countries)]
    if total.overdue:
        lines.append(t(context, who, "ms.progress.overdue", count=total.overdue,
                       countries=Raw(t(context, who, "ms.n.countries", count=total.overdue_countries))))
    lines += ["", t(context, who, "ms.progress.by_region")]
    lines += [_group_line(context, who, t(context, who, f"ms.region.{g.key}"), g) for g in progress.by_annex]
    lines += ["", t(context, who, "ms.progress.by_group"),
              _group_line(context, who, t(context, who, "ms.region.pilots"), progress.pilots),
              _group_line(context, who, t(context, who, "ms.region.others"), progress.others),
              "", t(context, who, "ms.progress.hint")]
    return "\n".join(lines)


def progress_overview_markup(context: Context, who: Person, progress: ms.Progress):
    buttons = [(t(context, who, f"ms.region.{g.key}").split(" (")[0].split("（")[0], cb(FEATURE, MilestoneAction.PROGRESS, g.key)) for g in progress.by_annex]
    buttons.append((t(context, who, "ms.region.pilots"), cb(FEATURE, MilestoneAction.PROGRESS, "pilots")))
    rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
    rows.append([(t(context, who, "ms.btn.chart"), cb(FEATURE, MilestoneAction.CHART))])
    return keyboard(rows)


def progress_circle_text(context: Context, who: Person, name: str, progress: ms.Progress, today: dt.date) -> str:
    services = svc(context)
    total = progress.total
    lines = [t(context, who, "ms.progress.circle_title", name=name, count=len(total.countries), date=today.isoformat()),
             t(context, who, "ms.summary", done=total.done, applicable=total.applicable, percent=percent(total.share))]
    if total.overdue:
        lines.append(t(context, who, "ms.progress.overdue", count=total.overdue,
                       countries=Raw(t(context, who, "ms.n.countries", count=total.overdue_countries))))
    lines.append("")
    for c in sorted(progress.countries, key=lambda c: (-c.share, -c.done, c.iso3)):
        line = t(context, who, "ms.progress.country_line", bar=bar(c.share), done=c.done, applicable=c.applicable,
                 iso3=c.iso3, name=services.countries.name(c.iso3, who.lang))
        if c.overdue:
            line += f" · ⚠️ {c.overdue}"
        lines.append(line)
    return "\n".join(lines)


async def show_progress(update: Update, context: Context, who: Person, arg: str | None, *, edit: bool = False) -> None:
    services = svc(context)
    template = template_of(context)
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
        markup = keyboard([[(t(context, who, "ms.btn.overview"), cb(FEATURE, MilestoneAction.PROGRESS, OVERVIEW))]])
    if edit:
        await edit_or_reply(update, context, text, markup=markup)
    else:
        await reply(update, context, text, markup=markup)


async def send_chart(update: Update, context: Context, who: Person) -> None:
    from bot.progress_chart import render_region_charts  # matplotlib loads on the first chart, not at start-up

    services = svc(context)
    now = services.clock.now()
    states = await services.store.run(ms.all_states, _template(context), services.countries, now)
    charts = await asyncio.to_thread(render_region_charts, states, services.countries, services.i18n, who.lang, now)
    if update.effective_chat is None:
        return
    for chart in charts:  # one phone-sized heatmap per region
        caption = t(context, who, "ms.chart.caption", region=t(context, who, f"ms.region.{chart.annex}"),
                    done=chart.done, applicable=chart.applicable, percent=_percent(chart.share), overdue=chart.overdue)
        await context.bot.send_photo(update.effective_chat.id, photo=chart.png, caption=caption)


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
    arg = " ".join(context.args or []).strip()
    await show_overdue(update, context, who, arg or ALL, 0)


def _step_counts(overdue: dict[str, list[ms.StepState]]) -> list[tuple[int, int]]:
    """(step order, countries late on it), the most common first."""
    counts: dict[int, int] = {}
    for steps in overdue.values():
        for s in steps:
            counts[s.step.order] = counts.get(s.step.order, 0) + 1
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def overdue_summary(context: Context, who: Person, overdue: dict[str, list[ms.StepState]], now: dt.datetime) -> list[str]:
    """The counts first: per step, per region, then the countries furthest behind."""
    services = svc(context)
    template = template_of(context)
    lines = [t(context, who, "ms.overdue.by_step")]
    for order, n in _step_counts(overdue)[:OVERDUE_TOP]:
        lines.append(t(context, who, "ms.overdue.step_count", order=order, count=n,
                       title=short(template.by_order(order).title_in(who.lang), TITLE_IN_LIST)))
    regions: dict[str, int] = {}
    for iso3 in overdue:
        country = services.countries.get(iso3)
        if country is not None:
            regions[country.annex] = regions.get(country.annex, 0) + 1
    if len(regions) > 1:
        lines.append(t(context, who, "ms.overdue.by_region", regions=Raw(" · ".join(
            f"{html.escape(t(context, who, f'ms.region.{annex}'))} {n}" for annex, n in sorted(regions.items(), key=lambda i: (-i[1], i[0]))))))
    worst = sorted(overdue.items(), key=lambda item: (-len(item[1]), -_late(services, item[0], item[1], now), item[0]))
    lines.append(t(context, who, "ms.overdue.worst", countries=Raw(", ".join(
        f"{html.escape(services.countries.name(iso3, who.lang))} ({len(steps)})" for iso3, steps in worst[:OVERDUE_TOP]))))
    return lines


def _late(services, iso3: str, steps: list[ms.StepState], now: dt.datetime) -> int:
    local = ms.local_today(services.countries, iso3, now)
    return max(_days_late(local, s) for s in steps)


def _days_late(local: dt.date, step: ms.StepState) -> int:
    """How many days past its due date ``step`` is on the country's ``local`` day (an overdue step has one)."""
    return (local - step.due).days if step.due is not None else 0


async def show_overdue(update: Update, context: Context, who: Person, arg: str, page: int, *, edit: bool = False) -> None:
    """/overdue [circle]: the counts and the worst cases, then one page of countries with buttons."""
    services = svc(context)
    template = template_of(context)
    now = services.clock.now()
    iso3s = None
    if arg != ALL:
        resolved = services.countries.resolve_circle(arg)
        if resolved is None:
            await reply(update, context, t(context, who, "ms.progress.unknown", text=arg[:40]))
            return
        iso3s = resolved[1]
    overdue = await services.store.run(ms.overdue_by_country, template, services.countries, now, iso3s)
    today = now.date().isoformat()
    if not overdue:
        text = t(context, who, "ms.overdue.none", date=today)
        await (edit_or_reply(update, context, text) if edit else reply(update, context, text))
        return
    count = sum(len(v) for v in overdue.values())
    lines = [t(context, who, "ms.overdue.title", steps=count, count=len(overdue), date=today)]
    ordered = sorted(overdue.items(), key=lambda item: services.countries.name(item[0], who.lang).casefold())
    pages = max(1, -(-len(ordered) // OVERDUE_PAGE))
    page = min(max(page, 0), pages - 1)
    if len(overdue) > 1:
        lines += overdue_summary(context, who, overdue, now)
    for iso3, steps in ordered[page * OVERDUE_PAGE:(page + 1) * OVERDUE_PAGE]:
        local = ms.local_today(services.countries, iso3, now)
        lines.append("")
        lines.append(f"<b>{html.escape(services.countries.name(iso3, who.lang))}</b> ({iso3})")
        for s in steps:
            lines.append(t(context, who, "ms.overdue.line", order=s.step.order, title=short(s.step.title_in(who.lang), TITLE_IN_LIST),
                           due=day(s.due), count=_days_late(local, s)))
    if pages > 1:
        lines += ["", t(context, who, "ms.overdue.page", page=page + 1, pages=pages)]
    lines += ["", t(context, who, "ms.overdue.hint")]
    rows = []
    if pages > 1:
        nav = []
        if page > 0:
            nav.append(("◀️", cb(FEATURE, MilestoneAction.OVERDUE, arg, page - 1)))
        nav.append((f"{page + 1}/{pages}", cb(FEATURE, MilestoneAction.OVERDUE, arg, page)))
        if page < pages - 1:
            nav.append(("▶️", cb(FEATURE, MilestoneAction.OVERDUE, arg, page + 1)))
        rows.append(nav)
    markup = keyboard(rows) if rows else None
    text = "\n".join(lines)
    if edit:
        await edit_or_reply(update, context, text, markup=markup)
    else:
        await reply(update, context, text, markup=markup)


# -- /export milestones (dispatched by the shared /export command) ---------------------------

async def export_milestones_command(update: Update, context: Context) -> None:
    """Send the secretariat every country's milestones as a CSV document (``/export milestones``)."""
    who = await authorised(update, context, secretariat=True, private=True, private_only_key="ms.private_only")
    if who is None:
        return
    services = svc(context)
    template = template_of(context)
    text = await services.store.run(ms.export_milestones_csv, template, services.countries)
    today = services.clock.now().date().isoformat()
    caption = t(context, who, "ms.export.caption", countries=len(services.countries), steps=len(template), date=today)
    if update.effective_chat is None:
        return
    await context.bot.send_document(update.effective_chat.id, document=text.encode("utf-8"),
                                    filename=f"ldn-milestones-{today}.csv", caption=caption)
