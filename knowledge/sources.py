"""The "Source:" line of an FAQ answer in the reader's language.

An entry's ``source`` is written once, in English, in the FAQ files. :func:`localise_source`
renders it in one of the six languages: UN document symbols in their official language forms
(decision 15/COP.12 is "15/م أ-12" in Arabic and "第15/COP.12号决定" in Chinese; ICCD/CRIC(15)/2
is the same symbol everywhere), paragraph and annex references, and the titles of the public
guidance from the ``sources`` table of ``knowledge/glossary.yaml``. Parenthetical details that
have no translation (section names of a manual, for instance) are left out of the translated
line rather than shown in English. :func:`untranslated` lists what would still be English, so
a test can keep every source of the FAQ fully translated.
"""
from __future__ import annotations

import functools
import re
from pathlib import Path

import yaml

from knowledge.vocabulary import LANGS

GLOSSARY_FILE = Path(__file__).resolve().parent / "glossary.yaml"

DECISION_WORD = {
    "fr": ("Décision", "Décisions"), "es": ("Decisión", "Decisiones"), "ru": ("Решение", "Решения"),
    "ar": ("المقرر", "المقررات"), "zh": ("", ""),
}
PARA_WORD = {"fr": ("par.", "par."), "es": ("párr.", "párrs."), "ru": ("п.", "пп."), "ar": ("الفقرة", "الفقرات")}
AND_WORD = {"fr": " et ", "es": " y ", "ru": " и ", "ar": " و", "zh": "和"}
ANNEX_WORD = {"fr": "annexe", "es": "anexo", "ru": "приложение", "ar": "المرفق", "zh": "附件"}
ROMAN_AR = {"I": "الأول", "II": "الثاني", "III": "الثالث", "IV": "الرابع", "V": "الخامس"}
ROMAN_ZH = {"I": "一", "II": "二", "III": "三", "IV": "四", "V": "五"}
FOOTNOTE_WORD = {"fr": "note", "es": "nota", "ru": "сноска", "ar": "الحاشية", "zh": "脚注"}
SUMMARY_WORD = {"fr": "résumé", "es": "resumen", "ru": "резюме", "ar": "الموجز", "zh": "内容提要"}
COMMA = {"zh": "，", "ar": "، "}

_SYMBOL = r"\d+/COP\.\d+"
_DECISIONS = re.compile(rf"\b[Dd]ecisions?\s+({_SYMBOL}(?:(?:,\s*|\s+and\s+){_SYMBOL})*)")
_PARAS = re.compile(r"\bparas?\.?\s+(\d[\w()\-–]*(?:(?:,\s*|\s+and\s+)\d[\w()\-–]*)*)")
_ANNEX = re.compile(r"\bannex\s+(I{1,3}|IV|V)\b")
_FOOTNOTE = re.compile(r"\bfootnote\s+(\d+)")
# Words that are the same in every language: symbols, acronyms, product and organisation names.
_KEEP = re.compile(r"\S*[./_]\S*|\b[A-Z0-9][A-Za-z0-9\-]*[A-Z0-9]\b|\b(?:Trends\.Earth|SoilGrids|Mirova|Ordos|Nairobi)\b")


@functools.lru_cache(maxsize=1)
def _phrases() -> list[dict[str, str]]:
    data = yaml.safe_load(GLOSSARY_FILE.read_text(encoding="utf-8")) or {}
    table = data.get("sources") or []
    return sorted(table, key=lambda row: -len(row["en"]))


def _symbol(symbol: str, lang: str) -> str:
    number, body = symbol.split("/", 1)
    session = body.split(".", 1)[1]
    if lang == "ar":
        return f"{number}/م أ-{session}"
    if lang == "zh":
        return f"第{symbol}号决定"
    return symbol


def _decisions(match: re.Match, lang: str) -> str:
    symbols = re.findall(_SYMBOL, match.group(1))
    forms = [_symbol(s, lang) for s in symbols]
    if lang == "zh":
        return "、".join(forms)
    singular, plural = DECISION_WORD[lang]
    word = singular if len(forms) == 1 else plural
    if match.start() > 0:  # mid-sentence: "décision", "decisión", "решение"
        word = word[:1].lower() + word[1:]
    joined = forms[0] if len(forms) == 1 else ", ".join(forms[:-1]) + AND_WORD[lang] + forms[-1]
    return f"{word} {joined}"


