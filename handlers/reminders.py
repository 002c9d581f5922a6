"""Handlers of the reminders feature (being built)."""


def handlers():
    return []
