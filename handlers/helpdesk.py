"""The helpdesk: a focal point's question the FAQ could not answer becomes a logged query;
experts answer it from their group chat through the bot; the secretariat triages.

Asking (private chats only): the FAQ's "Ask an expert" button (``v1:hd:askq``), ``/ask``,
the deep link ``?start=ask``, or a photo/document. The query is committed before the
bot says "Query #N logged"; then it is posted to the experts' chat (its own topic in a
forum supergroup, otherwise one card message that experts reply to).

Experts' replies are routed with the ``query_messages`` table ((chat, message) → query),
recorded, and relayed exactly once with ``copyMessage`` through the delivery ledger.
Every command and button re-reads the query and checks who is asking; buttons carry the
state they were drawn for, so an old button after a change does nothing.

Periodic work (SLA warnings and breaches, nudges, auto-resolve, closing, retries) is
:func:`helpdesk_tick`, scheduled in :func:`on_startup` and called directly by tests.
"""
from __future__ import annotations

import datetime as dt
import html
import io
import logging
from typing import Any

from telegram import ForceReply, InputFile, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import ApplicationHandlerStop, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot import helpdesk as hd
from bot.i18n import LANG_NAMES, Raw
from handlers import core
from handlers.common import (GROUP_COMMANDS, GROUP_FOLLOWUP, PRIVATE_TEXT, Context, answer_button, cb, clear_input, edit_or_reply,
                             expect_input, input_handler, is_private, keyboard, parse_cb, person, person_from_row,
                             reply, svc, t)
from storage import helpdesk as store
from storage import users

log = logging.getLogger("ldn.handlers.helpdesk")

FEATURE = "hd"
STATE_ICONS = {"new": "🆕", "open": "💬", "pending": "⏳", "resolved": "✅", "closed": "📁"}
MAX_COMMENT = 1000
CARD_LIMIT = 4000
TRANSIENT_PREFIXES = ("429", "network")
MAX_RELAY_RETRIES = 10


# -- settings and small helpers ----------------------------------------------------------------


def settings(services) -> hd.Settings:
    if services.helpdesk_settings is None:
        services.helpdesk_settings = hd.settings_from(services.config.section("helpdesk"), services.config.expert_chat_id)
    return services.helpdesk_settings


def xt(services, key: str, /, **kwargs: Any) -> str:
    """A string in the experts' chat language."""
    return services.t(settings(services).expert_language, key, **kwargs)


def _now(services) -> dt.datetime:
    return services.clock.now()


def _is_expert_chat(update: Update, services) -> bool:
    chat = update.effective_chat
    return chat is not None and settings(services).expert_chat_id is not None and chat.id == settings(services).expert_chat_id


def _content_allowed(update: Update, services) -> bool:
    """Query content is shown only in private chats and in the experts' chat."""
    return is_private(update) or _is_expert_chat(update, services)


def _number(text: str | None) -> int | None:
    value = (text or "").strip().lstrip("#")
    if not value.isdigit() or len(value) > 9:
        return None
    return int(value)


def _message_text(message) -> str:
    return (message.text or message.caption or "") if message else ""


def _attachment_of(message) -> dict | None:
    if message is None:
        return None
    if message.photo:
        best = message.photo[-1]
        return {"chat_id": message.chat_id, "message_id": message.message_id, "kind": "photo", "file_id": best.file_id,
                "file_unique_id": best.file_unique_id, "file_size": best.file_size, "file_name": None, "mime_type": "image/jpeg"}
    if message.document:
        doc = message.document
        return {"chat_id": message.chat_id, "message_id": message.message_id, "kind": "document", "file_id": doc.file_id,
                "file_unique_id": doc.file_unique_id, "file_size": doc.file_size, "file_name": doc.file_name,
                "mime_type": doc.mime_type}
    return None


def _kind_of(message) -> str:
    if message.photo:
        return "photo"
    if message.document:
        return "document"
    if message.text is not None:
        return "text"
    return "other"


def _command_text(message) -> str:
    """The text after ``/command`` (newlines kept)."""
    text = message.text or ""
    parts = text.split(None, 1)
    return parts[1].strip() if len(parts) > 1 else ""


def _name_of(row: dict | None, fallback: Any = "—") -> str:
    if not row:
        return str(fallback)
    name = row.get("first_name") or str(row.get("user_id"))
    return f"{name} (@{row['username']})" if row.get("username") else name


async def _names(services, ids) -> dict[int, dict]:
    wanted = sorted({i for i in ids if i is not None})

    def load(db):
        return {i: users.get_user(db, i) for i in wanted}

    return await services.store.run(load) if wanted else {}


async def _get(services, qid: int) -> dict | None:
    return await services.store.run(store.get_query, qid)


def _may_view(who, query: dict) -> bool:
    """Experts see every query; a focal point only their own country's (never another's)."""
    if who.is_expert:
        return True
    return who.is_focal_point and query.get("country") == who.country


def _asker_lang(services, query: dict, asker_row: dict | None) -> str:
    return (asker_row or {}).get("lang") or query.get("lang") or "en"


def _fmt_time(value: str | None) -> str:
    return (value or "")[:16].replace("T", " ")


def _age(services, lang: str, since: str, now: dt.datetime) -> str:
    from storage.db import parse_iso

    hours = (now - parse_iso(since)).total_seconds() / 3600
    if hours < 48:
        return services.t(lang, "hd.hours", n=f"{max(hours, 0):.0f}")
    return services.t(lang, "hd.days", n=f"{hours / 24:.0f}")


def _hours_text(services, lang: str, hours: float | None) -> str:
    if hours is None:
        return services.t(lang, "common.none")
    return services.t(lang, "hd.hours", n=f"{hours:.1f}")


# -- rendering -----------------------------------------------------------------------------------


def state_label(services, lang: str, state: str) -> str:
    return f"{STATE_ICONS.get(state, '')} {services.t(lang, f'hd.state.{state}')}"


def _candidates_html(services, lang: str, ids: list[str]) -> str:
    if not ids:
        return ""
    lines = []
    for entry_id in ids[:5]:
        question = None
        search = services.search
        if search is not None:
            try:
                entry = search.get(entry_id)
                question = entry.text(lang).q if entry else None
            except Exception:  # noqa: BLE001 - the card must not fail on the FAQ engine
                question = None
        label = html.escape(hd.snippet(question, 90)) + " " if question else ""
        lines.append(f"• {label}<code>{html.escape(entry_id)}</code>")
    return services.t(lang, "hd.card_candidates", items=Raw("\n".join(lines)))


def render_card(services, query: dict, lang: str, names: dict[int, dict], attachments: int = 0,
                text_limit: int | None = None) -> str:
    """The query as experts see it (the card in their chat, and the head of /query N)."""
    none = services.t(lang, "common.none")
    country = services.countries.get(query.get("country"))
    country_text = f"{country.name(lang)} ({country.iso3})" if country else (query.get("country") or none)
    assignee = _name_of(names.get(query["assignee_id"]), query["assignee_id"]) if query.get("assignee_id") else none
    asker = _name_of(names.get(query["asker_id"]), query["asker_id"])
    tags = " ".join(f"#{tag}" for tag in query.get("tags") or []) or none
    limit = text_limit or len(query["text"])
    text = query["text"] if len(query["text"]) <= limit else query["text"][:limit].rstrip() + "…"
    extra = _candidates_html(services, lang, query.get("candidates") or [])
    if attachments:
        extra += services.t(lang, "hd.card_attachments", count=attachments)
    if query.get("overdue") and query["state"] in hd.ACTIVE:
        extra += services.t(lang, "hd.card_overdue")
    if len(text) < len(query["text"]):
        extra += services.t(lang, "hd.card_truncated", n=query["id"])
    body = services.t(lang, "hd.card", icon=STATE_ICONS.get(query["state"], ""), n=query["id"], country=country_text,
                      language=LANG_NAMES.get(query["lang"], query["lang"]), state=services.t(lang, f"hd.state.{query['state']}"),
                      priority=services.t(lang, f"hd.priority.{query['priority']}"), assignee=assignee, tags=tags,
                      asker=asker, text=text, extra=Raw(extra))
    if len(body) > CARD_LIMIT and limit > 200:
        return render_card(services, query, lang, names, attachments, text_limit=max(200, limit - (len(body) - CARD_LIMIT) - 50))
    return body


def card_rows(services, lang: str, query: dict, menu: str = "main") -> list[list[tuple[str, str]]]:
    """Buttons for a query in the state it is in now (each carries that state)."""
    qid, state = query["id"], query["state"]
    code = hd.STATE_CODES[state]
    if state not in hd.ACTIVE:
        return []
    if menu == "priority":
        return [[(("• " if p == query["priority"] else "") + services.t(lang, f"hd.priority.{p}"), cb(FEATURE, "pr", qid, code, p))
                 for p in hd.PRIORITIES],
                [(services.t(lang, "button.prev"), cb(FEATURE, "bk", qid, code))]]
    row = [(services.t(lang, "hd.btn.assign"), cb(FEATURE, "as", qid, code)),
           (services.t(lang, "hd.btn.priority"), cb(FEATURE, "pm", qid, code))]
    row2 = []
    if state in ("new", "open"):
        row2.append((services.t(lang, "hd.btn.pending"), cb(FEATURE, "pd", qid, code)))
    row2.append((services.t(lang, "hd.btn.resolve"), cb(FEATURE, "rs", qid, code)))
    return [row, row2]


