"""Helpers of the groups tests: admins, privacy mode, group updates."""
from __future__ import annotations

from bot.offline import BOT_ID, BOT_USERNAME
from tests.util import EXPERT_CHAT

AFRICA_GROUP = -1001000000001
ASIA_GROUP = -1001000000002
OTHER_GROUP = -1001000000003

ADMIN_FIELDS = {"can_be_edited": False, "is_anonymous": False, "can_manage_chat": True, "can_delete_messages": True,
                "can_manage_video_chats": True, "can_restrict_members": True, "can_promote_members": False,
                "can_change_info": True, "can_invite_users": True, "can_post_stories": False,
                "can_edit_stories": False, "can_delete_stories": False}


def make_admin(env, chat_id: int, *user_ids: int) -> None:
    """getChatMember answers "administrator" for these users in this chat (else "member")."""
    previous = env.api.answer

    def answer(method, params):
        if (method == "getChatMember" and int(params.get("chat_id")) == chat_id
                and int(params.get("user_id")) in user_ids):
            return {"status": "administrator", "user": {"id": int(params["user_id"]), "is_bot": False,
                                                        "first_name": "Admin"}, **ADMIN_FIELDS}
        return previous(method, params)

    env.api.answer = answer


async def set_privacy_mode(env, on: bool) -> None:
    me = dict(env.api.me())
    me["can_read_all_group_messages"] = not on
    env.api.me = lambda: dict(me)
    await env.app.bot.get_me()


async def add_bot(env, chat_id: int, *, by_user: int, language_code: str = "en", title: str = "Group",
                  new: str = "member"):
    return await env.process(env.updates.my_chat_member(chat_id=chat_id, by_user=by_user, old="left", new=new,
                                                        language_code=language_code, title=title))


async def group_say(env, text, *, chat_id, user_id, **kwargs):
    return await env.send(text, user_id=user_id, chat_id=chat_id, chat_type="supergroup", **kwargs)


def bot_message(text: str = "…", chat_id: int = AFRICA_GROUP, message_id: int = 4242) -> dict:
    """A message of the bot, as it appears in ``reply_to_message``."""
    return {"message_id": message_id, "date": 0, "chat": {"id": chat_id, "type": "supergroup", "title": "Group"},
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "LDN TSP", "username": BOT_USERNAME}, "text": text}


def group_texts(calls, *, exclude=(EXPERT_CHAT,)) -> list[str]:
    """Everything the bot posted in any group (negative chat ids), the experts' chat aside."""
    return [c.text for c in calls if c.method in ("sendMessage", "editMessageText", "sendDocument", "sendPhoto")
            and isinstance(c.chat_id, int) and c.chat_id < 0 and c.chat_id not in exclude]


def restricted_update(env, chat_id: int, *, old: str, new: str, by_user: int = 4001):
    """A my_chat_member update where the bot is restricted (may not send messages)."""
    update = env.updates.my_chat_member(chat_id=chat_id, by_user=by_user, old="left", new="member")
    data = update.to_dict()
    bot_user = data["my_chat_member"]["new_chat_member"]["user"]

    def member(status: str) -> dict:
        if status != "restricted":
            return {"status": status, "user": bot_user}
        perms = {k: False for k in (
            "can_send_messages", "can_send_audios", "can_send_documents", "can_send_photos", "can_send_videos",
            "can_send_video_notes", "can_send_voice_notes", "can_send_polls", "can_send_other_messages",
            "can_add_web_page_previews", "can_change_info", "can_invite_users", "can_pin_messages",
            "can_manage_topics", "can_edit_tag", "can_react_to_messages")}
        return {"status": "restricted", "user": bot_user, "is_member": True, "until_date": 0, **perms}

    data["my_chat_member"]["old_chat_member"] = member(old)
    data["my_chat_member"]["new_chat_member"] = member(new)
    from telegram import Update

    return Update.de_json(data, env.app.bot)
