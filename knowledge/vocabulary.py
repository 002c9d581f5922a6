"""The programme's codes, named once: languages, helpdesk states, reminder kinds and
categories, delivery kinds, callback features and actions.

Every module that stores, compares or renders one of these codes imports it from here,
so a new state or kind is added in one place (and ``tests/test_vocabulary.py`` ties the
codes to the translation keys and group settings that must follow them).

The values are the short codes already stored in the database and sent in callback data
(at most 64 bytes, so they stay short on the wire); the member names say what they mean.
This module is a leaf: it imports nothing of the project.
"""
from __future__ import annotations

from enum import StrEnum


class Language(StrEnum):
    """The six official UN languages the bot speaks, in the order menus list them."""

    ENGLISH = "en"
    FRENCH = "fr"
    SPANISH = "es"
    RUSSIAN = "ru"
    ARABIC = "ar"
    CHINESE = "zh"


LANGS: tuple[str, ...] = tuple(lang.value for lang in Language)
LANG_NAMES: dict[str, str] = {"en": "English", "fr": "Français", "es": "Español", "ru": "Русский",
                              "ar": "العربية", "zh": "中文"}
RTL_LANGS: frozenset[str] = frozenset({Language.ARABIC.value})


class QueryState(StrEnum):
    """A helpdesk query's lifecycle: new -> open (an expert answered) -> pending (waiting for
    the asker) -> resolved -> closed. A follow-up reopens a pending or resolved query."""

    NEW = "new"
    OPEN = "open"
    PENDING = "pending"
    RESOLVED = "resolved"
    CLOSED = "closed"


QUERY_STATES: tuple[str, ...] = tuple(s.value for s in QueryState)
#: Queries that still need the experts (counted in the queue, SLA and overdue figures).
ACTIVE_STATES: tuple[str, ...] = (QueryState.NEW, QueryState.OPEN, QueryState.PENDING)
#: Queries a message of the asker may continue (a resolved one is reopened by it).
FOLLOWABLE_STATES: tuple[str, ...] = ACTIVE_STATES + (QueryState.RESOLVED,)
#: Queries the experts have not answered yet, or are answering.
UNANSWERED_STATES: tuple[str, ...] = (QueryState.NEW, QueryState.OPEN)


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class EventKind(StrEnum):
    """The kinds of calendar events in ``knowledge/events.yaml``."""

    WORKSHOP = "workshop"
    MEETING = "meeting"
    MILESTONE = "milestone"
    DEADLINE = "deadline"


class ReminderCategory(StrEnum):
    """What a person or a group can mute: each event kind belongs to one category."""

    WORKSHOPS = "workshops"
    MILESTONES = "milestones"
    DEADLINES = "deadlines"


REMINDER_CATEGORIES: tuple[str, ...] = tuple(c.value for c in ReminderCategory)
EVENT_CATEGORY: dict[str, str] = {
    EventKind.WORKSHOP: ReminderCategory.WORKSHOPS,
    EventKind.MEETING: ReminderCategory.WORKSHOPS,
    EventKind.MILESTONE: ReminderCategory.MILESTONES,
    EventKind.DEADLINE: ReminderCategory.DEADLINES,
}


def category_of(event_kind: str) -> str:
    """The reminder category of an event kind; an unknown kind is a bug, not a default."""
    return EVENT_CATEGORY[event_kind]


class GroupPost(StrEnum):
    """What a regional group chat can receive from the bot (its /settings switches): the
    reminder categories plus the secretariat's broadcasts."""

    WORKSHOPS = ReminderCategory.WORKSHOPS.value
    MILESTONES = ReminderCategory.MILESTONES.value
    DEADLINES = ReminderCategory.DEADLINES.value
    BROADCAST = "broadcast"


GROUP_POSTS: tuple[str, ...] = tuple(p.value for p in GroupPost)


class GroupFeature(StrEnum):
    """The features a group admin switches in /settings."""

    FAQ = "faq"
    ASK = "ask"
    AUTO_ANSWER = "auto"


class DeliveryKind(StrEnum):
    """Rows of the delivery ledger, by what they carry (see bot/delivery.py for the promise
    each kind is sent under)."""

    REMINDER = "reminder"
    SNOOZE = "snooze"
    BROADCAST = "broadcast"
    EVENT_NOTICE = "event_notice"
    EXPERT_ANSWER = "answer"  # an expert's reply relayed to the asker (copyMessage)
    HELPDESK_CARD = "hd_card"
    HELPDESK_FILE = "hd_file"
    HELPDESK_FOLLOW_UP = "hd_followup"
    HELPDESK_NOTICE = "hd_notice"
    HELPDESK_NUDGE = "hd_nudge"
    HELPDESK_RATE = "hd_rate"
    HELPDESK_RESOLVED = "hd_resolved"
    HELPDESK_PENDING = "hd_pending"
    HELPDESK_COMMENT_PROMPT = "hd_comment_ask"
    EMAIL = "email"  # an e-mail to a person (bot/mail/outbound.py): answers, acknowledgements, reminders, digests


