"""The knowledge service in chat: any private text is a question; /faq, /topics; feedback;
/reload and /gaps for the secretariat. Rendering of an answer is shared with groups and inline."""
from __future__ import annotations

import functools
import html
import logging
import math
import time

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot import faqstats
from bot.services import Services
from handlers import paging
from handlers.personal import everyone_text, personal_answer
from handlers.common import (GROUP_COMMANDS, authorised, MAX_QUESTION, Context, answer_button, cb, edit_or_reply,
                             is_private, keyboard, keyboard_json, parse_cb, person, reply, svc, t, user_data)
from knowledge.sources import localise_source
from knowledge.vocabulary import FaqAction
from knowledge.yamlfile import DataError

log = logging.getLogger("ldn.handlers.faq")
TOPICS_PER_PAGE = 8
GAPS_PAGE = 10  # questions per page of /gaps
VERSION_CHECK_SECONDS = 1.0


# -- rendering (also used by groups and inline mode) ------------------------------

def render_answer(services: Services, entry, lang: str, answer: str | None = None) -> str:
    """The answer in ``lang`` as safe HTML: question in bold, answer, source. ``answer``: the
    text resolved for the asker (handlers.personal); it is part of the key, as is everything."""
    text = entry.text(lang)
    answer = everyone_text(services, entry, lang) if answer is None else answer
    return remembered(services, "faq_html", (text.q, answer, entry.source, lang), lambda: (
        f"<b>{html.escape(text.q)}</b>\n\n{html.escape(answer.strip())}\n\n"
        f"<i>{services.t(lang, 'faq.source', source=localise_source(entry.source, lang))}</i>"))


def remembered(services: Services, name: str, key: tuple, build):
    """``build()`` once per ``key`` in a bounded table of ``services.faq_rendered``: the same few
    answers and their buttons are sent over and over. Keys hold everything the value is
    made of (texts, ids, language), so a changed FAQ entry is simply a new key."""
    table = services.faq_rendered.setdefault(name, {})
    value = table.get(key)
    if value is None:
        value = build()
        if len(table) >= 4096:
            table.clear()
        table[key] = value
    return value


def topic_name(services: Services, topic: str, lang: str) -> str:
    topics = services.faq_topics
    if topics is None:
        from knowledge.faq import load_topics

        try:
            topics = load_topics()
        except DataError:
            topics = {}
        services.faq_topics = topics
    names = topics.get(topic) or {}
    return names.get(lang) or names.get("en") or topic


async def search(services: Services, text: str, limit: int = 3):
    """FAQ hits for ``text`` (inline mode): see :func:`searched` for where it runs."""
    engine = services.search
    if engine is None:
        return []
    return await searched(services, lambda _db, offline=False: engine.search(text, limit=limit, offline=offline))


async def searched(services: Services, fn):
    """``fn(db, offline=...)`` run where it is cheapest.

    A search is CPU work on in-memory structures (about half a millisecond) except when
    it needs SQLite: the knowledge version, checked here at most every
    :data:`VERSION_CHECK_SECONDS` on the database thread, or an FTS5 term never fetched
    (``NeedsDatabase``). So it first runs on the event loop without SQLite, saving two
    thread switches, and goes to the database thread only when it has to.
    """
    from knowledge.search import NeedsDatabase

    await _check_version(services)
    try:
        return fn(None, offline=True)
    except NeedsDatabase:
        return await services.store.run(fn)


class ResultCache:
    """Recent questions and their results, per knowledge version.

    Focal points ask the same few questions again and again ("what is LDN", "baseline
    period"); a repeated question costs a dictionary look-up instead of a full hybrid
    search. Entries die with the knowledge version, so a reload is seen at once.
    """

    def __init__(self, size: int = 2048):
        from collections import OrderedDict

        self.size = size
        self.items: "OrderedDict[tuple, tuple]" = OrderedDict()

    def get(self, key: tuple):
        value = self.items.get(key)
        if value is not None:
            self.items.move_to_end(key)
        return value

    def put(self, key: tuple, value: tuple) -> None:
        self.items[key] = value
        if len(self.items) > self.size:
            self.items.popitem(last=False)


async def _check_version(services: Services) -> None:
    """Follow another process's ``faq reload`` or promotion: one tiny query, at most every
    :data:`VERSION_CHECK_SECONDS`."""
    now = time.monotonic()
    if now - services.faq_checked_at > VERSION_CHECK_SECONDS:
        engine = services.search
        await services.store.run(lambda _db: engine.refresh_if_changed())
        services.faq_checked_at = now


