"""The helpdesk's figures (/stats, ``ldn-bot helpdesk stats``) and its CSV export (/export,
``ldn-bot export queries``)."""
from __future__ import annotations

import csv
import datetime as dt
import io
import statistics
from dataclasses import dataclass, field
from typing import Callable

from bot.csvcell import guard_cell
from bot.helpdesk.rules import ACTIVE, STATES, first_response_time, resolution_time
from storage import figures
from storage import helpdesk as store



@dataclass
class Group:
    count: int = 0
    first: list = field(default_factory=list)
    resolution: list = field(default_factory=list)

    @property
    def median_first_hours(self) -> float | None:
        return round(statistics.median(self.first) / 3600, 1) if self.first else None

    @property
    def median_resolution_hours(self) -> float | None:
        return round(statistics.median(self.resolution) / 3600, 1) if self.resolution else None


@dataclass
class Stats:
    total: int
    by_state: dict[str, int]
    overdue: int
    overall: Group
    by_region: dict[str, Group]
    by_topic: dict[str, Group]
    rating_average: float | None
    rating_count: int


def compute_stats(queries: list[dict], ratings: dict[int, dict], tags: dict[int, list[str]],
                  region_of: Callable[[str | None], str]) -> Stats:
    by_state = {s: 0 for s in STATES}
    overall = Group()
    regions: dict[str, Group] = {}
    topics: dict[str, Group] = {}
    overdue = 0
    for q in queries:
        by_state[q["state"]] = by_state.get(q["state"], 0) + 1
        if q.get("overdue") and q["state"] in ACTIVE:
            overdue += 1
        frt, rt = first_response_time(q), resolution_time(q)
        groups = [overall, regions.setdefault(region_of(q.get("country")), Group())]
        groups += [topics.setdefault(tag, Group()) for tag in tags.get(q["id"], [])]
        for g in groups:
            g.count += 1
            if frt is not None:
                g.first.append(frt.total_seconds())
            if rt is not None:
                g.resolution.append(rt.total_seconds())
    scores = [r["score"] for r in ratings.values() if r.get("score")]
    return Stats(len(queries), by_state, overdue, overall, dict(sorted(regions.items())),
                 dict(sorted(topics.items(), key=lambda kv: (-kv[1].count, kv[0]))),
                 round(sum(scores) / len(scores), 2) if scores else None, len(scores))


def load_stats(db, region_of: Callable[[str | None], str]) -> Stats:
    """The figures over every query, ``region_of(iso3)`` naming each country's group.

    SQLite does the counting and finds the medians (:mod:`storage.figures`), a region's
    through the region stored on its queries; the result is the one :func:`compute_stats`
    gives for the same rows (``tests/storage/test_figures.py``).
    """
    by_state = {s: 0 for s in STATES}
    by_state.update(figures.state_counts(db))
    found = _region_figures(db, region_of)
    counts = {key: f[:3] for key, f in found.items()}
    regions: dict[str, Group] = {key: _SqlGroup(count=f[0], first_seconds=f[3], resolution_seconds=f[4])
                                 for key, f in found.items()}
    # the regions share out every query: the totals are their sums, no second pass over the queries
    overall = _group(db, tuple(sum(c[i] for c in counts.values()) for i in range(3)), None)
    topics: dict[str, Group] = {}
    for tag in figures.query_tags(db):
        count, _, _, first, resolution = figures.tag_figures(db, tag)
        topics[tag] = _SqlGroup(count=count, first_seconds=first, resolution_seconds=resolution)
    total_score, scores = figures.rating_sum(db)
    return Stats(overall.count, by_state, figures.overdue_count(db, ACTIVE), overall, regions,
                 dict(sorted(topics.items(), key=lambda kv: (-kv[1].count, kv[0]))),
                 round(total_score / scores, 2) if scores else None, scores)


def _region_figures(db, region_of: Callable[[str | None], str]) -> dict[str, figures.Figures]:
    """Each region's figures, by name, in order of the names.

    A region is read through the region stored on its queries (m0022) when that stored value
    holds exactly the countries ``region_of`` puts in the region; otherwise (a country moved
    to another annex after its queries were stored, names that group countries another way)
    through the list of its countries, slower and as exact.
    """
    stored = figures.query_annexes(db)
    names = {annex: {region_of(iso3) for iso3 in countries} for annex, countries in stored.items()}
    members: dict[str, dict[str | None, None]] = {}
    holders: dict[str, list[str | None]] = {}
    for annex, countries in stored.items():
        for iso3 in countries:
            members.setdefault(region_of(iso3), {})[iso3] = None
        for name in names[annex]:
            holders.setdefault(name, []).append(annex)
    found: dict[str, figures.Figures] = {}
    for name in sorted(members):
        annexes = holders[name]
        if len(annexes) == 1 and names[annexes[0]] == {name}:
            found[name] = figures.annex_figures(db, annexes[0])
        else:
            found[name] = figures.group_figures(db, list(members[name]))
    return found


@dataclass
class _SqlGroup(Group):
    """A group whose medians SQLite found (in seconds)."""

    first_seconds: float | None = None
    resolution_seconds: float | None = None

    @property
    def median_first_hours(self) -> float | None:
        return None if self.first_seconds is None else round(self.first_seconds / 3600, 1)

    @property
    def median_resolution_hours(self) -> float | None:
        return None if self.resolution_seconds is None else round(self.resolution_seconds / 3600, 1)


def _group(db, counts: tuple[int, ...], countries: list[str | None] | None) -> _SqlGroup:
    count, answered, resolved = counts
    return _SqlGroup(count=count,
                     first_seconds=figures.median_seconds(db, "first_response_seconds", answered, countries),
                     resolution_seconds=figures.median_seconds(db, "resolution_seconds", resolved, countries))


# -- export ----------------------------------------------------------------------------------------

EXPORT_COLUMNS = [
    "id", "created_at", "country", "lang", "source", "state", "priority", "tags", "assignee_id", "asker_id",
    "first_response_at", "resolved_at", "closed_at", "first_response_hours", "resolution_hours", "overdue",
    "rating", "rating_comment", "attachments", "question", "answers",
]


def _hours(delta: dt.timedelta | None) -> str:
    return "" if delta is None else f"{delta.total_seconds() / 3600:.2f}"


def export_queries_csv(db, since: dt.datetime | None = None) -> str:
    """Every query (created at or after ``since``) as CSV text, one row per query, oldest first."""
    queries = store.all_queries(db, since)
    ratings = store.all_ratings(db)
    tags = store.all_tags(db)
    counts = store.attachment_counts(db)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    for q in queries:
        answers = [m["text"] for m in store.messages(db, q["id"], ["expert"]) if m.get("text")]
        rating = ratings.get(q["id"]) or {}
        row = [
            q["id"], q["created_at"], q["country"] or "", q["lang"], q["source"], q["state"], q["priority"],
            " ".join(tags.get(q["id"], [])), q["assignee_id"] or "", q["asker_id"],
            q["first_response_at"] or "", q["resolved_at"] or "", q["closed_at"] or "",
            _hours(first_response_time(q)), _hours(resolution_time(q)), q["overdue"],
            rating.get("score") or "", rating.get("comment") or "", counts.get(q["id"], 0),
            q["text"], "\n\n".join(answers),
        ]
        writer.writerow([guard_cell(v) for v in row])
    return out.getvalue()




def export_queries(db, since: dt.datetime | None = None) -> tuple[str, int]:
    """The CSV text of :func:`export_queries_csv` and how many queries it holds."""
    return export_queries_csv(db, since), len(store.all_queries(db, since))
