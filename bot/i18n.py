"""The translation layer: every user-visible string, in en fr es ru ar zh.

Strings live in ``knowledge/strings/*.yaml`` (one file per feature) as::

    start.welcome:
      en: "Welcome, {name}!"
      fr: "Bienvenue, {name} !"
      ...

Messages are sent with Telegram's HTML parse mode, so :meth:`Translator.t` escapes
every argument unless it is wrapped in :class:`Raw` (already-safe HTML).
"""
from __future__ import annotations

import html
import string
from pathlib import Path
from typing import Any

from knowledge.vocabulary import LANG_NAMES, LANGS
from knowledge.yamlfile import DataError, Node, Problem, load_file

STRINGS_DIR = Path(__file__).resolve().parent.parent / "knowledge" / "strings"


class Raw(str):
    """Text that is already safe HTML and must not be escaped again."""


def normalise_lang(code: str | None, default: str = "en") -> str:
    """Telegram's ``language_code`` (``pt-br``, ``zh-hans``, ``ar``) to one of LANGS."""
    if not code:
        return default
    base = code.lower().replace("_", "-").split("-")[0]
    return base if base in LANGS else default


class Translator:
    def __init__(self, strings: dict[str, dict[str, str]]):
        self.strings = strings

    def t(self, lang: str, key: str, /, **kwargs: Any) -> str:
        """The string ``key`` in ``lang`` (falling back to English), with escaped arguments."""
        entry = self.strings.get(key)
        if entry is None:
            raise KeyError(f"missing translation key {key!r}")
        text = entry.get(lang) or entry["en"]
        if not kwargs:
            return text
        safe = {k: (v if isinstance(v, Raw) else html.escape(str(v), quote=False)) for k, v in kwargs.items()}
        return text.format(**safe)

    def __contains__(self, key: str) -> bool:
        return key in self.strings


def load_strings(directory: Path = STRINGS_DIR) -> dict[str, dict[str, str]]:
    """Merge every strings file; a missing language or bad placeholder is a DataError."""
    problems: list[Problem] = []
    merged: dict[str, dict[str, str]] = {}
    files = sorted(Path(directory).glob("*.yaml"))
    for path in files:
        try:
            data = load_file(path) or {}
        except DataError as exc:
            problems.extend(exc.problems)
            continue
        if not isinstance(data, dict):
            problems.append(Problem(str(path), 1, "a strings file is a mapping of keys to languages"))
            continue
        for key, entry in data.items():
            line = data.line_of(key) if isinstance(data, Node) else 1
            if key in merged:
                problems.append(Problem(str(path), line, f"duplicate string key {key!r}"))
                continue
            if not isinstance(entry, dict):
                problems.append(Problem(str(path), line, f"{key}: expected a mapping of languages"))
                continue
            missing = [lang for lang in LANGS if not isinstance(entry.get(lang), str) or not entry.get(lang).strip()]
            if missing:
                problems.append(Problem(str(path), line, f"{key}: missing language(s) {', '.join(missing)}"))
                continue
            fields = {lang: _placeholders(entry[lang]) for lang in LANGS}
            for lang in LANGS:
                if fields[lang] is None:
                    problems.append(Problem(str(path), line, f"{key}.{lang}: malformed {{placeholder}}"))
                elif fields[lang] != fields["en"]:
                    problems.append(Problem(str(path), line, f"{key}.{lang}: placeholders {sorted(fields[lang])} differ from en {sorted(fields['en'] or [])}"))
            merged[key] = {lang: entry[lang] for lang in LANGS}
    if problems:
        raise DataError(problems)
    return merged


def _placeholders(text: str) -> set[str] | None:
    try:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}
    except ValueError:
        return None


def load_translator(directory: Path = STRINGS_DIR) -> Translator:
    return Translator(load_strings(directory))
