"""Every string key of knowledge/strings/*.yaml, rendered in every language with typical and
empty values: no ``None``, no ``{`` or ``}`` left, no bare ``-`` for a value, and no English
sentence left untranslated in another language (proper names and glossary terms allowed)."""
from __future__ import annotations

import html
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


# Keys whose count is a figure after a label ("Attachments: 3", "Saved replies (3)"): no noun
# changes with the number, one text serves every count.
COUNT_AFTER_A_LABEL = {"bc.btn.send", "faq.gaps_header", "groups.peers_header", "hd.card_attachments",
                       "hd.export_caption", "hd.stats_line", "privacy.record", "saved.list_header"}
# Count-bearing keys: the ``{count}`` placeholder sits next to a noun that changes with the number.
COUNT_KEYS = sorted(key for key in STRINGS if "count" in set().union(*(fields(t) for t in _templates(key, "en")))
                    and key not in COUNT_AFTER_A_LABEL)


@pytest.mark.parametrize("lang", LANGS)
def test_count_strings_take_the_languages_plural_forms(lang):
    """Each key with a {count} renders with 0, 1, 2, 5 and 21 and has the forms the language's
    plural rules need (a single text only where the language has one form, as Chinese)."""
    from bot import l10n

    categories = {l10n.plural_category(lang, n) for n in (0, 1, 2, 5, 21)}
    single = []
    for key in COUNT_KEYS:
        entry = STRINGS[key][lang]
        if len(categories) > 1 and not isinstance(entry, dict):
            single.append(key)
            continue
        for n in (0, 1, 2, 5, 21):
            values = {f: TYPICAL.get(f, f"{f} value") for t in _templates(key, lang) for f in fields(t)}
            text = TRANSLATOR.t(lang, key, **dict(values, count=n))
            assert "{" not in text and "None" not in text, (key, n, text)
            if isinstance(entry, dict):  # the form of n's category (or "other") is the one used
                form = entry.get(l10n.plural_category(lang, n)) or entry["other"]
                assert text == form.format(**{f: html.escape(str(v), quote=False) for f, v in dict(
                    values, count=l10n.number(lang, n)).items() if f in fields(form)}), (key, n, text)
    assert not single, f"{lang}: count strings without plural forms: {single}"


def test_english_says_one_country_not_one_countries():
    assert TRANSLATOR.t("en", "ms.n.countries", count=1) == "1 country"
    assert TRANSLATOR.t("ru", "ms.n.countries", count=21) == "21 страна"
    assert TRANSLATOR.t("ru", "ms.n.countries", count=5) == "5 стран"
    assert TRANSLATOR.t("ar", "ms.n.countries", count=2) == "بلدين"
    assert TRANSLATOR.t("fr", "ev.cancelled", id="x", count=1).endswith("1 avis est en cours d'envoi.")
