"""Handlers of the groups feature (being built)."""


def handlers():
    return []
