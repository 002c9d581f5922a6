"""The offline console: chat with the real Application in a terminal, no network needed.

Every line typed becomes a real ``Update`` processed by the same handlers the live bot
uses; the replies the bot "sends" go to the in-process Bot API and are printed here.
Buttons are numbered: type the number to press one.
"""
from __future__ import annotations

import asyncio
import html
import re
import sys
from typing import TextIO

from bot.app import build_application
from bot.config import Config
from bot.offline import OfflineBotAPI, UpdateFactory

_TAG = re.compile(r"<[^>]+>")


def plain(text: str) -> str:
    """Telegram HTML to terminal text (bold kept as ANSI when on a terminal)."""
    return html.unescape(_TAG.sub("", text))


def _file_name(upload) -> str:
    """PTB gives multipart files as (filename, content, mime) tuples."""
    if isinstance(upload, tuple) and upload:
        return str(upload[0])
    return getattr(upload, "filename", None) or "file"


class Console:
    def __init__(self, config: Config, user_id: int = 1001, lang: str = "en", out: TextIO | None = None, name: str = "Amina"):
        self.api = OfflineBotAPI(bot_username=config.bot_username)
        self.app = build_application(config, request=self.api, rate_limit=False)
        self.user_id, self.lang, self.out, self.name = user_id, lang, out or sys.stdout, name
        self.factory: UpdateFactory | None = None
        self.buttons: list[tuple[str, str, int]] = []  # (label, data, message_id)

    async def start(self) -> None:
        await self.app.initialize()
        self.factory = UpdateFactory(self.app.bot)
        self.api.clear()

    async def stop(self) -> None:
        await self.app.shutdown()
        await self.app.post_shutdown(self.app)  # as run_polling does: pending FAQ statistics are written

    async def say(self, line: str) -> None:
        """Process one typed line (text, /command or a button number) and print the bot's replies."""
        line = line.rstrip("\n")
        before = len(self.api.calls)
        if line.strip().isdigit() and self.buttons and 1 <= int(line.strip()) <= len(self.buttons):
            label, data, message_id = self.buttons[int(line.strip()) - 1]
            self.out.write(f"  [pressed: {label}]\n")
            update = self.factory.callback(data, user_id=self.user_id, message_id=message_id, language_code=self.lang)
        else:
            update = self.factory.message(line, user_id=self.user_id, language_code=self.lang, first_name=self.name)
        await self.app.process_update(update)
        self._print(self.api.calls[before:])

    def _print(self, calls) -> None:
        for call in calls:
            if call.method in ("sendMessage", "editMessageText"):
                self.out.write("\n" + plain(call.text) + "\n")
            elif call.method in ("sendDocument", "sendPhoto"):
                name = _file_name(next(iter(call.files.values()))) if call.files else "file"
                self.out.write(f"\n[{call.method[4:].lower()}: {name}] {plain(call.text)}\n")
            elif call.method == "answerCallbackQuery" and call.params.get("text"):
                self.out.write(f"  ({plain(call.params['text'])})\n")
            elif call.method == "copyMessage":
                self.out.write(f"  [message copied to chat {call.chat_id}]\n")
            else:
                continue
            if call.buttons:
                message_id = call.params.get("message_id") or 0
                self.buttons = []
                for button in call.buttons:
                    data = button.get("callback_data") or button.get("url") or ""
                    self.buttons.append((button["text"], data, int(message_id or 1)))
                for i, (label, data, _) in enumerate(self.buttons, 1):
                    suffix = f"  → {data}" if data.startswith("http") else ""
                    self.out.write(f"   [{i}] {label}{suffix}\n")
        self.out.flush()


async def run_console(config: Config, user_id: int, lang: str, stream_in: TextIO | None = None, out: TextIO | None = None) -> int:
    stream_in, out = stream_in or sys.stdin, out or sys.stdout
    console = Console(config, user_id=user_id, lang=lang, out=out)
    await console.start()
    services = console.app.bot_data["services"]
    out.write(services.t(lang, "console.banner", user_id=user_id) + "\n")
    out.write("> ")
    out.flush()
    try:
        loop = asyncio.get_running_loop()
        while True:
            line = await loop.run_in_executor(None, stream_in.readline)
            if not line or line.strip() in ("/quit", "/exit"):
                break
            if line.strip():
                await console.say(line)
            out.write("> ")
            out.flush()
    finally:
        await console.stop()
    out.write("\n")
    return 0
