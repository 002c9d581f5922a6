"""The loopback Bot API serves files as Telegram does: getFile gives a file_path, the file URL
gives the bytes; python-telegram-bot's own download reads them over HTTP."""
from __future__ import annotations

from telegram import Bot

from tests.loopback_api import LoopbackBotAPI
from tests.util import TOKEN


async def test_get_file_then_download_over_http():
    with LoopbackBotAPI(TOKEN) as api:
        api.files["DOC42"] = b"%PDF-1.4 guidance"
        bot = Bot(TOKEN, base_url=api.base_url, base_file_url=f"http://127.0.0.1:{api.port}/file/bot")
        async with bot:
            found = await bot.get_file("DOC42")
            assert found.file_size == len(b"%PDF-1.4 guidance")
            assert bytes(await found.download_as_bytearray()) == b"%PDF-1.4 guidance"
        assert [m for m, _ in api.calls if m == "getFile"] == ["getFile"]
