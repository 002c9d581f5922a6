"""What every handler needs: who is asking, in which language, and how to answer.

Handler groups (PTB runs one matching handler per group, in this order; a handler
that consumed the update raises ``ApplicationHandlerStop``):

* ``GROUP_TRACK - 1`` (-11): the operations tracker (last update received), never answers
* ``GROUP_TRACK`` (-10): bookkeeping that never answers (chat membership, migrations)
* ``GROUP_COMMANDS`` (0): commands and callback buttons of every feature
* ``GROUP_INPUT`` (10): free text a feature asked for (a note, an event, a comment)
* ``GROUP_FOLLOWUP`` (20): a focal point's message that continues an open helpdesk query
* ``GROUP_TEXT`` (30): any other private text is a question for the FAQ
* ``GROUP_FALLBACK`` (40): what nothing else took (stickers, voice, unknown buttons)
"""
from __future__ import annotations

import functools
import json
import time
import unicodedata
import warnings
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, MessageEntity, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest
from telegram.ext import CallbackContext, ContextTypes, ExtBot, filters
from telegram.warnings import PTBUserWarning

from bot import intake, people
from bot.i18n import normalise_lang
from bot.roles import Person, effective_role
from bot.services import Services
from knowledge.vocabulary import callback_data, parse_callback

GROUP_TRACK = -10
GROUP_COMMANDS = 0
GROUP_INPUT = 10
GROUP_FOLLOWUP = 20
GROUP_TEXT = 30
GROUP_FALLBACK = 40

_NO_PREVIEW = {"is_disabled": True}
# reply() calls the generic do_api_request on purpose (see its docstring).
warnings.filterwarnings("ignore", message=r"Please use 'Bot\.", category=PTBUserWarning)

MAX_MESSAGE = 4096
MAX_QUESTION = 2000
_KEYBOARD_CACHE = 2048  # distinct keyboards kept built and serialised
_PERSON_TTL = 30.0  # seconds a cached user row is trusted (CLI role grants show up after this)

class CustomContext(CallbackContext[ExtBot, dict, dict, dict]):
    """The context every handler receives, with the Application's :class:`Services`
    typed (``context.services``), as python-telegram-bot's ``contexttypesbot.py`` shows."""

    @property
    def services(self) -> Services:
        return self.application.bot_data["services"]


CONTEXT_TYPES = ContextTypes(context=CustomContext)
Context = CustomContext


class NewText(filters.UpdateFilter):
    """A new (not edited) text message that is not a command, in a private chat or in a
    group: ``ChatType.X & TEXT & ~COMMAND & UpdateType.MESSAGE`` as one check. Every
    update is offered to these filters, and PTB's merged form costs a dozen calls."""

    __slots__ = ("chat_types",)

    def __init__(self, chat_types: frozenset[str], name: str):
        super().__init__(name=name)
        self.chat_types = chat_types

    def filter(self, update: Update) -> bool:
        message = update.message
        if message is None or not message.text or message.chat.type not in self.chat_types:
            return False
        entities = message.entities
        return not (entities and entities[0].type == MessageEntity.BOT_COMMAND and entities[0].offset == 0)


PRIVATE_TEXT = NewText(frozenset({ChatType.PRIVATE}), "PRIVATE_TEXT")
GROUP_TEXT_MESSAGE = NewText(frozenset({ChatType.GROUP, ChatType.SUPERGROUP}), "GROUP_TEXT_MESSAGE")


def svc(context: Context) -> Services:
    return context.services


class MissingPart(LookupError):
    """The update lacks what its handler is registered for (a command or text handler's
    update always has a message): PTB's types allow it, the handler's filters do not."""


def message_of(update: Update) -> Message:
    """The message of an update whose handler only runs for messages (a command, a private
    text or file, an awaited input). A button press may have none: check ``effective_message``."""
    message = update.effective_message
    if message is None:
        raise MissingPart(f"update {update.update_id} has no message")
    return message


def command_args(context: Context) -> list[str]:
    """The words after the command (none for an update that is not a command)."""
    return context.args or []


def user_data(context: Context) -> dict:
    """What this process keeps for the user behind the update; a throwaway dict when the update
    has no user (a channel post): there is nobody to remember anything for."""
    data = context.user_data
    return data if data is not None else {}


