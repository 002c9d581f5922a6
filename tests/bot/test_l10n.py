"""Dates, durations and plural forms in the six languages follow CLDR (Babel)."""
from __future__ import annotations

import datetime as dt

import pytest

from bot import l10n
from bot.i18n import Translator, load_strings
from knowledge.vocabulary import LANGS
from knowledge.yamlfile import DataError


def test_every_language_has_a_locale():
    l10n.check_languages()
    assert set(l10n.LOCALES) == set(LANGS)


@pytest.mark.parametrize("lang, expected", [("en", "31 March 2018"), ("fr", "31 mars 2018"), ("es", "31 de marzo de 2018"),
                                            ("ru", "31 марта 2018\u202fг."), ("ar", "31 مارس 2018"), ("zh", "2018年3月31日")])
def test_the_reporting_deadline_reads_naturally(lang, expected):
    assert l10n.date(lang, dt.date(2018, 3, 31)) == expected


@pytest.mark.parametrize("lang, expected", [("en", "10 years"), ("fr", "10 ans"), ("ru", "10 лет"), ("zh", "10年")])
def test_a_long_overdue_step_reads_in_years_not_days(lang, expected):
    assert l10n.duration(lang, dt.timedelta(days=3684)) == expected


def test_relative_times_have_a_direction():
    assert l10n.relative("en", dt.timedelta(days=3)) == "in 3 days"
    assert l10n.relative("en", -dt.timedelta(days=3)) == "3 days ago"
    assert l10n.relative("ru", dt.timedelta(days=3)) == "через 3 дня"
    assert l10n.relative("fr", -dt.timedelta(hours=2)) == "il y a 2 heures"


@pytest.mark.parametrize("lang, n, category", [("en", 1, "one"), ("en", 2, "other"), ("ru", 1, "one"), ("ru", 3, "few"),
                                               ("ru", 5, "many"), ("ru", 21, "one"), ("ar", 0, "zero"), ("ar", 2, "two"),
                                               ("ar", 3, "few"), ("ar", 11, "many"), ("zh", 1, "other")])
def test_plural_categories_follow_cldr(lang, n, category):
    assert l10n.plural_category(lang, n) == category


def test_a_string_with_plural_forms_is_chosen_by_count(tmp_path):
    (tmp_path / "s.yaml").write_text("""
x.records:
  en: {one: "{count} record", other: "{count} records"}
  fr: {one: "{count} enregistrement", many: "{count} d'enregistrements", other: "{count} enregistrements"}
  es: {one: "{count} registro", other: "{count} registros"}
  ru: {one: "{count} запись", few: "{count} записи", many: "{count} записей", other: "{count} записи"}
  ar: {zero: "لا سجلات", one: "سجل واحد", two: "سجلان", few: "{count} سجلات", many: "{count} سجلًا", other: "{count} سجل"}
  zh: {other: "{count} 条记录"}
""", encoding="utf-8")
    i18n = Translator(load_strings(tmp_path))
    assert i18n.t("en", "x.records", count=1) == "1 record"
    assert i18n.t("en", "x.records", count=1200) == "1,200 records"
    assert [i18n.t("ru", "x.records", count=n) for n in (1, 2, 5)] == ["1 запись", "2 записи", "5 записей"]
    assert i18n.t("ar", "x.records", count=2) == "سجلان"
    with pytest.raises(KeyError):
        i18n.t("en", "x.records")


def test_missing_plural_forms_are_refused_when_the_strings_load(tmp_path):
    (tmp_path / "s.yaml").write_text("""
x.records:
  en: {one: "{count} record", other: "{count} records"}
  fr: {one: "{count} enregistrement", other: "{count} enregistrements"}
  es: {one: "{count} registro", other: "{count} registros"}
  ru: {one: "{count} запись", other: "{count} записей"}
  ar: {other: "{count} سجل"}
  zh: {other: "{count} 条记录"}
""", encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_strings(tmp_path)
    text = str(info.value)
    assert "x.records.ru: plural forms ['few', 'many'] missing" in text
    assert "x.records.ar" in text


def test_the_real_strings_load_with_their_plural_forms():
    strings = load_strings()
    plural = {key for key, entry in strings.items() if isinstance(entry["ru"], dict)}
    assert "forget.done" in plural
    for key in plural:  # every language has its CLDR forms: "other" always, Russian "few" and "many"
        assert all("other" in strings[key][lang] for lang in LANGS), key
        assert {"one", "few", "many"} <= set(strings[key]["ru"]), key
    i18n = Translator(strings)
    assert "изменены 3 записи" in i18n.t("ru", "forget.done", count=3)
    assert "изменено 5 записей" in i18n.t("ru", "forget.done", count=5)
