"""E-mail fixtures: a real SMTP server receiving what the bot sends."""
from __future__ import annotations

import pytest

from tests.mail.util import start_sink


@pytest.fixture
def outbox():
    """An aiosmtpd server in this process: the bot's outgoing SMTP server in the tests."""
    controller, sink = start_sink()
    sink.port = controller.port
    yield sink
    controller.stop()
