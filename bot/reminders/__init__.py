"""Reminders of the programme's calendar and checklist, one job per module:

* :mod:`~bot.reminders.settings` - the ``reminders`` section of config.yaml;
* :mod:`~bot.reminders.zones` - time zones (whose clock, what people type to ``/timezone``);
* :mod:`~bot.reminders.render` - texts and buttons, every string from the translator;
* :mod:`~bot.reminders.planner` - who gets what when: pure, no I/O, the clock passed in;
* :mod:`~bot.reminders.admin` - event administration (events.yaml sync; add, move, cancel with preview);
* :mod:`~bot.reminders.service` - the service: reads a snapshot, writes the ledger, sends through
  :class:`bot.delivery.Deliverer`;
* :mod:`~bot.reminders.preferences` - mutes, snoozes, a person's zone and upcoming reminders;
* :mod:`~bot.reminders.calendar` - which events go into an .ics file.

The names other packages use are re-exported here.
"""
from __future__ import annotations

from bot.reminders.admin import add_event, cancel_event, move_event, sync_events
from bot.reminders.calendar import calendar_file, calendar_selection
from bot.reminders.planner import Recipient
from bot.reminders.render import HTML, format_when
from bot.reminders.service import Reminders, TickResult, get_reminders
from bot.reminders.settings import DEFAULTS, Settings

__all__ = ["DEFAULTS", "HTML", "Recipient", "Reminders", "Settings", "TickResult", "add_event", "calendar_file",
           "calendar_selection", "cancel_event", "format_when", "get_reminders", "move_event", "sync_events"]