async def _card_bundle(services, qid: int, lang: str) -> tuple[dict | None, str, Any]:
    query = await _get(services, qid)
    if query is None:
        return None, "", None
    names = await _names(services, [query["asker_id"], query.get("assignee_id")])
    count = len(await services.store.run(store.attachments, qid))
    text = render_card(services, query, lang, names, count)
    return query, text, keyboard(card_rows(services, lang, query))


# -- talking to the Bot API with retries (for calls that are not ledger deliveries) --------------


async def _api(bot, services, method: str, params: dict) -> Any:
    """One Bot API call with the deliverer's retry policy for 429 / 5xx / timeouts."""
    policy = services.deliverer.policy
    attempt = 0
    while True:
        attempt += 1
        try:
            return await bot.do_api_request(method, api_kwargs=params)
        except RetryAfter as exc:
            if attempt >= policy.attempts:
                raise
            wait = exc.retry_after.total_seconds() if isinstance(exc.retry_after, dt.timedelta) else float(exc.retry_after)
            await services.deliverer.sleep(wait)
        except (BadRequest, Forbidden):
            raise
        except NetworkError:
            if attempt >= policy.attempts:
                raise
            await services.deliverer.sleep(policy.backoff(attempt))


async def _is_forum(bot, services) -> bool:
    configured = settings(services).expert_chat_is_forum
    if configured is not None:
        return configured
    cached = services.expert_chat_is_forum
    if cached is not None:
        return cached
    try:
        chat = await _api(bot, services, "getChat", {"chat_id": settings(services).expert_chat_id})
    except TelegramError as exc:
        log.warning("helpdesk.get_chat_failed", extra={"error": str(exc)})
        return False
    value = bool(isinstance(chat, dict) and chat.get("is_forum"))
    services.expert_chat_is_forum = value
    return value


def _placement(query: dict) -> dict:
    """Where a message about this query goes in the experts' chat: its topic, or as a reply to its card."""
    if query.get("expert_thread_id"):
        return {"message_thread_id": query["expert_thread_id"]}
    if query.get("expert_message_id"):
        return {"reply_parameters": {"message_id": query["expert_message_id"], "allow_sending_without_reply": True}}
    return {}


# -- the experts' chat ---------------------------------------------------------------------------


async def post_query(bot, services, qid: int) -> bool:
    """Post a query to the experts' chat (topic + card + attachments + follow-ups); True once posted."""
    s = settings(services)
    if s.expert_chat_id is None:
        return False
    query = await _get(services, qid)
    if query is None:
        return False
    chat_id = s.expert_chat_id
    if not query.get("posted_at"):
        attempt = await services.store.run(store.note_post_attempt, qid)
        thread_id = query.get("expert_thread_id")
        if thread_id is None and await _is_forum(bot, services):
            name = f"#{qid} · {query.get('country') or '—'} · {hd.snippet(query['text'], 80)}"[:128]
            try:
                topic = await _api(bot, services, "createForumTopic", {"chat_id": chat_id, "name": name})
                thread_id = int(topic["message_thread_id"])
            except (TelegramError, KeyError, TypeError, ValueError) as exc:
                log.warning("helpdesk.topic_failed", extra={"query": qid, "error": str(exc)})
                thread_id = None
            if thread_id is not None:
                def keep_topic(db):
                    store.set_thread(db, qid, chat_id, thread_id, _now(services))
                    hd.record_relay(db, qid, chat_id=chat_id, message_id=thread_id, role="topic", now=_now(services))

                await services.store.run(keep_topic)
                query = await _get(services, qid)
        query, text, markup = await _card_bundle(services, qid, s.expert_language)
        payload = {"text": text, "parse_mode": ParseMode.HTML.value, "link_preview_options": {"is_disabled": True},
                   "reply_markup": markup.to_dict()}
        if query.get("expert_thread_id"):
            payload["message_thread_id"] = query["expert_thread_id"]
        outcome = await services.deliverer.send_now(bot, kind="hd_card", ref=f"{qid}:{attempt}", chat_id=chat_id,
                                                    method="sendMessage", payload=payload)
        if outcome.status != "sent" or not outcome.message_id:
            log.warning("helpdesk.post_failed", extra={"query": qid, "status": outcome.status, "error": outcome.error})
            return False

        def keep_card(db):
            now = _now(services)
            store.set_posted(db, qid, now, chat_id=chat_id, message_id=outcome.message_id, thread_id=query.get("expert_thread_id"))
            hd.record_relay(db, qid, chat_id=chat_id, message_id=outcome.message_id, role="card", now=now)
            store.add_event(db, qid, now, None, "posted", None, None, detail=str(chat_id))

        await services.store.run(keep_card)
        query = await _get(services, qid)
        await _post_attachments(bot, services, query)
    await _relay_pending_followups(bot, services, query)
    return True


async def _post_attachments(bot, services, query: dict) -> None:
    """The files that came with the question, by file_id, next to the card."""
    qid = query["id"]
    rows = await services.store.run(store.messages, qid, ["asker"])
    followups = {(r["chat_id"], r["message_id"]) for r in rows if r.get("delivery_status")}
    for item in await services.store.run(store.attachments, qid):
        if (item["chat_id"], item["message_id"]) in followups or item["chat_id"] == settings(services).expert_chat_id:
            continue
        label = item.get("file_name") or item["kind"]
        payload = {"caption": xt(services, "hd.attachment_caption", n=qid, name=label), "parse_mode": ParseMode.HTML.value,
                   **_placement(query)}
        method = "sendPhoto" if item["kind"] == "photo" else "sendDocument"
        payload["photo" if item["kind"] == "photo" else "document"] = item["file_id"]
        outcome = await services.deliverer.send_now(bot, kind="hd_file", ref=str(item["id"]), chat_id=query["expert_chat_id"],
                                                    method=method, payload=payload)
        if outcome.status == "sent" and outcome.message_id:
            await services.store.run(hd.record_relay, qid, chat_id=query["expert_chat_id"], message_id=outcome.message_id,
                                     role="relay", now=_now(services))


async def _relay_pending_followups(bot, services, query: dict) -> None:
    if not query.get("posted_at"):
        return
    rows = await services.store.run(store.messages, query["id"], ["asker"])
    for row in rows:
        if row.get("delivery_status") == "pending":
            await _relay_followup(bot, services, query, row)


async def _relay_followup(bot, services, query: dict, row: dict) -> None:
    """Copy one of the asker's follow-up messages into the query's place in the experts' chat."""
    chat_id = query["expert_chat_id"]
    payload = {"from_chat_id": row["chat_id"], "message_id": row["message_id"], **_placement(query)}
    ref = f"{row['chat_id']}:{row['message_id']}"
    outcome = await services.deliverer.send_now(bot, kind="hd_followup", ref=ref, chat_id=chat_id, method="copyMessage", payload=payload)
    if outcome.status == "sent" and outcome.message_id:
        def keep(db):
            store.set_delivery_status(db, row["chat_id"], row["message_id"], "sent")
            hd.record_relay(db, query["id"], chat_id=chat_id, message_id=outcome.message_id, role="relay", now=_now(services))

        await services.store.run(keep)
    elif outcome.status not in ("claimed", "sent"):
        log.warning("helpdesk.followup_relay_failed", extra={"query": query["id"], "status": outcome.status})


async def notify_experts(bot, services, query: dict, text: str, ref: str) -> None:
    """A notice about a query in the experts' chat (once per ``ref``); replies to it route to the query."""
    chat_id = settings(services).expert_chat_id
    if chat_id is None:
        return
    payload = {"text": text, "parse_mode": ParseMode.HTML.value, "link_preview_options": {"is_disabled": True}, **_placement(query)}
    outcome = await services.deliverer.send_now(bot, kind="hd_notice", ref=ref, chat_id=chat_id, method="sendMessage", payload=payload)
    if outcome.status == "sent" and outcome.message_id:
        await services.store.run(hd.record_relay, query["id"], chat_id=chat_id, message_id=outcome.message_id, role="notice",
                                 now=_now(services))


async def refresh_card(bot, services, qid: int) -> None:
    """Redraw the card in the experts' chat (state, priority, assignee, buttons)."""
    query, text, markup = await _card_bundle(services, qid, settings(services).expert_language)
    if query is None or not query.get("expert_message_id"):
        return
    try:
        await bot.edit_message_text(text, chat_id=query["expert_chat_id"], message_id=query["expert_message_id"],
                                    parse_mode=ParseMode.HTML, reply_markup=markup)
    except TelegramError as exc:
        if "not modified" not in str(exc).lower():
            log.info("helpdesk.card_refresh_failed", extra={"query": qid, "error": str(exc)})


async def send_to_asker(bot, services, query: dict, *, kind: str, ref: str, key: str, markup=None, **kwargs) -> str:
    """A message to the asker in their language, exactly once per (kind, ref); tells the experts if blocked."""
    asker = await services.store.run(users.get_user, query["asker_id"])
    lang = _asker_lang(services, query, asker)
    payload: dict[str, Any] = {"text": services.t(lang, key, **kwargs), "parse_mode": ParseMode.HTML.value,
                               "link_preview_options": {"is_disabled": True}}
    if markup is not None:
        payload["reply_markup"] = markup.to_dict()
    outcome = await services.deliverer.send_now(bot, kind=kind, ref=ref, chat_id=query["asker_id"], method="sendMessage", payload=payload)
    if outcome.status == "blocked":
        await services.store.run(store.add_event, query["id"], _now(services), None, "delivery_blocked", None, None, kind)
        await notify_experts(bot, services, query, xt(services, "hd.notice_blocked", n=query["id"]), f"blocked:{kind}:{ref}")
    return outcome.status


