"""Fixtures of the helpdesk tests (their helpers are in tests/helpdesk/util.py)."""
from __future__ import annotations

import pytest

from tests.helpdesk.util import Helpdesk
from tests.util import FOCAL_FRA_SPEAKER, FOCAL_KEN


@pytest.fixture
async def hd(env):
    await env.make_focal_point(FOCAL_KEN, "KEN")
    await env.make_focal_point(FOCAL_FRA_SPEAKER, "SEN")
    return Helpdesk(env)
