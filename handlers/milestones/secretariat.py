"""The secretariat's views of every country: ``/progress [region|pilots|ISO3|chart]``,
``/overdue [region|pilots|ISO3]`` (both: the counts and the worst cases, then pages, see
:mod:`handlers.paging`) and :func:`export_milestones_command` (wired to
``/export milestones`` by the shared /export)."""
from __future__ import annotations

import asyncio
import datetime as dt
import html

from telegram import Update

from bot import milestones as ms
from bot.i18n import Raw
from bot.roles import Person
from handlers import paging
from handlers.common import Context, authorised, cb, edit_or_reply, reply, svc, t
from handlers.milestones.checklist import FEATURE, TITLE_IN_LIST, bar, day, percent, short, show_checklist, template_of
from knowledge.countries import REGION_ALIASES
from knowledge.vocabulary import MilestoneAction

OVERDUE_PAGE = 8    # countries per page of /overdue (each with its late steps)
OVERDUE_TOP = 5     # steps and countries named in the summary above the page
PROGRESS_PAGE = 12  # countries per page of /progress
ALL = "all"
OVERVIEW = "overview"
# The names the /progress chart lines below use (kept as they were: they are being rewritten).
_template = template_of
_percent = percent


# -- the circle a list is about -------------------------------------------------------------

def _circle_name(context: Context, who: Person, key: str) -> str:
    services = svc(context)
    if key.startswith("annex:"):
        return " + ".join(t(context, who, f"ms.region.{a}") for a in key[len("annex:"):].split("+"))
    if key.startswith("group:"):
        return t(context, who, f"ms.group.{key[len('group:'):]}")
    if key in ("pilots", "all"):
        return t(context, who, f"ms.region.{key}")
    return services.countries.name(key, who.lang)


def circle_token(key: str) -> str:
    """A circle (``annex:III``, ``annex:IV+V``, ``group:nmed_cee``, ``pilots``, ``KEN``) as a page
    button names it: short, without ":", and read back to the same circle by ``resolve_circle``."""
    if key.startswith("annex:"):
        annexes = tuple(key[len("annex:"):].split("+"))
        if len(annexes) == 1:
            return annexes[0]
        return next((alias for alias, found in REGION_ALIASES.items() if found == annexes), ALL)
    return key.removeprefix("group:")


def _resolve(context: Context, arg: str) -> tuple[str, list[str] | None] | None:
    """``(circle, ISO3 list)`` of a typed or pressed circle (``all``: every country, None)."""
    if arg in (ALL, OVERVIEW):
        return ALL, None
    return svc(context).countries.resolve_circle(arg)


async def _unknown(update: Update, context: Context, who: Person, arg: str, command: str, edit: bool) -> None:
    if edit:  # a button's circle that is no longer one: forged, or from another version
        await paging.refuse_stale(update, context, who, command)
    else:
        await reply(update, context, t(context, who, "ms.progress.unknown", text=arg[:40]))


# -- /progress -------------------------------------------------------------------------------

def _group_line(context: Context, who: Person, name: str, group: ms.GroupProgress) -> str:
    line = t(context, who, "ms.progress.line", bar=bar(group.share), percent=percent(group.share), name=name,
             count=len(group.countries))
    if group.overdue:
        line += f" · ⚠️ {group.overdue}"
    return line


def _counts_line(context: Context, who: Person, name: str, counts: ms.RegionCounts) -> str:
    group = counts.group
    return t(context, who, "ms.progress.region_counts", bar=bar(group.share), percent=percent(group.share), name=name,
             countries=len(group.countries), done=counts.done, under_way=counts.under_way,
             not_started=counts.not_started, late=counts.late)


def _country_line(context: Context, who: Person, c: ms.CountryProgress) -> str:
    line = t(context, who, "ms.progress.country_line", bar=bar(c.share), done=c.done, applicable=c.applicable,
             iso3=c.iso3, name=svc(context).countries.name(c.iso3, who.lang))
    return line + (f" · ⚠️ {c.overdue}" if c.overdue else "")


def _progress_head(context: Context, who: Person, title: str, total: ms.GroupProgress) -> list[str]:
    lines = [title, t(context, who, "ms.progress.totals", done=total.done, applicable=total.applicable,
                      percent=percent(total.share), complete=total.complete_countries)]
    if total.overdue:
        lines.append(t(context, who, "ms.progress.overdue", count=total.overdue,
                       countries=Raw(t(context, who, "ms.n.countries", count=total.overdue_countries))))
    return lines


