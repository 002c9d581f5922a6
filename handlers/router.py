"""One handler in front of a group's commands: look the command up by name.

PTB asks every handler of a group in turn whether it wants an update. With some fifty
commands in :data:`handlers.common.GROUP_COMMANDS`, every private question (the most
common update) was offered to each ``CommandHandler`` before reaching the FAQ.
:class:`CommandRouter` takes the place of a group's command handlers: an update that
is not a command is turned away at once, a command goes only to the handlers
registered for its name, in their original order, with their own filters and
callbacks. Which handler answers is unchanged.
"""
from __future__ import annotations

from typing import Any

from telegram import MessageEntity, Update
from telegram.ext import BaseHandler, CommandHandler


class CommandRouter(BaseHandler):
    """Dispatch commands to ``CommandHandler`` objects by command name."""

    def __init__(self, handlers: list[CommandHandler]):
        super().__init__(self._unused)
        self.handlers = list(handlers)
        self.by_name: dict[str, list[CommandHandler]] = {}
        for handler in self.handlers:
            for command in handler.commands:
                self.by_name.setdefault(command, []).append(handler)

    @staticmethod
    async def _unused(update: object, context: Any) -> None:  # pragma: no cover - never called
        raise AssertionError("CommandRouter hands updates to the command's own handler")

    def check_update(self, update: object) -> tuple[CommandHandler, Any] | None:
        if not isinstance(update, Update):
            return None
        message = update.effective_message
        if message is None or not message.entities or update.effective_user is None:
            return None  # a command from no one (a channel post, a message without "from"): silence
        first = message.entities[0]
        if first.type != MessageEntity.BOT_COMMAND or first.offset != 0 or not message.text:
            return None
        name = message.text[1:first.length].split("@", 1)[0].lower()
        for handler in self.by_name.get(name, ()):
            check = handler.check_update(update)
            if check is not None and check is not False:
                return handler, check
        return None

    async def handle_update(self, update: Any, application: Any, check_result: Any, context: Any) -> Any:
        handler, check = check_result
        return await handler.handle_update(update, application, check, context)


def route_commands(handlers: list[BaseHandler]) -> list[BaseHandler]:
    """``handlers`` (one group, in order) with its ``CommandHandler`` objects replaced by
    one :class:`CommandRouter` where the first of them was.

    Commands are matched only by ``CommandHandler`` (a command message has a
    ``bot_command`` entity at offset 0, which no other handler of ours looks for
    before them), so moving the later ones up to the first one's place changes
    nothing. All our handlers block (PTB's default); a non-blocking one keeps its
    own place, since the router itself blocks.
    """
    commands = [h for h in handlers if type(h) is CommandHandler and h.block is not False]
    if len(commands) < 2:
        return list(handlers)
    routed = {id(h) for h in commands}
    out: list[BaseHandler] = []
    for handler in handlers:
        if handler is commands[0]:
            out.append(CommandRouter(commands))
        elif id(handler) not in routed:
            out.append(handler)
    return out