#: Ledger kinds that are reminders of the calendar (a person's snooze is one too).
REMINDER_DELIVERY_KINDS: tuple[str, ...] = (DeliveryKind.REMINDER, DeliveryKind.SNOOZE)


class Role(StrEnum):
    SECRETARIAT = "secretariat"
    EXPERT = "expert"
    FOCAL_POINT = "focal_point"
    VISITOR = "visitor"


# -- callback data: ``v1:<feature>:<action>:<args>`` ---------------------------------------

CALLBACK_VERSION = "v1"


class Feature(StrEnum):
    """The first part of a button's callback data: which feature's handler reads it."""

    HELPDESK = "hd"
    MILESTONES = "ms"
    FAQ = "faq"
    GROUPS = "grp"
    REMINDERS = "rem"
    EVENTS = "evt"
    BROADCAST = "bc"
    OPERATIONS = "ops"
    LANGUAGE = "lang"
    CHANNELS = "chn"
    PERSONAL = "me"


class HelpdeskAction(StrEnum):
    ASK = "askq"
    ASSIGN = "as"
    PRIORITY_MENU = "pm"
    SET_PRIORITY = "pr"
    BACK = "bk"
    PENDING = "pd"
    RESOLVE = "rs"
    RATE = "rt"
    SHOW_QUERY = "q"
    QUEUE_PAGE = "qp"
    FOLLOW_UP = "fu"
    FILE_AS_NEW = "fn"
    APPROVE = "ap"
    REJECT = "rj"
    CANCEL = "x"
    REPLY_TO = "re"  # the button on a relayed answer: type a message for the query (issue #14)
    ANSWER_WITH_FAQ = "af"  # the card's "📚 Answer with an FAQ entry": pick an entry by search
    SEND_FAQ = "sf"  # one of the entries found: send it to the asker in their language


class MilestoneAction(StrEnum):
    STEP = "step"
    SET = "set"
    NOTE = "note"
    EVIDENCE = "ev"
    DUE = "due"
    OPEN_EVIDENCE = "file"
    VIEW = "view"
    PROGRESS = "prog"
    CHART = "chart"
    OVERDUE = "od"  # a page of /overdue: v1:ms:od:<circle or all>:<page>
    PROGRESS_PAGE = "pp"  # a page of /progress: v1:ms:pp:<circle or all>:<page>


class FaqAction(StrEnum):
    FEEDBACK = "fb"
    SHOW = "show"
    TOPIC = "topic"
    TOPICS = "topics"
    GAPS = "gaps"  # a page of /gaps: v1:faq:gaps:<page>


class GroupAction(StrEnum):
    LANGUAGE = "lang"
    FEATURE = "feat"
    POSTS = "rem"


class ReminderAction(StrEnum):
    SET = "set"  # /reminders menu: mute or unmute a category
    MUTE = "mute"  # the mute button under a delivered reminder
    SNOOZE = "snz"  # the snooze buttons under a delivered reminder
    ZONE = "tz"  # /timezone: a zone offered as a button (a shared city name, the country's own zone)


class EventAction(StrEnum):
    CONFIRM = "ok"
    CANCEL = "no"


class BroadcastAction(StrEnum):
    SEGMENT = "seg"
    SEND = "go"
    CANCEL = "no"


class OperationsAction(StrEnum):
    FORGET = "forget"
    KEEP = "keep"


class ChannelsAction(StrEnum):
    SET = "set"


class ReminderChannel(StrEnum):
    """Where a person with both a Telegram chat and a bound e-mail address gets reminders (/channels)."""

    TELEGRAM = "telegram"
    EMAIL = "email"
    BOTH = "both"


MAX_CALLBACK_BYTES = 64


def callback_data(feature: str, action: str, *args: object) -> str:
    """A button's data: ``v1:<feature>:<action>:<args>`` (Telegram allows 64 bytes)."""
    data = ":".join([CALLBACK_VERSION, str(feature), str(action), *(str(a) for a in args)])
    if len(data.encode()) > MAX_CALLBACK_BYTES:
        raise ValueError(f"callback data over {MAX_CALLBACK_BYTES} bytes: {data!r}")
    return data


def parse_callback(data: str | None, feature: str) -> list[str] | None:
    """The parts after ``v1:<feature>:`` (action first), or None when the data is not this
    feature's (or of another version): such a button is stale or forged."""
    if not data:
        return None
    parts = data.split(":")
    if len(parts) < 3 or parts[0] != CALLBACK_VERSION or parts[1] != feature:
        return None
    return parts[2:]


#: The largest row id SQLite stores (a signed 64-bit INTEGER).
MAX_ROW_ID = 2**63 - 1


def parse_row_id(text: str | None) -> int | None:
    """A row id from callback data or a command argument (``17``), or None: only ASCII digits
    (``isdigit`` also accepts ``²`` and other digits ``int`` refuses) and within SQLite's range."""
    if not text or not text.isascii() or not text.isdigit():
        return None
    value = int(text)
    return value if value <= MAX_ROW_ID else None


class PersonalAction(StrEnum):
    """A visitor's country buttons under a personal FAQ answer (handlers/personal.py)."""

    REGION = "rg"
    COUNTRY = "ct"
