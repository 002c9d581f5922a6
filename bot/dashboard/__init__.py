"""``ldn-bot dashboard``: the database, read-only, in the browser (Datasette, the ``dashboard`` extra).

* **Who can open it.** Bound to 127.0.0.1 by default, without login (reach it through an SSH
  tunnel). Any other address (``--host 0.0.0.0``, behind a reverse proxy) refuses to start
  unless ``LDN_DASHBOARD_PASSWORD_HASH`` is set (a hash from ``datasette hash-password``):
  then every page asks for the ``secretariat`` login (datasette-auth-passwords), except the
  calendar feeds ``/calendar/ISO3.ics`` that phones subscribe to.
* **Read-only in both cases.** The database is served as immutable (Datasette writes nothing,
  ``/-/databases.json`` says ``"is_mutable": false``) while SQLite still opens it ``mode=ro``,
  so the bot's latest committed writes show; every connection gets an authorizer that refuses
  any write; downloading the database file is refused.
* **Secrets never show**: the authorizer makes secret columns read as NULL, in table pages and
  in SQL typed into the browser (:data:`SECRET_COLUMNS`); tables holding only secrets are hidden.
* **Links**: a query's country, asker and assignee, a milestone's country and step link to
  their rows (:data:`storage.dashboard.LINKS`, labels instead of ids); result cells named
  ``iso3``/``query`` link to ``/country/ISO3`` and ``/query/N`` (:mod:`bot.dashboard.pages`).
"""
from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from storage.dashboard import TODAY_FUNCTION
from bot.dashboard.guard import authorizer, guard
from bot.dashboard.metadata import (HIDDEN_TABLES, SECRET_COLUMNS, WORKING_GROUP_STEP, build_metadata, canned_queries,
                                    column_comments, database_name, topic_names_from,
                                    working_group_step_from)

__all__ = ["HIDDEN_TABLES", "SECRET_COLUMNS", "authorizer", "guard", "build_metadata", "canned_queries",
           "column_comments", "make_datasette", "serve", "write_metadata", "check_bind", "BindRefused"]

PASSWORD_ENV = "LDN_DASHBOARD_PASSWORD_HASH"
LOGIN = "secretariat"
LOOPBACK = ("127.0.0.1", "localhost", "::1")
HERE = Path(__file__).parent


class BindRefused(RuntimeError):
    """A non-loopback address without a password."""


def is_loopback(host: str) -> bool:
    return host in LOOPBACK or host.startswith("127.")


def check_bind(host: str, password_hash: str | None) -> bool:
    """Whether a login is required on ``host``; raises :class:`BindRefused` when one is needed and none is set."""
    if is_loopback(host):
        return bool(password_hash)
    if not password_hash:
        raise BindRefused(f"refusing to serve the dashboard on {host} without a login: set {PASSWORD_ENV} "
                          "(a hash from `datasette hash-password`), or bind 127.0.0.1 and use an SSH tunnel")
    return True


@dataclass
class DashboardState:
    """What the dashboard's pages need besides Datasette: the database's name, a clock, the calendar maker."""

    db_name: str
    clock: Callable[[], Any]
    calendar: Callable[[sqlite3.Connection, str, str], bytes | None] | None = None


def _metadata(db_path: Path, config) -> dict[str, Any]:
    conn = sqlite3.connect(f"file:{db_path.resolve()}?mode=ro", uri=True)
    try:
        step = working_group_step_from(config) if config is not None else WORKING_GROUP_STEP
        return build_metadata(conn, database_name(db_path), working_group_step=step, topics=topic_names_from(config))
    finally:
        conn.close()


