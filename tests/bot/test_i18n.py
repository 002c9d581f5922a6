"""The translation layer: every key in all six languages, HTML that Telegram accepts."""
from __future__ import annotations

from html.parser import HTMLParser

import pytest

from bot.i18n import LANGS, load_strings, load_translator, normalise_lang
from knowledge.yamlfile import DataError

ALLOWED_TAGS = {"b", "i", "code", "pre", "a", "u", "s", "blockquote", "tg-spoiler"}


class _TagChecker(HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack, self.errors = [], []

    def handle_starttag(self, tag, attrs):
        if tag not in ALLOWED_TAGS:
            self.errors.append(f"tag <{tag}> not allowed")
        self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack.pop() != tag:
            self.errors.append(f"unbalanced </{tag}>")


def test_every_key_has_all_six_languages_and_valid_html():
    strings = load_strings()
    assert len(strings) > 50
    for key, entry in strings.items():
        assert set(entry) == set(LANGS), key
        texts = [(lang, form) for lang, value in entry.items()
                 for form in (value.values() if isinstance(value, dict) else [value])]
        for lang, text in texts:
            sample = text.replace("{", "").replace("}", "")
            checker = _TagChecker()
            checker.feed(sample)
            checker.close()
            assert not checker.errors and not checker.stack, (key, lang, checker.errors)
            # a bare "<" or "&" that is not an entity or tag would be rejected by Telegram
            assert "< " not in text and " & " not in text, (key, lang)


def test_a_missing_language_fails_loudly(tmp_path):
    (tmp_path / "x.yaml").write_text("hello:\n  en: Hi\n  fr: Salut\n")
    with pytest.raises(DataError) as info:
        load_strings(tmp_path)
    assert "missing language(s) es, ru, ar, zh" in str(info.value)
    assert str(info.value).startswith(f"{tmp_path / 'x.yaml'}:1:")


def test_placeholders_must_match_english(tmp_path):
    (tmp_path / "x.yaml").write_text(
        "hi:\n" + "".join(f"  {lang}: 'Hi {{name}}'\n" for lang in LANGS if lang != "ru") + "  ru: 'Привет {nom}'\n")
    with pytest.raises(DataError):
        load_strings(tmp_path)


def test_arguments_are_escaped_and_arabic_stays_intact():
    tr = load_translator()
    text = tr.t("ar", "invite.unknown_country", code="<b>&")
    assert "&lt;b&gt;&amp;" in text and "رمز البلد" in text


@pytest.mark.parametrize("code,expected", [("fr-CA", "fr"), ("zh-hans", "zh"), ("ar", "ar"), ("pt-br", "en"), (None, "en"), ("RU", "ru")])
def test_telegram_language_codes(code, expected):
    assert normalise_lang(code) == expected
