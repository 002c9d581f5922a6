"""Handlers of the faq feature (being built)."""


def handlers():
    return []