def _search_now(engine, question: str, _db=None, offline: bool = False) -> tuple:
    hits = engine.search(question, limit=3, offline=offline)
    return hits, (hits[0].score if hits else engine.best_score(question, offline=offline))


async def lookup(services: Services, who, question: str) -> tuple[list, float | None]:
    """Search the FAQ for ``question``; count the answer or log the miss. ``([], best)`` = abstain.

    A repeated question is answered from :class:`ResultCache`; new ones are searched as
    :func:`searched` says. The answer count or the miss goes to
    :class:`bot.faqstats.FaqStats`, written in batches.
    """
    engine = services.search
    if engine is None:
        return [], None
    await _check_version(services)
    if services.faq_results is None:
        services.faq_results = ResultCache()
    cache = services.faq_results
    key = (engine.version, " ".join(question.lower().split()))
    cached = cache.get(key)
    if cached is None:
        cached = await searched(services, functools.partial(_search_now, engine, question))
        cache.put(key, cached)
    hits, best = cached
    stats = services.faq_stats
    if hits:
        stats.count_answer(hits[0].id)
    else:
        stats.log_miss(question, lang=who.lang, best_score=best, country=who.country, user_id=who.user_id)
    await stats.flush_if_due()
    return hits, best


# -- answering a question -------------------------------------------------------

async def answer_question(update: Update, context: Context, question: str) -> None:
    """Answer from the FAQ (private or group); abstain with a way to an expert."""
    services = svc(context)
    who = await person(update, context)
    if who is None:
        return
    question = question.strip()
    if not any(ch.isprintable() and not ch.isspace() for ch in question):  # empty, or only invisible characters
        await reply(update, context, t(context, who, "error.empty"))
        return
    if len(question) > MAX_QUESTION:
        await reply(update, context, t(context, who, "error.too_long", limit=MAX_QUESTION))
        question = question[:MAX_QUESTION]
    private = is_private(update)
    hits, best = await lookup(services, who, question)
    if not hits:
        log.info("faq.abstain", extra={"user": who.user_id, "lang": who.lang, "best": best})
        if private:
            user_data(context)["last_question"] = {"text": question, "lang": who.lang, "candidates": []}
            markup = keyboard([[(t(context, who, "button.ask_expert"), cb("hd", "askq"))],
                               [(t(context, who, "button.browse_topics"), cb("faq", "topics", 0))]])
            await reply(update, context, t(context, who, "faq.abstain"), markup=markup)
        else:
            markup = keyboard([[(t(context, who, "button.ask_privately"), services.deep_link("ask"))]])
            await reply(update, context, t(context, who, "faq.abstain_group"), markup=markup)
        return
    best = hits[0]
    log.info("faq.answer", extra={"user": who.user_id, "lang": who.lang, "entry": best.id, "score": round(best.score, 3)})
    if private:
        user_data(context)["last_question"] = {"text": question, "lang": who.lang, "candidates": [h.id for h in hits],
                                              "score": best.score}
    await send_entry(update, context, who, best.entry, related=[h.entry for h in hits[1:3]], private=private)


async def send_entry(update: Update, context: Context, who, entry, *, related=(), private: bool = True,
                     extra: tuple[tuple[tuple[str, str], ...], ...] = ()) -> None:
    """An FAQ answer; ``extra``: rows of buttons of the intake ("➕ Add to query #N instead")."""
    services = svc(context)
    markup = None
    answer = await personal_answer(services, who if private else None, entry, who.lang)
    if private:
        lang = who.lang
        key = (entry.id, entry.text(lang).q, tuple((other.id, other.text(lang).q) for other in related), lang, extra,
               bool(answer.rows))
        markup = remembered(services, "faq_buttons", key,
                            lambda: answer_keyboard(services, lang, *key[:3], extra=extra, first=answer.rows))
    await reply(update, context, render_answer(services, entry, who.lang, answer.text), markup=markup)


def answer_keyboard(services: Services, lang: str, entry_id: str, question: str, related: tuple, extra: tuple = (),
                    first=()):
    """Buttons under a private answer: a visitor's country buttons (``first``), helpful or not, related
    questions, the intake's rows (``extra``), share inline."""
    rows = [*first, [(services.t(lang, "button.helpful"), cb("faq", "fb", entry_id, 1)),
             (services.t(lang, "button.not_helpful"), cb("faq", "fb", entry_id, 0))]]
    for other_id, other_question in related:
        rows.append([("❓ " + other_question, cb("faq", "show", other_id))])  # keyboard() clips at a word
    rows.extend(list(row) for row in extra)
    rows.append([(services.t(lang, "button.share"), "inline:" + question[:200])])
    return keyboard_json(rows)