async def person(update: Update, context: Context) -> Person | None:
    """The user behind ``update`` (created on first contact), with role and language."""
    tg_user = update.effective_user
    if tg_user is None:
        return None
    services = svc(context)
    cache = user_data(context)
    cached: dict | None = cache.get("_row")
    now = time.monotonic()
    stale = (cached is None or now - cache.get("_row_at", 0) > _PERSON_TTL
             or cached.get("first_name") != tg_user.first_name or cached.get("username") != tg_user.username
             or not cached.get("active", 1))
    if stale or cached is None:
        cached = await services.store.run(people.meet, tg_user.id, tg_user.first_name, tg_user.username, services.clock.now())
        cache["_row"], cache["_row_at"] = cached, now
    memo = cache.get("_person")  # Person is frozen and follows from the row: build it once per row
    if memo is not None and memo[0] is cached and memo[1] == tg_user.language_code:
        return memo[2]
    who = person_from_row(services, cached, tg_user.language_code)
    cache["_person"] = (cached, tg_user.language_code, who)
    return who


async def authorised(update: Update, context: Context, *, secretariat: bool = False, expert: bool = False,
                     private: bool = False, private_only_key: str = "error.private_only") -> Person | None:
    """The Person if they may use this command here; otherwise answer why not and return None.
    ``private_only_key``: a feature's own explanation of why the command wants a private chat."""
    who = await person(update, context)
    if who is None:  # no user behind the update (a channel post): nobody to answer
        return None
    if (secretariat and not who.is_secretariat) or (expert and not who.is_expert):
        await reply(update, context, t(context, who, "error.not_allowed"))
        return None
    if private and not is_private(update):
        await reply(update, context, t(context, who, private_only_key))
        return None
    return who


def person_from_row(services: Services, row: dict, language_code: str | None = None) -> Person:
    cfg = services.config
    role = effective_role(row, row["user_id"], cfg.secretariat_ids, cfg.expert_ids)
    lang = row.get("lang") or normalise_lang(language_code, cfg.default_language)
    return Person(row["user_id"], row.get("first_name") or "", row.get("username"), lang, role, row.get("country"),
                  row.get("timezone"))


def forget_cached_person(context: Context) -> None:
    """Call after changing the user's row (language, role, time zone)."""
    if context.user_data is not None:
        context.user_data.pop("_row", None)


def group_lang(update: Update, context: Context, fallback: str = "en") -> str:
    """Language for a group chat: the group's setting if a feature stored one, else the sender's."""
    chat_lang = context.chat_data.get("lang") if context.chat_data is not None else None
    if chat_lang:
        return chat_lang
    user = update.effective_user
    return normalise_lang(user.language_code if user else None, fallback)


def is_private(update: Update) -> bool:
    chat = update.effective_chat
    return chat is not None and chat.type == "private"


# -- rendering -----------------------------------------------------------------

def split_message(text: str, limit: int = MAX_MESSAGE) -> list[str]:
    """Split at paragraph boundaries (then lines, then hard) so each part fits Telegram's limit."""
    if len(text) <= limit:
        return [text]
    parts: list[str] = []
    current = ""
    for separator_unit in _units(text, limit):
        candidate = current + separator_unit if current else separator_unit.lstrip("\n")
        if len(candidate) <= limit:
            current = candidate
        else:
            if current:
                parts.append(current.rstrip())
            current = separator_unit.lstrip("\n")
    if current.strip():
        parts.append(current.rstrip())
    return parts


def _units(text: str, limit: int) -> list[str]:
    units: list[str] = []
    paragraphs = text.split("\n\n")
    for i, para in enumerate(paragraphs):
        prefix = "\n\n" if i else ""
        if len(para) + 2 <= limit:
            units.append(prefix + para)
            continue
        for j, line in enumerate(para.split("\n")):
            lead = (prefix if j == 0 else "\n")
            while len(line) + 2 > limit:
                units.append(lead + line[: limit - 2])
                line, lead = line[limit - 2:], "\n"
            units.append(lead + line)
    return units


