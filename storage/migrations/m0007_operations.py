"""Operations: a reference copy of the country registry (for the dashboard) and the privacy log.

* ``ref_countries`` - the 95 participating countries with their region (UNCCD annex),
  list group, pilot flag and workshop, copied from ``knowledge/countries.yaml`` at every
  start, so that Datasette queries can group by region. Derived data: never edited.
* ``privacy_log`` - one row each time someone's personal data was forgotten (``/forgetme``
  or ``ldn-bot user forget``): when, how and how many rows changed, never *whose*.
"""
from __future__ import annotations


def apply(db) -> None:
    db.execute(
        """CREATE TABLE ref_countries (
            iso3 TEXT PRIMARY KEY,            -- ISO 3166-1 alpha-3
            name TEXT NOT NULL,               -- English short name
            annex TEXT NOT NULL,              -- UNCCD regional implementation annex: I .. V
            region TEXT NOT NULL,             -- the annex's region, in English
            list_group TEXT NOT NULL,         -- africa | asia | lac | nmed_cee | pilot
            pilot INTEGER NOT NULL,           -- 1 for the 14 countries of the LDN pilot project
            workshop TEXT NOT NULL,           -- regional inception workshop
            timezone TEXT NOT NULL,           -- IANA zone of the capital
            synced_at TEXT NOT NULL
        )"""
    )
    db.execute(
        """CREATE TABLE privacy_log (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            how TEXT NOT NULL,                -- chat (/forgetme) | cli (ldn-bot user forget)
            rows_changed INTEGER NOT NULL,    -- rows deleted or anonymised
            detail TEXT                       -- JSON {table: rows}; never the person's id or name
        )"""
    )