async def deliver_answer(bot, services, query: dict, chat_id: int, message_id: int) -> str:
    """Relay an expert's (already recorded) message to the asker exactly once, and record how it went."""
    payload: dict[str, Any] = {"from_chat_id": chat_id, "message_id": message_id}
    if query.get("ack_message_id"):
        payload["reply_parameters"] = {"message_id": query["ack_message_id"], "allow_sending_without_reply": True}
    outcome = await services.deliverer.send_now(bot, kind="answer", ref=f"{chat_id}:{message_id}", chat_id=query["asker_id"],
                                                method="copyMessage", payload=payload)
    status = outcome.status if outcome.status in ("sent", "blocked", "failed") else "failed"
    if outcome.status in ("claimed", "uncertain"):
        status = "held"
    await services.store.run(lambda db: hd.record_delivery(db, query["id"], chat_id=chat_id, message_id=message_id, status=status,
                                                            now=_now(services), asker_chat=query["asker_id"], copy_id=outcome.message_id,
                                                            error=outcome.error))
    if status == "blocked":
        await notify_experts(bot, services, query, xt(services, "hd.notice_blocked", n=query["id"]), f"blocked:{chat_id}:{message_id}")
    elif status == "failed":
        await notify_experts(bot, services, query, xt(services, "hd.notice_failed", n=query["id"], error=(outcome.error or "")[:120]),
                             f"failed:{chat_id}:{message_id}")
    return status


# -- asking ------------------------------------------------------------------------------------


async def _refuse_asker(update: Update, context: Context, who) -> bool:
    """True (after answering) when ``who`` may not ask the helpdesk."""
    if who.is_focal_point:
        return False
    key = "hd.staff_cannot_ask" if who.is_expert else "error.need_registration"
    if update.callback_query is not None:
        await answer_button(update)
    await reply(update, context, t(context, who, key))
    return True


def _search_candidates(services, text: str) -> list[str]:
    search = services.search
    if search is None:
        return []
    try:
        return [hit.id for hit in search.search(text, 3)]
    except Exception:  # noqa: BLE001 - suggestions are optional
        log.info("helpdesk.search_failed")
        return []


async def create_query(update: Update, context: Context, who, text: str, *, source: str, lang: str | None = None,
                       candidates: list[str] | None = None, attachments: list[dict] | None = None,
                       asker_message: tuple[int, int] | None = None) -> int | None:
    """Store the question, then (only then) say "Query #N logged", then post it to the experts."""
    services = svc(context)
    s = settings(services)
    text = (text or "").strip()
    if not text:
        await reply(update, context, t(context, who, "error.empty"))
        return None
    if len(text) > s.max_question_chars:
        await reply(update, context, t(context, who, "hd.too_long", length=len(text), limit=s.max_question_chars))
        return None
    if candidates is None:
        candidates = await services.store.run(lambda db: _search_candidates(services, text))
    candidates = [str(c) for c in candidates if c][:5]
    lang = lang if lang in LANG_NAMES else who.lang
    now = _now(services)
    qid = await services.store.run(lambda db: hd.create_query(db, asker_id=who.user_id, country=who.country, lang=lang, text=text,
                                                              source=source, candidates=candidates, attachments=attachments or [],
                                                              asker_message=asker_message, now=now))
    log.info("helpdesk.query_created", extra={"query": qid, "country": who.country, "source": source})
    try:
        sent = await reply(update, context, t(context, who, "hd.logged", n=qid))
    except TelegramError as exc:  # stored already: still post it to the experts
        log.warning("helpdesk.ack_failed", extra={"query": qid, "error": str(exc)})
        sent = None
    if sent is not None:
        await services.store.run(hd.record_ack, qid, update.effective_chat.id, sent.message_id, _now(services))
    context.user_data["hd_last_created"] = qid
    try:
        await post_query(context.bot, services, qid)
    except Exception:  # noqa: BLE001 - the query is stored; the periodic job posts it later
        log.exception("helpdesk.post_error", extra={"query": qid})
    return qid


async def ask_command(update: Update, context: Context) -> None:
    who = await person(update, context)
    if await _refuse_asker(update, context, who):
        return
    message = update.effective_message
    text = _command_text(message)
    if not text:
        expect_input(context, "hd_question", source="ask")
        await reply(update, context, t(context, who, "hd.prompt_question"),
                    markup=keyboard([[(t(context, who, "button.cancel"), cb(FEATURE, "x"))]]))
        return
    await create_query(update, context, who, text, source="ask", asker_message=(message.chat_id, message.message_id))


async def start_ask(update: Update, context: Context, who, payload: str) -> None:
    """Deep link ``?start=ask``: explain and wait for the question."""
    if await _refuse_asker(update, context, who):
        return
    expect_input(context, "hd_question", source="deeplink")
    await reply(update, context, t(context, who, "hd.how_to_ask"),
                markup=keyboard([[(t(context, who, "button.cancel"), cb(FEATURE, "x"))]]))


@input_handler("hd_question")
async def question_input(update: Update, context: Context, who, data: dict) -> None:
    if await _refuse_asker(update, context, who):
        return
    message = update.effective_message
    files = [data["file"]] if data.get("file") else []
    qid = await create_query(update, context, who, message.text or "", source=data.get("source") or "ask", attachments=files,
                             asker_message=(message.chat_id, message.message_id))
    if qid is None:  # empty or too long: the next message is still the question (/cancel stops)
        expect_input(context, "hd_question", **data)


# -- private messages: follow-ups, files ----------------------------------------------------------


def _pending_message(message) -> dict:
    return {"message_id": message.message_id, "chat_id": message.chat_id, "kind": _kind_of(message),
            "text": _message_text(message), "attachment": _attachment_of(message)}


async def private_message(update: Update, context: Context) -> None:
    """Group 20: a focal point's private text/photo/document that continues a query (or starts one with a file)."""
    message = update.effective_message
    if message is None or not is_private(update):
        return
    who = await person(update, context)
    if not who.is_focal_point:
        return
    services = svc(context)
    attachment = _attachment_of(message)
    awaiting = context.user_data.get("awaiting") if context.user_data is not None else None
    if attachment and awaiting and awaiting.get("name") == "hd_question":
        awaiting.setdefault("data", {})["file"] = attachment
        if message.caption:
            clear_input(context)
            await create_query(update, context, who, message.caption, source=awaiting["data"].get("source") or "file",
                               attachments=[attachment], asker_message=(message.chat_id, message.message_id))
        else:
            await reply(update, context, t(context, who, "hd.file_received"))
        raise ApplicationHandlerStop
    routed = None
    if message.reply_to_message is not None:
        routed = await services.store.run(store.route, message.chat_id, message.reply_to_message.message_id)
        if routed and routed["role"] == "comment_prompt" and message.text:
            await comment_reply(update, context, who, routed["query_id"])
            raise ApplicationHandlerStop
    candidates = await services.store.run(store.followable, who.user_id, who.country)
    target = None
    if routed and any(q["id"] == routed["query_id"] for q in candidates):
        target = routed["query_id"]
    if target is None and len(candidates) == 1:
        target = candidates[0]["id"]
    if target is not None:
        await add_followup(update, context, who, target, _pending_message(message))
        raise ApplicationHandlerStop
    if len(candidates) > 1:
        pending = _pending_message(message)
        context.user_data["hd_pending_msg"] = pending
        rows = [[(f"#{q['id']} · {hd.snippet(q['text'], 40)}", cb(FEATURE, "fu", q["id"], message.message_id))] for q in candidates[:6]]
        rows.append([(t(context, who, "hd.btn.new_query"), cb(FEATURE, "fn", message.message_id)),
                     (t(context, who, "button.cancel"), cb(FEATURE, "x"))])
        await reply(update, context, t(context, who, "hd.choose_query"), markup=keyboard(rows))
        raise ApplicationHandlerStop
    if attachment:
        context.user_data["hd_pending_msg"] = _pending_message(message)
        await reply(update, context, t(context, who, "hd.offer_file"),
                    markup=keyboard([[(t(context, who, "hd.btn.ask_with_file"), cb(FEATURE, "fn", message.message_id)),
                                      (t(context, who, "button.cancel"), cb(FEATURE, "x"))]]))
        raise ApplicationHandlerStop


async def add_followup(update: Update, context: Context, who, qid: int, pending: dict) -> None:
    services = svc(context)
    result = await services.store.run(lambda db: hd.add_followup(db, qid, who.user_id, chat_id=pending["chat_id"],
                                                                 message_id=pending["message_id"], kind=pending["kind"],
                                                                 text=pending["text"] or None, attachment=pending["attachment"],
                                                                 now=_now(services)))
    if not result.added:
        if result.reason == "closed":
            await reply(update, context, t(context, who, "hd.followup_closed", n=qid))
        elif result.reason == "not_found":
            await reply(update, context, t(context, who, "error.stale_button"))
        return
    key = "hd.followup_reopened" if result.reopened_from else "hd.followup_added"
    await reply(update, context, t(context, who, key, n=qid))
    query = result.query
    try:
        if not query.get("posted_at"):
            await post_query(context.bot, services, qid)
        else:
            row = await services.store.run(store.route, pending["chat_id"], pending["message_id"])
            await _relay_followup(context.bot, services, query, row)
        if result.reopened_from:
            await notify_experts(context.bot, services, query, xt(services, "hd.notice_reopened", n=qid),
                                 f"reopened:{pending['chat_id']}:{pending['message_id']}")
            await refresh_card(context.bot, services, qid)
    except Exception:  # noqa: BLE001 - stored; the periodic job relays it later
        log.exception("helpdesk.followup_relay_error", extra={"query": qid})