def keyboard(rows: list[list[tuple[str, str]]]) -> InlineKeyboardMarkup:
    """``[[(label, callback_data), ...], ...]`` to an inline keyboard; data starting with
    ``http`` becomes a URL button, ``inline:`` a switch-inline-query button.

    Keyboards are immutable and the same few recur (an FAQ answer's buttons in one
    language), so they are built once and reused (see :func:`markup_json`)."""
    return _build_keyboard(tuple(tuple(row) for row in rows))


@functools.lru_cache(maxsize=_KEYBOARD_CACHE)
def _build_keyboard(rows: tuple[tuple[tuple[str, str], ...], ...]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[_inline_button(label, data) for label, data in row] for row in rows if row])


def _inline_button(label: str, data: str) -> InlineKeyboardButton:
    fields = _button(label, data)
    return InlineKeyboardButton(fields["text"], url=fields.get("url"), callback_data=fields.get("callback_data"),
                                switch_inline_query=fields.get("switch_inline_query"))


def keyboard_json(rows: list[list[tuple[str, str]]]) -> str:
    """The keyboard :func:`keyboard` would build, as the JSON text the Bot API receives,
    made straight from the rows: for a reply that only sends it (an FAQ answer's buttons
    differ with its related questions, so many are new)."""
    return _keyboard_json(tuple(tuple(row) for row in rows))


@functools.lru_cache(maxsize=_KEYBOARD_CACHE)
def _keyboard_json(rows: tuple[tuple[tuple[str, str], ...], ...]) -> str:
    return json.dumps({"inline_keyboard": [[_button(label, data) for label, data in row] for row in rows if row]})


#: The longest button label, in characters that render (Telegram cuts longer ones off unmarked).
BUTTON_LABEL_MAX = 60
_INVISIBLE = {"\u200d", "\ufe0e", "\ufe0f", "\u200c", "\u200e", "\u200f"}
_TRIM = " ,;:·—–-/(（、，"


def _clusters(text: str) -> list[str]:
    """``text`` as the characters a reader sees: a base with its combining marks (Arabic vowel
    signs, accents) and joiners (⚠️, 👩‍💻) is one."""
    out: list[str] = []
    for ch in text:
        if out and (unicodedata.category(ch) in ("Mn", "Me") or ch in _INVISIBLE or out[-1].endswith("\u200d")):
            out[-1] += ch
        else:
            out.append(ch)
    return out


def clip(text: str, limit: int = BUTTON_LABEL_MAX) -> str:
    """``text`` within ``limit`` rendered characters: cut at the last word boundary (or, in
    scripts written without spaces, at a character) with "…"; never inside a character."""
    chars = _clusters(text)
    if len(chars) <= limit:
        return text
    head = chars[:limit - 1]
    spaces = [i for i, c in enumerate(head) if c.isspace()]
    if spaces and spaces[-1] >= (limit - 1) * 0.6:  # a word boundary not too far back
        head = head[:spaces[-1]]
    cut = "".join(head).rstrip(_TRIM)
    return (cut or "".join(chars[:limit - 1])) + "…"


def _button(label: str, data: str) -> dict[str, str]:
    label = clip(label)
    if data.startswith(("http://", "https://")):
        return {"text": label, "url": data}
    if data.startswith("inline:"):
        return {"text": label, "switch_inline_query": data[len("inline:"):]}
    assert len(data.encode()) <= 64, data
    return {"text": label, "callback_data": data}


_MARKUP_JSON: dict[int, tuple[InlineKeyboardMarkup, str]] = {}


def markup_json(markup: InlineKeyboardMarkup) -> str:
    """``reply_markup`` as the JSON text the Bot API receives, serialised once per keyboard.

    PTB would turn the markup into a dict and then JSON on every send; for an FAQ
    answer that was a third of the cost of the reply (bench/throughput.py). A string
    parameter goes to the Bot API as it is. The markup itself is kept in the cache, so
    an ``id`` is never reused while its entry exists.
    """
    cached = _MARKUP_JSON.get(id(markup))
    if cached is not None and cached[0] is markup:
        return cached[1]
    text = json.dumps(markup.to_dict())
    if len(_MARKUP_JSON) >= _KEYBOARD_CACHE:
        _MARKUP_JSON.clear()
    _MARKUP_JSON[id(markup)] = (markup, text)
    return text


def cb(feature: str, action: str, *args: Any) -> str:
    """Versioned callback data: ``v1:feature:action:args`` (at most 64 bytes)."""
    return callback_data(feature, action, *args)


