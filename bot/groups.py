"""The rules of the bot in group chats, as plain Python (no Telegram objects, ``now`` passed in).

* who may change a group's settings (:func:`may_change_settings`);
* a group's settings: defaults, validation, changes (:func:`normalise_settings`, :func:`change`);
* peer-exchange circles (:func:`resolve_circle`, :func:`region_of`);
* when the bot speaks unasked: question-likeness (:func:`is_question_like`) and the
  auto-answer decision with its per-group rate limit (:func:`auto_answer_decision`);
* what Telegram delivers to a bot with privacy mode on (:func:`delivered_with_privacy_mode`);
* how to space messages to one group within Telegram's 20 messages per minute (:func:`send_slots`);
* which groups receive a reminder or broadcast of a kind (:func:`groups_for_countries`).

The second half holds the services of the groups feature: plain functions ``fn(db, ...)``
that handlers run with ``services.store.run(fn, ...)`` (one transaction each). They decide;
``storage/groups.py`` only stores and reads rows (its ``settings`` are the JSON as stored,
normalised here).
"""
from __future__ import annotations

import copy
import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Iterable

from bot.i18n import normalise_lang
from bot.telegram_errors import SendError
from knowledge.vocabulary import GROUP_POSTS, LANGS, GroupAction, GroupFeature
from storage import faq as faq_store
from storage import groups as store
from storage import users

FEATURES = tuple(f.value for f in GroupFeature)
"""``faq``: answers to /faq, mentions and replies; ``ask``: the "Ask privately" button for
/ask; ``auto``: automatic answers to question-like messages (needs privacy mode off)."""
DEFAULT_FEATURES = {GroupFeature.FAQ.value: True, GroupFeature.ASK.value: True, GroupFeature.AUTO_ANSWER.value: False}
DEFAULT_REMINDERS = {kind: True for kind in GROUP_POSTS}
ADMIN_STATUSES = ("administrator", "creator")

DEFAULT_AUTO_MINUTES = 10
DEFAULT_AUTO_THRESHOLD = 0.75
DEFAULT_AUTO_MARGIN = 0.1
GROUP_MESSAGES_PER_MINUTE = 20


# -- settings --------------------------------------------------------------------------

def default_settings() -> dict:
    return {"features": dict(DEFAULT_FEATURES), "reminders": dict(DEFAULT_REMINDERS)}


def normalise_settings(raw: dict | None) -> dict:
    """Stored settings merged over the defaults; unknown keys and non-booleans are dropped."""
    out = default_settings()
    raw = raw if isinstance(raw, dict) else {}
    for section, allowed in (("features", FEATURES), ("reminders", GROUP_POSTS)):
        values = raw.get(section)
        if isinstance(values, dict):
            for key in allowed:
                if isinstance(values.get(key), bool):
                    out[section][key] = values[key]
    return out


def feature_on(settings: dict | None, feature: str) -> bool:
    return bool(normalise_settings(settings)["features"].get(feature, False))


def reminder_on(settings: dict | None, kind: str) -> bool:
    """Known kinds follow the group's switches; an unknown kind is on."""
    return bool(normalise_settings(settings)["reminders"].get(kind, True))


def change(settings: dict | None, section: str, key: str, value: bool) -> dict | None:
    """The settings after switching ``section.key`` to ``value``; None if the change is not valid
    (callback data is forgeable: only known sections and keys pass)."""
    allowed = {"features": FEATURES, "reminders": GROUP_POSTS}.get(section)
    if allowed is None or key not in allowed or not isinstance(value, bool):
        return None
    out = copy.deepcopy(normalise_settings(settings))
    out[section][key] = value
    return out


# -- who may do what -------------------------------------------------------------------

def may_change_settings(*, is_secretariat: bool, member_status: str | None, anonymous_admin: bool = False) -> bool:
    """The secretariat, or an administrator/creator of that very group (an anonymous admin
    posting as the group counts as an admin). Everyone else: no."""
    if is_secretariat:
        return True
    if anonymous_admin:
        return True
    return member_status in ADMIN_STATUSES


def may_use_directory(*, is_focal_point: bool) -> bool:
    return is_focal_point


# -- circles ---------------------------------------------------------------------------

def resolve_circle(registry, text: str | None) -> tuple[str, list[str]] | None:
    """``Africa``, ``pilots``, ``KEN``, ``annex:II`` ... to (circle, ISO3 list), or None."""
    text = (text or "").strip()
    if not text or len(text) > 40:
        return None
    return registry.resolve_circle(text)


