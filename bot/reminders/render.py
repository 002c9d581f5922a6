"""Reminder texts and buttons, every string from the translator (HTML parse mode)."""
from __future__ import annotations

import datetime as dt
import html
import re
from typing import Callable

from bot.i18n import Raw
from bot.reminders.zones import tz_label, zone
from knowledge.events import Event
from knowledge.vocabulary import Feature, ReminderAction, callback_data

HTML = {"parse_mode": "HTML", "link_preview_options": {"is_disabled": True}}
#: The snooze buttons under a delivered reminder (durations in knowledge.durations' grammar).
SNOOZE_CHOICES = ("1h", "1d")


def text_payload(text: str) -> Callable[[int], dict]:
    """A ledger row's payload builder for a plain HTML message (no buttons)."""
    def build(_delivery_id: int) -> dict:
        return {"text": text, **HTML}

    return build


def callback(action: str, *args: object) -> str:
    """Callback data of this feature's buttons under a delivered reminder."""
    return callback_data(Feature.REMINDERS, action, *args)


def format_date(i18n, lang: str, day: dt.date) -> str:
    months = i18n.t(lang, "fmt.months").split("|")
    month = months[day.month - 1] if len(months) == 12 else str(day.month)
    return i18n.t(lang, "fmt.date", day=day.day, month=month, year=day.year)


def format_when(i18n, lang: str, when_utc: dt.datetime, tz: str, *, with_zone: bool = True) -> str:
    """``12 July 2016, 07:30 (Asia/Colombo, UTC+05:30)`` in ``lang`` (safe HTML)."""
    local = when_utc.astimezone(zone(tz))
    date = format_date(i18n, lang, local.date())
    text = i18n.t(lang, "fmt.datetime", date=Raw(date), time=local.strftime("%H:%M"))
    return Raw(f"{text} ({tz_label(when_utc, tz)})" if with_zone else text)


def relative(i18n, lang: str, delta: dt.timedelta) -> str:
    """``in 3 days`` / ``in 2 hours`` / ``tomorrow`` in ``lang`` (rounded to the largest unit)."""
    seconds = delta.total_seconds()
    if seconds < 60:
        return i18n.t(lang, "rel.now")
    if seconds >= 86400 - 60:
        n, unit = max(1, round(seconds / 86400)), "day"
    elif seconds >= 3600 - 60:
        n, unit = max(1, round(seconds / 3600)), "hour"
    else:
        return i18n.t(lang, "rel.minutes", n=max(1, round(seconds / 60)))
    if n == 1:
        return i18n.t(lang, f"rel.{unit}1")
    if n == 2:
        return i18n.t(lang, f"rel.{unit}s2", n=n)
    if n <= 10:
        return i18n.t(lang, f"rel.{unit}s", n=n)
    return i18n.t(lang, f"rel.{unit}s_many", n=n)


def category_label(i18n, lang: str, category: str) -> str:
    return i18n.t(lang, f"rem.cat.{category}")


def kind_label(i18n, lang: str, kind: str) -> str:
    return i18n.t(lang, f"rem.kind.{kind}")


def reminder_markup(i18n, lang: str, delivery_id: int, category: str) -> dict:
    """Snooze (1 h / 1 day) and mute buttons under a delivered reminder."""
    snooze = [{"text": i18n.t(lang, f"rem.btn.snooze_{choice}"), "callback_data": callback(ReminderAction.SNOOZE, delivery_id, choice)}
              for choice in SNOOZE_CHOICES]
    return {"inline_keyboard": [
        snooze,
        [{"text": i18n.t(lang, "rem.btn.mute", category=category_label(i18n, lang, category)),
          "callback_data": callback(ReminderAction.MUTE, category, 1)}],
    ]}


def _escape(text: str) -> str:
    return html.escape(text, quote=False)


def render_event_reminder(i18n, event: Event, lang: str, tz: str, at: dt.datetime) -> str:
    """The reminder text in ``lang`` for a reader in ``tz``, as read at ``at`` (the due time)."""
    start = event.start_utc
    lines = [i18n.t(lang, "rem.event.head", kind=kind_label(i18n, lang, event.kind), relative=relative(i18n, lang, start - at)),
             f"<b>{_escape(event.title_in(lang))}</b>",
             i18n.t(lang, "rem.event.when", when=format_when(i18n, lang, start, tz))]
    if tz != event.timezone and not (event.timezone == "UTC" and tz in ("UTC", "Etc/UTC")):
        lines.append(i18n.t(lang, "rem.event.local", when=format_when(i18n, lang, start, event.timezone)))
    if event.end > event.start:
        lines.append(i18n.t(lang, "rem.event.until", when=format_when(i18n, lang, event.end_utc, tz)))
    place = event.place_in(lang)
    if place:
        lines.append(i18n.t(lang, "rem.event.place", place=place))
    lines.append("")
    lines.append(i18n.t(lang, "rem.event.footer"))
    return "\n".join(lines)


def render_cancel_notice(i18n, event: Event, lang: str, tz: str) -> str:
    return i18n.t(lang, "rem.event.cancelled", title=event.title_in(lang), when=format_when(i18n, lang, event.start_utc, tz))


def render_step_reminder(i18n, lang: str, country_name: str, step_title: str, due: dt.date, at: dt.datetime,
                         anchor: dt.datetime, overdue: bool) -> str:
    date = Raw(format_date(i18n, lang, due))
    if overdue:
        return i18n.t(lang, "rem.step.overdue", country=country_name, step=step_title, date=date)
    return i18n.t(lang, "rem.step.before", country=country_name, step=step_title, date=date,
                  relative=relative(i18n, lang, anchor - at))


def snoozed_text(i18n, lang: str, text: str) -> str:
    """A reminder's text with the "snoozed" heading (once)."""
    head = i18n.t(lang, "rem.snoozed_head")
    return text if text.startswith(head) else head + "\n" + text


def first_bold(text: str) -> str:
    """The title of a rendered reminder (its first bold text after the heading), as plain text."""
    match = re.search(r"<b>(.*?)</b>", text[text.find("\n") + 1:] if "\n" in text else text, re.S)
    found = match.group(1) if match else text.split("\n")[0]
    return html.unescape(re.sub(r"<[^>]+>", "", found))[:120]
