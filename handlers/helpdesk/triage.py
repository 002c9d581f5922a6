"""The experts' and the secretariat's commands: /queue, /query N, /assign, /priority, /tag,
/stats and /export. They work in private chats and in the experts' chat (nowhere else: a
query's content stays among the experts and its asker)."""
from __future__ import annotations

import html
import io

from telegram import InputFile, Update

from bot.helpdesk import lifecycle, relay, reports, triage
from bot.helpdesk.lifecycle import Change, Refusal
from bot.helpdesk.rules import MAX_TAGS, PRIORITIES, QueueFilter, normalise_tag, parse_queue_args, snippet
from bot.roles import Person
from bot.services import Services
from handlers import paging
from handlers.common import Context, clip, command_args, message_of, person, person_from_row, reply, t
from handlers.helpdesk.outbox import refresh_card
from handlers.helpdesk.render import (STATE_ICONS, age, button, card_markup, fmt_time, hours_text, name_of, render_card,
                                      state_label)
from handlers.helpdesk.settings import content_allowed, now, number, settings
from handlers.milestones import export_milestones_command
from knowledge.isotime import parse_instant
from knowledge.vocabulary import ACTIVE_STATES, QUERY_STATES, HelpdeskAction

REGION_KEYS = ("I", "II", "III", "IV", "V")
#: Words of /assign that mean "me" and "nobody" (in the six languages people type them in).
ME = ("me", "moi", "yo", "я", "我")
NOBODY = ("none", "-", "nobody")
#: What a relayed answer's status shows in an expert's /query view.
UNDELIVERED = ("blocked", "failed", "held", "undeliverable")
EXPORT_TOPICS = ("milestones", "milestone", "checklist")
#: Events of the history that change a value from one to another (shown "before → after").
CHANGES = ("state", "priority", "assign")


def may_view(who: Person, query: dict) -> bool:
    """Experts see every query; a focal point only their own country's (never another's)."""
    if who.is_expert:
        return True
    return who.is_focal_point and query.get("country") == who.country


async def _staff_guard(update: Update, context: Context, who: Person) -> bool:
    """True (after answering) when the command must not run here for this user."""
    if not who.is_expert:
        await reply(update, context, t(context, who, "error.not_allowed"))
        return True
    if not content_allowed(update, context.services):
        await reply(update, context, t(context, who, "hd.private_or_experts"))
        return True
    return False


async def _query_arg(update: Update, context: Context, who: Person, usage_key: str) -> dict | None:
    args = command_args(context)
    qid = number(args[0]) if args else None
    if qid is None:
        await reply(update, context, t(context, who, usage_key))
        return None
    query = await context.services.store.read(relay.get_query, qid)
    if query is None or not may_view(who, query):
        await reply(update, context, t(context, who, "hd.not_found", n=qid))
        return None
    return query


async def staff_query(update: Update, context: Context, usage_key: str) -> tuple[Person, dict] | None:
    """``(who, query)`` for a staff command on the query named by its first argument, or
    None after answering why not (not staff, wrong chat, no number, no such query)."""
    who = await person(update, context)
    if who is None or await _staff_guard(update, context, who):
        return None
    query = await _query_arg(update, context, who, usage_key)
    return None if query is None else (who, query)


# -- /query N ------------------------------------------------------------------------------------


def _value(context: Context, who: Person, kind: str, value, names: dict) -> str:
    """One side of a change in the history, in words: a person's name, a state, a priority."""
    if value is None or value == "":
        return t(context, who, "common.none")
    text = str(value)
    if kind == "assign" and text.lstrip("-").isdigit():
        return name_of(names.get(int(text)), text)
    if kind in ("state", "created") and f"hd.state.{text}" in context.services.i18n:
        return t(context, who, f"hd.state.{text}")
    if kind == "priority" and f"hd.priority.{text}" in context.services.i18n:
        return t(context, who, f"hd.priority.{text}")
    return text


def _event_line(context: Context, who: Person, e: dict, names: dict) -> str:
    actor = name_of(names.get(e["actor_id"])) if e.get("actor_id") else t(context, who, "hd.actor_bot")
    change = ""
    sides = [e.get("from_value"), e.get("to_value")]
    if e["kind"] not in CHANGES:  # a query asked, a tag added or removed: the one value, not "— → new"
        sides = [v for v in sides if v is not None and v != ""][:1]
    if any(v is not None for v in sides):
        change = ": " + " → ".join(html.escape(_value(context, who, e["kind"], v, names)) for v in sides)
    key = f"hd.event.{e['kind']}"
    label = t(context, who, key) if key in context.services.i18n else e["kind"]
    return f"<i>{fmt_time(e['at'])}</i> · {html.escape(actor)} · {html.escape(label)}{change}"


