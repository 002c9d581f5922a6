"""Secretariat broadcasts: a segment, a message, a preview with the recipient count, then delivery
through the same ledger and limits as reminders (one ``broadcast`` row per recipient, ``ref bc:<id>``).

Segments (stored as text, resolved again when the broadcast is confirmed):

* ``all`` - every registered user (focal points, experts, secretariat)
* ``annex:I`` ``annex:IV+V`` ``pilots`` ``group:africa`` ``KEN`` - users of those countries
* ``countries:KEN,UGA,annex:II`` - any mix of the above
* ``role:focal_point`` ``role:expert`` ``role:secretariat``
* ``groups`` / ``groups:<circle>`` - the linked peer-exchange groups (of a circle)
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import time
from dataclasses import dataclass
from typing import Awaitable, Callable

from bot import confirmations
from bot.reminders import service as reminder_service
from bot.reminders.planner import Recipient
from bot.reminders.render import text_payload
from bot.reminders.service import get_reminders
from knowledge.events import ROLES
from knowledge.vocabulary import LANGS, DeliveryKind
from storage import reminders as store
from storage import users

log = logging.getLogger("ldn.broadcast")

MAX_BODY = 3800  # leaves room for the header within Telegram's 4096
#: The ``action`` of a broadcast's one-time confirmation (bot/confirmations.py); its subject is the broadcast id.
SEND_CONFIRMATION = "broadcast"
Progress = Callable[[dict, bool], Awaitable[None]]


@dataclass(frozen=True)
class Segment:
    code: str                       # canonical text, stored with the broadcast
    kind: str                       # all | countries | role | groups
    countries: tuple[str, ...] = ()
    role: str | None = None


def _circles(tokens: list[str], registry) -> tuple[list[str], list[str]] | None:
    """Each token a region, annex, list group, ``pilots`` or ISO3: (canonical names, ISO3 codes)."""
    names: list[str] = []
    codes: list[str] = []
    for token in tokens:
        resolved = registry.resolve_circle(token)
        if resolved is None:
            return None
        name, iso3s = resolved
        if name not in names:
            names.append(name)
        codes += [c for c in iso3s if c not in codes]
    return names, codes


def parse_segment(text: str | None, registry) -> Segment | None:
    value = (text or "").strip()
    low = value.lower()
    if not low:
        return None
    if low in ("all", "everyone"):
        return Segment("all", "all")
    if low.startswith("role:"):
        role = low[5:].strip().replace("-", "_")
        role = {"focal_points": "focal_point", "experts": "expert", "fp": "focal_point"}.get(role, role)
        return Segment(f"role:{role}", "role", role=role) if role in ROLES else None
    if low == "groups" or low.startswith("groups:"):
        circle = value.split(":", 1)[1].strip() if ":" in value else ""
        if not circle or circle.lower() == "all":
            return Segment("groups", "groups", tuple(c.iso3 for c in registry))
        found = _circles([t for t in re.split(r"[,\s+]+", circle) if t], registry)
        if found is None:
            return None
        return Segment("groups:" + ",".join(found[0]), "groups", tuple(found[1]))
    body = value.split(":", 1)[1] if low.startswith("countries:") else value
    tokens = [t for t in re.split(r"[,\s]+", body) if t]
    found = _circles(tokens, registry)
    if found is None or not found[1]:
        return None
    names, codes = found
    if names == ["all"]:
        return Segment("all", "all")
    code = names[0] if len(names) == 1 and not low.startswith("countries:") else "countries:" + ",".join(names)
    return Segment(code, "countries", tuple(codes))


def recipients(db, services, segment: Segment) -> list[Recipient]:
    """Who receives a broadcast to ``segment`` now (blocked users are left out)."""
    service = get_reminders(services)
    out: list[Recipient] = []
    if segment.kind == "groups":
        seen: set[int] = set()
        for group in reminder_service.groups_for_countries(db, list(segment.countries), "broadcast"):
            chat_id = int(group["chat_id"])
            if chat_id not in seen:
                seen.add(chat_id)
                lang = str(group["lang"]) if group.get("lang") in LANGS else services.config.default_language
                out.append(Recipient(chat_id, lang, group.get("timezone") or "UTC", None, None, True))
        return out
    rows = users.users_where(db, countries=list(segment.countries) if segment.kind == "countries" else None)
    for row in rows:
        who = service.recipient(row)
        if who.role is None:
            continue
        if segment.kind == "role" and who.role != segment.role:
            continue
        out.append(who)
    return out


def counts(db, services, segment: Segment) -> tuple[int, int]:
    """(people, groups) a broadcast to ``segment`` would reach."""
    found = recipients(db, services, segment)
    groups = sum(1 for r in found if r.is_group)
    return len(found) - groups, groups


def start(db, services, broadcast_id: int, now: dt.datetime) -> int | None:
    """Confirm a draft: write one ledger row per recipient (header in their language). None if it was
    not a draft any more (a second press of Confirm); else the number of recipients."""
    row = store.get_broadcast(db, broadcast_id)
    if row is None or row["status"] != "draft" or not row.get("text"):
        return None
    segment = parse_segment(row["segment"], services.countries)
    found = recipients(db, services, segment) if segment else []
    if not store.start_broadcast(db, broadcast_id, now, len(found)):
        return None
    for who in found:
        text = services.i18n.t(who.lang, "bc.header") + "\n\n" + row["text"]
        store.add_delivery(db, kind=DeliveryKind.BROADCAST, ref=f"bc:{broadcast_id}", chat_id=who.chat_id, due_at=now, now=now,
                           payload=text_payload(text))
    return len(found)


def tally(db, broadcast_id: int) -> dict:
    row = store.get_broadcast(db, broadcast_id) or {}
    by_status = store.status_counts(db, DeliveryKind.BROADCAST, f"bc:{broadcast_id}")
    return {"id": broadcast_id, "total": row.get("recipients", 0), "sent": by_status.get("sent", 0),
            "failed": by_status.get("failed", 0) + by_status.get("skipped", 0), "blocked": by_status.get("blocked", 0),
            "uncertain": by_status.get("uncertain", 0),
            "pending": by_status.get("pending", 0) + by_status.get("claimed", 0), "status": row.get("status"),
            "segment": row.get("segment"), "created_by": row.get("created_by"), "started_at": row.get("started_at"),
            "finished_at": row.get("finished_at")}


async def send(services, bot, broadcast_id: int, *, progress: Progress | None = None, every: float = 2.0) -> dict:
    """Deliver every pending row of the broadcast (claim -> send with retries -> mark), reporting
    progress at most every ``every`` seconds, and once more at the end."""
    service = get_reminders(services)
    ref = f"bc:{broadcast_id}"
    gate = asyncio.Semaphore(service.settings.concurrency)
    last = time.monotonic()
    reporting = asyncio.Lock()

    async def report(final: bool = False) -> None:
        nonlocal last
        if progress is None:
            return
        if not final and (time.monotonic() - last < every or reporting.locked()):
            return
        async with reporting:
            last = time.monotonic()
            figures = await services.store.run(tally, broadcast_id)
            try:
                await progress(figures, final)
            except Exception:  # noqa: BLE001 - a progress edit must never stop the delivery
                log.warning("broadcast.progress_failed", exc_info=True)

    async def one(delivery_id: int) -> None:
        async with gate:
            await services.deliverer.deliver(bot, delivery_id)
        await report()

    while True:
        ids = await services.store.run(store.pending_ids, DeliveryKind.BROADCAST, ref, 1000)
        if not ids:
            break
        await asyncio.gather(*(one(i) for i in ids))
    await services.store.run(store.finish_broadcast, broadcast_id, services.clock.now())
    figures = await services.store.run(tally, broadcast_id)
    log.info("broadcast.done", extra={k: v for k, v in figures.items() if k in ("id", "total", "sent", "failed", "blocked")})
    await report(final=True)
    return figures


# -- what /broadcast calls (each one service call, one transaction) ----------------------------

@dataclass
class Draft:
    """A draft as the secretariat sees it: its segment and how many it would reach."""

    outcome: str                 # ok | stale | not_allowed | bad_segment | unconfirmed
    broadcast_id: int | None = None
    segment: Segment | None = None
    people: int = 0
    groups: int = 0
    text: str = ""
    nonce: str = ""              # the preview's Send button: a one-time confirmation for its author


def _draft(db, services, broadcast_id: int, segment: Segment, text: str = "") -> Draft:
    people, groups = counts(db, services, segment)
    return Draft("ok", broadcast_id, segment, people, groups, text)


def create_draft(db, services, created_by: int, segment: Segment | None, now: dt.datetime) -> Draft:
    """A new draft to ``segment`` (None: countries still to be typed)."""
    broadcast_id = store.create_broadcast(db, created_by, segment.code if segment else "countries:", now)
    return _draft(db, services, broadcast_id, segment) if segment else Draft("ok", broadcast_id)


def set_segment(db, services, broadcast_id: int, created_by: int, segment: Segment) -> Draft:
    row = store.get_broadcast(db, broadcast_id)
    if row is None or row["created_by"] != created_by or not store.update_draft(db, broadcast_id, segment=segment.code):
        return Draft("stale")
    return _draft(db, services, broadcast_id, segment)


def set_text(db, services, broadcast_id: int, created_by: int, text: str, now: dt.datetime) -> Draft:
    """The message of a draft (the caller checked its length); the preview's figures and the
    one-time nonce of its Send button (bound to the author and this broadcast)."""
    row = store.get_broadcast(db, broadcast_id)
    if row is None or row["status"] != "draft" or row["created_by"] != created_by:
        return Draft("stale")
    segment = parse_segment(row["segment"], services.countries)
    if segment is None:
        return Draft("bad_segment")
    store.update_draft(db, broadcast_id, text=text)
    draft = _draft(db, services, broadcast_id, segment, text)
    draft.nonce = confirmations.issue(db, created_by, SEND_CONFIRMATION, now, subject=str(broadcast_id))
    return draft


def discard(db, broadcast_id: int, created_by: int) -> str:
    """Cancel a draft: ``ok`` | ``not_allowed`` (another person's, or none)."""
    row = store.get_broadcast(db, broadcast_id)
    if row is None or row["created_by"] != created_by:
        return "not_allowed"
    store.cancel_draft(db, broadcast_id)
    return "ok"


def confirm(db, services, nonce: str, created_by: int, now: dt.datetime) -> Draft:
    """The Send button of a preview: ``ok`` (people = recipients written) | ``unconfirmed`` (a forged
    nonce, another person's button, a second press or an expired one: nothing happens) | ``not_allowed``
    | ``stale`` (the draft is not a draft any more)."""
    subject = confirmations.redeem(db, nonce, created_by, SEND_CONFIRMATION, now)
    if subject is None or not subject.isdigit():
        return Draft("unconfirmed")
    broadcast_id = int(subject)
    row = store.get_broadcast(db, broadcast_id)
    if row is None or row["created_by"] != created_by:
        return Draft("not_allowed")
    total = start(db, services, broadcast_id, now)
    return Draft("stale") if total is None else Draft("ok", broadcast_id, people=total)


def set_progress_message(db, broadcast_id: int, chat_id: int, message_id: int) -> None:
    store.set_progress_message(db, broadcast_id, chat_id, message_id)


def status(db, broadcast_id: int | None, limit: int = 5) -> list[dict]:
    """``/broadcast status [id]``: the figures of the last broadcasts (or of one)."""
    if broadcast_id is None:
        rows = store.recent_broadcasts(db, limit)
    else:
        rows = [r for r in [store.get_broadcast(db, broadcast_id)] if r and r["status"] != "draft"]
    return [tally(db, row["id"]) for row in rows]


def resume(db, now: dt.datetime) -> list[int]:
    """At start: drafts older than a day are dropped; the broadcasts still sending are returned."""
    store.expire_drafts(db, now - dt.timedelta(days=1))
    return [row["id"] for row in store.broadcasts_in(db, "sending")]


@dataclass
class ProgressTarget:
    lang: str
    chat_id: int | None
    message_id: int | None


def progress_target(db, services, broadcast_id: int) -> ProgressTarget:
    """Where a broadcast's progress is shown, and in which language (its author's)."""
    row = store.get_broadcast(db, broadcast_id) or {}
    creator = users.get_user(db, row["created_by"]) if row.get("created_by") else None
    return ProgressTarget((creator or {}).get("lang") or services.config.default_language, row.get("progress_chat_id"),
                          row.get("progress_message_id"))
