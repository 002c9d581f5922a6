"""The secretariat's long lists, counted before they are shown: /overdue (late steps by
country, step and region, the furthest behind first) and /progress (countries by region done,
under way, not started and late, the least advanced first). Each is one service call."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.milestones.progress import CountryProgress, GroupProgress, Progress, progress
from bot.milestones.states import StepState, local_today, overdue_by_country
from knowledge.checklist import Template


@dataclass(frozen=True)
class LateCountry:
    """A country with late steps, and how many days each is late on the country's own day."""

    iso3: str
    steps: list[StepState]
    days_late: list[int]

    @property
    def most_days_late(self) -> int:
        return max(self.days_late, default=0)


@dataclass(frozen=True)
class OverdueReport:
    """Every late step of the countries asked about, counted three ways."""

    countries: list[LateCountry]          # registry order
    by_step: list[tuple[int, int]]        # (step order, countries late on it), the most first
    by_region: list[tuple[str, int]]      # (annex, countries late), the most first
    worst: list[LateCountry]              # the most late steps first, then the longest late

    @property
    def steps(self) -> int:
        return sum(len(c.steps) for c in self.countries)


def _days_late(today: dt.date, step: StepState) -> int:
    return (today - step.due).days if step.due is not None else 0


def overdue_report(db, template: Template, registry, now: dt.datetime, iso3s: list[str] | None = None) -> OverdueReport:
    """/overdue [circle]: the late steps, by country, step and region."""
    late = overdue_by_country(db, template, registry, now, iso3s)
    countries = []
    for iso3, steps in late.items():
        today = local_today(registry, iso3, now)
        countries.append(LateCountry(iso3, steps, [_days_late(today, s) for s in steps]))
    steps_count: dict[int, int] = {}
    regions: dict[str, int] = {}
    for c in countries:
        for s in c.steps:
            steps_count[s.step.order] = steps_count.get(s.step.order, 0) + 1
        country = registry.get(c.iso3)
        if country is not None:
            regions[country.annex] = regions.get(country.annex, 0) + 1
    return OverdueReport(
        countries=countries,
        by_step=sorted(steps_count.items(), key=lambda item: (-item[1], item[0])),
        by_region=sorted(regions.items(), key=lambda item: (-item[1], item[0])),
        worst=sorted(countries, key=lambda c: (-len(c.steps), -c.most_days_late, c.iso3)))


@dataclass(frozen=True)
class RegionCounts:
    """How many countries of a region (or any group) have done every step, are under way,
    have not started, and have a late step (late ones are also counted in one of the others)."""

    group: GroupProgress
    done: int
    under_way: int
    not_started: int
    late: int


def region_counts(group: GroupProgress) -> RegionCounts:
    done = sum(1 for c in group.countries if c.applicable and c.done == c.applicable)
    started = sum(1 for c in group.countries if (c.done or c.in_progress) and not (c.applicable and c.done == c.applicable))
    return RegionCounts(group, done, started, len(group.countries) - done - started, group.overdue_countries)


@dataclass(frozen=True)
class ProgressReport:
    """/progress [circle]: the shares, each region's counts (the least advanced region first)
    and the countries, the least advanced first."""

    progress: Progress
    regions: list[RegionCounts]
    total: RegionCounts
    countries: list[CountryProgress]


def least_advanced_first(countries: list[CountryProgress]) -> list[CountryProgress]:
    """The lowest share of steps done first; of equal shares, the most late steps first."""
    return sorted(countries, key=lambda c: (c.share, -c.overdue, -c.in_progress, c.iso3))


def progress_report(db, template: Template, registry, now: dt.datetime, iso3s: list[str] | None = None) -> ProgressReport:
    found = progress(db, template, registry, now, iso3s)
    regions = sorted((region_counts(g) for g in found.by_annex), key=lambda r: (r.group.share, r.group.key))
    return ProgressReport(found, regions, region_counts(found.total), least_advanced_first(found.countries))
