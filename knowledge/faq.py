"""The FAQ: entries read from ``knowledge/faq/*.yaml`` and checked before anything is served.

Every entry exists in the six UN languages (see ``knowledge/faq/README.md``). Loading
is all-or-nothing: :func:`load_faq_dir` either returns every entry of every file or
raises :class:`~knowledge.yamlfile.DataError` listing *all* problems as
``file:line: message``, so the secretariat fixes a batch of mistakes in one go and a
broken file can never replace the knowledge the bot is serving.

Putting the entries in the database is :func:`bot.search.load_knowledge`'s job (this
module is a leaf: it imports nothing of ``storage``, ``bot`` or ``handlers``).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, TypeGuard

from knowledge.yamlfile import DataError, Problem, line_of, top_level_list
from knowledge.vocabulary import LANGS

"""The six UN languages, English first: the fallback for anything missing."""

KNOWLEDGE_DIR = Path(__file__).resolve().parent
DEFAULT_FAQ_DIR = KNOWLEDGE_DIR / "faq"
DEFAULT_TOPICS_FILE = KNOWLEDGE_DIR / "topics.yaml"

MAX_ANSWER_CHARS = 1200
MIN_ALTS = 3
ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
TOPIC_RE = re.compile(r"^[a-z0-9]+(?:_[a-z0-9]+)*$")
# The bot escapes answers, so markup would be shown literally to the user.
_HTML_RE = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]*)?/?>")
_MARKDOWN_RE = re.compile(r"\*\*[^*\n]+\*\*|__[^_\n]+__|\[[^\]\n]+\]\([^)\n]+\)|`[^`\n]+`")

ENTRY_KEYS = {"id", "topic", "source", "note", *LANGS}
TEXT_KEYS = {"q", "alt", "a"}


@dataclass(frozen=True)
class FaqText:
    """One entry in one language: the canonical question, other phrasings, the answer."""

    q: str
    alt: tuple[str, ...]
    a: str

    def questions(self) -> tuple[str, ...]:
        """The question followed by its alternative phrasings."""
        return (self.q, *self.alt)


@dataclass(frozen=True)
class FaqEntry:
    """One question-and-answer of the guidance, in every language it exists in.

    ``origin`` is ``"yaml"`` for entries of the FAQ files and ``"promoted"`` for
    helpdesk answers the secretariat approved (those may exist in fewer languages).
    """

    id: str
    topic: str
    source: str
    note: str | None
    texts: dict[str, FaqText]
    origin: str = "yaml"
    file: str | None = field(default=None, compare=False, repr=False)
    line: int = field(default=0, compare=False, repr=False)

    def text(self, lang: str | None = "en") -> FaqText:
        """The text in ``lang``, else English, else whichever language exists."""
        if lang in self.texts:
            return self.texts[lang]
        if "en" in self.texts:
            return self.texts["en"]
        for code in LANGS:
            if code in self.texts:
                return self.texts[code]
        return next(iter(self.texts.values()))

    @property
    def langs(self) -> tuple[str, ...]:
        return tuple(code for code in LANGS if code in self.texts)


# -- topics --------------------------------------------------------------------------


def load_topics(path: str | Path | None = None) -> dict[str, dict[str, str]]:
    """Topic id -> name per language, in file order, from ``knowledge/topics.yaml``.

    Returns ``{}`` when the file does not exist yet (then topics are not checked).
    Raises :class:`DataError` for a malformed file.
    """
    path = Path(path) if path is not None else DEFAULT_TOPICS_FILE
    if not path.exists():
        return {}
    items = top_level_list(path, "topics")
    name = str(path)
    problems: list[Problem] = []
    topics: dict[str, dict[str, str]] = {}
    for item in items:
        line = line_of(item)
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            problems.append(Problem(name, line, "a topic needs an 'id'"))
            continue
        topic_id = item["id"]
        if topic_id in topics:
            problems.append(Problem(name, line, f"duplicate topic id {topic_id!r}"))
        names = item.get("name")
        if not isinstance(names, dict):
            problems.append(Problem(name, line_of(item, "name"), f"topic {topic_id!r} needs 'name' per language"))
            names = {}
        topics[topic_id] = {str(k): str(v) for k, v in names.items()}
    if problems:
        raise DataError(problems)
    return topics


# -- FAQ files ------------------------------------------------------------------------


def _is_text(value: Any) -> TypeGuard[str]:
    return isinstance(value, str) and value.strip() != ""


def _check_plain(text: str, file: str, line: int, where: str, problems: list[Problem]) -> None:
    if _HTML_RE.search(text):
        problems.append(Problem(file, line, f"{where}: HTML tags are not allowed (plain text only)"))
    if _MARKDOWN_RE.search(text):
        problems.append(Problem(file, line, f"{where}: Markdown is not allowed (plain text only)"))


def _parse_text(raw: Any, file: str, line: int, where: str, problems: list[Problem]) -> FaqText | None:
    """Validate one language block ``{q, alt, a}``; record problems, return None if unusable."""
    if not isinstance(raw, dict):
        problems.append(Problem(file, line, f"{where}: expected a mapping with q, alt and a"))
        return None
    start = len(problems)
    for key in raw:
        if key not in TEXT_KEYS:
            problems.append(Problem(file, line_of(raw, key, line), f"{where}: unknown key {key!r} (expected q, alt, a)"))
    q = raw.get("q")
    if not _is_text(q):
        problems.append(Problem(file, line_of(raw, "q", line), f"{where}.q: a non-empty question is required"))
    else:
        _check_plain(q, file, line_of(raw, "q", line), f"{where}.q", problems)
    alt = raw.get("alt")
    alts: list[str] = []
    if not isinstance(alt, list):
        problems.append(Problem(file, line_of(raw, "alt", line), f"{where}.alt: a list of at least {MIN_ALTS} phrasings is required"))
    else:
        for i, item in enumerate(alt):
            if not _is_text(item):
                problems.append(Problem(file, line_of(raw, "alt", line), f"{where}.alt[{i}]: must be non-empty text"))
            else:
                alts.append(item.strip())
        if len(alts) < MIN_ALTS:
            problems.append(Problem(file, line_of(raw, "alt", line), f"{where}.alt: {len(alts)} phrasing(s), at least {MIN_ALTS} required"))
    a = raw.get("a")
    if not _is_text(a):
        problems.append(Problem(file, line_of(raw, "a", line), f"{where}.a: a non-empty answer is required"))
    else:
        a_line = line_of(raw, "a", line)
        length = len(a.strip())
        if length > MAX_ANSWER_CHARS:
            problems.append(Problem(file, a_line, f"{where}.a: answer is {length} characters, at most {MAX_ANSWER_CHARS} allowed"))
        _check_plain(a, file, a_line, f"{where}.a", problems)
    if len(problems) > start or not _is_text(q) or not _is_text(a):
        return None
    return FaqText(q=q.strip(), alt=tuple(alts), a=a.strip())


def parse_entry(raw: Any, file: str, problems: list[Problem], topics: dict | None = None) -> FaqEntry | None:
    """Validate one entry mapping; record every problem and return None if it is unusable."""
    line = line_of(raw)
    if not isinstance(raw, dict):
        problems.append(Problem(file, line, "an entry must be a mapping (id, topic, source, en, fr, ...)"))
        return None
    start = len(problems)
    entry_id = raw.get("id")
    label = f"entry {entry_id!r}" if isinstance(entry_id, str) else "entry"
    if not isinstance(entry_id, str) or not ID_RE.match(entry_id):
        problems.append(Problem(file, line_of(raw, "id", line), f"{label}: 'id' must be kebab-case text like 'ldn-definition'"))
    for key in raw:
        if key not in ENTRY_KEYS:
            problems.append(Problem(file, line_of(raw, key, line), f"{label}: unknown key {key!r}"))
    topic = raw.get("topic")
    if not isinstance(topic, str) or not topic.strip():
        problems.append(Problem(file, line_of(raw, "topic", line), f"{label}: 'topic' is required"))
    elif topics and topic not in topics:
        problems.append(Problem(file, line_of(raw, "topic", line), f"{label}: unknown topic {topic!r} (see knowledge/topics.yaml)"))
    source = raw.get("source")
    if not _is_text(source):
        problems.append(Problem(file, line_of(raw, "source", line), f"{label}: 'source' is required"))
    note = raw.get("note")
    if note is not None and not isinstance(note, str):
        problems.append(Problem(file, line_of(raw, "note", line), f"{label}: 'note' must be text"))
    texts: dict[str, FaqText] = {}
    for lang in LANGS:
        if lang not in raw:
            problems.append(Problem(file, line, f"{label}: language {lang!r} is missing"))
            continue
        text = _parse_text(raw[lang], file, line_of(raw, lang, line), f"{label}.{lang}", problems)
        if text is not None:
            texts[lang] = text
    if len(problems) > start or not isinstance(entry_id, str) or not isinstance(topic, str) or not _is_text(source):
        return None
    return FaqEntry(
        id=entry_id,
        topic=topic.strip(),
        source=source.strip(),
        note=note.strip() if isinstance(note, str) and note.strip() else None,
        texts=texts,
        file=file,
        line=line,
    )


def faq_files(path: str | Path | None = None) -> list[Path]:
    """The ``*.yaml`` files of the FAQ directory, sorted by name."""
    path = Path(path) if path is not None else DEFAULT_FAQ_DIR
    return sorted(p for p in path.glob("*.yaml") if p.is_file())


def load_faq_dir(
    path: str | Path | None = None,
    topics: dict[str, Any] | None = None,
    topics_path: str | Path | None = None,
) -> list[FaqEntry]:
    """Read and validate every FAQ file; return the entries in file order.

    ``topics`` (ids to check against) defaults to :func:`load_topics` of
    ``topics_path``, itself defaulting to ``topics.yaml`` next to the FAQ directory;
    when no topics file exists, any topic id is accepted. A directory without YAML
    files gives ``[]``. Raises :class:`DataError` carrying every problem of every
    file, duplicate ids across files included.
    """
    path = Path(path) if path is not None else DEFAULT_FAQ_DIR
    if not path.is_dir():
        raise DataError([Problem(str(path), 0, "FAQ directory not found")])
    problems: list[Problem] = []
    if topics is None:
        try:
            topics = load_topics(topics_path if topics_path is not None else path.parent / "topics.yaml")
        except DataError as exc:
            problems.extend(exc.problems)
            topics = {}
    files = faq_files(path)
    entries: list[FaqEntry] = []
    seen: dict[str, tuple[str, int]] = {}
    for file in files:
        name = str(file)
        try:
            raw_entries = top_level_list(file, "entries")
        except DataError as exc:
            problems.extend(exc.problems)
            continue
        for raw in raw_entries:
            entry = parse_entry(raw, name, problems, topics)
            raw_id = raw.get("id") if isinstance(raw, dict) else None
            if isinstance(raw_id, str):
                if raw_id in seen:
                    first_file, first_line = seen[raw_id]
                    problems.append(
                        Problem(name, line_of(raw), f"duplicate id {raw_id!r} (first defined at {first_file}:{first_line})")
                    )
                    continue
                seen[raw_id] = (name, line_of(raw))
            if entry is not None:
                entries.append(entry)
    if problems:
        raise DataError(problems)
    return entries


def entries_by_id(entries: Iterable[FaqEntry]) -> dict[str, FaqEntry]:
    return {entry.id: entry for entry in entries}


PARSED_FORMAT = 1
"""Version of :func:`entries_to_json`'s layout and of the checks the entries passed."""


def entries_to_json(entries: Iterable[FaqEntry]) -> bytes:
    """Validated entries as JSON (a cache of parsed files: :func:`entries_from_json` reads it)."""
    return json.dumps({"format": PARSED_FORMAT, "entries": [
        {"id": e.id, "topic": e.topic, "source": e.source, "note": e.note, "origin": e.origin, "file": e.file,
         "line": e.line, "texts": {lang: [t.q, list(t.alt), t.a] for lang, t in e.texts.items()}}
        for e in entries]}, ensure_ascii=False).encode()


def entries_from_json(data: bytes) -> list[FaqEntry] | None:
    """The entries saved by :func:`entries_to_json`, or None if saved in another format."""
    try:
        raw = json.loads(data)
    except ValueError:
        return None
    if not isinstance(raw, dict) or raw.get("format") != PARSED_FORMAT:
        return None
    return [FaqEntry(id=e["id"], topic=e["topic"], source=e["source"], note=e["note"], origin=e["origin"],
                     file=e["file"], line=e["line"],
                     texts={lang: FaqText(q, tuple(alt), a) for lang, (q, alt, a) in e["texts"].items()})
            for e in raw["entries"]]
