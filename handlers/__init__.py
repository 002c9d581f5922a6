"""Telegram handlers, one module per feature. This is the one registration list.

Each feature module exposes ``handlers() -> [(group, handler), ...]`` and may expose
``async on_startup(application)`` (schedule rebuilds, recovery) and ``commands()``
(menu entries for setMyCommands). Groups are explained in :mod:`handlers.common`.
"""
from __future__ import annotations

from handlers import (
    broadcast,
    channels,
    core,
    directory,
    events,
    faq,
    group_settings,
    groups,
    helpdesk,
    inline,
    milestones,
    operations,
    reminders,
)
from handlers.common import CONTEXT_TYPES

__all__ = ["CONTEXT_TYPES", "FEATURES", "register", "run_startup_hooks"]
from handlers.router import route_commands

# Order matters within a group: the first matching handler of a group wins; start-up hooks run
# in this order too (reminders loads the calendar before broadcast resumes interrupted sends).
FEATURES = [groups, group_settings, directory, core, helpdesk, milestones, reminders, events, broadcast, operations, inline, faq, channels]


def register(application) -> None:
    """Add every feature's handlers, each group's commands behind one
    :class:`~handlers.router.CommandRouter` (a look-up by name instead of asking
    each command handler in turn)."""
    groups: dict[int, list] = {}
    for feature in FEATURES:
        for group, handler in feature.handlers():
            groups.setdefault(group, []).append(handler)
    for group, handler in core.fallbacks():
        groups.setdefault(group, []).append(handler)
    for group, handlers in groups.items():
        for handler in route_commands(handlers):
            application.add_handler(handler, group)
    application.add_error_handler(core.on_error)


async def run_startup_hooks(application) -> None:
    for feature in FEATURES:
        hook = getattr(feature, "on_startup", None)
        if hook is not None:
            await hook(application)