async def show_query(update: Update, context: Context, who: Person, query: dict) -> None:
    """The thread (and, for experts, the audit trail) of one query."""
    services = context.services
    lang, qid = who.lang, query["id"]
    view = await services.store.read(triage.thread, query, who.is_expert)
    by_message = {(f["chat_id"], f["message_id"]): f for f in view.files}
    if who.is_expert:
        head = render_card(services, relay.Card(query, view.names, len(view.files)), lang, text_limit=1500)
    else:
        head = t(context, who, "hd.view_head", n=qid, state=state_label(services, lang, query["state"]),
                 date=fmt_time(query["created_at"]), text=query["text"])
    parts = [head, t(context, who, "hd.thread_title")]
    first_text_skipped = False
    for row in view.messages:
        if row["role"] == "asker" and not first_text_skipped and (row.get("text") or "") == query["text"]:
            first_text_skipped = True
            continue
        if row["role"] == "expert":
            author = name_of(view.names.get(row["author_id"])) if who.is_expert else t(context, who, "hd.role.expert")
            if who.is_expert and row.get("delivery_status") in UNDELIVERED:
                author += " " + t(context, who, f"hd.delivery.{row['delivery_status']}")
        else:
            author = t(context, who, "hd.role.asker")
        body = html.escape(snippet(row.get("text") or "", 600)) if row.get("text") else ""
        item = by_message.get((row["chat_id"], row["message_id"]))
        if item:
            body = (body + " " if body else "") + "📎 " + html.escape(item.get("file_name") or item["kind"])
        parts.append(f"<i>{fmt_time(row['created_at'])}</i> · <b>{html.escape(author)}</b>: {body or '…'}")
    if len(parts) == 2:
        parts.append(t(context, who, "hd.thread_empty"))
    if who.is_expert and view.events:
        parts.append(t(context, who, "hd.history_title"))
        parts.extend(_event_line(context, who, e, view.names) for e in view.events)
    markup = card_markup(services, lang, query) if who.is_expert else None
    await reply(update, context, "\n".join(parts), markup=markup)


async def query_command(update: Update, context: Context) -> None:
    who = await person(update, context)
    if who is None:
        return
    if not (who.is_expert or who.is_focal_point):
        await reply(update, context, t(context, who, "error.need_registration"))
        return
    if not content_allowed(update, context.services):
        await reply(update, context, t(context, who, "hd.private_or_experts"))
        return
    query = await _query_arg(update, context, who, "hd.usage_query")
    if query is not None:
        await show_query(update, context, who, query)


# -- /queue -----------------------------------------------------------------------------------------


def _view_name(services: Services, lang: str, view: str) -> str:
    if view in QUERY_STATES:
        return services.t(lang, f"hd.state.{view}")
    return services.t(lang, f"hd.view.{view}")


def _queue_summary(context: Context, who: Person, found: triage.QueueOverview) -> list[str]:
    """Overdue first (the oldest named), then the counts by state and by priority."""
    services = context.services
    lines = []
    if found.overdue:
        moment = now(services)
        oldest = ", ".join(" ".join(x for x in (f"#{q['id']}", q.get("country"), f"({age(services, who.lang, q['created_at'], moment)})") if x)
                           for q in found.oldest_overdue)
        lines.append(t(context, who, "hd.queue_overdue", overdue=found.overdue, queries=oldest))
    if found.by_state:
        lines.append(t(context, who, "hd.queue_by_state", states=" · ".join(
            f"{STATE_ICONS.get(s, '')} {t(context, who, f'hd.state.{s}')} {n}" for s, n in found.by_state.items())))
    if found.by_priority:
        lines.append(t(context, who, "hd.queue_by_priority", priorities=" · ".join(
            f"{t(context, who, f'hd.priority.{p}')} {found.by_priority[p]}" for p in reversed(PRIORITIES) if p in found.by_priority)))
    return lines


