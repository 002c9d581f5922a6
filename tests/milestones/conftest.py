"""Helpers for the milestones tests: the template, direct service calls, CSV text."""
from __future__ import annotations

import datetime as dt

import pytest

from bot import milestones as ms
from knowledge.checklist import load_checklist
from knowledge.countries import load_countries
from storage.db import migrate, open_db

FOCAL_KEN = 501
FOCAL_SEN = 502


@pytest.fixture(scope="session")
def template():
    return load_checklist()


@pytest.fixture(scope="session")
def registry():
    return load_countries()


@pytest.fixture
def db():
    database = open_db(":memory:")
    migrate(database, dt.datetime(2016, 5, 20, tzinfo=dt.timezone.utc))
    yield database
    database.conn.close()


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def state(db, template, registry, iso3, step_id, now=None):
    return ms.step_state(db, template, registry, iso3, step_id, now or at("2016-06-01T00:00:00Z"))


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert data[12:16] == b"IHDR"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
