"""An in-process Bot API: the offline console, the tests and the benchmarks talk to it.

:class:`OfflineBotAPI` is a :class:`telegram.request.BaseRequest` that records every
call and answers with Telegram-shaped JSON, so the real ``Application`` runs unchanged
without a network. Failures (429 with ``retry_after``, 5xx, 403, timeouts) can be
injected per method. :class:`UpdateFactory` builds real :class:`telegram.Update`
objects as Telegram would send them.
"""
from __future__ import annotations

import datetime as dt
import functools
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from telegram import Bot, Update
import httpx
from telegram.error import TimedOut
from telegram.request import BaseRequest, RequestData

BOT_ID = 7000000001
BOT_USERNAME = "ldn_tsp_bot"


@dataclass
class Call:
    method: str
    params: dict
    files: dict = field(default_factory=dict)
    #: what the API answered (a sent message's dict, True, ...), None until answered
    result: Any = None

    @property
    def message_id(self) -> int | None:
        """The id of the message this call sent, if it sent one."""
        return self.result.get("message_id") if isinstance(self.result, dict) else None

    @property
    def chat_id(self) -> int | None:
        value = self.params.get("chat_id")
        return int(value) if value is not None and str(value).lstrip("-").isdigit() else value

    @property
    def text(self) -> str:
        return str(self.params.get("text") or self.params.get("caption") or "")

    @property
    def buttons(self) -> list[dict]:
        markup = self.params.get("reply_markup") or {}
        if isinstance(markup, str):
            markup = json.loads(markup)
        return [b for row in markup.get("inline_keyboard", []) for b in row]


@functools.lru_cache(maxsize=1024)
def _parsed_markup(text: str) -> dict:
    """A keyboard sent as JSON text (see ``handlers.common.markup_json``), parsed once:
    the same few recur, and the echo is only serialised again, never changed."""
    return json.loads(text)


