"""The scripted tour in six languages (docs/tour/): each transcript is what a newcomer meets,
regenerated here. A change to what users see fails this test until the transcripts are
regenerated (``LDN_UPDATE_TOUR=1 .venv/bin/python -m pytest tests/test_tour.py``), so it shows
in review."""
from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from bot.config import load_config
from bot.console import run_console
from knowledge.vocabulary import LANGS

TOUR = Path(__file__).resolve().parents[1] / "docs" / "tour"


@pytest.mark.parametrize("lang", LANGS)
async def test_the_tour_transcript_is_up_to_date(lang, monkeypatch, tmp_path):
    for name in ("LDN_NOW", "LDN_DB", "LDN_SECRETARIAT_IDS", "LDN_EXPERT_CHAT_ID", "TELEGRAM_BOT_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(TOUR.parents[1])
    out = io.StringIO()
    assert await run_console(load_config(), 1001, lang, out=out, script=TOUR / f"{lang}.txt") == 0
    transcript = out.getvalue()
    path = TOUR / f"{lang}.transcript.txt"
    if os.environ.get("LDN_UPDATE_TOUR"):
        path.write_text(transcript, encoding="utf-8")
    assert path.exists(), f"no transcript yet: run with LDN_UPDATE_TOUR=1 to write {path.name}"
    assert transcript == path.read_text(encoding="utf-8"), f"{path.name} is out of date: regenerate it (LDN_UPDATE_TOUR=1)"