async def queue_screen(context: Context, who: Person, flt: QueueFilter, page: int) -> paging.Screen:
    """/queue [view] [ISO3] [tag]: the counts, overdue first, then a page of queries (newest first)."""
    services = context.services
    lang = who.lang
    size = settings(services).queue_page_size
    found = await services.store.read(triage.queue_overview, flt, who.user_id, size, page)
    rows = found.page.rows
    shown = paging.counted(rows, found.number - 1, size, found.page.total)
    label = " · ".join(x for x in (_view_name(services, lang, flt.view), flt.country, f"#{flt.tag}" if flt.tag else None) if x)
    summary = [t(context, who, "hd.queue_title", filter=label, total=found.page.total)]
    if not rows:
        return paging.Screen(summary + [t(context, who, "hd.queue_empty")], [], shown)
    summary += _queue_summary(context, who, found)
    moment = now(services)
    lines = []
    for q in rows:
        assignee = f" · 👤 {name_of(found.page.names.get(q['assignee_id']))}" if q.get("assignee_id") else ""
        overdue = " ⚠️" if q.get("overdue") and q["state"] in ACTIVE_STATES else ""
        lines.append(t(context, who, "hd.queue_line", n=q["id"], icon=STATE_ICONS.get(q["state"], ""), country=q.get("country") or "—",
                       priority=t(context, who, f"hd.priority.{q['priority']}"), age=age(services, lang, q["created_at"], moment),
                       text=clip(snippet(q["text"], 200), 50), extra=assignee + overdue))
    buttons = [(f"#{q['id']}", button(HelpdeskAction.SHOW_QUERY, q["id"])) for q in rows]
    return paging.Screen(
        summary, lines, shown, rows_title=t(context, who, "hd.queue_newest") if len(summary) > 1 else None,
        buttons=[buttons[i:i + 4] for i in range(0, len(buttons), 4)], page_key="hd.queue_page",
        nav=paging.nav_row(context, who, shown, lambda i: button(HelpdeskAction.QUEUE_PAGE, i + 1, flt.encode())))


def _country_code(services: Services, code: str) -> str | None:
    country = services.countries.get(code)
    return country.iso3 if country else None


async def queue_command(update: Update, context: Context) -> None:
    who = await person(update, context)
    if who is None or await _staff_guard(update, context, who):
        return
    services = context.services
    flt, bad = parse_queue_args(context.args or [], lambda code: _country_code(services, code))
    if flt is None:
        await reply(update, context, t(context, who, "hd.queue_bad_arg", word=bad))
        return
    await paging.show(update, context, who, await queue_screen(context, who, flt, 1))


# -- /assign /priority /tag ---------------------------------------------------------------------------


async def _command_result(update: Update, context: Context, who: Person, change: Change, key: str, **kwargs) -> None:
    query = change.query
    if not change.ok or query is None:
        if change.reason is Refusal.SAME:
            await reply(update, context, t(context, who, "hd.unchanged"))
        elif change.reason is Refusal.CLOSED and query is not None:
            await reply(update, context, t(context, who, "hd.is_closed", n=query["id"]))
        else:
            await reply(update, context, t(context, who, "error.stale_button"))
        return
    await reply(update, context, t(context, who, key, n=query["id"], **kwargs))
    await refresh_card(context.bot, context.services, query["id"])


async def assign_command(update: Update, context: Context) -> None:
    found = await staff_query(update, context, "hd.usage_assign")
    if found is None:
        return
    who, query = found
    services = context.services
    args = command_args(context)
    target_text = args[1] if len(args) > 1 else "me"
    if target_text.lower() in ME:
        target_id, target_name = who.user_id, who.name
    elif target_text.lower() in NOBODY:
        target_id, target_name = None, t(context, who, "common.none")
    else:
        row = await services.store.read(triage.find_user, target_text, services.config.expert_ids)
        if row is None:
            await reply(update, context, t(context, who, "hd.unknown_user", who=target_text[:40]))
            return
        named = person_from_row(services, {"lang": None, "first_name": None, "username": None, "country": None, **row})
        if not named.is_expert:
            await reply(update, context, t(context, who, "hd.not_an_expert", name=name_of(row)))
            return
        target_id, target_name = row["user_id"], name_of(row)
    change = await services.store.run(lifecycle.assign, query["id"], target_id, who.user_id, now(services))
    await _command_result(update, context, who, change, "hd.assigned", name=target_name)