def region_of(registry, iso3: str | None) -> tuple[str, list[str]] | None:
    """A focal point's region: the circle of their country's annex."""
    country = registry.get(iso3) if iso3 else None
    if country is None:
        return None
    return registry.resolve_circle(f"annex:{country.annex}")


# -- speaking unasked ------------------------------------------------------------------

_QUESTION_MARKS = ("?", "？", "؟", "⸮")
_QUESTION_WORDS = {
    "en": "what how why when where who whom whose which is are am can could should would do does did will shall may "
          "must has have anyone any",
    "fr": "qu que quoi comment pourquoi quand ou qui quel quelle quels quelles combien lequel laquelle est peut "
          "peut-on faut-il y-a-t-il existe",
    "es": "que como por porque cuando donde quien quienes cual cuales cuanto cuanta cuantos cuantas puedo puede "
          "hay existe debo deben alguien",
    "ru": "что как почему зачем когда где кто какой какая какое какие каков сколько можно нужно ли есть куда откуда чей",
    "ar": "ما ماذا كيف لماذا لم متى اين من هل اي كم",
}
_ZH_MARKERS = ("什么", "怎么", "怎样", "如何", "为什么", "为何", "何时", "哪", "谁", "是否", "能否", "可否", "多少", "几时")
_ZH_ENDINGS = ("吗", "呢", "么")


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.replace("أ", "ا").replace("إ", "ا").replace("آ", "ا")
    return text.casefold()


_WORDS = {_fold(w) for words in _QUESTION_WORDS.values() for w in words.split()}
_TOKEN = re.compile(r"[^\W_]+(?:-[^\W_]+)*", re.UNICODE)


def is_question_like(text: str | None) -> bool:
    """Ends with a question mark (any script), starts with ¿, or starts with a question word in
    one of the six languages (Chinese: a question word anywhere, or a final 吗/呢)."""
    text = (text or "").strip()
    if not text:
        return False
    stripped = text.rstrip(" .!…\"'»”)")
    if stripped.endswith(_QUESTION_MARKS) or text.startswith("¿"):
        return True
    if any(marker in text for marker in _ZH_MARKERS) or stripped.endswith(_ZH_ENDINGS):
        return True
    tokens = _TOKEN.findall(_fold(text))
    if not tokens:
        return False
    first = tokens[0]
    if first in _WORDS or first.split("-")[0] in _WORDS:
        return True
    # "qu'est-ce", "l'on": the apostrophe splits the word
    return first in ("qu", "est-ce")


def mentions(text: str | None, username: str | None) -> bool:
    if not text or not username:
        return False
    return re.search(rf"@{re.escape(username)}\b", text, re.IGNORECASE) is not None


def strip_mention(text: str | None, username: str | None) -> str:
    """The message without ``@botname`` and the punctuation that glued it to the question."""
    text = text or ""
    if username:
        text = re.sub(rf"@{re.escape(username)}\b", " ", text, flags=re.IGNORECASE)
    return " ".join(text.split()).strip(" ,:;-–—").strip()


@dataclass(frozen=True)
class AutoDecision:
    answer: bool
    reason: str


def auto_answer_decision(*, enabled: bool, privacy_off: bool, text: str, top_score: float | None,
                         runner_up: float | None, last_auto_at: dt.datetime | None, now: dt.datetime,
                         minutes: float = DEFAULT_AUTO_MINUTES, threshold: float = DEFAULT_AUTO_THRESHOLD,
                         margin: float = DEFAULT_AUTO_MARGIN) -> AutoDecision:
    """Whether the bot answers an ordinary group message nobody addressed to it.

    Only when an admin turned auto-answers on, the bot actually reads the group (privacy
    mode off), the message looks like a question, the FAQ match is confident (top score at
    least ``threshold`` and clearly ahead of the runner-up by ``margin``), and the group
    had no automatic answer in the last ``minutes``. Otherwise: silence.
    """
    if not enabled:
        return AutoDecision(False, "disabled")
    if not privacy_off:
        return AutoDecision(False, "privacy_mode")
    if not is_question_like(text):
        return AutoDecision(False, "not_a_question")
    if top_score is None or top_score < threshold:
        return AutoDecision(False, "not_confident")
    if runner_up is not None and top_score - runner_up < margin:
        return AutoDecision(False, "ambiguous")
    if last_auto_at is not None and now - last_auto_at < dt.timedelta(minutes=minutes):
        return AutoDecision(False, "rate_limited")
    return AutoDecision(True, "ok")


