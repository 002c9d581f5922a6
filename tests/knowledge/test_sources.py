"""The "Source:" line in the reader's language: UN symbols in their official language forms,
guidance titles from knowledge/glossary.yaml, nothing left in English."""
from __future__ import annotations

import pytest

from knowledge.faq import LANGS, load_faq_dir
from knowledge.sources import localise_source, untranslated
from tests.util import GUEST, one_text

SOURCES = sorted({entry.source for entry in load_faq_dir()})


@pytest.mark.parametrize("lang, expected", [
    ("en", "Decision 15/COP.12"),
    ("fr", "Décision 15/COP.12"),
    ("es", "Decisión 15/COP.12"),
    ("ru", "Решение 15/COP.12"),
    ("ar", "المقرر 15/م أ-12"),
    ("zh", "第15/COP.12号决定"),
])
def test_decision_symbols_take_their_official_language_forms(lang, expected):
    assert localise_source("Decision 15/COP.12", lang) == expected


def test_document_symbols_paragraphs_and_annexes():
    source = "ICCD/CRIC(15)/2, paras 20-21 and annex I"
    assert localise_source(source, "fr") == "ICCD/CRIC(15)/2, par. 20-21 et annexe I"
    assert localise_source(source, "es") == "ICCD/CRIC(15)/2, párr. 20-21 y anexo I"
    assert localise_source(source, "ru") == "ICCD/CRIC(15)/2, п. 20-21 и приложение I"
    assert localise_source(source, "ar") == "ICCD/CRIC(15)/2، الفقرة 20-21 والمرفق الأول"
    assert localise_source(source, "zh") == "ICCD/CRIC(15)/2，第20-21段和附件一"
    assert localise_source("Decisions 2/COP.12 and 3/COP.12", "zh") == "第2/COP.12号决定、第3/COP.12号决定"


def test_guidance_titles_and_untranslatable_details():
    source = "Trends.Earth documentation (input data); Good Practice Guidance for SDG indicator 15.3.1 (version 2)"
    assert localise_source(source, "fr") == ("documentation de Trends.Earth; "
                                             "Guide de bonnes pratiques pour l'indicateur 15.3.1 des ODD (version 2)")
    assert localise_source(source, "zh") == "Trends.Earth文档；《可持续发展目标指标15.3.1良好做法指南》（第2版）"
    assert localise_source(source, "en") == source


@pytest.mark.parametrize("lang", [lang for lang in LANGS if lang != "en"])
def test_every_source_of_the_faq_is_fully_translated(lang):
    left = {source: untranslated(source, lang) for source in SOURCES}
    assert {source: words for source, words in left.items() if words} == {}


def test_untranslated_detects_english_left_over():
    assert untranslated("Some unknown report, para. 4", "ru") == ["Some", "report", "unknown"]


async def test_the_answer_shows_its_source_in_the_users_language(env):
    calls = await env.send("ما هو المقرر 15/م أ-12 والموعد النهائي لإكمال الأهداف", user_id=GUEST, language_code="ar")
    text = one_text(calls)
    assert "المصدر:" in text and "15/م أ-12" in text
    assert "Decision" not in text and "para." not in text
