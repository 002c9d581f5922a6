"""Load YAML data files so that every problem can be reported as ``file:line: what is wrong``.

Mappings come back as :class:`Node` dicts that remember the line of each key, so
validators further down can point at the exact line of a bad value.
"""
from __future__ import annotations

import hashlib
import os
import pickle
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a data file."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class DataError(Exception):
    """Raised when data files are invalid; carries every problem found, not just the first."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class Node(dict):
    """A YAML mapping that knows the line (1-based) where it and each of its keys start."""

    line: int = 0
    key_lines: dict

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


# libyaml's parser when available (about 10x faster on the FAQ files), pure Python otherwise.
_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):  # type: ignore[valid-type, misc]  # the base is chosen at run time
    pass


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> Node:
    loader.flatten_mapping(node)
    result = Node()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, "unhashable key", key_node.start_mark
            ) from None
        if key in result:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_text(text: str, filename: str = "<string>") -> Any:
    """Parse YAML text; a syntax error becomes a :class:`DataError` with its line."""
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        what = exc.problem or exc.context or "invalid YAML"
        raise DataError([Problem(filename, line, f"invalid YAML: {what}")]) from None
    except yaml.YAMLError as exc:  # pragma: no cover - other parser errors
        raise DataError([Problem(filename, 1, f"invalid YAML: {exc}")]) from None


_CACHE: dict[tuple, Any] = {}

#: Where parsed files are kept between processes (see :func:`keep_parsed_in`); None: nowhere.
_KEPT_IN: Path | None = None
_KEPT_PREFIX = "yaml-"


def keep_parsed_in(folder: Path | str | None) -> None:
    """Start-up: keep each parsed file in ``folder`` (the cache directory beside the database,
    set by :func:`bot.config.load_config`), as a pickle named by the digest of the file's bytes,
    of this module's source and of the Python and PyYAML versions, so that the next process
    reads it back in a fraction of a millisecond instead of parsing it again (``countries.yaml``
    alone takes tens of milliseconds, on every command). Only files that parse are kept; a
    changed file has another digest and is parsed anew. The folder is the bot's own (like the
    database beside it); deleting it costs one parse of each file."""
    global _KEPT_IN
    _KEPT_IN = Path(folder) if folder is not None else None


def load_file(path: str | Path) -> Any:
    """Read and parse one YAML file; unreadable or non-UTF-8 files are reported as problems.

    Parsed files are memoised by (path, size, mtime): the same data files are read by every
    Application a process builds (tests, console restarts), and kept by content between
    processes (:func:`keep_parsed_in`). Callers treat the result as read-only.
    """
    path = Path(path)
    try:
        stat = path.stat()
        key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    except OSError:
        key = None
    if key is not None and key in _CACHE:
        return _CACHE[key]
    data = _load_file_uncached(path)
    if key is not None:
        if len(_CACHE) > 64:
            _CACHE.clear()
        _CACHE[key] = data
    return data


_SALT: bytes | None = None


def _salt() -> bytes:
    """What a parsed file depends on besides its bytes: this loader and the versions under it."""
    global _SALT
    if _SALT is None:
        _SALT = hashlib.sha256(f"{sys.version}\0{yaml.__version__}\0{pickle.HIGHEST_PROTOCOL}\0".encode()
                               + Path(__file__).read_bytes()).digest()
    return _SALT


def _kept_path(folder: Path, path: Path, raw: bytes) -> Path:
    digest = hashlib.sha256(_salt() + raw).hexdigest()
    return folder / f"{_KEPT_PREFIX}{_source_tag(path)}-{digest}.pickle"


def _source_tag(path: Path) -> str:
    """A short name for the file's place, so that a new version replaces the old one's pickle."""
    return hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]


def _read_kept(kept: Path) -> Any:
    try:
        with open(kept, "rb") as fh:
            return pickle.load(fh)  # noqa: S301 - written by this module into the bot's own folder
    except FileNotFoundError:
        return _MISSING
    except Exception:  # noqa: BLE001 - a damaged or foreign file: parse the YAML again
        return _MISSING


def _keep(kept: Path, data: Any) -> None:
    """Write atomically, dropping the pickles of older versions of the same file; a folder that
    cannot be written is not an error (this is only a shortcut)."""
    try:
        kept.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=kept.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as out:
            pickle.dump(data, out, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, kept)
        tag = kept.name.rsplit("-", 1)[0] + "-"
        for other in kept.parent.glob(tag + "*.pickle"):
            if other != kept:
                other.unlink(missing_ok=True)
    except (OSError, pickle.PicklingError):
        pass


_MISSING = object()


def top_level_list(path: str | Path, key: str) -> list:
    """The list under the top-level ``key:`` of a YAML file (every data file is one).
    Raises DataError if the file cannot be read or holds no such list."""
    data = load_file(path)
    items = data.get(key) if isinstance(data, dict) else None
    if not isinstance(items, list):
        article = "an" if key[:1] in "aeiou" else "a"
        raise DataError([Problem(str(path), line_of(data), f"expected a mapping with {article} '{key}:' list")])
    return items


def _load_file_uncached(path: Path) -> Any:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError([Problem(str(path), 0, "file not found")]) from None
    except OSError:
        raw = None
    folder = _KEPT_IN
    kept = _kept_path(folder, path, raw) if folder is not None and raw is not None else None
    if kept is not None:
        data = _read_kept(kept)
        if data is not _MISSING:
            return data
    try:
        text = raw.decode("utf-8") if raw is not None else path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError([Problem(str(path), 0, "file not found")]) from None
    except UnicodeDecodeError as exc:
        raise DataError([Problem(str(path), 1, f"not UTF-8 text ({exc.reason})")]) from None
    data = load_text(text, str(path))
    if kept is not None:
        _keep(kept, data)
    return data


def line_of(obj: Any, key: str | None = None, default: int = 1) -> int:
    """Best-known line of a mapping (or one of its keys); ``default`` for plain values."""
    if isinstance(obj, Node):
        return obj.line_of(key) if key is not None else obj.line
    return default
