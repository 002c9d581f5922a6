"""How a query looks: its card (in the experts' chat and at the head of /query N), its
buttons, state labels, names and times."""
from __future__ import annotations

import datetime as dt
import html
from typing import Any

from bot.helpdesk.relay import Card
from bot.helpdesk.rules import PRIORITIES, STATE_CODES, snippet, stored_at
from bot.i18n import Raw
from bot.services import Services
from handlers.common import cb, keyboard
from knowledge.vocabulary import ACTIVE_STATES, LANG_NAMES, UNANSWERED_STATES, Feature, HelpdeskAction, QueryState

STATE_ICONS: dict[str, str] = {QueryState.NEW: "🆕", QueryState.OPEN: "💬", QueryState.PENDING: "⏳", QueryState.RESOLVED: "✅",
               QueryState.CLOSED: "📁"}
CARD_LIMIT = 4000


def button(action: HelpdeskAction, *args: Any) -> str:
    """A helpdesk button's callback data."""
    return cb(Feature.HELPDESK, action, *args)


def name_of(row: dict | None, fallback: Any = "—") -> str:
    if not row:
        return str(fallback)
    name = row.get("first_name") or str(row.get("user_id"))
    return f"{name} (@{row['username']})" if row.get("username") else name


def fmt_time(value: str | None) -> str:
    return (value or "")[:16].replace("T", " ")


def age(services: Services, lang: str, since: str, now: dt.datetime) -> str:
    hours = (now - stored_at(since)).total_seconds() / 3600
    if hours < 48:
        return services.t(lang, "hd.hours", n=f"{max(hours, 0):.0f}")
    return services.t(lang, "hd.days", n=f"{hours / 24:.0f}")


def hours_text(services: Services, lang: str, hours: float | None) -> str:
    if hours is None:
        return services.t(lang, "common.none")
    return services.t(lang, "hd.hours", n=f"{hours:.1f}")


def state_label(services: Services, lang: str, state: str) -> str:
    return f"{STATE_ICONS.get(state, '')} {services.t(lang, f'hd.state.{state}')}"


def _candidates_html(services: Services, lang: str, ids: object) -> str:
    """The FAQ answers the asker was shown or the search suggests, under their heading; nothing
    at all (no empty heading) when there are none (a stored list that is empty, blank or not a list)."""
    names = [str(i) for i in ids if isinstance(i, str) and i.strip()] if isinstance(ids, list) else []
    if not names:
        return ""
    lines = []
    for entry_id in names[:5]:
        try:
            entry = services.search.get(entry_id)
            question = entry.text(lang).q if entry else None
        except Exception:  # noqa: BLE001 - the card must not fail on the FAQ engine
            question = None
        label = html.escape(snippet(question, 90)) + " " if question else ""
        lines.append(f"• {label}<code>{html.escape(entry_id)}</code>")
    return services.t(lang, "hd.card_candidates", items=Raw("\n".join(lines)))


def render_card(services: Services, card: Card, lang: str, text_limit: int | None = None) -> str:
    """The query as experts see it."""
    query, names = card.query, card.names
    none = services.t(lang, "common.none")
    country = services.countries.get(query.get("country"))
    country_text = f"{country.name(lang)} ({country.iso3})" if country else (query.get("country") or none)
    assignee = name_of(names.get(query["assignee_id"]), query["assignee_id"]) if query.get("assignee_id") else none
    asker = name_of(names.get(query["asker_id"]), query["asker_id"])
    tags = " ".join(f"#{tag}" for tag in query.get("tags") or []) or none
    limit = text_limit or len(query["text"])
    text = query["text"] if len(query["text"]) <= limit else query["text"][:limit].rstrip() + "…"
    extra = _candidates_html(services, lang, query.get("candidates"))
    if card.attachments:
        extra += services.t(lang, "hd.card_attachments", count=card.attachments)
    if query.get("unverified"):
        extra += "\n" + services.t(lang, "intake.unverified")
    if query.get("overdue") and query["state"] in ACTIVE_STATES:
        extra += services.t(lang, "hd.card_overdue")
    if len(text) < len(query["text"]):
        extra += services.t(lang, "hd.card_truncated", n=query["id"])
    body = services.t(lang, "hd.card", icon=STATE_ICONS.get(query["state"], ""), n=query["id"], country=country_text,
                      language=LANG_NAMES.get(query["lang"], query["lang"]), state=services.t(lang, f"hd.state.{query['state']}"),
                      priority=services.t(lang, f"hd.priority.{query['priority']}"), assignee=assignee, tags=tags,
                      asker=asker, text=text, extra=Raw(extra))
    body = ("✉️ " + body) if query.get("source") == "email" else body  # asked by e-mail (bot/mail)
    if len(body) > CARD_LIMIT and limit > 200:
        return render_card(services, card, lang, text_limit=max(200, limit - (len(body) - CARD_LIMIT) - 50))
    return body


def card_rows(services: Services, lang: str, query: dict, menu: str = "main") -> list[list[tuple[str, str]]]:
    """Buttons for a query in the state it is in now (each carries that state)."""
    qid, state = query["id"], query["state"]
    if state not in ACTIVE_STATES:
        return []
    code = STATE_CODES[state]
    if menu == "priority":
        return [[(("• " if p == query["priority"] else "") + services.t(lang, f"hd.priority.{p}"),
                  button(HelpdeskAction.SET_PRIORITY, qid, code, p)) for p in PRIORITIES],
                [(services.t(lang, "button.prev"), button(HelpdeskAction.BACK, qid, code))]]
    row = [(services.t(lang, "hd.btn.assign"), button(HelpdeskAction.ASSIGN, qid, code)),
           (services.t(lang, "hd.btn.priority"), button(HelpdeskAction.PRIORITY_MENU, qid, code))]
    row2 = []
    if state in UNANSWERED_STATES:
        row2.append((services.t(lang, "hd.btn.pending"), button(HelpdeskAction.PENDING, qid, code)))
    row2.append((services.t(lang, "hd.btn.resolve"), button(HelpdeskAction.RESOLVE, qid, code)))
    return [row, row2, [(services.t(lang, "saved.btn.answer_faq"), button(HelpdeskAction.ANSWER_WITH_FAQ, qid, code))]]


def card_markup(services: Services, lang: str, query: dict, menu: str = "main"):
    return keyboard(card_rows(services, lang, query, menu))
