"""The offline console: chat with the real Application in a terminal, no network needed.

Every line typed becomes a real ``Update`` processed by the same handlers the live bot
uses; the replies the bot "sends" go to the in-process Bot API and are printed here.
Buttons are numbered: type the number to press one.

The console runs on the programme's calendar: its clock starts at ``console.now`` from
config.yaml (default 20 May 2016, a week before the Konya workshop) unless ``LDN_NOW``
says otherwise, and runs forward from there. Each person has a name (``--name``, or one
made from their role and id); messages the bot sends to someone else are printed with
their recipient; photos and documents are saved to a folder and printed as their path.

``ldn-bot console --script FILE`` plays a conversation without a terminal and prints the
transcript (see :class:`Script` for the format; ``docs/tour/`` holds one per language).
"""
from __future__ import annotations

import asyncio
import html
import re
import shlex
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from telegram import Update

from bot import l10n, people
from bot.app import build_application
from bot.clock import FakeClock, ShiftedClock
from bot.config import Config
from bot.offline import OfflineBotAPI, UpdateFactory
from knowledge.durations import parse_duration
from knowledge.isotime import parse_instant
from knowledge.vocabulary import LANGS

_TAG = re.compile(r"<[^>]+>")
#: Where the console's clock starts when neither LDN_NOW nor console.now is set.
DEFAULT_NOW = "2016-05-20T08:00:00Z"
#: The experts' chat of the console when config.yaml names none (so the helpdesk works offline).
CONSOLE_EXPERT_CHAT = -1000000000100


def plain(text: str) -> str:
    """Telegram HTML to terminal text."""
    return html.unescape(_TAG.sub("", text))


def _upload(upload) -> tuple[str, bytes]:
    """PTB gives multipart files as (filename, content, mime) tuples."""
    if isinstance(upload, tuple) and upload:
        content = upload[1] if len(upload) > 1 else b""
        return str(upload[0] or "file"), content if isinstance(content, bytes) else bytes(content or b"")
    return getattr(upload, "filename", None) or "file", b""


def console_clock(config: Config, *, running: bool = True):
    """LDN_NOW if set; otherwise ``console.now`` (a date inside the programme), running forward
    (or standing still for a script, so that its transcript is the same at every run)."""
    start = parse_instant(config.now_override or str(config.section("console").get("now") or DEFAULT_NOW))
    if start is None:  # cannot be: the text is at least DEFAULT_NOW
        raise ValueError("console: no start time")
    return ShiftedClock(start) if running else FakeClock(start)


@dataclass
class Person:
    name: str
    user_id: int
    lang: str


