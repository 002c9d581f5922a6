"""The ``ldn-bot`` entry point (bot/launch.py) starts without the garbage collector and turns
it back on, with the start-up objects frozen, whatever the command's outcome."""
from __future__ import annotations

import gc
import sys

import pytest

from bot import collector as gc_collector
from bot import launch


@pytest.fixture
def collector():
    yield
    gc.enable()
    gc.unfreeze()


def test_a_command_ends_with_the_collector_on_and_start_up_frozen(collector, tmp_path, monkeypatch, capsys):
    gc.unfreeze()
    monkeypatch.setenv("LDN_DB", str(tmp_path / "bot.db"))
    monkeypatch.setattr(sys, "argv", ["ldn-bot", "countries"])
    assert launch.main() == 0
    assert "KEN" in capsys.readouterr().out
    assert gc.isenabled() and gc.get_freeze_count() > 0


def test_help_leaves_the_collector_on(collector, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["ldn-bot", "--help"])
    with pytest.raises(SystemExit):
        launch.main()
    assert "usage" in capsys.readouterr().out
    assert gc.isenabled()


def test_resuming_where_the_collector_was_never_off_changes_nothing(collector):
    gc.unfreeze()
    gc_collector.resume_collection()
    assert gc.isenabled() and gc.get_freeze_count() == 0