def make_datasette(db_path: str | Path, metadata: dict[str, Any] | None = None, *, config=None,
                   password_hash: str | None = None, clock: Callable[[], Any] | None = None,
                   calendar: Callable | None = None):
    """A Datasette over the database: read-only, guarded, with pages and canned queries (tests use ``.client``)."""
    try:
        from datasette.app import Datasette, DatasetteClient
        from datasette.database import Database

        from bot.dashboard import pages
    except ImportError as exc:
        raise RuntimeError("the dashboard needs Datasette: pip install 'ldn-bot[dashboard]'") from exc

    db_path = Path(db_path)
    name = database_name(db_path)
    if metadata is None:
        metadata = _metadata(db_path, config)
    if password_hash:
        metadata["allow"] = {"id": LOGIN}
        metadata.setdefault("plugins", {})["datasette-auth-passwords"] = {f"{LOGIN}_password_hash": password_hash}
    pages.register()
    ds = Datasette(metadata=metadata, template_dir=str(HERE / "templates"),
                   static_mounts=[("ldn-static", str(HERE / "static"))],
                   settings={"allow_download": False, "sql_time_limit_ms": 3000, "default_page_size": 100,
                             "allow_csv_stream": True, "suggest_facets": False})
    if "_memory" in ds.databases:
        ds.remove_database("_memory")  # no scratch database for arbitrary SQL
    ds.add_database(_read_only_database(Database)(ds, str(db_path)), name=name)
    ds._ldn = DashboardState(name, clock or (lambda: dt.datetime.now(dt.timezone.utc)), calendar)
    ds.client = DatasetteClient(ds)  # its routes are read when it is made: now they include the pages
    return ds


def _read_only_database(Database):
    """Datasette's Database, immutable for Datasette, but opened ``mode=ro`` so the bot's new rows show."""
    from storage.dashboard import LINKS

    class ReadOnlyDatabase(Database):
        def __init__(self, ds, path):
            super().__init__(ds, path=path, is_mutable=False)

        def connect(self, write=False):
            if write:
                raise PermissionError("the dashboard never writes")
            conn = sqlite3.connect(f"file:{Path(self.path).resolve()}?mode=ro", uri=True, check_same_thread=False)
            self._all_file_connections.append(conn)
            return conn

        @property
        def _cached_table_counts(self):
            return None  # counts change while the bot runs: never cached

        @_cached_table_counts.setter
        def _cached_table_counts(self, _value):
            pass

        async def foreign_keys_for_table(self, table):
            declared = await super().foreign_keys_for_table(table)
            names = set(await self.table_names())
            extra = [{"column": c, "other_table": t, "other_column": o} for c, t, o in LINKS.get(table, ()) if t in names]
            return declared + [fk for fk in extra if fk["column"] not in {d["column"] for d in declared}]

        async def get_all_foreign_keys(self):
            found = await super().get_all_foreign_keys()
            for table, links in LINKS.items():
                if table not in found:
                    continue
                known = {fk["column"] for fk in found[table]["outgoing"]}
                for column, other, other_column in links:
                    if other in found and column not in known:
                        found[table]["outgoing"].append({"other_table": other, "column": column, "other_column": other_column})
                        found[other]["incoming"].append({"other_table": table, "column": other_column, "other_column": column})
            return found

    return ReadOnlyDatabase


def write_metadata(db_path: str | Path, out: str | Path, config=None) -> Path:
    """Write the metadata as JSON (for running plain ``datasette`` yourself; it then lacks the guard)."""
    meta = _metadata(Path(db_path), config)
    for db in meta["databases"].values():
        for query in db["queries"].values():  # plain datasette has no ldn_today(): the server's date instead
            query["sql"] = query["sql"].replace(f"{TODAY_FUNCTION}()", "date('now')")
        for table, _column in SECRET_COLUMNS:  # without the guard, deny the tables holding secrets instead
            db["tables"].setdefault(table, {})["allow"] = False
    Path(out).write_text(json.dumps(meta, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return Path(out)


def serve(db_path: str | Path, host: str = "127.0.0.1", port: int = 8001, config=None, *,
          calendar: Callable | None = None, clock: Callable[[], Any] | None = None) -> None:  # pragma: no cover - blocking
    """Serve until interrupted; raises :class:`BindRefused` on a non-loopback address without a password."""
    import asyncio

    import uvicorn

    password_hash = os.environ.get(PASSWORD_ENV) or None
    check_bind(host, password_hash)
    ds = make_datasette(db_path, config=config, password_hash=password_hash, calendar=calendar, clock=clock)
    asyncio.run(ds.invoke_startup())
    uvicorn.run(ds.app(), host=host, port=port, log_level="warning", lifespan="on", workers=1)
