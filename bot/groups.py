"""The rules of the bot in group chats, as plain Python (no Telegram objects, ``now`` passed in).

* who may change a group's settings (:func:`may_change_settings`);
* a group's settings: defaults, validation, changes (:func:`normalise_settings`, :func:`change`);
* peer-exchange circles (:func:`resolve_circle`, :func:`circle_countries_overlap`);
* when the bot speaks unasked: question-likeness (:func:`is_question_like`) and the
  auto-answer decision with its per-group rate limit (:func:`auto_answer_decision`);
* what Telegram delivers to a bot with privacy mode on (:func:`delivered_with_privacy_mode`);
* how to space messages to one group within Telegram's 20 messages per minute (:func:`send_slots`).
"""
from __future__ import annotations

import copy
import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from typing import Iterable
from knowledge.vocabulary import GROUP_POSTS, LANGS, GroupFeature

FEATURES = tuple(f.value for f in GroupFeature)
"""``faq``: answers to /faq, mentions and replies; ``ask``: the "Ask privately" button for
/ask; ``auto``: automatic answers to question-like messages (needs privacy mode off)."""
DEFAULT_FEATURES = {"faq": True, "ask": True, "auto": False}
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


def valid_lang(lang: str | None) -> bool:
    return lang in LANGS


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


def circle_countries_overlap(group_countries: Iterable[str], countries: Iterable[str]) -> bool:
    wanted = {c.upper() for c in countries}
    return any(c.upper() in wanted for c in group_countries)


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
