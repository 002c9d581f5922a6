"""Handlers of the operations feature (being built)."""


def handlers():
    return []
