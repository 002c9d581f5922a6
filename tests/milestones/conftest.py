"""Fixtures of the milestones tests: the template, the country registry, a fresh database (helpers: util.py)."""
from __future__ import annotations

import datetime as dt

import pytest

from knowledge.checklist import load_checklist
from knowledge.countries import load_countries
from storage.db import migrate, open_db


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
