"""The one duration grammar: ``14d``, ``2h``, ``1d12h``, ``90m``, ``2w``, ``30s``.

Used for configuration (SLA targets, reminder offsets, grace windows) and for what
people type in chat (``/snooze 2d``). Every parsed duration is range-checked, so a
typo such as ``99999999d`` is an error naming the accepted range, never an overflow.
This module is a leaf: it imports nothing of the project.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Any

UNITS: dict[str, int] = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
_PART = re.compile(r"(\d+(?:\.\d+)?)([wdhms])")
#: Longer than any programme horizon; a larger value is a typo.
MAX_DURATION = dt.timedelta(days=3660)


class DurationError(ValueError):
    """Not a duration, or outside the accepted range; ``str()`` says which."""


def parse_duration(value: Any, default_unit: str = "h", *, allow_zero: bool = False,
                   maximum: dt.timedelta = MAX_DURATION) -> dt.timedelta:
    """``"4h"``, ``"2d"``, ``"1d12h"``, ``"90m"``; a bare number is in ``default_unit``.

    A ``timedelta`` is checked and returned. Raises :class:`DurationError` for text that is
    not a duration, for a negative one, a zero one (unless ``allow_zero``) or one above
    ``maximum``.
    """
    if isinstance(value, dt.timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, bool):
        raise DurationError(f"not a duration: {value!r} (use e.g. 4h, 2d, 1d12h)")
    elif isinstance(value, (int, float)):
        seconds = float(value) * UNITS[default_unit]
    else:
        text = str(value or "").strip().lower().replace(" ", "")
        if not text:
            raise DurationError("empty duration (use e.g. 4h, 2d, 1d12h)")
        try:
            seconds = float(text) * UNITS[default_unit]
        except ValueError:
            parts = _PART.findall(text)
            if not parts or _PART.sub("", text):
                raise DurationError(f"not a duration: {value!r} (use e.g. 4h, 2d, 1d12h)") from None
            seconds = sum(float(n) * UNITS[u] for n, u in parts)
    if seconds != seconds or seconds < 0 or (seconds == 0 and not allow_zero):
        raise DurationError(f"duration {value!r} must be positive")
    if seconds > maximum.total_seconds():
        raise DurationError(f"duration {value!r} is longer than {format_duration(maximum)}")
    return dt.timedelta(seconds=seconds)


def format_duration(delta: dt.timedelta) -> str:
    """The canonical spelling (``14d``, ``1d12h``, ``2h``, ``30m``), whole minutes; used in
    delivery references, so it must not change for a given value."""
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    out = (f"{days}d" if days else "") + (f"{hours}h" if hours else "") + (f"{mins}m" if mins else "")
    return out or "0m"
