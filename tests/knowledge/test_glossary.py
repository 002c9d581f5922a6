"""One term per concept per language: every FAQ question and answer, and every topic name,
is checked against ``knowledge/glossary.yaml`` (preferred terms and forbidden variants)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from knowledge.faq import LANGS, load_faq_dir, load_topics

GLOSSARY = Path(__file__).resolve().parents[2] / "knowledge" / "glossary.yaml"
CONCEPTS = yaml.safe_load(GLOSSARY.read_text(encoding="utf-8"))["concepts"]
ENTRIES = load_faq_dir()


def texts(lang: str):
    """(where, text) for every canonical question, answer and topic name in ``lang``."""
    for entry in ENTRIES:
        text = entry.texts[lang]
        yield f"{entry.id}.{lang}.q", text.q
        yield f"{entry.id}.{lang}.a", text.a
    for topic, names in load_topics().items():
        yield f"topic {topic}.{lang}", names.get(lang, "")


def violations(lang: str, patterns: list[str]) -> list[str]:
    compiled = [re.compile(p, re.IGNORECASE) for p in patterns]
    found = []
    for where, text in texts(lang):
        for pattern in compiled:
            for match in pattern.finditer(text):
                found.append(f"{where}: {match.group(0)!r} ({pattern.pattern})")
    return found


def test_glossary_is_well_formed():
    ids = [concept["id"] for concept in CONCEPTS]
    assert len(ids) == len(set(ids))
    for concept in CONCEPTS:
        assert set(concept["preferred"]) == set(LANGS), concept["id"]
        assert all(str(term).strip() for term in concept["preferred"].values()), concept["id"]
        for lang, patterns in (concept.get("forbidden") or {}).items():
            assert lang in LANGS, (concept["id"], lang)
            for pattern in patterns:
                re.compile(pattern)


@pytest.mark.parametrize("concept", CONCEPTS, ids=[c["id"] for c in CONCEPTS])
def test_no_forbidden_variant_in_questions_answers_or_topics(concept):
    found = []
    for lang, patterns in (concept.get("forbidden") or {}).items():
        found += violations(lang, patterns)
    assert found == [], "\n".join(found)


@pytest.mark.parametrize("lang, term", [
    ("ar", "تحييد أثر تدهور الأراضي"), ("ru", "Стратегических рамок"), ("zh", "土地覆盖"), ("es", "CLD"),
    ("es", "cubierta terrestre"), ("ar", "عكس مسار التدهور"),
])
def test_preferred_terms_are_the_ones_used(lang, term):
    assert any(term in text for _, text in texts(lang))


@pytest.mark.parametrize("text, lang, pattern_concept", [
    ("ما هو التحييد ببساطة", "ar", "ldn"),
    ("أهداف للتحييد", "ar", "ldn"),
    ("التجنب والحد والعكس", "ar", "reverse"),
    ("بالعكس", "ar", "reverse"),
    ("новой стратегической программы", "ru", "strategic_framework"),
    ("служба поддержки (helpdesk)", "ru", "helpdesk"),
    ("土地覆被类别", "zh", "land_cover"),
    ("la secretaría de la CNULD", "es", "unccd"),
])
def test_the_forbidden_variants_would_be_caught(text, lang, pattern_concept):
    concept = next(c for c in CONCEPTS if c["id"] == pattern_concept)
    assert any(re.search(p, text, re.IGNORECASE) for p in concept["forbidden"][lang])


@pytest.mark.parametrize("text, lang, pattern_concept", [
    ("ما هو تحييد أثر تدهور الأراضي", "ar", "ldn"),
    ("لتحييد أثر تدهور الأراضي", "ar", "ldn"),
    ("وعكس مسار التدهور", "ar", "reverse"),
    ("تعكس الخريطة", "ar", "reverse"),
    ("لعكس مسار التدهور", "ar", "reverse"),
    ("Стратегические рамки", "ru", "strategic_framework"),
])
def test_the_preferred_forms_are_not_caught(text, lang, pattern_concept):
    concept = next(c for c in CONCEPTS if c["id"] == pattern_concept)
    assert not any(re.search(p, text, re.IGNORECASE) for p in concept["forbidden"][lang])