# -- the experts' chat: replies ------------------------------------------------------------------


async def expert_message(update: Update, context: Context) -> None:
    """Group 20 in the experts' chat: a reply to a query's message, or a message in its topic."""
    services = svc(context)
    message = update.effective_message
    if message is None or not _is_expert_chat(update, services):
        return
    chat_id = message.chat_id
    routed = None
    if message.is_topic_message and message.message_thread_id:
        found = await services.store.run(store.route, chat_id, message.message_thread_id)
        if found and found["role"] == "topic":
            routed = found
    if routed is None and message.reply_to_message is not None:
        routed = await services.store.run(store.route, chat_id, message.reply_to_message.message_id)
    if routed is None:
        replied = message.reply_to_message
        if replied is not None and replied.from_user is not None and replied.from_user.id == context.bot.id:
            await reply(update, context, xt(services, "hd.reply_unroutable"))
            raise ApplicationHandlerStop
        return  # the experts talking among themselves
    who = await person(update, context)
    qid = routed["query_id"]
    if not who.is_expert:
        await reply(update, context, xt(services, "hd.reply_not_expert"))
        raise ApplicationHandlerStop
    result = await services.store.run(lambda db: hd.record_expert_reply(
        db, qid, who.user_id, chat_id=chat_id, message_id=message.message_id, kind=_kind_of(message),
        text=_message_text(message) or None, attachment=_attachment_of(message), now=_now(services)))
    if not result.recorded:
        if result.reason == "closed":
            await reply(update, context, xt(services, "hd.reply_closed", n=qid))
        raise ApplicationHandlerStop
    log.info("helpdesk.expert_reply", extra={"query": qid, "expert": who.user_id})
    status = await deliver_answer(context.bot, services, result.query, chat_id, message.message_id)
    if status == "sent":
        try:  # a quiet sign in the experts' chat that the focal point got it
            await context.bot.set_message_reaction(chat_id, message.message_id, "👍")
        except TelegramError:
            pass
    if result.opened or result.query.get("assignee_id") == who.user_id:
        await refresh_card(context.bot, services, qid)
    raise ApplicationHandlerStop


# -- buttons ---------------------------------------------------------------------------------------


async def on_button(update: Update, context: Context) -> None:
    who = await person(update, context)
    parts = parse_cb(update.callback_query.data, FEATURE)
    if not parts:
        await answer_button(update, t(context, who, "error.stale_button"), alert=True)
        return
    action, args = parts[0], parts[1:]
    handler = BUTTONS.get(action)
    if handler is None:
        await answer_button(update, t(context, who, "error.stale_button"), alert=True)
        return
    await handler(update, context, who, args)


async def _not_allowed(update: Update, context: Context, who) -> None:
    await answer_button(update, t(context, who, "error.not_allowed"), alert=True)


async def _stale(update: Update, context: Context, who) -> None:
    await answer_button(update, t(context, who, "error.stale_button"), alert=True)


async def button_askq(update: Update, context: Context, who, args: list[str]) -> None:
    """The FAQ's "Ask an expert" button: the question it stored becomes a query."""
    if not is_private(update):
        await _not_allowed(update, context, who)
        return
    if await _refuse_asker(update, context, who):
        return
    last = context.user_data.pop("last_question", None) if context.user_data is not None else None
    await answer_button(update)
    if not isinstance(last, dict) or not str(last.get("text") or "").strip():
        done = context.user_data.get("hd_last_created")
        key = "hd.already_logged" if done else "hd.askq_missing"
        await reply(update, context, t(context, who, key, n=done) if done else t(context, who, key))
        return
    candidates = [str(c) for c in (last.get("candidates") or []) if c]
    await create_query(update, context, who, str(last["text"]), source="faq", lang=last.get("lang"), candidates=candidates)


async def button_cancel(update: Update, context: Context, who, args: list[str]) -> None:
    clear_input(context)
    if context.user_data is not None:
        context.user_data.pop("hd_pending_msg", None)
    await answer_button(update)
    await edit_or_reply(update, context, t(context, who, "common.cancelled"))


async def button_followup(update: Update, context: Context, who, args: list[str]) -> None:
    """The asker chose which query a message belongs to."""
    pending = context.user_data.get("hd_pending_msg") if context.user_data is not None else None
    qid = _number(args[0]) if args else None
    mid = _number(args[1]) if len(args) > 1 else None
    if not is_private(update) or not who.is_focal_point:
        await _not_allowed(update, context, who)
        return
    if qid is None or pending is None or pending.get("message_id") != mid:
        await _stale(update, context, who)
        return
    query = await _get(svc(context), qid)
    if query is None or query["asker_id"] != who.user_id or query.get("country") != who.country:
        await _not_allowed(update, context, who)
        return
    if query["state"] not in hd.FOLLOWABLE:
        await _stale(update, context, who)
        return
    context.user_data.pop("hd_pending_msg", None)
    await answer_button(update)
    await edit_or_reply(update, context, t(context, who, "hd.followup_choice", n=qid))
    await add_followup(update, context, who, qid, pending)


async def button_new_from_message(update: Update, context: Context, who, args: list[str]) -> None:
    """A pending message (text or file) becomes a new query."""
    pending = context.user_data.get("hd_pending_msg") if context.user_data is not None else None
    mid = _number(args[0]) if args else None
    if not is_private(update):
        await _not_allowed(update, context, who)
        return
    if await _refuse_asker(update, context, who):
        return
    if pending is None or pending.get("message_id") != mid:
        await _stale(update, context, who)
        return
    context.user_data.pop("hd_pending_msg", None)
    await answer_button(update)
    files = [pending["attachment"]] if pending.get("attachment") else []
    text = (pending.get("text") or "").strip()
    if not text:
        expect_input(context, "hd_question", source="file", file=files[0] if files else None)
        await edit_or_reply(update, context, t(context, who, "hd.file_needs_question"))
        return
    await create_query(update, context, who, text, source="file" if files else "followup", attachments=files,
                       asker_message=(pending["chat_id"], pending["message_id"]))


async def _checked_query(update: Update, context: Context, who, args: list[str]) -> tuple[dict | None, str | None]:
    """For experts' buttons: the query, if the presser may act and the button is current."""
    services = svc(context)
    if not who.is_expert or not _content_allowed(update, services):
        await _not_allowed(update, context, who)
        return None, None
    qid = _number(args[0]) if args else None
    expect = hd.CODE_STATES.get(args[1]) if len(args) > 1 else None
    query = await _get(services, qid) if qid is not None else None
    if query is None or expect is None:
        await _stale(update, context, who)
        return None, None
    if query["state"] != expect:
        await _stale(update, context, who)
        await _redraw_pressed(update, context, query["id"])
        return None, None
    return query, expect


async def _redraw_pressed(update: Update, context: Context, qid: int, menu: str = "main") -> None:
    """Redraw the message the button was on (the card, or a /query view) with the current state."""
    services = svc(context)
    cq = update.callback_query
    if cq is None or cq.message is None:
        return
    lang = settings(services).expert_language if _is_expert_chat(update, services) else (await person(update, context)).lang
    query, text, _markup = await _card_bundle(services, qid, lang)
    if query is None:
        return
    markup = keyboard(card_rows(services, lang, query, menu))
    is_card = cq.message.chat.id == query.get("expert_chat_id") and cq.message.message_id == query.get("expert_message_id")
    try:
        if is_card or menu != "main":
            await cq.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)
        else:
            await cq.edit_message_reply_markup(reply_markup=markup)
    except TelegramError as exc:
        if "not modified" not in str(exc).lower():
            log.info("helpdesk.redraw_failed", extra={"query": qid, "error": str(exc)})


async def _after_change(update: Update, context: Context, who, query: dict, toast_key: str, **kwargs) -> None:
    services = svc(context)
    await answer_button(update, t(context, who, toast_key, n=query["id"], **kwargs))
    await refresh_card(context.bot, services, query["id"])
    cq = update.callback_query
    is_card = cq.message is not None and cq.message.chat.id == query.get("expert_chat_id") and cq.message.message_id == query.get("expert_message_id")
    if not is_card:
        await _redraw_pressed(update, context, query["id"])


