"""Helpers of the milestones tests: times, direct service calls, PNG sizes."""
from __future__ import annotations

import datetime as dt

from bot import milestones as ms


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def state(db, template, registry, iso3, step_id, now=None):
    return ms.step_state(db, template, registry, iso3, step_id, now or at("2016-06-01T00:00:00Z"))


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert data[12:16] == b"IHDR"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