def parse_cb(data: str | None, feature: str) -> list[str] | None:
    """The parts after ``v1:feature:``, or None when the data is not ours (or an old version)."""
    return parse_callback(data, feature)


@dataclass(frozen=True)
class Sent:
    """What a caller of :func:`reply` may need of the message it sent."""

    chat_id: int
    message_id: int


async def reply(update: Update, context: Context, text: str, *, markup: InlineKeyboardMarkup | str | None = None,
                thread: bool = True) -> Sent | None:
    """Answer in the chat the update came from (HTML, no link previews, split if long).

    Replies go through ``do_api_request`` without turning Telegram's answer back into a
    ``Message`` object: nobody reads it, and parsing it was a third of the cost of an
    FAQ answer (bench/throughput.py). Errors are raised exactly as with ``send_message``.
    ``markup`` may be a keyboard or its JSON text (:func:`keyboard_json`). An update with no
    chat (a button under an inline-mode message) has nowhere to answer: nothing is sent.
    """
    chat = update.effective_chat
    if chat is None:
        return None
    parts = split_message(text)
    message = update.effective_message
    base: dict[str, Any] = {"chat_id": chat.id, "parse_mode": ParseMode.HTML, "link_preview_options": _NO_PREVIEW}
    if thread and message is not None and message.is_topic_message and message.message_thread_id:
        base["message_thread_id"] = message.message_thread_id
    sent = None
    for i, part in enumerate(parts):
        kwargs = dict(base, text=part)
        if markup is not None and i == len(parts) - 1:
            kwargs["reply_markup"] = markup if isinstance(markup, str) else markup_json(markup)
        result = await context.bot.do_api_request("sendMessage", api_kwargs=kwargs)
        if isinstance(result, dict) and "message_id" in result:
            sent = Sent(chat.id, int(result["message_id"]))
    return sent


async def edit_or_reply(update: Update, context: Context, text: str, *, markup: InlineKeyboardMarkup | None = None) -> None:
    """For button presses: edit the message the button was on; fall back to a new message."""
    query = update.callback_query
    if query is not None and query.message is not None and len(text) <= MAX_MESSAGE:
        try:
            await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)
            return
        except BadRequest as exc:
            if "not modified" in str(exc).lower():
                return
    await reply(update, context, text, markup=markup)


async def answer_button(update: Update, text: str | None = None, *, alert: bool = False) -> None:
    """Acknowledge a button press (Telegram shows a spinner until this is called)."""
    query = update.callback_query
    if query is None:
        return
    try:
        await query.answer(text[:200] if text else None, show_alert=alert)
    except BadRequest:
        pass  # query too old: nothing the user can see anyway


def t(context: Context, who: Person | str, key: str, /, **kwargs: Any) -> str:
    lang = who if isinstance(who, str) else who.lang
    return svc(context).i18n.t(lang, key, **kwargs)


# -- free-text input a feature asked for ----------------------------------------

InputHandler = Callable[[Update, Context, Person, dict], Awaitable[None]]
INPUTS: dict[str, InputHandler] = {}


def input_handler(name: str) -> Callable[[InputHandler], InputHandler]:
    """Register ``fn`` to receive the user's next private text when :func:`expect_input` named it."""
    def wrap(fn: InputHandler) -> InputHandler:
        INPUTS[name] = fn
        return fn
    return wrap


async def expect_input(context: Context, name: str, **data: Any) -> None:
    """Ask for the user's next private text: stored (it survives a restart, see :mod:`bot.intake`),
    and mirrored in ``user_data["awaiting"]`` for this process."""
    services = context.services
    user_id = context._user_id  # noqa: SLF001 - PTB's own record of whose update this is
    now = services.clock.now()
    ttl = intake.settings_of(services).input_ttl
    await services.store.run(intake.await_input, user_id, name, data, now, ttl)
    user_data(context)["awaiting"] = {"name": name, "data": data, "expires": (now + ttl).timestamp()}


async def clear_input(context: Context) -> dict | None:
    """Drop the awaited input (if any); what it was."""
    awaiting = context.user_data.pop("awaiting", None) if context.user_data is not None else None
    if awaiting is not None:
        await context.services.store.run(intake.cancel_input, context._user_id)  # noqa: SLF001
    return awaiting
