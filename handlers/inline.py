"""Inline mode: ``@botname <query>`` in any chat returns up to 10 FAQ answers to post there.

Each result is an article: title = the question, description = the answer's first line,
message = the answer with its source, in the user's language. An empty query shows the
most asked questions. Every query is answered, whatever its text: results, or an empty list
with a "search in the bot" button (which opens a private chat with ``/start ask``). Nothing is stored about inline users or their queries (no user row
is created, no miss is logged): the text typed after ``@botname`` may be in any chat.

Caching: the results depend on the user's language, so they are always ``is_personal``;
a language saved with /language may change at any time, so those results are not cached
(``cache_time`` 0); a language from Telegram's ``language_code`` is cached for 5 minutes.
"""
from __future__ import annotations

import html
import logging

from telegram import (InlineKeyboardButton, InlineKeyboardMarkup, InlineQueryResultArticle, InlineQueryResultsButton,
                      InputTextMessageContent, Update)
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import InlineQueryHandler

from bot import faqstats, people
from bot.i18n import normalise_lang
from handlers.common import GROUP_COMMANDS, MAX_MESSAGE, Context, svc
from handlers.faq import render_answer, search
from handlers.personal import everyone_text

log = logging.getLogger("ldn.handlers.inline")

MAX_RESULTS = 10
CACHE_SECONDS = 300
MAX_QUERY = 256
MAX_DESCRIPTION = 200


def first_line(text: str, limit: int = MAX_DESCRIPTION) -> str:
    for line in (text or "").strip().splitlines():
        line = line.strip()
        if line:
            return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"
    return ""


def most_asked_entries(db, services, n: int = MAX_RESULTS) -> list:
    """The ``n`` most asked entries; on a fresh install, topped up with the first entries."""
    engine = services.search
    if engine is None:
        return []
    engine.refresh_if_changed()
    out, seen = [], set()
    for entry_id, _count in faqstats.most_asked(db, n):
        entry = engine.get(entry_id)
        if entry is not None and entry.id not in seen:
            out.append(entry)
            seen.add(entry.id)
    for entry in engine.entries():
        if len(out) >= n:
            break
        if entry.id not in seen:
            out.append(entry)
            seen.add(entry.id)
    return out[:n]


def article(services, entry, lang: str) -> InlineQueryResultArticle:
    text = entry.text(lang)
    message = render_answer(services, entry, lang)
    if len(message) > MAX_MESSAGE:  # answers are capped at 1200 characters; this is only a guard
        message = (f"<b>{html.escape(text.q[:200])}</b>\n\n{html.escape(text.a.strip()[:3000])}…\n\n"
                   f"<i>{services.t(lang, 'faq.source', source=entry.source)}</i>")
    open_bot = InlineKeyboardMarkup([[InlineKeyboardButton(services.t(lang, "inline.open_bot"),
                                                           url=f"https://t.me/{services.bot_username}")]])
    return InlineQueryResultArticle(
        id=entry.id[:64],
        title=text.q[:256],
        description=first_line(everyone_text(services, entry, lang)),
        input_message_content=InputTextMessageContent(message, parse_mode=ParseMode.HTML),
        reply_markup=open_bot,
    )


async def language_of(services, tg_user) -> tuple[str, bool]:
    """(language, saved): the user's saved /language if any (read only: no row is created),
    else Telegram's language_code."""
    row = await services.store.read(people.profile, tg_user.id)
    if row and row.get("lang"):
        return row["lang"], True
    return normalise_lang(tg_user.language_code, services.config.default_language), False


async def inline_query(update: Update, context: Context) -> None:
    query = update.inline_query
    if query is None:
        return
    services = svc(context)
    text = " ".join((query.query or "").split())[:MAX_QUERY]
    lang, saved = await language_of(services, query.from_user)
    try:
        if text:
            hits = await search(services, text, limit=MAX_RESULTS)
            entries = [hit.entry for hit in hits]
        else:
            entries = await services.store.run(most_asked_entries, services, MAX_RESULTS)
        results = [article(services, entry, lang) for entry in entries[:MAX_RESULTS]]
    except Exception:  # a bug to fix, but the user's client must not wait for an answer that never comes
        log.exception("inline.search_failed", extra={"query_length": len(text)})
        results = []
    button = None
    if not results:  # nothing to show: the button opens the bot, where the question can be asked
        button = InlineQueryResultsButton(text=services.t(lang, "inline.no_results"), start_parameter="ask")
    log.info("inline.answer", extra={"results": len(results), "lang": lang, "empty_query": not text})
    try:
        await query.answer(results, cache_time=0 if saved else CACHE_SECONDS, is_personal=True, button=button)
    except BadRequest as exc:  # the query expired (the user typed on): nothing to show anyway
        log.info("inline.too_late", extra={"error": str(exc)})


def handlers():
    return [(GROUP_COMMANDS, InlineQueryHandler(inline_query))]
