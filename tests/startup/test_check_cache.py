"""Start-up: a clean verdict of the data files is kept per fingerprint (``bot.datacache``), so
``check`` and ``run`` do not validate unchanged files again, and any change is validated anew."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.cli import main
from tests.util import ROOT


@pytest.fixture
def knowledge(tmp_path, monkeypatch) -> Path:
    target = tmp_path / "knowledge"
    shutil.copytree(ROOT / "knowledge", target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    monkeypatch.setenv("LDN_DB", str(tmp_path / "db" / "bot.db"))
    (tmp_path / "db").mkdir()
    monkeypatch.setenv("LDN_CFG__KNOWLEDGE__DIR", str(target))
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.delenv("LDN_SMTP_URL", raising=False)
    monkeypatch.chdir(ROOT)
    return target


def _verdicts(tmp_path: Path) -> list[str]:
    cache = tmp_path / "db" / ".ldn-cache"
    return sorted(p.name for p in cache.glob("checked-*.json")) if cache.is_dir() else []


def test_a_clean_verdict_is_kept_and_a_changed_file_is_validated_again(knowledge, tmp_path, capsys):
    assert main(["check"]) == 0
    first = capsys.readouterr().out
    assert first.startswith("OK: strings ") and "FAQ entries 108" in first
    kept = _verdicts(tmp_path)
    assert len(kept) == 1
    assert main(["check"]) == 0  # unchanged files: the kept verdict, the same report
    assert capsys.readouterr().out == first and _verdicts(tmp_path) == kept
    verdict = tmp_path / "db" / ".ldn-cache" / kept[0]
    saved = verdict.read_text(encoding="utf-8")
    verdict.write_text(saved.replace('"events": 9', '"events": 99'), encoding="utf-8")
    assert main(["check"]) == 0 and "events 99" in capsys.readouterr().out  # read, not validated again
    verdict.write_text(saved, encoding="utf-8")

    events = knowledge / "events.yaml"
    good = events.read_text(encoding="utf-8")
    events.write_text(good.replace("timezone: Europe/Istanbul", "timezone: Mars/Olympus_Mons", 1), encoding="utf-8")
    assert main(["check"]) == 1
    err = capsys.readouterr().err
    assert f"{events}:" in err and "Mars/Olympus_Mons" in err
    assert _verdicts(tmp_path) == kept  # a verdict with problems is never kept

    events.write_text(good, encoding="utf-8")
    assert main(["check"]) == 0 and capsys.readouterr().out == first


def test_a_damaged_verdict_file_means_validating_again(knowledge, tmp_path, capsys):
    assert main(["check"]) == 0
    first = capsys.readouterr().out
    (kept,) = (tmp_path / "db" / ".ldn-cache").glob("checked-*.json")
    kept.write_text("{not json", encoding="utf-8")
    assert main(["check"]) == 0 and capsys.readouterr().out == first
    assert kept.read_text(encoding="utf-8").startswith("{\"")  # validated and kept again


def test_an_in_memory_database_keeps_nothing(knowledge, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LDN_DB", ":memory:")
    assert main(["check"]) == 0
    assert not (tmp_path / "db" / ".ldn-cache").exists()