async def button_card(update: Update, context: Context, who, args: list[str], action: str) -> None:
    services = svc(context)
    query, expect = await _checked_query(update, context, who, args)
    if query is None:
        return
    qid, now = query["id"], _now(services)
    if action in ("pm", "bk"):
        await answer_button(update)
        await _redraw_pressed(update, context, qid, "priority" if action == "pm" else "main")
        return
    if action == "pr":
        level = args[2] if len(args) > 2 else ""
        if level not in hd.PRIORITIES:
            await _stale(update, context, who)
            return
        change = await services.store.run(lambda db: hd.set_priority(db, qid, level, who.user_id, now, expect=expect))
        if not change.ok:
            await _change_refused(update, context, who, change)
            return
        await _after_change(update, context, who, change.query, "hd.toast_priority", priority=t(context, who, f"hd.priority.{level}"))
        return
    if action == "as":
        change = await services.store.run(lambda db: hd.assign(db, qid, who.user_id, who.user_id, now, expect=expect))
        if not change.ok:
            await _change_refused(update, context, who, change)
            return
        await _after_change(update, context, who, change.query, "hd.toast_assigned", name=who.name)
        return
    to = {"pd": "pending", "rs": "resolved"}[action]
    change = await services.store.run(lambda db: hd.change_state(db, qid, to, who.user_id, now, expect=expect, detail="button"))
    if not change.ok:
        await _change_refused(update, context, who, change)
        return
    await _after_change(update, context, who, change.query, "hd.toast_state", state=t(context, who, f"hd.state.{to}"))
    await on_state_changed(context.bot, services, change)


async def _change_refused(update: Update, context: Context, who, change: hd.Change) -> None:
    if change.reason == "same":
        await answer_button(update, t(context, who, "hd.unchanged"))
    elif change.reason in ("stale", "invalid", "closed", "not_found"):
        await _stale(update, context, who)
        if change.query:
            await _redraw_pressed(update, context, change.query["id"])
    else:
        await _not_allowed(update, context, who)


async def on_state_changed(bot, services, change: hd.Change, *, auto: bool = False) -> None:
    """What the asker and the experts are told after a state change (already committed)."""
    query = change.query
    qid = query["id"]
    if change.after == "pending":
        days = max(1, round(settings(services).auto_resolve_after.total_seconds() / 86400))
        await send_to_asker(bot, services, query, kind="hd_pending", ref=f"{qid}:{query['pending_since']}", key="hd.pending_notice",
                            n=qid, days=days)
    elif change.after == "resolved":
        asked = await services.store.run(store.rating_asked, qid, query["asker_id"], _now(services))
        if asked:
            stars = [[(str(i) + "⭐", cb(FEATURE, "rt", qid, i)) for i in range(1, 6)]]
            key = "hd.auto_resolved_rate" if auto else "hd.resolved_rate"
            await send_to_asker(bot, services, query, kind="hd_rate", ref=str(qid), key=key, markup=keyboard(stars), n=qid)
        else:
            await send_to_asker(bot, services, query, kind="hd_resolved", ref=f"{qid}:{query['resolved_at']}", key="hd.resolved_again", n=qid)
        if auto:
            days = max(1, round(settings(services).auto_resolve_after.total_seconds() / 86400))
            await notify_experts(bot, services, query, xt(services, "hd.notice_auto_resolved", n=qid, days=days), f"auto:{qid}:{query['resolved_at']}")


async def button_rate(update: Update, context: Context, who, args: list[str]) -> None:
    """The asker's 1-5 rating, once: it closes the resolved query; a comment is then invited (optional)."""
    services = svc(context)
    qid = _number(args[0]) if args else None
    score = _number(args[1]) if len(args) > 1 else None
    if not is_private(update):
        await _not_allowed(update, context, who)
        return
    if qid is None or score is None:
        await _stale(update, context, who)
        return
    now = _now(services)
    outcome = await services.store.run(hd.rate, qid, who.user_id, score, now)
    if outcome == "already":
        await answer_button(update, t(context, who, "hd.already_rated"), alert=True)
        return
    if outcome == "not_yours":
        await _not_allowed(update, context, who)
        return
    if outcome != "ok":
        await _stale(update, context, who)
        return
    await answer_button(update)
    await edit_or_reply(update, context, t(context, who, "hd.rated", n=qid, stars="⭐" * score))
    change = await services.store.run(lambda db: hd.change_state(db, qid, "closed", who.user_id, now, expect="resolved", detail="rated"))
    if change.ok:
        await refresh_card(context.bot, services, qid)
    # ForceReply opens a reply to the invitation; the reply is recognised through the routing table.
    prompt = await services.deliverer.send_now(context.bot, kind="hd_comment_ask", ref=str(qid), chat_id=update.effective_chat.id,
                                               method="sendMessage",
                                               payload={"text": t(context, who, "hd.comment_prompt", n=qid), "parse_mode": ParseMode.HTML.value,
                                                        "reply_markup": ForceReply(selective=False).to_dict()})
    if prompt.status == "sent" and prompt.message_id:
        await services.store.run(hd.record_relay, qid, chat_id=update.effective_chat.id, message_id=prompt.message_id,
                                 role="comment_prompt", now=_now(services))
    query = await _get(services, qid)
    await notify_experts(context.bot, services, query, xt(services, "hd.notice_rated", n=qid, score=score), f"rated:{qid}")


async def comment_reply(update: Update, context: Context, who, qid: int) -> None:
    """A reply to the comment invitation: stored once, shown to the experts."""
    services = svc(context)
    text = (update.effective_message.text or "").strip()
    if not text:
        await reply(update, context, t(context, who, "error.empty"))
        return
    if len(text) > MAX_COMMENT:
        await reply(update, context, t(context, who, "hd.comment_too_long", limit=MAX_COMMENT))
        return
    if not await services.store.run(hd.comment, qid, who.user_id, text, _now(services)):
        await reply(update, context, t(context, who, "hd.comment_already"))
        return
    await reply(update, context, t(context, who, "hd.comment_thanks"))
    query = await _get(services, qid)
    await notify_experts(context.bot, services, query, xt(services, "hd.notice_comment", n=qid, comment=text), f"comment:{qid}")


async def button_open(update: Update, context: Context, who, args: list[str]) -> None:
    services = svc(context)
    qid = _number(args[0]) if args else None
    if qid is None:
        await _stale(update, context, who)
        return
    if not _content_allowed(update, services):
        await _not_allowed(update, context, who)
        return
    query = await _get(services, qid)
    if query is None or not _may_view(who, query):
        await _not_allowed(update, context, who)
        return
    await answer_button(update)
    await show_query(update, context, who, query)


async def button_queue_page(update: Update, context: Context, who, args: list[str]) -> None:
    services = svc(context)
    if not who.is_expert or not _content_allowed(update, services):
        await _not_allowed(update, context, who)
        return
    page = _number(args[0]) if args else None
    flt = hd.QueueFilter.decode(args[1:]) if len(args) == 4 else None
    if page is None or flt is None:
        await _stale(update, context, who)
        return
    await answer_button(update)
    text, markup = await render_queue(services, who, flt, page)
    await edit_or_reply(update, context, text, markup=markup)


async def button_draft(update: Update, context: Context, who, args: list[str], approve: bool) -> None:
    """The secretariat approves (or rejects) a draft FAQ entry made from a query."""
    services = svc(context)
    if not who.is_secretariat or not _content_allowed(update, services):
        await _not_allowed(update, context, who)
        return
    draft_id = _number(args[0]) if args else None
    if draft_id is None:
        await _stale(update, context, who)
        return
    from storage import faq as faq_store

    now = _now(services)

    def decide(db):
        drafts = {d["id"]: d for d in faq_store.list_drafts(db, None)}
        draft = drafts.get(draft_id)
        if draft is None or draft["status"] != "pending":
            return None, draft
        if approve:
            entry_id = faq_store.approve_draft(db, draft_id, who.user_id, now=now)
        else:
            faq_store.reject_draft(db, draft_id, who.user_id, now=now)
            entry_id = None
        ref = draft.get("ref") or ""
        qid = _number(ref.split(":", 1)[1]) if ref.startswith("query:") else None
        if qid is not None and store.get_query(db, qid) is not None:
            store.add_event(db, qid, now, who.user_id, "faq_approved" if approve else "faq_rejected", draft_id, entry_id)
        if approve and services.search is not None and hasattr(services.search, "refresh_if_changed"):
            services.search.refresh_if_changed()
        return entry_id or "", draft

    try:
        entry_id, draft = await services.store.run(decide)
    except (KeyError, ValueError) as exc:
        log.info("helpdesk.draft_refused", extra={"draft": draft_id, "error": str(exc)})
        await answer_button(update, t(context, who, "hd.draft_decided"), alert=True)
        return
    if entry_id is None:
        await answer_button(update, t(context, who, "hd.draft_decided"), alert=True)
        return
    await answer_button(update)
    if approve:
        await edit_or_reply(update, context, t(context, who, "hd.draft_approved", draft=draft_id, entry=entry_id))
    else:
        await edit_or_reply(update, context, t(context, who, "hd.draft_rejected", draft=draft_id))


BUTTONS = {
    "askq": button_askq,
    "x": button_cancel,
    "fu": button_followup,
    "fn": button_new_from_message,
    "rt": button_rate,
    "q": button_open,
    "qp": button_queue_page,
    "as": lambda u, c, w, a: button_card(u, c, w, a, "as"),
    "pm": lambda u, c, w, a: button_card(u, c, w, a, "pm"),
    "bk": lambda u, c, w, a: button_card(u, c, w, a, "bk"),
    "pr": lambda u, c, w, a: button_card(u, c, w, a, "pr"),
    "pd": lambda u, c, w, a: button_card(u, c, w, a, "pd"),
    "rs": lambda u, c, w, a: button_card(u, c, w, a, "rs"),
    "ap": lambda u, c, w, a: button_draft(u, c, w, a, True),
    "rj": lambda u, c, w, a: button_draft(u, c, w, a, False),
}


# -- commands: the asker ---------------------------------------------------------------------------