class OfflineBotAPI(BaseRequest):
    """Records Bot API calls and answers them like Telegram would."""

    def __init__(self, bot_username: str = BOT_USERNAME, bot_id: int = BOT_ID):
        self.calls: list[Call] = []
        self.bot_username = bot_username
        self.bot_id = bot_id
        self._ids = itertools.count(1000)
        self._topics = itertools.count(50)
        self._failures: list[dict] = []
        self.chats: dict[int, dict] = {}
        #: files users "sent" (by file_id): getFile describes them, a GET of their file URL returns them
        self.files: dict[str, bytes] = {}

    def add_file(self, file_id: str, content: bytes) -> dict:
        """Make ``file_id`` downloadable (getFile, then the file URL); its size as Telegram gives it."""
        self.files[file_id] = content
        return {"file_id": file_id, "file_unique_id": "u" + file_id, "file_size": len(content)}

    # -- BaseRequest --------------------------------------------------------
    @property
    def read_timeout(self) -> float | None:
        return 5.0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None, read_timeout: object = None,
                         write_timeout: object = None, connect_timeout: object = None,
                         pool_timeout: object = None) -> tuple[int, bytes]:
        """One Bot API call, answered in memory (the time-outs PTB passes mean nothing here)."""
        if "/file/" in url and method == "GET":  # a download (File.download_*): the bytes, as Telegram's file server
            file_id = url.rsplit("/", 1)[-1]
            self.calls.append(Call("downloadFile", {"file_id": file_id}))
            if file_id not in self.files:
                return 404, json.dumps({"ok": False, "error_code": 404, "description": "Not Found"}).encode()
            return 200, self.files[file_id]
        api_method = url.rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data else {}
        files = {}
        if request_data and request_data.contains_files:
            files = {k: v for k, v in request_data.multipart_data.items()}
        self.calls.append(Call(api_method, params, files))
        failure = self._take_failure(api_method)
        if failure:
            if failure["code"] == "connect_timeout":  # the request never left: nothing happened
                raise TimedOut("Timed out") from httpx.ConnectTimeout("connect timeout")
            if failure["code"] == "timeout":  # the request was taken, the answer never came back
                self.answer(api_method, params)
                raise TimedOut("Timed out") from httpx.ReadTimeout("read timeout")
            body = {"ok": False, "error_code": failure["code"], "description": failure["description"]}
            if failure.get("retry_after") is not None:
                body["parameters"] = {"retry_after": failure["retry_after"]}
            if failure.get("migrate_to_chat_id") is not None:
                body["parameters"] = {"migrate_to_chat_id": failure["migrate_to_chat_id"]}
            return failure["code"], json.dumps(body).encode()
        result = self._get_file(params) if api_method == "getFile" else self.answer(api_method, params)
        self.calls[-1].result = result
        return 200, json.dumps({"ok": True, "result": result}).encode()

    # -- failure injection ---------------------------------------------------
    def fail_next(self, method: str, code: int | str, description: str = "error", *, times: int = 1,
                  retry_after: int | None = None, migrate_to_chat_id: int | None = None) -> None:
        """Make the next ``times`` calls of ``method`` fail: code 429/500/403/400, ``"connect_timeout"``
        (the request never reached the API) or ``"timeout"`` (the API carried it out, then the
        answer was lost: the outcome is unknown to the bot)."""
        for _ in range(times):
            self._failures.append({"method": method, "code": code, "description": description,
                                   "retry_after": retry_after, "migrate_to_chat_id": migrate_to_chat_id})

    def _take_failure(self, method: str) -> dict | None:
        for i, failure in enumerate(self._failures):
            if failure["method"] in (method, "*"):
                return self._failures.pop(i)
        return None

    # -- answers ---------------------------------------------------------------
    def me(self) -> dict:
        return {"id": self.bot_id, "is_bot": True, "first_name": "LDN TSP", "username": self.bot_username,
                "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": True}

    def _chat(self, chat_id: Any) -> dict:
        try:
            cid = int(chat_id)
        except (TypeError, ValueError):
            cid = 0
        if cid in self.chats:
            return self.chats[cid]
        return {"id": cid, "type": "private" if cid > 0 else "supergroup", "first_name": "User"} if cid > 0 else {"id": cid, "type": "supergroup", "title": "Group"}

    def _message(self, params: dict, **extra: Any) -> dict:
        msg = {"message_id": next(self._ids), "date": int(dt.datetime.now(dt.timezone.utc).timestamp()),
               "chat": self._chat(params.get("chat_id")),
               "from": {"id": self.bot_id, "is_bot": True, "first_name": "LDN TSP", "username": self.bot_username}}
        if params.get("message_thread_id"):
            msg["message_thread_id"] = int(params["message_thread_id"])
            msg["is_topic_message"] = True
        if "text" in params:
            msg["text"] = params["text"]
        if "caption" in params:
            msg["caption"] = params["caption"]
        if params.get("reply_markup"):
            markup = params["reply_markup"]
            markup = _parsed_markup(markup) if isinstance(markup, str) else markup
            if "inline_keyboard" in markup:  # Telegram echoes inline keyboards only
                msg["reply_markup"] = markup
        msg.update(extra)
        return msg

    def answer(self, method: str, params: dict) -> Any:
        if method == "getMe":
            return self.me()
        if method in ("sendMessage", "editMessageText", "editMessageReplyMarkup", "editMessageCaption"):
            if method != "sendMessage" and params.get("inline_message_id"):
                return True
            msg = self._message(params)
            if method != "sendMessage" and params.get("message_id"):
                msg["message_id"] = int(params["message_id"])
            return msg
        if method == "sendDocument":
            return self._message(params, document={"file_id": "DOC" + str(len(self.calls)), "file_unique_id": "u" + str(len(self.calls)), "file_name": "file"})
        if method == "sendPhoto":
            return self._message(params, photo=[{"file_id": "PH" + str(len(self.calls)), "file_unique_id": "p" + str(len(self.calls)), "width": 640, "height": 480}])
        if method == "copyMessage":
            return {"message_id": next(self._ids)}
        if method == "createForumTopic":
            return {"message_thread_id": next(self._topics), "name": params.get("name", "topic"), "icon_color": 7322096}
        if method == "getChat":
            chat = self._chat(params.get("chat_id"))
            return {**chat, "accent_color_id": 0, "max_reaction_count": 11, "accepted_gift_types": {"unlimited_gifts": False, "limited_gifts": False, "unique_gifts": False, "premium_subscription": False}}
        if method == "getUpdates":
            return []
        if method == "getWebhookInfo":
            return {"url": "", "has_custom_certificate": False, "pending_update_count": 0}
        if method == "getChatMember":
            return {"status": "member", "user": {"id": int(params.get("user_id", 0)), "is_bot": False, "first_name": "User"}}
        if method == "getChatAdministrators":
            return []
        return True

    def _get_file(self, params: dict) -> dict:
        file_id = str(params.get("file_id"))
        if file_id not in self.files:
            return {"file_id": file_id, "file_unique_id": "u" + file_id}  # no file_path: cannot be downloaded
        return {**self.add_file(file_id, self.files[file_id]), "file_path": f"documents/{file_id}"}

    # -- helpers for tests and the console -------------------------------------
    def sent(self, method: str | None = None, chat_id: int | None = None) -> list[Call]:
        return [c for c in self.calls if (method is None or c.method == method) and (chat_id is None or c.chat_id == chat_id)]

    def texts(self, chat_id: int | None = None) -> list[str]:
        return [c.text for c in self.calls if c.method in ("sendMessage", "editMessageText", "sendDocument", "sendPhoto") and (chat_id is None or c.chat_id == chat_id)]

    def last(self, method: str | None = None, chat_id: int | None = None) -> Call:
        found = self.sent(method, chat_id)
        if not found:
            raise AssertionError(f"no {method or 'call'} to {chat_id}; calls: {[c.method for c in self.calls]}")
        return found[-1]

    def clear(self) -> None:
        self.calls.clear()