async def priority_command(update: Update, context: Context) -> None:
    found = await staff_query(update, context, "hd.usage_priority")
    if found is None:
        return
    who, query = found
    args = command_args(context)
    level = args[1].lower() if len(args) > 1 else ""
    if level not in PRIORITIES:
        await reply(update, context, t(context, who, "hd.usage_priority"))
        return
    change = await context.services.store.run(lifecycle.set_priority, query["id"], level, who.user_id, now(context.services))
    await _command_result(update, context, who, change, "hd.priority_set", priority=t(context, who, f"hd.priority.{level}"))


async def tag_command(update: Update, context: Context) -> None:
    found = await staff_query(update, context, "hd.usage_tag")
    if found is None:
        return
    who, query = found
    words = command_args(context)[1:]
    if not words:
        await reply(update, context, t(context, who, "hd.usage_tag"))
        return
    add: list[str] = []
    remove: list[str] = []
    for word in words[:MAX_TAGS]:
        tag = normalise_tag(word.lstrip("-+"))
        if tag is None:
            await reply(update, context, t(context, who, "hd.bad_tag", tag=word[:30]))
            return
        (remove if word.startswith("-") else add).append(tag)
    change = await context.services.store.run(lifecycle.retag, query["id"], add, remove, who.user_id, now(context.services))
    tags = " ".join(f"#{x}" for x in (change.after or [])) or t(context, who, "common.none")
    await _command_result(update, context, who, change, "hd.tags_set", tags=tags)


# -- /stats /export -----------------------------------------------------------------------------------


async def stats_command(update: Update, context: Context) -> None:
    who = await person(update, context)
    if who is None or await _staff_guard(update, context, who):
        return
    services = context.services
    lang = who.lang

    def region(iso3):
        country = services.countries.get(iso3)
        return country.annex if country else "-"

    st = await services.store.read(reports.load_stats, region)
    none = services.t(lang, "common.none")
    states = " · ".join(f"{services.t(lang, f'hd.state.{s}')} {st.by_state.get(s, 0)}" for s in QUERY_STATES)
    lines = [services.t(lang, "hd.stats_head", total=st.total, states=states, overdue=st.overdue,
                        first=hours_text(services, lang, st.overall.median_first_hours),
                        resolution=hours_text(services, lang, st.overall.median_resolution_hours),
                        rating=f"{st.rating_average:.2f}" if st.rating_average is not None else none, ratings=st.rating_count)]

    def group_line(name, g):
        return services.t(lang, "hd.stats_line", name=name, count=g.count, first=hours_text(services, lang, g.median_first_hours),
                          resolution=hours_text(services, lang, g.median_resolution_hours))

    if st.by_region:
        lines.append(services.t(lang, "hd.stats_regions"))
        for key, g in st.by_region.items():
            lines.append(group_line(services.t(lang, f"hd.region.{key}") if key in REGION_KEYS else none, g))
    if st.by_topic:
        lines.append(services.t(lang, "hd.stats_topics"))
        for key, g in list(st.by_topic.items())[:15]:
            lines.append(group_line(f"#{key}", g))
    await reply(update, context, "\n".join(lines))


async def export_command(update: Update, context: Context) -> None:
    """/export [DATE] → queries as CSV; /export milestones → the milestones (secretariat)."""
    if context.args and context.args[0].lower() in EXPORT_TOPICS:
        await export_milestones_command(update, context)
        return
    if context.args and context.args[0].lower() in ("queries", "query"):
        context.args = context.args[1:]
    who = await person(update, context)
    if who is None or await _staff_guard(update, context, who):
        return
    services = context.services
    since = None
    if context.args:
        try:
            since = parse_instant(context.args[-1])
        except ValueError:
            await reply(update, context, t(context, who, "hd.export_usage"))
            return
    text, rows = await services.store.read(reports.export_queries, since)
    stamp = now(services).strftime("%Y%m%d")
    document = InputFile(io.BytesIO(text.encode("utf-8-sig")), filename=f"ldn-helpdesk-queries-{stamp}.csv")
    message = message_of(update)
    thread = message.message_thread_id if message.is_topic_message and message.message_thread_id else None
    await context.bot.send_document(message.chat_id, document, caption=t(context, who, "hd.export_caption", count=rows),
                                    message_thread_id=thread)