class Console:
    def __init__(self, config: Config, user_id: int = 1001, lang: str = "en", out: TextIO | None = None,
                 name: str | None = None, files_dir: Path | None = None, running_clock: bool = True):
        if config.expert_chat_id is None:
            config = config.with_overrides(helpdesk={"expert_chat_id": CONSOLE_EXPERT_CHAT})
        self.config = config
        self.api = OfflineBotAPI(bot_username=config.bot_username)
        self.clock = console_clock(config, running=running_clock)
        # start-up: as ``run``, a stored search index waits for the first question
        self.app = build_application(config, request=self.api, rate_limit=False, clock=self.clock, warm_search_later=True)
        self.out = out or sys.stdout
        self.files_dir = files_dir or Path(config.db_path).parent / "console-files"
        self.factory: UpdateFactory | None = None
        self.buttons: dict[int, list[tuple[str, str, int]]] = {}  # chat -> [(label, data, message_id)]
        self.people: dict[int, Person] = {}
        #: (chat, message id) -> the text a person typed, for the bot's copies of it (copyMessage)
        self.typed: dict[tuple[int, int], str] = {}
        self.me = self.person(user_id, lang, name)

    @property
    def services(self):
        return self.app.bot_data["services"]

    def person(self, user_id: int, lang: str = "en", name: str | None = None) -> Person:
        """The console's person with this id, named after their role and id unless given a name."""
        known = self.people.get(user_id)
        if known is None or name:
            known = Person(name or self._default_name(user_id, lang), user_id, lang)
            self.people[user_id] = known
        return known

    def _default_name(self, user_id: int, lang: str) -> str:
        cfg = self.config
        role = ("secretariat" if user_id in cfg.secretariat_ids else "expert" if user_id in cfg.expert_ids else "guest")
        label = self.services.t(lang, f"role.{role}")
        return f"{label[:1].upper()}{label[1:]} {user_id}"

    async def start(self) -> None:
        await self.app.initialize()
        self.services.mode = "console"
        if self.app.post_init is not None:  # build_application sets it
            await self.app.post_init(self.app)  # as run_polling does: start time recorded, menus registered
        self.factory = UpdateFactory(self.app.bot)
        self.api.clear()

    async def stop(self) -> None:
        await self.app.shutdown()
        if self.app.post_shutdown is not None:  # build_application sets it
            await self.app.post_shutdown(self.app)  # as run_polling does: pending FAQ statistics are written

    def updates(self) -> UpdateFactory:
        """What makes the updates the console's users send (there once :meth:`start` ran)."""
        if self.factory is None:
            raise RuntimeError("Console.start() first")
        return self.factory

    def banner(self) -> str:
        when = self.clock.now()
        return (self.services.t(self.me.lang, "console.banner", user_id=self.me.user_id) + "\n"
                + self.services.t(self.me.lang, "console.clock", date=l10n.date(self.me.lang, when.date())))

    async def grant(self, who: Person, role: str | None, country: str | None = None) -> None:
        await self.services.store.run(people.grant_role, who.user_id, role, country, self.clock.now(), "console")

    async def say(self, line: str, who: Person | None = None, *, reply: bool = False) -> None:
        """One typed line (text, /command or a button number) from ``who`` (default: the console's user);
        ``reply``: a Telegram reply to the bot's last message to them."""
        who = who or self.me
        line = line.rstrip("\n")
        before = len(self.api.calls)
        buttons = self.buttons.get(who.user_id) or []
        choice = line.strip().strip("[]")
        if choice.isdigit() and buttons and 1 <= int(choice) <= len(buttons):
            label, data, message_id = buttons[int(choice) - 1]
            by = "" if who is self.me else f"{who.name} "
            self.out.write(f"  [{by}pressed: {label}]\n")
            update = self.updates().callback(data, user_id=who.user_id, message_id=message_id, language_code=who.lang,
                                           first_name=who.name)
        else:
            target = next((c for c in reversed(self.api.calls) if c.chat_id == who.user_id and c.message_id
                           and c.method in ("sendMessage", "copyMessage")), None) if reply else None
            reply_to = None if target is None else {
                "message_id": target.message_id or 0, "date": 0, "chat": {"id": who.user_id, "type": "private"},
                "from": {"id": self.api.bot_id, "is_bot": True, "first_name": "LDN TSP"}, "text": target.text or "…"}
            update = self.updates().message(line, user_id=who.user_id, language_code=who.lang, first_name=who.name, reply_to=reply_to)
            self._remember(update, line)
        await self.app.process_update(update)
        self._print(self.api.calls[before:], who)

    def _remember(self, update: Update, line: str) -> None:
        """What was typed, by chat and message id: a later copy of that message prints as its text."""
        if update.message is not None:
            self.typed[(update.message.chat_id, update.message.message_id)] = line

    async def in_experts_chat(self, line: str, who: Person, *, reply: bool) -> None:
        """A message of ``who`` in the experts' chat; ``reply``: answering the bot's last message there."""
        chat_id = self.config.expert_chat_id
        target = next((c for c in reversed(self.api.calls) if c.chat_id == chat_id and c.method == "sendMessage"), None)
        reply_to = None
        if reply and target is not None:
            reply_to = {"message_id": int(target.message_id or 1), "date": 0, "chat": {"id": chat_id, "type": "supergroup"},
                        "from": {"id": self.api.bot_id, "is_bot": True, "first_name": "LDN TSP"}, "text": target.text}
        before = len(self.api.calls)
        update = self.updates().message(line, user_id=who.user_id, chat_id=chat_id, chat_type="supergroup",
                                      language_code=who.lang, first_name=who.name, reply_to=reply_to, title="Experts")
        self._remember(update, line)
        await self.app.process_update(update)
        self._print(self.api.calls[before:], who)

    # -- printing -----------------------------------------------------------------------------

    def _recipient(self, chat_id: int | None, who: Person) -> str:
        if chat_id is None or chat_id == who.user_id:
            return ""
        if chat_id == self.config.expert_chat_id:
            return self.services.t(who.lang, "console.to_experts")
        known = self.people.get(chat_id)
        return self.services.t(who.lang, "console.to", name=known.name if known else str(chat_id))

    def _save(self, upload) -> Path:
        name, content = _upload(upload)
        self.files_dir.mkdir(parents=True, exist_ok=True)
        path = self.files_dir / Path(name).name
        path.write_bytes(content)
        return Path(self.files_dir.name) / path.name

    def _copied(self, call, who: Person) -> str:
        """What a copyMessage shows: its new caption, else the text the person typed."""
        if call.params.get("caption"):
            return plain(str(call.params["caption"]))
        try:
            original = (int(call.params.get("from_chat_id")), int(call.params.get("message_id")))
        except (TypeError, ValueError):
            original = None
        typed = self.typed.get(original) if original else None
        return typed if typed is not None else f"[{self.services.t(who.lang, 'console.copied')}]"

    def _print(self, calls, who: Person) -> None:
        for call in calls:
            to = self._recipient(call.chat_id, who)
            head = f"\n{to}\n" if to else "\n"
            if call.method in ("sendMessage", "editMessageText"):
                self.out.write(head + plain(call.text) + "\n")
            elif call.method in ("sendDocument", "sendPhoto"):
                saved = [self._save(upload) for upload in call.files.values()]
                files = ", ".join(str(p) for p in saved) or "-"
                self.out.write(head + f"[{self.services.t(who.lang, 'console.file_saved', path=files)}] {plain(call.text)}\n")
            elif call.method == "answerCallbackQuery" and call.params.get("text"):
                self.out.write(f"  ({plain(call.params['text'])})\n")
            elif call.method == "copyMessage":
                self.out.write(head + self._copied(call, who) + "\n")
            else:
                continue
            if call.buttons:
                owner = call.chat_id if call.chat_id is not None else who.user_id
                message_id = int(call.params.get("message_id") or call.message_id or 1)
                rows = [(b["text"], b.get("callback_data") or b.get("url") or "", message_id) for b in call.buttons]
                self.buttons[owner] = rows
                for i, (label, data, _) in enumerate(rows, 1):
                    suffix = f"  → {data}" if data.startswith("http") else ""
                    self.out.write(f"   [{i}] {label}{suffix}\n")
        self.out.flush()


