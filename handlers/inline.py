"""Handlers of the inline feature (being built)."""


def handlers():
    return []