async def myqueries(update: Update, context: Context) -> None:
    who = await person(update, context)
    services = svc(context)
    if not is_private(update):
        await reply(update, context, t(context, who, "error.private_only"))
        return
    if not who.is_focal_point:
        key = "hd.staff_use_queue" if who.is_expert else "error.need_registration"
        await reply(update, context, t(context, who, key))
        return
    rows = await services.store.run(store.asker_queries, who.user_id, who.country, 20)
    if not rows:
        await reply(update, context, t(context, who, "hd.myqueries_empty"))
        return
    lines = [t(context, who, "hd.myqueries_title")]
    for q in rows:
        lines.append(t(context, who, "hd.myqueries_line", n=q["id"], state=state_label(services, who.lang, q["state"]),
                       date=_fmt_time(q["created_at"])[:10], text=hd.snippet(q["text"], 70)))
    buttons = [(f"#{q['id']}", cb(FEATURE, "q", q["id"])) for q in rows[:12]]
    await reply(update, context, "\n".join(lines), markup=keyboard([buttons[i:i + 4] for i in range(0, len(buttons), 4)]))


async def show_query(update: Update, context: Context, who, query: dict) -> None:
    """The thread (and, for experts, the audit trail) of one query."""
    services = svc(context)
    lang = who.lang
    qid = query["id"]
    rows = await services.store.run(store.messages, qid, ["asker", "expert"])
    files = await services.store.run(store.attachments, qid)
    events = await services.store.run(store.events, qid) if who.is_expert else []
    names = await _names(services, [query["asker_id"], query.get("assignee_id")] + [r.get("author_id") for r in rows]
                         + [e.get("actor_id") for e in events])
    by_message = {(f["chat_id"], f["message_id"]): f for f in files}
    if who.is_expert:
        head = render_card(services, query, lang, names, len(files), text_limit=1500)
    else:
        head = t(context, who, "hd.view_head", n=qid, state=state_label(services, lang, query["state"]),
                 date=_fmt_time(query["created_at"]), text=query["text"])
    parts = [head, t(context, who, "hd.thread_title")]
    first_text_skipped = False
    for row in rows:
        if row["role"] == "asker" and not first_text_skipped and (row.get("text") or "") == query["text"]:
            first_text_skipped = True
            continue
        if row["role"] == "expert":
            author = _name_of(names.get(row.get("author_id"))) if who.is_expert else t(context, who, "hd.role.expert")
            if who.is_expert and row.get("delivery_status") in ("blocked", "failed", "held", "undeliverable"):
                author += " " + t(context, who, f"hd.delivery.{row['delivery_status']}")
        else:
            author = t(context, who, "hd.role.asker")
        body = html.escape(hd.snippet(row.get("text") or "", 600)) if row.get("text") else ""
        item = by_message.get((row["chat_id"], row["message_id"]))
        if item:
            body = (body + " " if body else "") + "📎 " + html.escape(item.get("file_name") or item["kind"])
        parts.append(f"<i>{_fmt_time(row['created_at'])}</i> · <b>{html.escape(author)}</b>: {body or '…'}")
    if len(parts) == 2:
        parts.append(t(context, who, "hd.thread_empty"))
    if who.is_expert and events:
        parts.append(t(context, who, "hd.history_title"))
        for e in events:
            actor = _name_of(names.get(e["actor_id"])) if e.get("actor_id") else t(context, who, "hd.actor_bot")
            change = ""
            if e.get("from_value") is not None or e.get("to_value") is not None:
                change = f": {html.escape(e.get('from_value') or '—')} → {html.escape(e.get('to_value') or '—')}"
            label = t(context, who, f"hd.event.{e['kind']}") if f"hd.event.{e['kind']}" in services.i18n else e["kind"]
            parts.append(f"<i>{_fmt_time(e['at'])}</i> · {html.escape(actor)} · {html.escape(label)}{change}")
    markup = keyboard(card_rows(services, lang, query)) if who.is_expert else None
    await reply(update, context, "\n".join(parts), markup=markup)


# -- commands: the experts and the secretariat --------------------------------------------------


async def _staff_guard(update: Update, context: Context, who, *, secretariat: bool = False) -> bool:
    """True (after answering) when the command must not run here for this user."""
    services = svc(context)
    allowed = who.is_secretariat if secretariat else who.is_expert
    if not allowed:
        await reply(update, context, t(context, who, "error.not_allowed"))
        return True
    if not _content_allowed(update, services):
        await reply(update, context, t(context, who, "hd.private_or_experts"))
        return True
    return False


async def _query_arg(update: Update, context: Context, who, usage_key: str) -> dict | None:
    services = svc(context)
    qid = _number(context.args[0]) if context.args else None
    if qid is None:
        await reply(update, context, t(context, who, usage_key))
        return None
    query = await _get(services, qid)
    if query is None or not _may_view(who, query):
        await reply(update, context, t(context, who, "hd.not_found", n=qid))
        return None
    return query


async def _staff_query(update: Update, context: Context, usage_key: str) -> tuple[Any, dict] | None:
    """``(who, query)`` for a staff command on the query named by its first argument, or
    None after answering why not (not staff, wrong chat, no number, no such query)."""
    who = await person(update, context)
    if await _staff_guard(update, context, who):
        return None
    query = await _query_arg(update, context, who, usage_key)
    return None if query is None else (who, query)


async def query_command(update: Update, context: Context) -> None:
    who = await person(update, context)
    services = svc(context)
    if not (who.is_expert or who.is_focal_point):
        await reply(update, context, t(context, who, "error.need_registration"))
        return
    if not _content_allowed(update, services):
        await reply(update, context, t(context, who, "hd.private_or_experts"))
        return
    query = await _query_arg(update, context, who, "hd.usage_query")
    if query is not None:
        await show_query(update, context, who, query)


