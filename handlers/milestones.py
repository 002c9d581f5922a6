"""Handlers of the milestones feature (being built)."""


def handlers():
    return []