def _paras(match: re.Match, lang: str) -> str:
    refs = re.split(r",\s*|\s+and\s+", match.group(1))
    if lang == "zh":
        return "第" + "、".join(refs) + "段"
    singular, plural = PARA_WORD[lang]
    joined = refs[0] if len(refs) == 1 else ", ".join(refs[:-1]) + AND_WORD[lang] + refs[-1]
    return f"{singular if len(refs) == 1 else plural} {joined}"


def _annex(match: re.Match, lang: str) -> str:
    roman = match.group(1)
    if lang == "ar":
        return f"المرفق {ROMAN_AR[roman]}"
    if lang == "zh":
        return f"附件{ROMAN_ZH[roman]}"
    return f"{ANNEX_WORD[lang]} {roman}"


def _segments(source: str) -> list[str]:
    """Split on ';' outside parentheses."""
    parts, depth, current = [], 0, ""
    for char in source:
        depth += char == "("
        depth -= char == ")"
        if char == ";" and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    parts.append(current.strip())
    return [p for p in parts if p]


def _words(text: str) -> set[str]:
    return set(re.findall(r"[A-Za-z]{2,}", _KEEP.sub(" ", text)))


@functools.lru_cache(maxsize=8)
def _native(lang: str) -> frozenset[str]:
    """Latin-script words that belong to ``lang``'s own renderings (French "version", ...)."""
    words: set[str] = set()
    for row in _phrases():
        words |= _words(row.get(lang) or "")
    for table in (DECISION_WORD, PARA_WORD, AND_WORD, ANNEX_WORD, FOOTNOTE_WORD, SUMMARY_WORD):
        words |= _words(" ".join(map(str, table.get(lang, ""))))
    return frozenset(words)


def _english_words(text: str, original: str, lang: str) -> list[str]:
    """Words of ``text`` taken over from the English ``original`` and not native to ``lang``."""
    english = _words(original) - _native(lang)
    return sorted(w for w in _words(text) if w in english)


def _localise_segment(segment: str, lang: str) -> str:
    text = segment
    for row in _phrases():
        if row["en"] in text and row.get(lang):
            text = text.replace(row["en"], row[lang])
    text = _DECISIONS.sub(lambda m: _decisions(m, lang), text)
    text = _PARAS.sub(lambda m: _paras(m, lang), text)
    text = _ANNEX.sub(lambda m: _annex(m, lang), text)
    text = _FOOTNOTE.sub(lambda m: f"{FOOTNOTE_WORD[lang]}{'' if lang == 'zh' else ' '}{m.group(1)}", text)
    text = re.sub(r"\bsummary\b", SUMMARY_WORD[lang], text)
    text = re.sub(r"\s+and\s+", AND_WORD[lang], text)
    # parentheses still holding English words are dropped rather than shown untranslated
    text = re.sub(r"\s*\(([^()]*)\)", lambda m: "" if _english_words(m.group(1), segment, lang) else m.group(0), text)
    if lang in COMMA:
        text = text.replace(", ", COMMA[lang])
    if lang == "zh":
        # full-width brackets after Chinese text; symbols such as ICCD/CRIC(15)/2 keep theirs
        text = re.sub(r"(?<=[\u4e00-\u9fff》）]) ?\(([^()]*)\)", r"（\1）", text).replace("; ", "；")
    elif lang == "ar":
        text = text.replace("; ", "؛ ")
    return text.strip()


def localise_source(source: str, lang: str | None) -> str:
    """``source`` (English, as in the FAQ files) as shown to a reader of ``lang``."""
    if not source or lang not in LANGS or lang == "en":
        return source
    separator = "；" if lang == "zh" else "؛ " if lang == "ar" else "; "
    return separator.join(_localise_segment(segment, lang) for segment in _segments(source))


def untranslated(source: str, lang: str) -> list[str]:
    """English words left in the localised source (empty when it is fully translated)."""
    if lang == "en":
        return []
    return _english_words(localise_source(source, lang), source, lang)
