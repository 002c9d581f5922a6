"""Helpers of the intake tests: a restartable bot, replies to the bot's messages, reading the tables."""
from __future__ import annotations

from bot.app import build_application
from bot.offline import OfflineBotAPI, UpdateFactory
from storage import helpdesk as hd_store
from tests.helpdesk.util import bot_message
from tests.util import FOCAL_KEN, BotEnv


class IntakeBot:
    """A real Application on the offline Bot API that :meth:`restart` replaces by a new one on the
    same database, as a redeployed bot would be."""

    def __init__(self, config, clock):
        self.config, self.clock = config, clock
        self.api = OfflineBotAPI()
        self.updates: UpdateFactory | None = None
        self.env: BotEnv | None = None
        self.restarts = 0

    async def start(self) -> None:
        async def fake_sleep(_seconds):
            return None

        app = build_application(self.config, request=self.api, clock=self.clock, rate_limit=False, sleep=fake_sleep)
        await app.initialize()
        await app.post_init(app)
        if self.updates is None:
            self.updates = UpdateFactory(app.bot)
        self.updates.bot = app.bot
        self.env = BotEnv(app, self.api, self.updates, self.clock)

    async def stop(self) -> None:
        await self.env.app.shutdown()
        self.env.services.store.close()

    async def restart(self) -> None:
        await self.stop()
        await self.start()
        self.restarts += 1

    # -- talking ---------------------------------------------------------------------------------

    async def send(self, text, *, user_id=FOCAL_KEN, **kwargs):
        return await self.env.send(text, user_id=user_id, **kwargs)

    async def press(self, data, *, user_id=FOCAL_KEN, **kwargs):
        return await self.env.press(data, user_id=user_id, **kwargs)

    async def reply_to(self, message_id: int, text, *, user_id=FOCAL_KEN, **kwargs):
        """A Telegram reply to the bot's message ``message_id`` in the user's private chat."""
        return await self.env.send(text, user_id=user_id, reply_to=bot_message(message_id, user_id), **kwargs)

    # -- reading -----------------------------------------------------------------------------------

    @property
    def db(self):
        return self.env.db

    def query(self, qid: int) -> dict:
        return hd_store.get_query(self.db, qid)

    def last_query_id(self) -> int | None:
        return self.db.execute("SELECT max(id) FROM queries").fetchone()[0]

    def asker_texts(self, qid: int) -> list[str]:
        return [m["text"] for m in hd_store.messages(self.db, qid, ["asker"])]

    def events(self, qid: int) -> list[str]:
        return [e["kind"] for e in hd_store.events(self.db, qid)]


def buttons_of(calls, chat_id: int) -> list[tuple[str, str]]:
    """(label, callback data) of the buttons the bot sent to ``chat_id``."""
    out = []
    for call in calls:
        if call.chat_id == chat_id:
            out.extend((b.get("text", ""), b.get("callback_data", "")) for b in call.buttons)
    return out
