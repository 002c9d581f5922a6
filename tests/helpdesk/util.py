"""Helpers of the helpdesk tests: talk as a focal point, as an expert in the experts' chat, read the database."""
from __future__ import annotations

from bot.offline import BOT_ID, BOT_USERNAME
from storage import helpdesk as store
from tests.util import EXPERT, EXPERT_CHAT, FOCAL_KEN

BOT_USER = {"id": BOT_ID, "is_bot": True, "first_name": "LDN TSP", "username": BOT_USERNAME}


def bot_message(message_id: int, chat_id: int = EXPERT_CHAT, text: str = "…") -> dict:
    """A message of the bot as it appears in ``reply_to_message``."""
    chat = {"id": chat_id, "type": "supergroup", "title": "Experts"} if chat_id < 0 else {"id": chat_id, "type": "private", "first_name": "A"}
    return {"message_id": message_id, "date": 0, "chat": chat, "from": BOT_USER, "text": text}


class Helpdesk:
    def __init__(self, env):
        self.env = env

    def query(self, qid: int) -> dict:
        return store.get_query(self.env.db, qid)

    def events(self, qid: int) -> list[dict]:
        return store.events(self.env.db, qid)

    def last_query_id(self) -> int:
        return self.env.db.execute("SELECT max(id) FROM queries").fetchone()[0]

    async def ask(self, text: str, user_id: int = FOCAL_KEN, **kwargs):
        return await self.env.send(f"/ask {text}", user_id=user_id, **kwargs)

    async def follow_up(self, qid: int, text: str | None, *, user_id: int = FOCAL_KEN, **kwargs):
        """The asker replies (a Telegram reply) to the query's acknowledgement "Query #N logged"."""
        ack = self.query(qid)["ack_message_id"]
        return await self.env.send(text, user_id=user_id, reply_to=bot_message(ack, user_id), **kwargs)

    async def expert_reply(self, qid: int, text: str, *, user_id: int = EXPERT, to: int | None = None, **extra):
        """An expert replies (a Telegram reply) to the query's card, or to message ``to``."""
        target = to if to is not None else self.query(qid)["expert_message_id"]
        return await self.env.send(text, user_id=user_id, chat_id=EXPERT_CHAT, chat_type="supergroup",
                                   reply_to=bot_message(target), **extra)

    async def press_card(self, qid: int, action: str, *extra, user_id: int = EXPERT, state: str | None = None):
        q = self.query(qid)
        code = {"new": "n", "open": "o", "pending": "p", "resolved": "r", "closed": "c"}[state or q["state"]]
        data = ":".join(["v1", "hd", action, str(qid), code, *map(str, extra)])
        return await self.env.press(data, user_id=user_id, chat_id=EXPERT_CHAT, chat_type="supergroup",
                                    message_id=q["expert_message_id"] or 1)
