"""Where the knowledge tests' data lives: the unit-test FAQ and its dev set, the full dev set."""
from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "data"
FIXTURE = DATA / "faq_fixture"
FIXTURE_FAQ = FIXTURE / "faq"
FIXTURE_DEVSET = FIXTURE / "devset.yaml"