class Script:
    """A conversation for ``ldn-bot console --script FILE``, one step a line::

        # a comment
        user amina 2001 fr focal_point KEN   (a person: name, Telegram id, language, role, country)
        user expert 800 en expert
        amina: Comment fixer la ligne de base ?
        amina: [1]                          (presses button 1 of the last message amina got)
        expert@experts^: Use the 2000-2015 default data.   (replies to the bot's last message
                                            in the experts' chat; ``@experts`` without ^ is a
                                            plain message there)
        amina^: And for the land cover map? (replies to the bot's last message to amina: a
                                            follow-up of the query that message is about)
        clock +3d                           (the console's clock moves on)

    Roles: ``secretariat``, ``expert``, ``focal_point`` (with a country), or none (a visitor).
    """

    STEP = re.compile(r"^(?P<name>[\w-]+)(?P<where>@experts\^?|\^)?:\s?(?P<text>.*)$")

    def __init__(self, console: Console):
        self.console = console
        self.names: dict[str, Person] = {}

    async def play(self, lines: list[str]) -> None:
        for number, raw in enumerate(lines, 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            try:
                await self._step(line)
            except ValueError as exc:
                raise SystemExit(f"script line {number}: {exc}") from None

    async def _step(self, line: str) -> None:
        out = self.console.out
        if line.startswith("user "):
            await self._declare(shlex.split(line)[1:])
            return
        if line.startswith("clock "):
            self._advance(line.split(None, 1)[1])
            return
        match = self.STEP.match(line)
        if not match or match["name"] not in self.names:
            raise ValueError(f"not a step: {line!r} (declare people with 'user NAME ID LANG [ROLE [ISO3]]')")
        who = self.names[match["name"]]
        where = match["where"] or ""
        out.write(f"\n» {who.name}{' (experts)' if where.startswith('@') else ''}: {match['text']}\n")
        if where == "^":
            await self.console.say(match["text"], who, reply=True)
        elif where:
            await self.console.in_experts_chat(match["text"], who, reply=where.endswith("^"))
        else:
            await self.console.say(match["text"], who)

    async def _declare(self, words: list[str]) -> None:
        if len(words) < 3 or not words[1].isdigit() or words[2] not in LANGS:
            raise ValueError("user NAME ID LANG [ROLE [ISO3]]")
        name, user_id, lang = words[0], int(words[1]), words[2]
        role = words[3] if len(words) > 3 else None
        country = words[4].upper() if len(words) > 4 else None
        who = self.console.person(user_id, lang, name.replace("_", " ").title())
        self.names[name] = who
        if role in ("secretariat", "expert", "focal_point"):
            await self.console.grant(who, role, country)

    def _advance(self, text: str) -> None:
        when = self.console.clock.advance(parse_duration(text.lstrip("+")))
        self.console.out.write(f"\n⏱ {l10n.date(self.console.me.lang, when.date())}\n")


async def run_console(config: Config, user_id: int, lang: str, stream_in: TextIO | None = None, out: TextIO | None = None,
                      name: str | None = None, script: Path | None = None, files_dir: Path | None = None) -> int:
    """The interactive console, or with ``script`` a scripted conversation on a fresh database in
    a temporary folder, on a clock that stands still (the same transcript at every run)."""
    if script is not None:
        with tempfile.TemporaryDirectory(prefix="ldn-tour-") as folder:
            config = config.with_overrides(storage={"path": str(Path(folder) / "tour.db")})
            return await _run(config, user_id, lang, stream_in, out, name, script,
                              files_dir or Path(folder) / "console-files")
    return await _run(config, user_id, lang, stream_in, out, name, None, files_dir)


async def _run(config: Config, user_id: int, lang: str, stream_in: TextIO | None, out: TextIO | None,
               name: str | None, script: Path | None, files_dir: Path | None) -> int:
    stream_in, out = stream_in or sys.stdin, out or sys.stdout
    console = Console(config, user_id=user_id, lang=lang, out=out, name=name, files_dir=files_dir,
                      running_clock=script is None)
    await console.start()
    out.write(console.banner() + "\n")
    try:
        if script is not None:
            await Script(console).play(Path(script).read_text(encoding="utf-8").splitlines())
            return 0
        out.write("> ")
        out.flush()
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

