"""Handlers of the helpdesk feature (being built)."""


def handlers():
    return []