def delivered_with_privacy_mode(text: str | None, *, bot_username: str, reply_to_bot: bool = False,
                                service: bool = False) -> bool:
    """What Telegram delivers to a bot with privacy mode on (the default) in a group:
    commands, messages mentioning it by username, replies to its messages and service
    messages. Ordinary chatter never reaches it."""
    if service or reply_to_bot:
        return True
    text = text or ""
    if text.startswith("/"):
        command = text.split()[0]
        return "@" not in command or command.split("@", 1)[1].lower() == bot_username.lower()
    return mentions(text, bot_username)


# -- pacing ----------------------------------------------------------------------------

def send_slots(count: int, start: dt.datetime, *, already_sent: Iterable[dt.datetime] = (),
               per_minute: int = GROUP_MESSAGES_PER_MINUTE) -> list[dt.datetime]:
    """Due times for ``count`` messages to ONE group from ``start`` such that no 60-second
    window holds more than ``per_minute`` of them (counting ``already_sent``)."""
    window = dt.timedelta(minutes=1)
    times = sorted(t for t in already_sent if t > start - window)
    out: list[dt.datetime] = []
    at = start
    for _ in range(count):
        while True:
            recent = [t for t in times if at - window < t <= at]
            if len(recent) < per_minute:
                break
            at = recent[0] + window
        times.append(at)
        times.sort()
        out.append(at)
    return out


# -- configuration ---------------------------------------------------------------------

def settings_of(section: dict | None) -> dict:
    """The ``groups`` config section with defaults (bad values fall back to the defaults)."""
    section = section if isinstance(section, dict) else {}

    def number(key: str, default: float) -> float:
        try:
            value = float(section.get(key, default))
        except (TypeError, ValueError):
            return default
        return value if value >= 0 else default

    return {
        "auto_answer_minutes": number("auto_answer_minutes", DEFAULT_AUTO_MINUTES),
        "auto_answer_threshold": number("auto_answer_threshold", DEFAULT_AUTO_THRESHOLD),
        "auto_answer_margin": number("auto_answer_margin", DEFAULT_AUTO_MARGIN),
    }


# -- services: a group's row -------------------------------------------------------------

def _normalised(row: dict) -> dict:
    """A stored row with its settings merged over the defaults (what every caller reads)."""
    return dict(row, settings=normalise_settings(row.get("settings")))


def _maybe(row: dict | None) -> dict | None:
    return None if row is None else _normalised(row)


def group(db, chat_id: int) -> dict | None:
    """The group's row (settings with defaults filled), or None for a group the bot never saw."""
    return _maybe(store.get_group(db, chat_id))


def active_groups(db) -> list[dict]:
    return [_normalised(row) for row in store.active_groups(db)]


def heard_from(db, chat_id: int, *, title: str | None, chat_type: str | None, now: dt.datetime) -> dict:
    """A group we hear from: its row, created if the bot was added before it kept track of groups."""
    row = store.touch_group(db, chat_id, title=title, chat_type=chat_type, lang=None, now=now,
                            settings=default_settings())
    return _normalised(row)


def migrate(db, old_id: int, new_id: int, now: dt.datetime) -> dict | None:
    """A group became a supergroup: its row (settings, language, circle) moves to the new id."""
    return _maybe(store.migrate_group(db, old_id, new_id, now))


def note_send_error(db, chat_id: int, kind: SendError, now: dt.datetime) -> bool:
    """What a failed post to a group means for its row (``kind`` from bot.telegram_errors.classify):
    the bot is out of the group (gone, blocked) or may not write there (muted). True if the
    row changed; other errors (a bad request, the network) say nothing about the group."""
    if kind in (SendError.GONE, SendError.BLOCKED):
        store.mark_group_inactive(db, chat_id, now)
        return True
    if kind is SendError.MUTED:
        store.set_muted(db, chat_id, True, now)
        return True
    return False


def unmute(db, chat_id: int, now: dt.datetime) -> None:
    """A post went through: the bot may write in the group again."""
    store.set_muted(db, chat_id, False, now)


@dataclass(frozen=True)
class Membership:
    """A change of the bot's own membership in a group, as Telegram reported it."""

    chat_id: int
    title: str | None
    chat_type: str | None
    was_in: bool
    is_in: bool
    can_send: bool
    added_by: int | None = None
    #: the language of whoever added the bot (None for a bot or an unknown adder)
    adder_language_code: str | None = None
    adder_is_person: bool = False