def progress_screen(context: Context, who: Person, key: str, report: ms.ProgressReport, today: dt.date, page: int) -> paging.Screen:
    """The counts (by region, the least advanced first), then a page of countries, the least advanced first."""
    progress = report.progress
    total = progress.total
    shown = paging.paginate(report.countries, page, PROGRESS_PAGE)
    if key == ALL:
        summary = _progress_head(context, who, t(context, who, "ms.progress.title", count=len(total.countries),
                                                 date=today.isoformat()), total)
        summary += ["", t(context, who, "ms.progress.by_region"), t(context, who, "ms.progress.legend")]
        summary += [_counts_line(context, who, t(context, who, f"ms.region.{r.group.key}"), r) for r in report.regions]
        summary += ["", t(context, who, "ms.progress.by_group"),
                    _group_line(context, who, t(context, who, "ms.region.pilots"), progress.pilots),
                    _group_line(context, who, t(context, who, "ms.region.others"), progress.others)]
        regions = [(t(context, who, f"ms.region.{g.key}").split(" (")[0].split("（")[0], cb(FEATURE, MilestoneAction.PROGRESS, g.key))
                   for g in progress.by_annex]
        regions.append((t(context, who, "ms.region.pilots"), cb(FEATURE, MilestoneAction.PROGRESS, "pilots")))
        buttons = [regions[i:i + 2] for i in range(0, len(regions), 2)]
        buttons.append([(t(context, who, "ms.btn.chart"), cb(FEATURE, MilestoneAction.CHART))])
    else:
        name = _circle_name(context, who, key)
        summary = _progress_head(context, who, t(context, who, "ms.progress.circle_title", name=name, count=len(total.countries),
                                                 date=today.isoformat()), total)
        summary += [t(context, who, "ms.progress.legend")]  # by region: a circle may span several (pilots, Europe)
        summary += [_counts_line(context, who, t(context, who, f"ms.region.{r.group.key}"), r) for r in report.regions]
        buttons = [[(t(context, who, "ms.btn.overview"), cb(FEATURE, MilestoneAction.PROGRESS, OVERVIEW))]]
    token = circle_token(key)
    return paging.Screen(
        summary=summary, rows_title=t(context, who, "ms.progress.least_first"),
        rows=[_country_line(context, who, c) for c in shown.rows], page=shown,
        nav=paging.nav_row(context, who, shown, lambda i: cb(FEATURE, MilestoneAction.PROGRESS_PAGE, token, i)),
        footer=[t(context, who, "ms.progress.hint")] if key == ALL else [], buttons=buttons,
        page_key="ms.progress.page")


async def show_progress(update: Update, context: Context, who: Person, arg: str | None, *, edit: bool = False,
                        page: int = 0) -> None:
    services = svc(context)
    now = services.clock.now()
    resolved = _resolve(context, arg or ALL)
    if resolved is None:
        await _unknown(update, context, who, arg or "", "/progress", edit)
        return
    key, iso3s = resolved
    if iso3s is not None and len(iso3s) == 1 and key == iso3s[0]:
        await show_checklist(update, context, who, key, edit=edit)
        return
    report = await services.store.run(ms.progress_report, template_of(context), services.countries, now, iso3s)
    await paging.show(update, context, who, progress_screen(context, who, key, report, now.date(), page), edit=edit)


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


# -- /overdue ----------------------------------------------------------------------------------

async def overdue_command(update: Update, context: Context) -> None:
    who = await authorised(update, context, secretariat=True, private=True, private_only_key="ms.private_only")
    if who is None:
        return
    arg = " ".join(context.args or []).strip()
    await show_overdue(update, context, who, arg or ALL, 0)


def overdue_summary(context: Context, who: Person, report: ms.OverdueReport) -> list[str]:
    """The counts first: per step, per region, then the countries furthest behind."""
    services = svc(context)
    template = template_of(context)
    lines = [t(context, who, "ms.overdue.by_step")]
    for order, n in report.by_step[:OVERDUE_TOP]:
        lines.append(t(context, who, "ms.overdue.step_count", order=order, count=n,
                       title=short(template.by_order(order).title_in(who.lang), TITLE_IN_LIST)))
    if len(report.by_region) > 1:
        lines.append(t(context, who, "ms.overdue.by_region", regions=Raw(" · ".join(
            f"{html.escape(t(context, who, f'ms.region.{annex}'))} {n}" for annex, n in report.by_region))))
    lines.append(t(context, who, "ms.overdue.worst", countries=Raw(", ".join(
        f"{html.escape(services.countries.name(c.iso3, who.lang))} ({len(c.steps)})" for c in report.worst[:OVERDUE_TOP]))))
    return lines


def _late_rows(context: Context, who: Person, country: ms.LateCountry) -> list[str]:
    name = svc(context).countries.name(country.iso3, who.lang)
    rows = [f"<b>{html.escape(name)}</b> ({country.iso3})"]
    for s, days in zip(country.steps, country.days_late, strict=True):
        rows.append(t(context, who, "ms.overdue.line", order=s.step.order, title=short(s.step.title_in(who.lang), TITLE_IN_LIST),
                      due=day(s.due), count=days))
    return rows


async def show_overdue(update: Update, context: Context, who: Person, arg: str, page: int, *, edit: bool = False) -> None:
    """/overdue [circle]: the counts and the worst cases, then one page of countries (by name) with buttons."""
    services = svc(context)
    now = services.clock.now()
    resolved = _resolve(context, arg)
    if resolved is None:
        await _unknown(update, context, who, arg, "/overdue", edit)
        return
    key, iso3s = resolved
    report = await services.store.run(ms.overdue_report, template_of(context), services.countries, now, iso3s)
    today = now.date().isoformat()
    if not report.countries:
        text = t(context, who, "ms.overdue.none", date=today)
        await (edit_or_reply(update, context, text) if edit else reply(update, context, text))
        return
    summary = [t(context, who, "ms.overdue.title", steps=report.steps, count=len(report.countries), date=today)]
    if len(report.countries) > 1:
        summary += overdue_summary(context, who, report)
    ordered = sorted(report.countries, key=lambda c: services.countries.name(c.iso3, who.lang).casefold())
    shown = paging.paginate(ordered, page, OVERDUE_PAGE)
    rows: list[str] = []
    for country in shown.rows:
        rows += ([""] if rows else []) + _late_rows(context, who, country)
    token = circle_token(key)
    await paging.show(update, context, who, paging.Screen(
        summary=summary, rows=rows, page=shown, footer=[t(context, who, "ms.overdue.hint")], page_key="ms.overdue.page",
        nav=paging.nav_row(context, who, shown, lambda i: cb(FEATURE, MilestoneAction.OVERDUE, token, i))), edit=edit)


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
