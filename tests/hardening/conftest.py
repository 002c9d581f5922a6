"""The hardening tests' configuration: two secretariat members (so a button can be copied to another one)."""
from __future__ import annotations

import pytest

from tests.util import SECRETARIAT

#: A second member of the secretariat: allowed to broadcast and edit events, but not to press another's buttons.
COLLEAGUE = 901


@pytest.fixture
def config(config):
    return config.with_overrides(roles={"secretariat": [SECRETARIAT, COLLEAGUE]})