def membership_changed(db, change: Membership, *, default_lang: str, now: dt.datetime) -> dict | None:
    """Added: record the group (its language from who added it); removed or kicked: inactive;
    restricted: muted. Returns the group's row, or None once the bot is out."""
    if not change.is_in:
        store.mark_group_inactive(db, change.chat_id, now)
        return None
    muted = not change.can_send
    if change.was_in:
        row = store.touch_group(db, change.chat_id, title=change.title, chat_type=change.chat_type, lang=None, now=now,
                                settings=default_settings())
        store.set_muted(db, change.chat_id, muted, now)
        return _normalised(dict(row, muted=int(muted)))
    lang = None
    if change.adder_is_person and change.added_by is not None:
        adder = users.get_user(db, change.added_by) or {}
        lang = adder.get("lang") or normalise_lang(change.adder_language_code, default_lang)
    row = store.record_group(db, change.chat_id, title=change.title, chat_type=change.chat_type, lang=lang,
                             added_by=change.added_by, now=now, muted=muted, settings=default_settings())
    if not row.get("lang") and lang:
        store.set_lang(db, change.chat_id, lang, now)
        row["lang"] = lang
    return _normalised(row)


def apply_setting(db, chat_id: int, action: str, args: list[str], now: dt.datetime, *, title: str | None = None,
                  chat_type: str | None = None) -> dict | None:
    """A /settings button: ``lang <code>``, ``feat <feature> <0|1>`` or ``rem <kind> <0|1>``.
    Returns the group's new row, or None when the change is not a known one (callback data
    is forgeable: only known sections, keys and values pass)."""
    row = heard_from(db, chat_id, title=title, chat_type=chat_type, now=now)
    match action:
        case GroupAction.LANGUAGE if len(args) == 1 and args[0] in LANGS:
            store.set_lang(db, chat_id, args[0], now)
        case GroupAction.FEATURE | GroupAction.POSTS if len(args) == 2 and args[1] in ("0", "1"):
            section = "features" if action == GroupAction.FEATURE else "reminders"
            changed = change(row["settings"], section, args[0], args[1] == "1")
            if changed is None:
                return None
            store.set_settings(db, chat_id, changed, now)
        case _:
            return None
    return group(db, chat_id)


def link_circle(db, registry, chat_id: int, text: str, by: int | None, now: dt.datetime) -> tuple[str, list[str]] | None:
    """/link TEXT: the circle and its countries, now the group's; None when TEXT names no circle."""
    resolved = resolve_circle(registry, text)
    if resolved is not None:
        store.set_circle(db, chat_id, resolved[0], resolved[1], by, now)
    return resolved


def unlink_circle(db, chat_id: int, by: int | None, now: dt.datetime) -> None:
    store.set_circle(db, chat_id, None, [], by, now)


def auto_answer(db, engine, chat_id: int, question: str, now: dt.datetime, cfg: dict) -> tuple[AutoDecision, Any]:
    """Whether to answer ordinary chatter, and with which FAQ hit (noted as asked and as the
    group's last automatic answer, for the rate limit)."""
    engine.refresh_if_changed()
    hits = engine.search(question, limit=2)
    decision = auto_answer_decision(
        enabled=True, privacy_off=True, text=question,
        top_score=hits[0].score if hits else None, runner_up=hits[1].score if len(hits) > 1 else None,
        last_auto_at=store.last_auto_answer(db, chat_id), now=now,
        minutes=cfg["auto_answer_minutes"], threshold=cfg["auto_answer_threshold"], margin=cfg["auto_answer_margin"])
    if not decision.answer:
        return decision, None
    store.note_auto_answer(db, chat_id, now)
    faq_store.record_asked(db, hits[0].id, now)
    return decision, hits[0]


def groups_for_countries(db, countries: list[str], kind: str) -> list[dict]:
    """Recipients of a reminder or broadcast of ``kind`` (a :class:`GroupPost`) meant for
    ``countries``: active, unmuted groups linked to a circle that includes at least one of
    them and whose settings let that kind through.

    Each dict has ``chat_id``, ``lang`` (the group's, ``en`` if unset), ``title``, ``circle``.
    """
    return [{"chat_id": row["chat_id"], "lang": row["lang"] or "en", "title": row["title"], "circle": row["circle"]}
            for row in store.linked_groups(db, countries) if reminder_on(row["settings"], kind)]


# -- services: the peer directory ----------------------------------------------------------

def set_listed(db, user_id: int, listed: bool, now: dt.datetime) -> None:
    """/directory on|off: a focal point opts in to (or out of) the peer directory."""
    store.set_directory(db, user_id, listed, now)


def is_listed(db, user_id: int) -> bool:
    return store.is_listed(db, user_id)


def peers(db, user_id: int, countries: list[str]) -> tuple[list[dict], bool]:
    """/peers: the opted-in focal points of ``countries`` (the asker left out), and whether the
    asker is listed themselves."""
    return store.listed_peers(db, countries, exclude_user=user_id), store.is_listed(db, user_id)
