"""Fixtures of the knowledge tests: a fresh in-memory database per test, the unit-test FAQ."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.search import FaqSearch, load_knowledge
from storage.db import migrate, open_db
from tests.knowledge.util import FIXTURE, FIXTURE_FAQ


@pytest.fixture
def db():
    database = open_db(":memory:")
    migrate(database)
    yield database
    database.conn.close()


@pytest.fixture
def loaded_db(db):
    """The database with the unit-test FAQ loaded (knowledge version 1)."""
    load_knowledge(db, FIXTURE_FAQ)
    return db


@pytest.fixture
def engine(loaded_db):
    return FaqSearch(loaded_db)


@pytest.fixture
def faq_copy(tmp_path) -> Path:
    """A writable copy of the unit-test FAQ (``faq/`` next to ``topics.yaml``)."""
    shutil.copytree(FIXTURE, tmp_path / "kb")
    return tmp_path / "kb" / "faq"