class UpdateFactory:
    """Builds real ``Update`` objects (private, group, callback, inline, membership)."""

    def __init__(self, bot: Bot):
        self.bot = bot
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)

    @staticmethod
    def user(user_id: int, first_name: str = "Amina", language_code: str | None = "en", username: str | None = None) -> dict:
        data = {"id": user_id, "is_bot": False, "first_name": first_name}
        if language_code:
            data["language_code"] = language_code
        if username:
            data["username"] = username
        return data

    def _wrap(self, data: dict) -> Update:
        data["update_id"] = next(self._update_ids)
        return Update.de_json(data, self.bot)

    def message_dict(self, text: str | None, *, user_id: int, chat_id: int | None = None, chat_type: str = "private",
                     language_code: str | None = "en", first_name: str = "Amina", username: str | None = None,
                     reply_to: dict | None = None, thread_id: int | None = None, title: str = "Group", **extra: Any) -> dict:
        chat_id = user_id if chat_id is None else chat_id
        chat = {"id": chat_id, "type": chat_type}
        if chat_type == "private":
            chat["first_name"] = first_name
        else:
            chat["title"] = title
            if extra.pop("is_forum", False):
                chat["is_forum"] = True
        msg = {"message_id": next(self._message_ids), "date": int(dt.datetime.now(dt.timezone.utc).timestamp()),
               "chat": chat, "from": self.user(user_id, first_name, language_code, username)}
        if text is not None:
            msg["text"] = text
            if text.startswith("/"):
                command = text.split()[0]
                msg["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        if reply_to is not None:
            msg["reply_to_message"] = reply_to
        if thread_id is not None:
            msg["message_thread_id"] = thread_id
            msg["is_topic_message"] = True
        msg.update(extra)
        return msg

    def message(self, text: str | None, **kwargs: Any) -> Update:
        return self._wrap({"message": self.message_dict(text, **kwargs)})

    def edited(self, text: str, **kwargs: Any) -> Update:
        msg = self.message_dict(text, **kwargs)
        msg["edit_date"] = msg["date"]
        return self._wrap({"edited_message": msg})

    def callback(self, data: str, *, user_id: int, chat_id: int | None = None, message_id: int = 1,
                 chat_type: str = "private", language_code: str | None = "en", message_text: str = "…",
                 first_name: str = "Amina") -> Update:
        chat_id = user_id if chat_id is None else chat_id
        chat = {"id": chat_id, "type": chat_type}
        if chat_type != "private":
            chat["title"] = "Group"
        message = {"message_id": message_id, "date": int(dt.datetime.now(dt.timezone.utc).timestamp()), "chat": chat,
                   "from": {"id": BOT_ID, "is_bot": True, "first_name": "LDN TSP", "username": BOT_USERNAME}, "text": message_text}
        return self._wrap({"callback_query": {"id": str(next(self._message_ids)), "from": self.user(user_id, first_name, language_code=language_code),
                                              "chat_instance": "ci", "data": data, "message": message}})

    def inline(self, query: str, *, user_id: int, language_code: str | None = "en", offset: str = "") -> Update:
        return self._wrap({"inline_query": {"id": str(next(self._message_ids)), "from": self.user(user_id, language_code=language_code),
                                            "query": query, "offset": offset}})

    def my_chat_member(self, *, chat_id: int, by_user: int, old: str, new: str, chat_type: str = "supergroup",
                       language_code: str | None = "en", title: str = "Group") -> Update:
        now = int(dt.datetime.now(dt.timezone.utc).timestamp())
        bot_user = {"id": BOT_ID, "is_bot": True, "first_name": "LDN TSP", "username": BOT_USERNAME}

        def member(status: str) -> dict:
            data: dict[str, Any] = {"status": status, "user": bot_user}
            if status == "restricted":
                data.update({"is_member": True, "until_date": 0, **{k: False for k in (
                    "can_send_messages", "can_send_audios", "can_send_documents", "can_send_photos", "can_send_videos",
                    "can_send_video_notes", "can_send_voice_notes", "can_send_polls", "can_send_other_messages",
                    "can_add_web_page_previews", "can_change_info", "can_invite_users", "can_pin_messages", "can_manage_topics",
                    "can_edit_tag", "can_react_to_messages")}})
            if status == "kicked":
                data["until_date"] = 0
            if status == "administrator":
                data.update({"can_be_edited": False, "is_anonymous": False, "can_manage_chat": True, "can_delete_messages": True,
                             "can_manage_video_chats": True, "can_restrict_members": True, "can_promote_members": False,
                             "can_change_info": True, "can_invite_users": True, "can_post_stories": False,
                             "can_edit_stories": False, "can_delete_stories": False})
            return data

        return self._wrap({"my_chat_member": {"chat": {"id": chat_id, "type": chat_type, "title": title}, "date": now,
                                              "from": self.user(by_user, language_code=language_code),
                                              "old_chat_member": member(old), "new_chat_member": member(new)}})
