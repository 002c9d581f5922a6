"""Start-up: the data files' verdict kept per fingerprint, so ``run`` and ``check`` do not
validate unchanged files again.

Validating every data file (``bot.datafiles``) parses all the YAML with line numbers and
checks each plural form against CLDR: most of a second, on every start. Its outcome
depends only on the files and on the code that judges them, so a clean verdict (the
counts ``check`` prints) is kept in the cache directory beside the database
(``.ldn-cache/checked-<fingerprint>.json``, see :mod:`storage.search_index`), keyed by

* every data file (YAML, Markdown, Python) under the knowledge directory and under the package's own ``knowledge/``
  (the validators fall back on its calendar and country names),
* the source of the validating code (``knowledge/*.py``, ``bot/datafiles.py``,
  ``bot/i18n.py``, ``bot/l10n.py``) and the versions of Python, PyYAML and Babel.

Any change to any of them validates everything again; a verdict with problems is never
kept, so broken files are reported on every run. Deleting the cache costs one validation.
"""
from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import babel
import yaml

import knowledge
from storage import search_index as derived

KIND = "checked"
_BOT_SOURCES = ("datafiles.py", "i18n.py", "l10n.py")


SUFFIXES = (".yaml", ".yml", ".md", ".py")  # data files, their notes, the validating code: not a database kept there


def _files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.suffix in SUFFIXES and p.is_file()
                  and not any(part.startswith(".") or part == "__pycache__" for part in p.relative_to(folder).parts))


def fingerprint(knowledge_dir: Path | str) -> str:
    """The digest of everything the data files' verdict depends on (see the module's text)."""
    digest = hashlib.sha256(f"{sys.version}\0{yaml.__version__}\0{babel.__version__}\0".encode())
    package = Path(knowledge.__file__).resolve().parent
    folders = [Path(knowledge_dir).resolve()]
    if package not in folders:
        folders.append(package)
    bot_dir = Path(__file__).resolve().parent
    for folder in folders:
        for path in _files(folder):
            digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes() + b"\0")
        digest.update(b"\1")
    for name in _BOT_SOURCES:
        digest.update(name.encode() + b"\0" + (bot_dir / name).read_bytes() + b"\0")
    return digest.hexdigest()


def checked_counts(db_path: str, key: str) -> dict[str, int] | None:
    """The counts of a clean verdict kept for ``key`` (a :func:`fingerprint`), or None."""
    saved = derived.load_cached_beside(db_path, KIND, key)
    if saved is None:
        return None
    try:
        counts = json.loads(saved)
    except ValueError:  # a damaged cache file: validate again
        return None
    if not isinstance(counts, dict) or not all(isinstance(v, int) for v in counts.values()):
        return None
    return {str(k): v for k, v in counts.items()}


def remember(db_path: str, key: str, counts: dict[str, int]) -> None:
    """Keep a clean verdict (never one with problems)."""
    derived.save_cached_beside(db_path, KIND, key, json.dumps(counts).encode())