async def faq_command(update: Update, context: Context) -> None:
    if context.args:
        await answer_question(update, context, " ".join(context.args))
        return
    who = await person(update, context)
    if who is None:
        return
    if not is_private(update):
        await reply(update, context, t(context, who, "faq.usage_group"))
        return
    await show_topics(update, context, who, 0)


# -- browsing ---------------------------------------------------------------------

def _topics(services: Services) -> list[str]:
    engine = services.search
    return engine.topics() if engine else []


async def show_topics(update: Update, context: Context, who, page: int) -> None:
    services = svc(context)
    topics = _topics(services)
    pages = max(1, math.ceil(len(topics) / TOPICS_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    chunk = topics[page * TOPICS_PER_PAGE:(page + 1) * TOPICS_PER_PAGE]
    rows = [[(topic_name(services, topic, who.lang), cb("faq", "topic", topic, page))] for topic in chunk]
    nav = []
    if page > 0:
        nav.append((t(context, who, "button.prev"), cb("faq", "topics", page - 1)))
    if page < pages - 1:
        nav.append((t(context, who, "button.next"), cb("faq", "topics", page + 1)))
    rows.append(nav)
    await edit_or_reply(update, context, t(context, who, "faq.topics_header", page=page + 1, pages=pages), markup=keyboard(rows))


async def topics_command(update: Update, context: Context) -> None:
    who = await person(update, context)
    if who is None:
        return
    services = svc(context)
    engine = services.search
    lines = [f"• {html.escape(topic_name(services, topic, who.lang))} ({len(engine.by_topic(topic))})" for topic in _topics(services)]
    from bot.i18n import Raw

    await reply(update, context, t(context, who, "faq.topics_list", lines=Raw("\n".join(lines))))


async def faq_button(update: Update, context: Context) -> None:
    pressed = update.callback_query
    who = await person(update, context)
    if pressed is None or who is None:
        return
    services = svc(context)
    parts = parse_cb(pressed.data, "faq") or []
    action = parts[0] if parts else ""
    if action == "topics" and len(parts) == 2 and parts[1].isascii() and parts[1].isdigit():  # isdigit alone accepts "²"
        await answer_button(update)
        await show_topics(update, context, who, int(parts[1]))
        return
    if action == "topic" and len(parts) == 3 and services.search and services.search.by_topic(parts[1]):
        await answer_button(update)
        entries = services.search.by_topic(parts[1])
        rows = [[("❓ " + e.text(who.lang).q, cb("faq", "show", e.id))] for e in entries[:20]]
        page = parts[2] if parts[2].isascii() and parts[2].isdigit() else "0"
        rows.append([(t(context, who, "button.prev"), cb("faq", "topics", page))])
        await edit_or_reply(update, context, t(context, who, "faq.topic_header", topic=topic_name(services, parts[1], who.lang)),
                            markup=keyboard(rows))
        return
    if action == "show" and len(parts) == 2:
        entry = services.search.get(parts[1]) if services.search else None
        if entry is None:
            await answer_button(update, t(context, who, "faq.not_found"), alert=True)
            return
        await answer_button(update)
        await send_entry(update, context, who, entry, private=is_private(update))
        return
    if action == FaqAction.GAPS:
        await gaps_button(update, context, who, parts)
        return
    if action == "fb" and len(parts) == 3 and parts[2] in ("0", "1"):
        await feedback(update, context, who, parts[1], parts[2] == "1")
        return
    await answer_button(update, t(context, who, "error.stale_button"), alert=True)


async def feedback(update: Update, context: Context, who, entry_id: str, helpful: bool) -> None:
    services = svc(context)
    if services.search is None or services.search.get(entry_id) is None:
        await answer_button(update, t(context, who, "faq.not_found"), alert=True)
        return
    message = update.callback_query.message if update.callback_query is not None else None
    key = (message.message_id if message else 0, entry_id)
    voted = user_data(context).setdefault("faq_votes", set())
    if key in voted:
        await answer_button(update, t(context, who, "faq.already_voted"))
        return
    last = user_data(context).get("last_question") or {}
    await services.store.run(lambda db: faqstats.record_feedback(
        db, entry_id, helpful, lang=who.lang, user_id=who.user_id, country=who.country,
        query=last.get("text"), best_score=last.get("score"), now=services.clock.now()))
    voted.add(key)
    await answer_button(update, t(context, who, "faq.thanks"))
    if not helpful and is_private(update):
        if not last:
            user_data(context)["last_question"] = {"text": services.search.get(entry_id).text(who.lang).q, "lang": who.lang,
                                                  "candidates": [entry_id]}
        await reply(update, context, t(context, who, "faq.not_helpful_followup"),
                    markup=keyboard([[(t(context, who, "button.ask_expert"), cb("hd", "askq"))]]))


# -- secretariat: reload and gaps -------------------------------------------------

async def reload_command(update: Update, context: Context) -> None:
    who = await authorised(update, context, secretariat=True)
    if who is None:
        return
    services = svc(context)
    from pathlib import Path

    from bot.search import load_knowledge

    try:
        version = await services.store.run(load_knowledge, Path(services.config.knowledge_dir) / "faq")
    except DataError as exc:
        problems = "\n".join(str(p) for p in exc.problems[:15])
        await reply(update, context, t(context, who, "faq.reload_failed", problems=problems))
        return
    services.faq_topics = None
    await services.store.run(lambda _db: services.search.refresh_if_changed())
    await reply(update, context, t(context, who, "faq.reload_ok", entries=len(services.search.entries()), version=version))


def _gap_line(gap: faqstats.Gap) -> str:
    query = " ".join(gap.query.split())
    query = query[:80] + ("…" if len(query) > 80 else "")
    where = " ".join(x for x in ("/".join(gap.langs), f"{gap.best_score:.2f}" if gap.best_score is not None else "",
                                 " ".join(gap.countries[:3])) if x)
    times = f"×{gap.times} " if gap.times > 1 else ""
    return f"• {times}[{html.escape(where)}] {html.escape(query)}" + (" 👎" if gap.not_helpful else "")


def gaps_screen(context: Context, who, report: faqstats.GapsReport) -> paging.Screen:
    """The month's count (by language), then a page of questions, the most asked first."""
    since = report.since.isoformat()
    shown = paging.counted(report.gaps, report.page, GAPS_PAGE, report.questions)
    if not report.gaps:
        return paging.Screen([t(context, who, "faq.gaps_none_month", date=since)], [], shown)
    summary = [t(context, who, "faq.gaps_title", date=since),
               t(context, who, "faq.gaps_counts", misses=report.misses, questions=report.questions,
                 not_helpful=report.not_helpful,
                 langs=" · ".join(f"{lang} {n}" for lang, n in report.by_lang))]
    return paging.Screen(
        summary, [_gap_line(g) for g in shown.rows], shown, rows_title=t(context, who, "faq.gaps_most_asked"),
        footer=[t(context, who, "faq.gaps_full_list")],
        nav=paging.nav_row(context, who, shown, lambda i: cb("faq", FaqAction.GAPS, i)))


async def show_gaps(update: Update, context: Context, who, page: int, *, edit: bool = False) -> None:
    services = svc(context)
    await services.faq_stats.flush()  # the latest misses of this process first
    report = await services.store.read(faqstats.gaps_report, services.clock.now(), page, GAPS_PAGE)
    await paging.show(update, context, who, gaps_screen(context, who, report), edit=edit)


async def gaps_command(update: Update, context: Context) -> None:
    who = await authorised(update, context, secretariat=True)
    if who is None:
        return
    await show_gaps(update, context, who, 0)


async def gaps_button(update: Update, context: Context, who, parts: list[str]) -> None:
    """``v1:faq:gaps:<page>``: the secretariat's only; checked again on every press."""
    if not who.is_secretariat:
        await paging.refuse_not_allowed(update, context, who, "/gaps")
        return
    page = paging.page_number(parts[1]) if len(parts) == 2 else None
    if page is None:
        await paging.refuse_stale(update, context, who, "/gaps")
        return
    await answer_button(update)
    await show_gaps(update, context, who, page, edit=True)


async def _flush_stats_job(context: Context) -> None:
    await svc(context).faq_stats.flush_if_due()


async def on_startup(application) -> None:
    """Write pending FAQ statistics when traffic stops too (see :mod:`bot.faqstats`)."""
    if application.job_queue is not None:
        from bot.faqstats import FLUSH_SECONDS

        application.job_queue.run_repeating(_flush_stats_job, interval=FLUSH_SECONDS, first=FLUSH_SECONDS,
                                            name="faq.stats")


def handlers():
    return [
        (GROUP_COMMANDS, CommandHandler("faq", faq_command)),
        (GROUP_COMMANDS, CommandHandler("topics", topics_command)),
        (GROUP_COMMANDS, CommandHandler("reload", reload_command)),
        (GROUP_COMMANDS, CommandHandler("gaps", gaps_command)),
        (GROUP_COMMANDS, CallbackQueryHandler(faq_button, pattern=r"^v1:faq:")),
    ]
