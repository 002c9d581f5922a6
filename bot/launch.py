"""The ``ldn-bot`` command's entry point: start-up without the garbage collector.

Importing the bot and python-telegram-bot allocates a few hundred thousand objects, and the
cyclic garbage collector, triggered by allocations, walks them again and again while they
load: a tenth of the start of ``run``. Nothing of that is garbage, so the collector is off
until the command has loaded what it needs (:func:`bot.collector.resume_collection`, called by
:func:`bot.cli.main` before a command runs, by ``run`` once its Application is built, and
before the console started by ``run`` without a token); what was loaded by then is frozen (``gc.freeze``), so later
collections do not walk it either.
"""
from __future__ import annotations

import gc

from bot.collector import resume_collection


def main() -> int:
    gc.disable()
    try:
        from bot.cli import main as cli_main

        return cli_main()
    finally:
        resume_collection()  # a command that ended before it ran (--help, a usage error) too

