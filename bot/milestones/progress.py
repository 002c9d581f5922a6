"""Progress through the checklist: the share of applicable steps done, per country, region
(annex) and pilot group (for /progress, ``ldn-bot progress`` and the chart)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from bot.milestones.states import checklist_dates
from knowledge.checklist import Template
from storage import figures

ANNEX_NAMES = {"I": "Africa", "II": "Asia", "III": "Latin America and the Caribbean",
               "IV": "Northern Mediterranean", "V": "Central and Eastern Europe"}


@dataclass
class CountryProgress:
    iso3: str
    annex: str
    pilot: bool
    list_group: str
    total: int
    done: int
    in_progress: int
    not_applicable: int
    overdue: int

    @property
    def applicable(self) -> int:
        return self.total - self.not_applicable

    @property
    def share(self) -> float:
        return self.done / self.applicable if self.applicable else 1.0


@dataclass
class GroupProgress:
    key: str
    countries: list[CountryProgress] = field(default_factory=list)

    @property
    def done(self) -> int:
        return sum(c.done for c in self.countries)

    @property
    def applicable(self) -> int:
        return sum(c.applicable for c in self.countries)

    @property
    def share(self) -> float:
        return self.done / self.applicable if self.applicable else 0.0

    @property
    def overdue(self) -> int:
        return sum(c.overdue for c in self.countries)

    @property
    def overdue_countries(self) -> int:
        return sum(1 for c in self.countries if c.overdue)

    @property
    def complete_countries(self) -> int:
        return sum(1 for c in self.countries if c.applicable and c.done == c.applicable)

    def to_json(self) -> dict:
        return {"key": self.key, "countries": len(self.countries), "done": self.done, "applicable": self.applicable,
                "share": round(self.share, 4), "overdue": self.overdue, "overdue_countries": self.overdue_countries}


@dataclass
class Progress:
    as_of: dt.datetime
    steps: int
    countries: list[CountryProgress]
    by_annex: list[GroupProgress]
    pilots: GroupProgress
    others: GroupProgress
    total: GroupProgress

    def country(self, iso3: str) -> CountryProgress | None:
        return next((c for c in self.countries if c.iso3 == iso3), None)

    def to_json(self) -> dict:
        return {
            "as_of": self.as_of.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "steps": self.steps,
            "total": self.total.to_json(),
            "regions": [dict(g.to_json(), name=ANNEX_NAMES[g.key]) for g in self.by_annex],
            "pilots": self.pilots.to_json(),
            "non_pilots": self.others.to_json(),
            "countries": [{"iso3": c.iso3, "annex": c.annex, "pilot": c.pilot, "done": c.done, "in_progress": c.in_progress,
                           "not_applicable": c.not_applicable, "applicable": c.applicable, "total": c.total,
                           "share": round(c.share, 4), "overdue": c.overdue} for c in self.countries],
        }


def progress(db, template: Template, registry, now: dt.datetime, iso3s: list[str] | None = None) -> Progress:
    """Share of steps done (not-applicable steps left out) per country, region (annex) and pilot group."""
    iso3_list, steps, today = checklist_dates(template, registry, now, iso3s)
    counts = figures.checklist_counts(db, steps, today) if steps else {}
    countries = []
    for iso3 in iso3_list:
        c = registry.get(iso3)
        done, in_progress, not_applicable, overdue = counts.get(iso3, (0, 0, 0, 0))
        countries.append(CountryProgress(
            iso3=iso3, annex=c.annex, pilot=c.pilot, list_group=c.list_group, total=len(steps),
            done=done, in_progress=in_progress, not_applicable=not_applicable, overdue=overdue))
    by_annex = []
    for annex in ANNEX_NAMES:
        members = [c for c in countries if c.annex == annex]
        if members:
            by_annex.append(GroupProgress(annex, members))
    return Progress(as_of=now, steps=len(template), countries=countries, by_annex=by_annex,
                    pilots=GroupProgress("pilots", [c for c in countries if c.pilot]),
                    others=GroupProgress("others", [c for c in countries if not c.pilot]),
                    total=GroupProgress("all", countries))