async def render_queue(services, who, flt: hd.QueueFilter, page: int) -> tuple[str, Any]:
    lang = who.lang
    size = settings(services).queue_page_size
    page = max(1, page)
    rows, total = await services.store.run(lambda db: store.queue(db, limit=size, offset=(page - 1) * size, **flt.query_args(who.user_id)))
    pages = max(1, -(-total // size))
    view = t_view(services, lang, flt.view)
    label = " · ".join(x for x in (view, flt.country, f"#{flt.tag}" if flt.tag else None) if x)
    lines = [services.t(lang, "hd.queue_title", filter=label, total=total)]
    if not rows:
        lines.append(services.t(lang, "hd.queue_empty"))
        return "\n".join(lines), None
    names = await _names(services, [q.get("assignee_id") for q in rows])
    now = _now(services)
    for q in rows:
        assignee = f" · 👤 {_name_of(names.get(q['assignee_id']))}" if q.get("assignee_id") else ""
        overdue = " ⚠️" if q.get("overdue") and q["state"] in hd.ACTIVE else ""
        lines.append(services.t(lang, "hd.queue_line", n=q["id"], icon=STATE_ICONS.get(q["state"], ""), country=q.get("country") or "—",
                                priority=services.t(lang, f"hd.priority.{q['priority']}"), age=_age(services, lang, q["created_at"], now),
                                text=hd.snippet(q["text"], 50), extra=assignee + overdue))
    if pages > 1:
        lines.append(services.t(lang, "hd.queue_page", page=page, pages=pages))
    buttons = [(f"#{q['id']}", cb(FEATURE, "q", q["id"])) for q in rows]
    grid = [buttons[i:i + 4] for i in range(0, len(buttons), 4)]
    nav = []
    if page > 1:
        nav.append((services.t(lang, "button.prev"), cb(FEATURE, "qp", page - 1, flt.encode())))
    if page < pages:
        nav.append((services.t(lang, "button.next"), cb(FEATURE, "qp", page + 1, flt.encode())))
    if nav:
        grid.append(nav)
    return "\n".join(lines), keyboard(grid)


def t_view(services, lang: str, view: str) -> str:
    if view in hd.STATES:
        return services.t(lang, f"hd.state.{view}")
    return services.t(lang, f"hd.view.{view}")


async def queue_command(update: Update, context: Context) -> None:
    who = await person(update, context)
    if await _staff_guard(update, context, who):
        return
    services = svc(context)
    flt, bad = hd.parse_queue_args(context.args or [], lambda code: (services.countries.get(code).iso3 if services.countries.get(code) else None))
    if flt is None:
        await reply(update, context, t(context, who, "hd.queue_bad_arg", word=bad))
        return
    text, markup = await render_queue(services, who, flt, 1)
    await reply(update, context, text, markup=markup)


async def _find_expert(services, text: str) -> tuple[dict | None, str]:
    """A user named by ``@username`` or numeric id; (row, "ok"|"unknown"|"not_expert")."""
    text = text.strip()

    def load(db):
        if text.lstrip("-").isdigit():
            return users.get_user(db, int(text)) or ({"user_id": int(text)} if int(text) in services.config.expert_ids else None)
        return users.get_user_by_username(db, text)

    row = await services.store.run(load)
    if row is None:
        return None, "unknown"
    role_person = person_from_row(services, {"lang": None, "first_name": None, "username": None, "country": None, **row})
    return row, "ok" if role_person.is_expert else "not_expert"


async def assign_command(update: Update, context: Context) -> None:
    found = await _staff_query(update, context, "hd.usage_assign")
    if found is None:
        return
    who, query = found
    services = svc(context)
    target_text = context.args[1] if len(context.args) > 1 else "me"
    if target_text.lower() in ("me", "moi", "yo", "я", "我"):
        target_id, target_name = who.user_id, who.name
    elif target_text.lower() in ("none", "-", "nobody"):
        target_id, target_name = None, t(context, who, "common.none")
    else:
        row, status = await _find_expert(services, target_text)
        if status == "unknown":
            await reply(update, context, t(context, who, "hd.unknown_user", who=target_text[:40]))
            return
        if status == "not_expert":
            await reply(update, context, t(context, who, "hd.not_an_expert", name=_name_of(row)))
            return
        target_id, target_name = row["user_id"], _name_of(row)
    change = await services.store.run(lambda db: hd.assign(db, query["id"], target_id, who.user_id, _now(services)))
    await _command_result(update, context, who, change, "hd.assigned", name=target_name)


async def _command_result(update: Update, context: Context, who, change: hd.Change, key: str, **kwargs) -> None:
    services = svc(context)
    if not change.ok:
        if change.reason == "same":
            await reply(update, context, t(context, who, "hd.unchanged"))
        elif change.reason == "closed":
            await reply(update, context, t(context, who, "hd.is_closed", n=change.query["id"]))
        else:
            await reply(update, context, t(context, who, "error.stale_button"))
        return
    await reply(update, context, t(context, who, key, n=change.query["id"], **kwargs))
    await refresh_card(context.bot, services, change.query["id"])


async def priority_command(update: Update, context: Context) -> None:
    found = await _staff_query(update, context, "hd.usage_priority")
    if found is None:
        return
    who, query = found
    services = svc(context)
    level = (context.args[1].lower() if len(context.args) > 1 else "")
    if level not in hd.PRIORITIES:
        await reply(update, context, t(context, who, "hd.usage_priority"))
        return
    change = await services.store.run(lambda db: hd.set_priority(db, query["id"], level, who.user_id, _now(services)))
    await _command_result(update, context, who, change, "hd.priority_set", priority=t(context, who, f"hd.priority.{level}"))


async def tag_command(update: Update, context: Context) -> None:
    found = await _staff_query(update, context, "hd.usage_tag")
    if found is None:
        return
    who, query = found
    services = svc(context)
    words = context.args[1:]
    if not words:
        await reply(update, context, t(context, who, "hd.usage_tag"))
        return
    add, remove = [], []
    for word in words[:hd.MAX_TAGS]:
        tag = hd.normalise_tag(word.lstrip("-+"))
        if tag is None:
            await reply(update, context, t(context, who, "hd.bad_tag", tag=word[:30]))
            return
        (remove if word.startswith("-") else add).append(tag)
    change = await services.store.run(lambda db: hd.retag(db, query["id"], add, remove, who.user_id, _now(services)))
    tags = " ".join(f"#{x}" for x in (change.after or [])) or t(context, who, "common.none")
    await _command_result(update, context, who, change, "hd.tags_set", tags=tags)


REGION_KEYS = ("I", "II", "III", "IV", "V")


async def stats_command(update: Update, context: Context) -> None:
    who = await person(update, context)
    if await _staff_guard(update, context, who):
        return
    services = svc(context)
    lang = who.lang

    def load(db):
        return store.all_queries(db), store.all_ratings(db), store.all_tags(db)

    queries, ratings, tags = await services.store.run(load)

    def region(iso3):
        country = services.countries.get(iso3)
        return country.annex if country else "-"

    st = hd.compute_stats(queries, ratings, tags, region)
    none = services.t(lang, "common.none")
    states = " · ".join(f"{services.t(lang, f'hd.state.{s}')} {st.by_state.get(s, 0)}" for s in hd.STATES)
    lines = [services.t(lang, "hd.stats_head", total=st.total, states=states, overdue=st.overdue,
                        first=_hours_text(services, lang, st.overall.median_first_hours),
                        resolution=_hours_text(services, lang, st.overall.median_resolution_hours),
                        rating=f"{st.rating_average:.2f}" if st.rating_average is not None else none, ratings=st.rating_count)]

    def group_line(name, g):
        return services.t(lang, "hd.stats_line", name=name, count=g.count, first=_hours_text(services, lang, g.median_first_hours),
                          resolution=_hours_text(services, lang, g.median_resolution_hours))

    if st.by_region:
        lines.append(services.t(lang, "hd.stats_regions"))
        for key, g in st.by_region.items():
            name = services.t(lang, f"hd.region.{key}") if key in REGION_KEYS else none
            lines.append(group_line(name, g))
    if st.by_topic:
        lines.append(services.t(lang, "hd.stats_topics"))
        for key, g in list(st.by_topic.items())[:15]:
            lines.append(group_line(f"#{key}", g))
    await reply(update, context, "\n".join(lines))


async def export_command(update: Update, context: Context) -> None:
    """/export [DATE] → queries as CSV; /export milestones → the milestones (secretariat)."""
    if context.args and context.args[0].lower() in ("milestones", "milestone", "checklist"):
        from handlers.milestones import export_milestones_command

        await export_milestones_command(update, context)
        return
    if context.args and context.args[0].lower() in ("queries", "query"):
        context.args = context.args[1:]
    who = await person(update, context)
    if await _staff_guard(update, context, who):
        return
    services = svc(context)
    since = None
    if context.args:
        try:
            since = dt.datetime.fromisoformat(context.args[-1].replace("Z", "+00:00"))
            since = since if since.tzinfo else since.replace(tzinfo=dt.timezone.utc)
        except ValueError:
            await reply(update, context, t(context, who, "hd.export_usage"))
            return
    text = await services.store.run(hd.export_queries_csv, since)
    rows = await services.store.run(lambda db: len(store.all_queries(db, since)))
    stamp = _now(services).strftime("%Y%m%d")
    document = InputFile(io.BytesIO(text.encode("utf-8-sig")), filename=f"ldn-helpdesk-queries-{stamp}.csv")
    kwargs = {}
    message = update.effective_message
    if message is not None and message.is_topic_message and message.message_thread_id:
        kwargs["message_thread_id"] = message.message_thread_id
    await context.bot.send_document(update.effective_chat.id, document, caption=t(context, who, "hd.export_caption", count=rows), **kwargs)


def _topics(services) -> list[str]:
    cached = services.helpdesk_topics
    if cached is None:
        try:
            from knowledge.faq import load_topics

            cached = list(load_topics(services.config.knowledge_dir / "topics.yaml"))
        except Exception:  # noqa: BLE001 - topics are optional for promotion
            cached = []
        services.helpdesk_topics = cached
    return cached


async def promote_command(update: Update, context: Context) -> None:
    """``/promote N [topic]``: a resolved query (question + expert answer) becomes a draft FAQ entry."""
    found = await _staff_query(update, context, "hd.usage_promote")
    if found is None:
        return
    who, query = found
    services = svc(context)
    if query["state"] not in ("resolved", "closed"):
        await reply(update, context, t(context, who, "hd.promote_not_resolved", n=query["id"]))
        return
    topics = _topics(services)
    topic = context.args[1].lower() if len(context.args) > 1 else None
    if topic is not None and topics and topic not in topics:
        await reply(update, context, t(context, who, "hd.promote_bad_topic", topic=topic[:30], topics=", ".join(topics)))
        return
    if topic is None:
        topic = next((tag for tag in query.get("tags") or [] if tag in topics), None) or ("programme" if "programme" in topics or not topics else topics[0])
    try:
        from storage import faq as faq_store
        from knowledge.faq import MAX_ANSWER_CHARS
    except ImportError:  # pragma: no cover - the knowledge module is part of the project
        await reply(update, context, t(context, who, "error.internal"))
        return
    qid, now = query["id"], _now(services)

    def make(db):
        _q, question, answer = hd.promotion_texts(db, qid)
        if not answer:
            return "no_answer", None
        if len(answer) > MAX_ANSWER_CHARS:
            return "too_long", len(answer)
        for draft in faq_store.list_drafts(db, None):
            if draft.get("ref") == f"query:{qid}" and draft["status"] in ("pending", "approved"):
                return "already", draft["id"]
        draft_id = faq_store.add_draft(db, topic=topic, q=question, a=answer, lang=query["lang"], ref=f"query:{qid}",
                                       created_by=who.user_id, now=now)
        hd.record_promotion(db, qid, draft_id, who.user_id, now)
        return "ok", draft_id

    try:
        outcome, value = await services.store.run(make)
    except ValueError as exc:
        await reply(update, context, t(context, who, "hd.promote_invalid", error=str(exc)[:200]))
        return
    if outcome == "no_answer":
        await reply(update, context, t(context, who, "hd.promote_no_answer", n=qid))
        return
    if outcome == "too_long":
        await reply(update, context, t(context, who, "hd.promote_too_long", n=qid, length=value, limit=MAX_ANSWER_CHARS))
        return
    if outcome == "already":
        await reply(update, context, t(context, who, "hd.promote_already", n=qid, draft=value))
        return
    buttons = keyboard([[(t(context, who, "hd.btn.approve"), cb(FEATURE, "ap", value)),
                         (t(context, who, "hd.btn.reject"), cb(FEATURE, "rj", value))]])
    _q, question, answer = await services.store.run(hd.promotion_texts, qid)
    preview = t(context, who, "hd.draft_preview", n=qid, draft=value, topic=topic, question=question, answer=answer)
    await reply(update, context, preview, markup=buttons if who.is_secretariat else None)
    if not who.is_secretariat:
        await reply(update, context, t(context, who, "hd.promote_waiting"))
    if not _is_expert_chat(update, services) and settings(services).expert_chat_id is not None:
        lang = settings(services).expert_language
        text = services.t(lang, "hd.draft_preview", n=qid, draft=value, topic=topic, question=question, answer=answer)
        markup = keyboard([[(services.t(lang, "hd.btn.approve"), cb(FEATURE, "ap", value)),
                            (services.t(lang, "hd.btn.reject"), cb(FEATURE, "rj", value))]])
        payload = {"text": text, "parse_mode": ParseMode.HTML.value, "reply_markup": markup.to_dict(), **_placement(query)}
        await services.deliverer.send_now(context.bot, kind="hd_notice", ref=f"draft:{value}", chat_id=settings(services).expert_chat_id,
                                          method="sendMessage", payload=payload)


# -- periodic work -----------------------------------------------------------------------------------


async def helpdesk_tick(application) -> dict[str, int]:
    """SLA warnings and breaches, nudges, auto-resolve, closing, and retries of what did not get through.

    Idempotent: each step first sets its flag in the database (only one run wins), then tells people.
    """
    services = application.bot_data["services"]
    bot = application.bot
    s = settings(services)
    done = {"posted": 0, "warn": 0, "breach": 0, "nudge": 0, "auto_resolve": 0, "close": 0, "retried": 0}
    for query in await services.store.run(store.unposted):
        try:
            if await post_query(bot, services, query["id"]):
                done["posted"] += 1
        except Exception:  # noqa: BLE001 - one query must not stop the others
            log.exception("helpdesk.tick_post_failed", extra={"query": query["id"]})
    done["retried"] += await _retry_relays(bot, services)
    queries = await services.store.run(store.in_states, ["new", "open", "pending", "resolved"])
    now = _now(services)
    for action in hd.tick_actions(queries, now, s):
        try:
            if await _do_action(bot, services, action, now):
                done[action.kind] += 1
        except Exception:  # noqa: BLE001
            log.exception("helpdesk.tick_action_failed", extra={"query": action.query_id, "action": action.kind})
    return done


async def _do_action(bot, services, action: hd.Action, now: dt.datetime) -> bool:
    qid = action.query_id
    s = settings(services)
    lang = s.expert_language
    if action.kind in ("warn", "breach"):
        flag = ("warned_" if action.kind == "warn" else "breached_") + ("first" if action.target == "first_response" else "resolution")
        event = "sla_warning" if action.kind == "warn" else "overdue"
        if not await services.store.run(hd.mark_flag, qid, flag, now, event, action.target):
            return False
        query = await _get(services, qid)
        first, resolution = s.targets(query["priority"])
        limit = first if action.target == "first_response" else resolution
        target = services.t(lang, f"hd.target.{action.target}")
        priority = services.t(lang, f"hd.priority.{query['priority']}")
        if action.kind == "warn":
            hours = max(0.0, (action.due_at - now).total_seconds() / 3600)
            text = services.t(lang, "hd.sla_warn", n=qid, priority=priority, target=target, hours=f"{hours:.1f}",
                              due=action.due_at.strftime("%Y-%m-%d %H:%M UTC"))
        else:
            text = services.t(lang, "hd.sla_breach", n=qid, priority=priority, target=target,
                              limit=_hours_text(services, lang, limit.total_seconds() / 3600))
            await refresh_card(bot, services, qid)
        await notify_experts(bot, services, query, text, f"{flag}:{qid}")
        return True
    if action.kind == "nudge":
        if not await services.store.run(hd.mark_flag, qid, "nudged_at", now, "nudge"):
            return False
        query = await _get(services, qid)
        from storage.db import parse_iso

        closes = (parse_iso(query["pending_since"]) + s.auto_resolve_after).strftime("%Y-%m-%d")
        await send_to_asker(bot, services, query, kind="hd_nudge", ref=f"{qid}:{query['pending_since']}", key="hd.nudge", n=qid, date=closes)
        return True
    if action.kind == "auto_resolve":
        change = await services.store.run(lambda db: hd.change_state(db, qid, "resolved", None, now, expect="pending", detail="auto"))
        if not change.ok:
            return False
        await refresh_card(bot, services, qid)
        await on_state_changed(bot, services, change, auto=True)
        return True
    if action.kind == "close":
        change = await services.store.run(lambda db: hd.change_state(db, qid, "closed", None, now, expect="resolved", detail="auto"))
        if not change.ok:
            return False
        await refresh_card(bot, services, qid)
        return True
    return False


def _retryable(ledger: dict) -> bool:
    return ((ledger.get("error") or "").startswith(TRANSIENT_PREFIXES)
            and (ledger.get("attempts") or 0) < MAX_RELAY_RETRIES)


async def _retry_relays(bot, services) -> int:
    """Expert replies and follow-ups that failed on a transient error (429, 5xx, timeout): try again.

    A message that can never go (400, too many attempts) is marked ``undeliverable`` and
    stays readable in /query N; one sent or in doubt after a crash is never sent again.
    """
    retried = 0
    for row in await services.store.run(store.undelivered_expert_messages):
        ledger = await services.store.run(store.delivery_for, "answer", f"{row['chat_id']}:{row['message_id']}")
        if ledger is None or ledger["status"] != "failed" or not _retryable(ledger):
            final = {"sent": "sent", "blocked": "blocked", "uncertain": "held"}.get((ledger or {}).get("status"), "undeliverable")
            await services.store.run(store.set_delivery_status, row["chat_id"], row["message_id"], final)
            continue
        if not await services.store.run(store.requeue_delivery, ledger["id"]):
            continue
        outcome = await services.deliverer.deliver(bot, ledger["id"])
        query = await _get(services, row["query_id"])
        status = outcome.status if outcome.status in ("sent", "blocked", "failed") else "held"
        await services.store.run(lambda db: hd.record_delivery(db, row["query_id"], chat_id=row["chat_id"], message_id=row["message_id"],
                                                                status=status, now=_now(services), asker_chat=query["asker_id"],
                                                                copy_id=outcome.message_id, error=outcome.error))
        if status == "sent":
            retried += 1
            await notify_experts(bot, services, query, xt(services, "hd.notice_delivered_late", n=query["id"]),
                                 f"late:{row['chat_id']}:{row['message_id']}")
        elif status == "blocked":
            await notify_experts(bot, services, query, xt(services, "hd.notice_blocked", n=query["id"]),
                                 f"blocked:{row['chat_id']}:{row['message_id']}")
    queries: dict[int, dict] = {}
    for row in await services.store.run(store.pending_followups):
        ledger = await services.store.run(store.delivery_for, "hd_followup", f"{row['chat_id']}:{row['message_id']}")
        if ledger is not None and ledger["status"] == "failed" and _retryable(ledger):
            await services.store.run(store.requeue_delivery, ledger["id"])
        elif ledger is not None and ledger["status"] == "claimed":
            continue  # being sent right now
        elif ledger is not None and ledger["status"] != "pending":
            final = {"sent": "sent", "uncertain": "held"}.get(ledger["status"], "undeliverable")
            await services.store.run(store.set_delivery_status, row["chat_id"], row["message_id"], final)
            continue
        if row["query_id"] not in queries:
            queries[row["query_id"]] = await _get(services, row["query_id"])
        await _relay_followup(bot, services, queries[row["query_id"]], row)
    return retried


async def _tick_job(context: Context) -> None:
    await helpdesk_tick(context.application)


async def on_startup(application) -> None:
    core.START_HOOKS["ask"] = start_ask
    services = application.bot_data["services"]
    s = settings(services)
    if application.job_queue is not None:
        application.job_queue.run_repeating(_tick_job, interval=s.tick_interval.total_seconds(), first=60, name="helpdesk.tick")
    if s.expert_chat_id is None:
        log.warning("helpdesk.no_expert_chat", extra={"hint": "set helpdesk.expert_chat_id or LDN_EXPERT_CHAT_ID"})


core.START_HOOKS["ask"] = start_ask


def handlers():
    private = filters.ChatType.PRIVATE
    message = filters.UpdateType.MESSAGE
    media = filters.PHOTO | filters.Document.ALL
    return [
        (GROUP_COMMANDS, CommandHandler("ask", ask_command, filters=private)),
        (GROUP_COMMANDS, CommandHandler("myqueries", myqueries)),
        (GROUP_COMMANDS, CommandHandler("queue", queue_command)),
        (GROUP_COMMANDS, CommandHandler("query", query_command)),
        (GROUP_COMMANDS, CommandHandler("assign", assign_command)),
        (GROUP_COMMANDS, CommandHandler("priority", priority_command)),
        (GROUP_COMMANDS, CommandHandler("tag", tag_command)),
        (GROUP_COMMANDS, CommandHandler("stats", stats_command)),
        (GROUP_COMMANDS, CommandHandler("export", export_command)),
        (GROUP_COMMANDS, CommandHandler("promote", promote_command)),
        (GROUP_COMMANDS, CallbackQueryHandler(on_button, pattern=r"^v1:hd:")),
        (GROUP_FOLLOWUP, MessageHandler(PRIVATE_TEXT | (private & message & media & ~filters.COMMAND), private_message)),
        (GROUP_FOLLOWUP, MessageHandler(filters.ChatType.GROUPS & message & ~filters.COMMAND & ~filters.StatusUpdate.ALL, expert_message)),
    ]
