"""The one ISO-8601 reader and writer for instants stored and exchanged as text.

Stored timestamps are UTC with seconds precision and a trailing ``Z``
(``2016-05-20T08:00:00Z``). Reading accepts any form ``datetime.fromisoformat`` accepts;
naive values are taken as UTC. Dates outside the programme's plausible range are refused
at the edge (:func:`check_range`) so arithmetic on them can never overflow.
This module is a leaf: it imports nothing of the project.
"""
from __future__ import annotations

import datetime as dt

UTC = dt.timezone.utc
#: Dates people may type or import: wide enough for any record, narrow enough that
#: adding a reminder offset can never overflow ``datetime``.
MIN_DATE = dt.date(1990, 1, 1)
MAX_DATE = dt.date(2100, 12, 31)


class DateRangeError(ValueError):
    """A date outside :data:`MIN_DATE`..:data:`MAX_DATE`."""


def format_instant(value: dt.datetime) -> str:
    """ISO-8601 UTC text for a timestamp column (seconds precision, trailing ``Z``)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_instant(text: str | None) -> dt.datetime | None:
    """Inverse of :func:`format_instant`: an aware UTC datetime, or None for empty text.
    Raises ValueError for text that is not ISO-8601."""
    if not text:
        return None
    value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def check_range(value: dt.date | dt.datetime) -> None:
    """Raise :class:`DateRangeError` when ``value`` lies outside the accepted range."""
    day = value.date() if isinstance(value, dt.datetime) else value
    if not MIN_DATE <= day <= MAX_DATE:
        raise DateRangeError(f"{day.isoformat()} is outside {MIN_DATE.isoformat()}..{MAX_DATE.isoformat()}")
