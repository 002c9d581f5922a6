"""Loading and validating FAQ YAML: every problem reported as file:line, all at once."""
from __future__ import annotations

import textwrap

import pytest

from knowledge.faq import LANGS, FaqEntry, FaqText, load_faq_dir, load_topics
from knowledge.yamlfile import DataError
from tests.knowledge.util import FIXTURE, FIXTURE_FAQ


def _lang_block(lang: str, q: str = "Question?", alts: int = 3, answer: str = "An answer.") -> str:
    alt = ", ".join(f'"phrasing {i} {lang}"' for i in range(alts))
    return f'    {lang}:\n      q: "{q} {lang}"\n      alt: [{alt}]\n      a: "{answer}"\n'


def _entry(entry_id: str, topic: str = "basics", skip: str | None = None, **kwargs) -> str:
    text = f'  - id: {entry_id}\n    topic: {topic}\n    source: "Decision 3/COP.12"\n'
    for lang in LANGS:
        if lang != skip:
            text += _lang_block(lang, **kwargs)
    return text


def test_fixture_loads_with_six_languages():
    entries = load_faq_dir(FIXTURE_FAQ)
    assert [e.id for e in entries][:2] == ["ldn-definition", "sdg-15-3"]
    assert len(entries) == 6
    for entry in entries:
        assert set(entry.texts) == set(LANGS)
        assert all(len(t.alt) >= 3 for t in entry.texts.values())
        assert entry.origin == "yaml"
    baseline = next(e for e in entries if e.id == "baseline-period")
    assert baseline.note and "2000-2015" in baseline.note


def test_text_falls_back_to_english_then_any():
    en, fr = FaqText("Q", ("a", "b", "c"), "A"), FaqText("Qf", (), "Af")
    entry = FaqEntry("x", "basics", "s", None, {"en": en, "fr": fr})
    assert entry.text("fr") is fr
    assert entry.text("zh") is en
    assert entry.text(None) is en
    only_fr = FaqEntry("y", "basics", "s", None, {"fr": fr})
    assert only_fr.text("ar") is fr


def test_topics_are_loaded_in_order():
    topics = load_topics(FIXTURE / "topics.yaml")
    assert list(topics)[:2] == ["basics", "sdg"]
    assert topics["soc"]["zh"] == "土壤有机碳"


def test_real_topics_file_is_valid():
    topics = load_topics()
    assert "basics" in topics and "using_bot" in topics


def test_every_problem_is_reported_with_file_and_line(tmp_path):
    faq = tmp_path / "faq"
    faq.mkdir()
    (tmp_path / "topics.yaml").write_text("topics:\n  - {id: basics, name: {en: Basics}}\n", encoding="utf-8")
    long_answer = "x" * 1300
    (faq / "a.yaml").write_text(
        "entries:\n"
        + _entry("good-one")
        + _entry("missing-zh", skip="zh")
        + _entry("few-alts", alts=2)
        + _entry("long-answer", answer=long_answer)
        + _entry("bad-topic", topic="astrology")
        + _entry("Not_Kebab")
        + _entry("html-answer", answer="<b>bold</b>"),
        encoding="utf-8",
    )
    (faq / "b.yaml").write_text("entries:\n" + _entry("good-one"), encoding="utf-8")
    (faq / "c.yaml").write_text("entries:\n  - id: broken\n    topic: [unclosed\n", encoding="utf-8")
    with pytest.raises(DataError) as caught:
        load_faq_dir(faq)
    messages = [str(p) for p in caught.value.problems]
    text = "\n".join(messages)
    a, b, c = str(faq / "a.yaml"), str(faq / "b.yaml"), str(faq / "c.yaml")
    assert f"{a}:" in text and "language 'zh' is missing" in text
    assert "alt: 2 phrasing(s), at least 3 required" in text
    assert "answer is 1300 characters, at most 1200 allowed" in text
    assert "unknown topic 'astrology'" in text
    assert "'id' must be kebab-case" in text
    assert "HTML tags are not allowed" in text
    assert f"{b}:2: duplicate id 'good-one' (first defined at {a}:2)" in text
    assert any(m.startswith(f"{c}:") and "invalid YAML" in m for m in messages)
    # every message points at a line
    for problem in caught.value.problems:
        assert problem.line >= 1, problem
    # the long answer is reported at the line of its 'a:' key
    long_line = next(p for p in caught.value.problems if "1300 characters" in p.message)
    lines = (faq / "a.yaml").read_text(encoding="utf-8").splitlines()
    assert lines[long_line.line - 1].strip().startswith("a:")


def test_unknown_keys_and_missing_fields(tmp_path):
    faq = tmp_path / "faq"
    faq.mkdir()
    (faq / "a.yaml").write_text(
        textwrap.dedent(
            """\
            entries:
              - id: no-source
                topic: basics
                sourse: typo
                en: {q: "Q?", alts: ["a", "b", "c"], a: "A"}
            """
        ),
        encoding="utf-8",
    )
    with pytest.raises(DataError) as caught:
        load_faq_dir(faq, topics={})
    text = str(caught.value)
    assert "unknown key 'sourse'" in text
    assert "'source' is required" in text
    assert "unknown key 'alts'" in text
    assert "language 'fr' is missing" in text


def test_not_a_list_of_entries(tmp_path):
    faq = tmp_path / "faq"
    faq.mkdir()
    (faq / "a.yaml").write_text("hello: world\n", encoding="utf-8")
    with pytest.raises(DataError, match="expected a mapping with an 'entries:' list"):
        load_faq_dir(faq)


def test_empty_directory_is_empty_and_missing_directory_is_an_error(tmp_path):
    (tmp_path / "faq").mkdir()
    assert load_faq_dir(tmp_path / "faq") == []
    with pytest.raises(DataError, match="FAQ directory not found"):
        load_faq_dir(tmp_path / "nope")


def test_topics_are_not_checked_without_topics_file(tmp_path):
    faq = tmp_path / "faq"
    faq.mkdir()
    (faq / "a.yaml").write_text("entries:\n" + _entry("free-topic", topic="anything_goes"), encoding="utf-8")
    assert [e.topic for e in load_faq_dir(faq)] == ["anything_goes"]
