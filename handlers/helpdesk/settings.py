"""What every helpdesk handler needs: the settings, the experts' chat and its language,
and the parts of a Telegram message the helpdesk keeps."""
from __future__ import annotations

import datetime as dt
from typing import Any

from telegram import Update

from bot.helpdesk.rules import Settings, settings_from
from bot.services import Services
from handlers.common import is_private


def settings(services: Services) -> Settings:
    if services.helpdesk_settings is None:
        services.helpdesk_settings = settings_from(services.config.section("helpdesk"), services.config.expert_chat_id)
    return services.helpdesk_settings


def xt(services: Services, key: str, /, **kwargs: Any) -> str:
    """A string in the experts' chat language."""
    return services.t(settings(services).expert_language, key, **kwargs)


def now(services: Services) -> dt.datetime:
    return services.clock.now()


def is_expert_chat(update: Update, services: Services) -> bool:
    chat = update.effective_chat
    expert_chat = settings(services).expert_chat_id
    return chat is not None and expert_chat is not None and chat.id == expert_chat


def content_allowed(update: Update, services: Services) -> bool:
    """Query content is shown only in private chats and in the experts' chat."""
    return is_private(update) or is_expert_chat(update, services)


def number(text: str | None) -> int | None:
    """A query, draft or page number as typed (``12`` or ``#12``), None if it is not one."""
    value = (text or "").strip().lstrip("#")
    if not value.isascii() or not value.isdigit() or len(value) > 9:  # isdigit alone accepts "²"
        return None
    return int(value)


def message_text(message) -> str:
    return (message.text or message.caption or "") if message else ""


def attachment_of(message) -> dict | None:
    """The photo or document of a message, as the helpdesk stores it (by file_id)."""
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


def kind_of(message) -> str:
    if message.photo:
        return "photo"
    if message.document:
        return "document"
    if message.text is not None:
        return "text"
    return "other"


def command_text(message) -> str:
    """The text after ``/command`` (newlines kept)."""
    parts = (message.text or "").split(None, 1)
    return parts[1].strip() if len(parts) > 1 else ""
