"""Every string key of knowledge/strings/*.yaml, rendered in every language with typical and
empty values: no ``None``, no ``{`` or ``}`` left, no bare ``-`` for a value, and no English
sentence left untranslated in another language (proper names and glossary terms allowed)."""
from __future__ import annotations

import re
import string

import pytest

from bot.i18n import Translator, load_strings
from knowledge.vocabulary import LANGS

STRINGS = load_strings()
TRANSLATOR = Translator(STRINGS)
TYPICAL = {"count": 3, "n": 12, "days": 5, "page": 2, "pages": 7, "date": "2016-10-31", "name": "Wanjiru", "country": "Kenya",
           "iso3": "KEN", "id": "ken-nws", "user_id": 2001, "tz": "Africa/Nairobi", "lang": "English"}
# Words that stay as they are in every language: product and programme names, codes, commands.
KEPT = re.compile(r"(/\w+|<[^>]+>|&\w+;|https?://\S+|\b(?:LDN|TSP|UNCCD|IANA|UTC|CSV|ICS|FAQ|ID|OK|PNG|SOC|Telegram|"
                  r"Bot API|ldn-bot|webhook|Africa/Nairobi|Asia/Kathmandu|Asia/Shanghai|Europe/Moscow|Africa/Dakar|"
                  r"America/Lima|Africa/Cairo|Nairobi|Kenya|KEN|SEN|UGA|Wanjiru|Konya|Bangkok|Buenos Aires|Batumi|"
                  r"id|kind|workshop|meeting|milestone|deadline|tz|audience|title|place|offsets|start|end|all|"
                  r"africa|annex|pilots|role|focal_point|reset|on|off|chart|export|milestones|import|FILE)\b)")


def fields(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


def variants(key: str) -> list[dict]:
    entry = STRINGS[key]["en"]
    texts = entry.values() if isinstance(entry, dict) else [entry]
    names = set().union(*(fields(t) for t in texts))
    typical = {f: TYPICAL.get(f, f"{f} value") for f in names}
    empty = {f: (0 if f == "count" else "") for f in names}
    return [typical, empty]


@pytest.mark.parametrize("lang", LANGS)
def test_every_string_renders_cleanly(lang):
    problems = []
    for key in sorted(STRINGS):
        for values in variants(key):
            text = TRANSLATOR.t(lang, key, **values)
            if "None" in text:
                problems.append(f"{key}: None")
            if "{" in text or "}" in text:
                problems.append(f"{key}: brace left: {text[:80]!r}")
            if re.search(r"(?:^|[:：]\s?)-(?:\s|$)", text, re.M):
                problems.append(f"{key}: a bare '-' for a value: {text[:80]!r}")
    assert not problems, "\n".join(problems)


def _templates(key: str, lang: str) -> list[str]:
    entry = STRINGS[key].get(lang) or STRINGS[key]["en"]
    return list(entry.values()) if isinstance(entry, dict) else [entry]


@pytest.mark.parametrize("lang", [lang for lang in LANGS if lang != "en"])
def test_no_english_sentence_left_in_another_language(lang):
    """A template identical to the English one with at least two English words of its own
    (placeholders, markup, commands and kept names aside) was not translated."""
    left = []
    english_words = {w.lower() for key in STRINGS for t in _templates(key, "en") for w in re.findall(r"[A-Za-z]{3,}", t)}
    for key in sorted(STRINGS):
        for text in _templates(key, lang):
            own = KEPT.sub(" ", re.sub(r"\{[^{}]*\}", " ", text))
            words = [w for w in re.findall(r"[A-Za-z]{3,}", own) if w.lower() in english_words]
            if text in _templates(key, "en") and len(words) >= 2:
                left.append(f"{key}: {text[:80]!r}")
    assert not left, "\n".join(left)
