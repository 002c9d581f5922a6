"""Measure FAQ search against labelled queries (``ldn-bot faq eval``, the tests, the bench).

A labelled set is YAML::

    cases:
      - {q: "what is LDN", lang: en, expect: ldn-definition}
      - {q: "weather in Paris", lang: en, expect: none}     # out of scope: must abstain

Three figures, per language and overall:

* **top-1** - in-scope queries whose first hit is the expected entry (an abstention
  counts as wrong);
* **top-3** - in-scope queries with the expected entry among the first three hits;
* **abstention** - out-of-scope queries (``expect: none``) that got no hit at all.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from knowledge.faq import LANGS
from knowledge.yamlfile import DataError, Problem, line_of, top_level_list

NONE_LABELS = (None, "none", "None", "NONE", "")


@dataclass(frozen=True)
class Case:
    """One labelled query; ``expect`` is an entry id, or None when the bot must abstain."""

    q: str
    lang: str
    expect: str | None
    file: str = ""
    line: int = 0


def case_files(paths: Iterable[str | Path]) -> list[Path]:
    """Expand directories to their ``*.yaml`` files (sorted); files are kept as given."""
    files: list[Path] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            files.extend(sorted(p for p in path.glob("*.yaml") if p.is_file()))
        else:
            files.append(path)
    return files


def load_cases(paths: str | Path | Iterable[str | Path]) -> list[Case]:
    """Read labelled cases from files and/or directories; DataError lists every problem."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    problems: list[Problem] = []
    cases: list[Case] = []
    for file in case_files(paths):
        name = str(file)
        try:
            raw_cases = top_level_list(file, "cases")
        except DataError as exc:
            problems.extend(exc.problems)
            continue
        for raw in raw_cases:
            line = line_of(raw)
            if not isinstance(raw, dict):
                problems.append(Problem(name, line, "a case must be a mapping {q, lang, expect}"))
                continue
            q, lang, expect = raw.get("q"), raw.get("lang"), raw.get("expect", "missing")
            if not isinstance(q, str):
                problems.append(Problem(name, line, "case: 'q' must be text"))
                continue
            if lang not in LANGS:
                problems.append(Problem(name, line, f"case: 'lang' must be one of {', '.join(LANGS)}"))
                continue
            if expect == "missing" or not (expect in NONE_LABELS or isinstance(expect, str)):
                problems.append(Problem(name, line, "case: 'expect' must be an entry id or none"))
                continue
            cases.append(Case(q, lang, None if expect in NONE_LABELS else expect, name, line))
    if problems:
        raise DataError(problems)
    return cases


@dataclass
class Metrics:
    """Counts for one language (or all): in-scope hits at 1 and 3, correct abstentions."""

    in_scope: int = 0
    top1: int = 0
    top3: int = 0
    out_of_scope: int = 0
    abstained: int = 0

    def add(self, case: Case, ids: list[str]) -> bool:
        """Count one result; return whether it is correct (top-1 or correct abstention)."""
        if case.expect is None:
            self.out_of_scope += 1
            ok = not ids
            self.abstained += ok
            return ok
        self.in_scope += 1
        ok = bool(ids) and ids[0] == case.expect
        self.top1 += ok
        self.top3 += case.expect in ids[:3]
        return ok

    @staticmethod
    def _rate(part: int, whole: int) -> float | None:
        return part / whole if whole else None

    @property
    def top1_rate(self) -> float | None:
        return self._rate(self.top1, self.in_scope)

    @property
    def top3_rate(self) -> float | None:
        return self._rate(self.top3, self.in_scope)

    @property
    def abstain_rate(self) -> float | None:
        return self._rate(self.abstained, self.out_of_scope)

    def as_dict(self) -> dict:
        return {
            "in_scope": self.in_scope,
            "out_of_scope": self.out_of_scope,
            "top1": self.top1_rate,
            "top3": self.top3_rate,
            "abstention": self.abstain_rate,
        }


@dataclass
class Failure:
    case: Case
    got: list[str]


@dataclass
class Report:
    """Metrics per language and overall, and the cases that went wrong."""

    by_lang: dict[str, Metrics] = field(default_factory=dict)
    overall: Metrics = field(default_factory=Metrics)
    failures: list[Failure] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "overall": self.overall.as_dict(),
            "by_lang": {lang: m.as_dict() for lang, m in self.by_lang.items()},
            "failures": [
                {"q": f.case.q, "lang": f.case.lang, "expect": f.case.expect, "got": f.got[:3],
                 "where": f"{f.case.file}:{f.case.line}"}
                for f in self.failures
            ],
        }


SearchFn = Callable[[str, str], list[str]]
"""``(query, lang) -> entry ids best first`` (``[]`` = abstain)."""


def engine_fn(search, limit: int = 3) -> SearchFn:
    """Adapt a :class:`knowledge.search.FaqSearch` to :data:`SearchFn`."""
    return lambda query, lang: [hit.entry.id for hit in search.search(query, limit=limit)]


def evaluate(search_fn: SearchFn, cases: Iterable[Case]) -> Report:
    """Run every case through ``search_fn`` and count."""
    report = Report()
    for case in cases:
        ids = list(search_fn(case.q, case.lang))
        ok_first = report.by_lang.setdefault(case.lang, Metrics()).add(case, ids)
        report.overall.add(case, ids)
        if not ok_first:
            report.failures.append(Failure(case, ids))
    report.by_lang = {lang: report.by_lang[lang] for lang in LANGS if lang in report.by_lang}
    return report


def _pct(value: float | None) -> str:
    return "   -  " if value is None else f"{100 * value:5.1f}%"


def format_report(report: Report, failures: bool = False, title: str | None = None) -> str:
    """A plain-text table: one row per language and one for all."""
    lines = []
    if title:
        lines.append(title)
    lines.append(f"{'lang':<8}{'in-scope':>9}{'top-1':>9}{'top-3':>9}{'out':>6}{'abstain':>9}")
    rows = list(report.by_lang.items()) + [("all", report.overall)]
    for lang, m in rows:
        lines.append(
            f"{lang:<8}{m.in_scope:>9}{_pct(m.top1_rate):>9}{_pct(m.top3_rate):>9}"
            f"{m.out_of_scope:>6}{_pct(m.abstain_rate):>9}"
        )
    if failures and report.failures:
        lines.append("")
        lines.append(f"{len(report.failures)} not right at rank 1:")
        for f in report.failures:
            got = ", ".join(f.got[:3]) or "(abstained)"
            lines.append(f"  [{f.case.lang}] {f.case.q!r}: expected {f.case.expect or 'abstain'}, got {got}")
    return "\n".join(lines)
