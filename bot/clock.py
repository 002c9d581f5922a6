"""The one source of time. Everything that needs "now" asks a Clock, so tests can set it.

* :class:`SystemClock` - real UTC time.
* :class:`ShiftedClock` - starts at a chosen instant (``LDN_NOW``) and runs forward in
  real time from there, to demonstrate the programme's calendar as of any date.
* :class:`FakeClock` - stands still until a test calls :meth:`FakeClock.advance`.
"""
from __future__ import annotations

import datetime as dt
import time

from knowledge.isotime import parse_instant

UTC = dt.timezone.utc


class Clock:
    def now(self) -> dt.datetime:  # pragma: no cover - interface
        raise NotImplementedError


class SystemClock(Clock):
    def now(self) -> dt.datetime:
        return dt.datetime.now(UTC)


class ShiftedClock(Clock):
    def __init__(self, start: dt.datetime):
        self._start = start if start.tzinfo else start.replace(tzinfo=UTC)
        self._t0 = time.monotonic()

    def now(self) -> dt.datetime:
        return self._start + dt.timedelta(seconds=time.monotonic() - self._t0)

    def advance(self, delta: dt.timedelta) -> dt.datetime:
        """Move the clock forward by ``delta`` (the console's ``clock +3d``)."""
        self._start += delta
        return self.now()


class FakeClock(Clock):
    def __init__(self, start: dt.datetime | str = "2016-05-20T08:00:00Z"):
        self._now: dt.datetime = _instant(start)

    def now(self) -> dt.datetime:
        return self._now

    def advance(self, delta: dt.timedelta | None = None, **kwargs: float) -> dt.datetime:
        self._now = self._now + (delta or dt.timedelta()) + dt.timedelta(**kwargs)
        return self._now

    def set(self, when: dt.datetime | str) -> None:
        self._now = _instant(when)


def _instant(value: dt.datetime | str) -> dt.datetime:
    """A datetime, or ISO-8601 text read as one (empty text is an error here)."""
    if isinstance(value, dt.datetime):
        return value
    parsed = parse_instant(value)
    if parsed is None:
        raise ValueError("a clock needs a date and time, not empty text")
    return parsed


def clock_from_env(value: str | None) -> Clock:
    """``LDN_NOW`` set: a shifted clock starting there; otherwise the system clock."""
    if value:
        return ShiftedClock(_instant(value))
    return SystemClock()
