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

import functools
import html
import string
from pathlib import Path
from typing import Any

from bot import l10n
from knowledge.vocabulary import LANG_NAMES, LANGS  # noqa: F401 - LANG_NAMES is re-exported to handlers
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
        """The string ``key`` in ``lang`` (falling back to English), with escaped arguments.

        A string with plural forms (a mapping of CLDR categories to texts, see
        :func:`load_strings`) is chosen by its ``count`` argument with the language's rules.
        """
        entry = self.strings.get(key)
        if entry is None:
            raise KeyError(f"missing translation key {key!r}")
        text = entry.get(lang) or entry["en"]
        if isinstance(text, dict):
            if "count" not in kwargs:
                raise KeyError(f"{key!r} has plural forms: pass count=")
            forms = text
            text = forms.get(l10n.plural_category(lang, kwargs["count"])) or forms["other"]
            kwargs = dict(kwargs, count=kwargs["count"] if isinstance(kwargs["count"], Raw)
                          else l10n.number(lang, kwargs["count"]))
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
            missing = [lang for lang in LANGS if not _present(entry.get(lang))]
            if missing:
                problems.append(Problem(str(path), line, f"{key}: missing language(s) {', '.join(missing)}"))
                continue
            plural_problems = [_plural_problem(key, lang, entry[lang]) for lang in LANGS if isinstance(entry[lang], dict)]
            if any(plural_problems):
                problems.extend(Problem(str(path), line, p) for p in plural_problems if p)
                continue
            fields = {lang: _placeholders(entry[lang]) for lang in LANGS}
            for lang in LANGS:
                if fields[lang] is None:
                    problems.append(Problem(str(path), line, f"{key}.{lang}: malformed {{placeholder}}"))
                elif fields[lang] != fields["en"]:
                    problems.append(Problem(str(path), line, f"{key}.{lang}: placeholders {sorted(fields[lang] or [])} differ from en {sorted(fields['en'] or [])}"))
            merged[key] = {lang: (dict(entry[lang]) if isinstance(entry[lang], dict) else entry[lang]) for lang in LANGS}  # type: ignore[misc]  # plural forms are a dict
    if problems:
        raise DataError(problems)
    return merged


def _present(value: Any) -> bool:
    if isinstance(value, dict):
        return bool(value) and all(isinstance(v, str) and v.strip() for v in value.values())
    return isinstance(value, str) and bool(value.strip())


@functools.cache  # start-up: 1,001 rule evaluations per language, not per plural string
def _integer_categories(lang: str) -> frozenset[str]:
    """The plural categories whole numbers take in ``lang`` (what a count can need)."""
    return frozenset(l10n.plural_category(lang, n) for n in range(0, 1001))


def _plural_problem(key: str, lang: str, forms: dict) -> str | None:
    """Plural forms: CLDR category -> text; ``other`` and every category whole numbers need
    in that language (Russian one/few/many, Arabic zero/one/two/few/many) must be there."""
    unknown = set(forms) - set(l10n.PLURAL_CATEGORIES)
    if unknown:
        return f"{key}.{lang}: unknown plural categories {sorted(unknown)}"
    needed = _integer_categories(lang) | {"other"}
    if not needed <= set(forms):
        return f"{key}.{lang}: plural forms {sorted(needed - set(forms))} missing"
    return None


def _placeholders(text: str | dict) -> set[str] | None:
    if isinstance(text, dict):
        found = [_placeholders(v) for v in text.values()]
        known = [f for f in found if f is not None]
        if len(known) < len(found):
            return None
        return set().union(*known) | {"count"}
    try:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}
    except ValueError:
        return None


def load_translator(directory: Path = STRINGS_DIR) -> Translator:
    return Translator(load_strings(directory))
