"""Personal data: where it is, what /privacy reports, and how /forgetme removes it.

:data:`REGISTRY` lists every table that can hold something about a person and what
forgetting does there. The rule of thumb: what belongs to the *person* goes (their user
row, messages addressed to them, their mutes and opt-ins); what belongs to the
*programme* stays, anonymised (a query keeps its text and country but loses its asker;
a milestone change stays, attributed to the country; a role grant stays as "someone").

Forgetting a person (:func:`forget`), in one transaction:

1. free text in rows that concern them (their questions, notes, comments, the copies of
   their messages) is scrubbed of their name, @username and id;
2. each registered id column: rows deleted, or the id replaced (``NULL``, ``0``, or for
   ``(chat_id, message_id)`` routing keys a unique anonymous key);
3. a generic sweep over *every* table catches columns nobody registered (a feature added
   a table later): an id still equal to the person's is cleared or its row deleted, and
   the sweep reports it (``unregistered``) so the registry can be completed.

Nothing records *who* was forgotten: ``privacy_log`` keeps only when, how and row counts.
"""
from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from storage.db import transaction

REPLACEMENT = "[removed]"

# What the replacement of an id column is:
NULL = "null"        # the column becomes NULL
ZERO = "zero"        # NOT NULL columns: 0, "nobody"
REKEY = "rekey"      # a (chat_id, message_id) routing key: chat 0, message -rowid (still unique)
TEXT_ID = "text_id"  # a text column that may hold the id as text (audit "from/to" values): NULL when equal


@dataclass(frozen=True)
class Personal:
    """One table that can hold personal data."""

    table: str
    category: str                              # profile | queries | faq | milestones | messages | reminders | groups | roles
    why: str                                   # why it is kept (operator documentation)
    ids: dict[str, str] = field(default_factory=dict)   # id column -> NULL | ZERO | REKEY | TEXT_ID
    delete: tuple[str, ...] = ()               # rows where one of these columns is the person are deleted
    scrub: tuple[str, ...] = ()                # free-text columns scrubbed in the rows that concern the person
    json_scrub: tuple[str, ...] = ()           # JSON columns: string values scrubbed
    key_scrub: tuple[str, ...] = ()            # key columns (part of a UNIQUE key): mentions become "[removed#rowid]"
    link: str | None = None                    # more rows that concern the person (SQL, params :uid :uid_s)
    anywhere: bool = True                      # scrub every row that mentions the person (others' queries, answers
                                               # greeting them by name, drafts built from those, messages sent to others)
    only: str | None = None                    # SQL: the only rows that may be scrubbed (e.g. promoted FAQ entries)


USER_QUERIES = "query_id IN (SELECT id FROM queries WHERE asker_id = :uid)"

REGISTRY: tuple[Personal, ...] = (
    Personal("users", "profile", "who you are to the bot: name, username, language, role, country, time zone",
             delete=("user_id",)),
    Personal("role_events", "roles", "the record of roles granted (kept as 'someone was made focal point of X')",
             ids={"user_id": ZERO, "by_user": NULL}),
    Personal("invites", "roles", "invitations: who created and who used each one",
             ids={"used_by": NULL, "created_by": NULL}),
    Personal("deliveries", "messages", "the ledger of messages the bot sent, so none is sent twice",
             delete=("chat_id",), scrub=("error",), json_scrub=("payload",), key_scrub=("ref",), anywhere=True),
    # knowledge (m0002)
    Personal("faq_misses", "faq", "questions the FAQ could not answer, so the secretariat can add answers",
             ids={"user_id": NULL}, scrub=("query",)),
    Personal("faq_feedback", "faq", "'helpful / not helpful' votes on FAQ answers",
             ids={"user_id": NULL}, scrub=("query",)),
    Personal("faq_drafts", "faq", "helpdesk answers proposed as FAQ entries",
             ids={"created_by": NULL, "decided_by": NULL}, json_scrub=("texts",),
             link="ref IN (SELECT 'query:' || id FROM queries WHERE asker_id = :uid)"),
    Personal("saved_replies", "faq", "the experts' saved replies (m0014): who saved each one",
             ids={"created_by": NULL, "updated_by": NULL}, json_scrub=("texts",)),
    # helpdesk (m0003)
    Personal("queries", "queries", "your questions to the experts and their handling (kept anonymised: text and country)",
             ids={"asker_id": ZERO, "assignee_id": NULL, "first_response_by": NULL}, scrub=("text",)),
    Personal("query_messages", "queries", "the messages of each query, to route replies",
             ids={"chat_id": REKEY, "author_id": NULL}, scrub=("text",), link=USER_QUERIES),
    Personal("query_attachments", "queries", "files attached to queries (Telegram file ids)",
             ids={"chat_id": REKEY, "author_id": NULL}, scrub=("file_name",)),
    Personal("query_events", "queries", "the audit trail of each query",
             ids={"actor_id": NULL, "from_value": TEXT_ID, "to_value": TEXT_ID}, scrub=("detail",), link=USER_QUERIES),
    Personal("query_ratings", "queries", "your rating of the experts' answers",
             ids={"user_id": ZERO}, scrub=("comment",)),
    # milestones (m0004)
    Personal("milestones", "milestones", "your country's checklist: who changed a step last (attributed to the country)",
             ids={"changed_by": NULL}, scrub=("note",)),
    Personal("milestone_history", "milestones", "every change of your country's checklist (attributed to the country)",
             ids={"changed_by": NULL}, scrub=("note",)),
    # reminders, calendar, broadcasts (m0005)
    Personal("reminder_mutes", "reminders", "the reminder categories you muted", delete=("user_id",)),
    Personal("calendar_events", "other", "the programme's calendar: who edited an event last",
             ids={"updated_by": NULL}),
    Personal("calendar_event_log", "other", "the calendar's change log", ids={"by_user": NULL}, scrub=("details",)),
    Personal("broadcasts", "other", "the secretariat's broadcasts: who sent them (kept as 'the secretariat')",
             ids={"created_by": ZERO, "progress_chat_id": NULL}, scrub=("text",)),
    # groups (m0006)
    Personal("group_chats", "groups", "the groups the bot is in: who added or linked it",
             ids={"added_by": NULL, "linked_by": NULL}),
    Personal("directory_optins", "groups", "your choice to be listed in the focal point directory",
             delete=("user_id",)),
    # the FAQ: only entries promoted from helpdesk answers can hold a name (YAML entries are reloaded from files)
    Personal("faq_entries", "faq", "FAQ entries promoted from the experts' answers",
             scrub=("q", "a"), json_scrub=("alts",), only="origin = 'promoted'"),
    # confirmations (m0009)
    Personal("confirmations", "other", "one-time confirmation buttons you were sent (kept ten minutes)",
             delete=("user_id",)),
    # e-mail (m0012)
    Personal("mail_people", "profile", "your e-mail address and where your reminders go", delete=("user_id",)),
    Personal("mail_invites", "roles", "invitations sent by e-mail: the address and who confirmed it",
             ids={"user_id": NULL}, scrub=("address",)),
    Personal("mail_threads", "queries", "the e-mail thread of each query asked by e-mail", scrub=("address", "subject"),
             link=USER_QUERIES),
    Personal("mail_messages", "messages", "the e-mails of each query by Message-ID, so that none is taken twice",
             scrub=("address", "detail"), link=USER_QUERIES),
    Personal("mail_files", "queries", "files of e-mails, until they are posted to the experts' chat", scrub=("name",),
             link=USER_QUERIES),
    Personal("mail_notices", "messages", "when an address last got an automatic answer (at most one a day)",
             key_scrub=("address",)),
    # intake (m0013)
    Personal("awaited_inputs", "messages", "what the bot asked you to type next (until you answer, cancel or it expires)",
             delete=("user_id",), json_scrub=("data",)),
    Personal("intake_offers", "messages", "a message of yours the bot offered to file with the experts (kept a week)",
             delete=("user_id",), ids={"chat_id": NULL}),
    Personal("blocked_users", "roles", "people blocked from using the bot, and who blocked them",
             ids={"blocked_by": NULL}),
    Personal("block_events", "roles", "the record of blocks and unblocks", ids={"user_id": ZERO, "by_user": NULL}),
)

# Tables that hold nothing about a person (checked by the tests, so that a new table is classified).
NOT_PERSONAL = frozenset({
    "_migrations", "bot_state", "faq_state", "faq_search_index", "faq_asked", "query_tags",
    "milestone_steps", "ref_countries", "privacy_log",
    "mail_form_nonces",  # m0023: the channel page's used one-time nonces (no person named)
})
# faq_search_index (m0011) is derived from faq_entries: rebuilt, and the old one dropped, when they change.
# group_chats.chat_id, title ...: a group is not a person (its adder and linker are registered above).

_BY_TABLE = {p.table: p for p in REGISTRY}


def registered(table: str) -> Personal | None:
    return _BY_TABLE.get(table)


# -- schema helpers -------------------------------------------------------------------------------

def _tables(db) -> list[str]:
    """Ordinary tables (no SQLite internals, no full-text index shadows, no virtual tables)."""
    rows = db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name").fetchall()
    virtual = {name for name, sql in rows if sql and sql.upper().startswith("CREATE VIRTUAL")}
    out = []
    for name, _sql in rows:
        if name.startswith("sqlite_") or name in virtual:
            continue
        if any(name.startswith(v + "_") for v in virtual):
            continue  # FTS shadow tables (derived from their content table)
        out.append(name)
    return out


def _columns(db, table: str) -> list[dict]:
    return [{"name": r[1], "type": (r[2] or "").upper(), "notnull": bool(r[3]), "pk": bool(r[5])}
            for r in db.execute(f'PRAGMA table_info("{table}")').fetchall()]


def unclassified_tables(db) -> list[str]:
    """Tables neither in :data:`REGISTRY` nor declared free of personal data."""
    return [t for t in _tables(db) if t not in _BY_TABLE and t not in NOT_PERSONAL]


# -- the person ------------------------------------------------------------------------------------

@dataclass
class Identity:
    user_id: int
    names: list[str]

    @property
    def params(self) -> dict[str, Any]:
        return {"uid": self.user_id, "uid_s": str(self.user_id)}

    @property
    def terms(self) -> list[str]:
        """What identifies the person in free text: names, @username, the id."""
        return [*self.names, str(self.user_id)]


def identity(db, user_id: int, also: tuple[tuple[str | None, str | None], ...] = ()) -> Identity:
    """The person's names as stored, plus ``also`` ((first_name, username) pairs known otherwise)."""
    pairs = list(also)
    row = db.execute("SELECT first_name, username FROM users WHERE user_id = ?", [user_id]).fetchone()
    if row:
        pairs.insert(0, (row[0], row[1]))
    names: list[str] = [r[0] for r in db.execute("SELECT address FROM mail_people WHERE user_id = ?", [user_id])]  # e-mail
    for first, username in pairs:
        if first and len(first.strip()) >= 2 and first.strip() not in names:
            names.append(first.strip())
        if username:
            for form in ("@" + username.lstrip("@"), username.lstrip("@")):
                if form not in names:
                    names.append(form)
    return Identity(user_id, names)


def _pattern(ident: Identity) -> re.Pattern:
    words = sorted({n for n in ident.names if n}, key=len, reverse=True)
    parts = [re.escape(w) for w in words] + [re.escape(str(ident.user_id))]
    return re.compile(r"(?<![\w@])(?:" + "|".join(parts) + r")(?!\w)", re.IGNORECASE)


def scrub_text(text: Any, pattern: re.Pattern) -> Any:
    if not isinstance(text, str) or not text:
        return text
    return pattern.sub(REPLACEMENT, text)


def _scrub_json(text: Any, pattern: re.Pattern, user_id: int) -> Any:
    if not isinstance(text, str) or not text:
        return text
    try:
        data = json.loads(text)
    except ValueError:
        return scrub_text(text, pattern)

    def walk(value):
        if isinstance(value, str):
            return pattern.sub(REPLACEMENT, value)
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, int) and not isinstance(value, bool) and value == user_id:
            return 0
        return value

    return json.dumps(walk(data), ensure_ascii=False)


# -- what /privacy shows ----------------------------------------------------------------------------

def summary(db, user_id: int) -> dict[str, Any]:
    """The person's profile row and, per category, how many rows concern them."""
    profile = db.execute(
        "SELECT first_name, username, lang, role, country, timezone, active, created_at FROM users WHERE user_id = ?",
        [user_id]).fetchone()
    counts: dict[str, int] = {}
    tables: dict[str, int] = {}                # the same rows per table (for "1 query, 22 messages")
    present = set(_tables(db))
    for entry in REGISTRY:
        if entry.table not in present or entry.table == "users":
            continue
        cols = {c["name"] for c in _columns(db, entry.table)}
        match = [c for c in (*entry.delete, *entry.ids) if c in cols and entry.ids.get(c) != TEXT_ID]
        if not match:
            continue
        where = " OR ".join(f'"{c}" = :uid' for c in match)
        n = db.execute(f'SELECT count(*) FROM "{entry.table}" WHERE {where}', {"uid": user_id}).fetchone()[0]
        if n:
            counts[entry.category] = counts.get(entry.category, 0) + n
            tables[entry.table] = n
    keys = ("first_name", "username", "lang", "role", "country", "timezone", "active", "created_at")
    return {"profile": dict(zip(keys, profile, strict=True)) if profile else None, "counts": counts, "tables": tables}


# -- forgetting -------------------------------------------------------------------------------------

@dataclass
class ForgetResult:
    changed: dict[str, int] = field(default_factory=dict)       # table -> rows deleted or changed
    unregistered: list[str] = field(default_factory=list)       # "table.column" the generic sweep had to clear

    @property
    def total(self) -> int:
        return sum(self.changed.values())

    def add(self, table: str, n: int) -> None:
        if n:
            self.changed[table] = self.changed.get(table, 0) + n


def forget(db, user_id: int, also: tuple[tuple[str | None, str | None], ...] = ()) -> ForgetResult:
    """Delete or anonymise everything about ``user_id`` (see the module docstring). Idempotent.

    ``also``: other (first_name, username) pairs of the person (e.g. the stored name before a rename).
    """
    result = ForgetResult()
    with transaction(db):
        ident = identity(db, user_id, also)
        present = _tables(db)
        columns = {t: _columns(db, t) for t in present}
        # 1. free text in every row that concerns the person (before the ids that find them are gone)
        _scrub_free_text(db, ident, columns, user_id, result)
        # 2. registered id columns
        _clear_registered_ids(db, columns, user_id, ident.params, result)
        # 3. the generic sweep: any person-id column anywhere still holding the id
        _sweep_unregistered(db, columns, user_id, result)
        if "queries" in present:  # the row their anonymised queries point to (m0018's key): "a forgotten person"
            db.execute("INSERT OR IGNORE INTO users (user_id, active, created_at, updated_at) "
                       "SELECT 0, 0, created_at, created_at FROM queries WHERE asker_id = 0 LIMIT 1")
    return result


def _text_columns(table: str, cols: dict[str, dict]):
    """(id columns, text, json, key columns, link, anywhere, only) of ``table`` for the scrub."""
    entry = _BY_TABLE.get(table)
    if entry is not None:
        id_cols = [c for c in (*entry.delete, *entry.ids) if c in cols and entry.ids.get(c) != TEXT_ID]
        return (id_cols, [c for c in entry.scrub if c in cols], [c for c in entry.json_scrub if c in cols],
                [c for c in entry.key_scrub if c in cols], entry.link, entry.anywhere, entry.only)
    # unregistered table: scrub its text columns in the rows that point at the person
    id_cols = [c for c, info in cols.items() if _looks_like_id(c, info)]
    text_cols = [c for c, info in cols.items() if "CHAR" in info["type"] or "TEXT" in info["type"] or info["type"] == ""]
    return id_cols, text_cols, [], [], None, False, None


def _scrub_free_text(db, ident, columns: dict[str, list[dict]], user_id: int, result: ForgetResult) -> None:
    pattern, params = _pattern(ident), ident.params
    for table, table_columns in columns.items():
        cols = {c["name"]: c for c in table_columns}
        id_cols, text_cols, json_cols, key_cols, link, anywhere, only = _text_columns(table, cols)
        scrubbed = text_cols + json_cols + key_cols
        if not scrubbed:
            continue
        conds = [f'"{c}" = :uid' for c in id_cols]
        if link:
            conds.append(f"({link})")
        if anywhere:  # any row whose text mentions a name or the id (cheap prefilter; the regex decides)
            for i, term in enumerate(ident.terms):
                params[f"t{i}"] = term.lower()
                conds.extend(f'instr(lower("{c}"), :t{i}) > 0' for c in scrubbed)
        if not conds:
            continue
        where = " OR ".join(conds) if only is None else f"({only}) AND ({' OR '.join(conds)})"
        result.add(table, _scrub_rows(db, table, where, params, text_cols, json_cols, key_cols, pattern, user_id))


_ID_ACTIONS = {
    NULL: 'UPDATE "{table}" SET "{col}" = NULL WHERE "{col}" = :uid',
    ZERO: 'UPDATE "{table}" SET "{col}" = 0 WHERE "{col}" = :uid',
    TEXT_ID: 'UPDATE "{table}" SET "{col}" = NULL WHERE "{col}" = :uid_s',
    REKEY: 'UPDATE "{table}" SET "{col}" = 0, message_id = -rowid WHERE "{col}" = :uid',
}


def _clear_registered_ids(db, columns: dict[str, list[dict]], user_id: int, params: dict, result: ForgetResult) -> None:
    for entry in REGISTRY:
        if entry.table not in columns:
            continue
        cols = {c["name"] for c in columns[entry.table]}
        for col in entry.delete:
            if col in cols:
                result.add(entry.table, db.execute(f'DELETE FROM "{entry.table}" WHERE "{col}" = ?', [user_id]).rowcount)
        for col, how in entry.ids.items():
            if col not in cols:
                continue
            if how not in _ID_ACTIONS:  # pragma: no cover - registry typo
                raise ValueError(f"{entry.table}.{col}: unknown action {how!r}")
            result.add(entry.table, db.execute(_ID_ACTIONS[how].format(table=entry.table, col=col), params).rowcount)


def _sweep_unregistered(db, columns: dict[str, list[dict]], user_id: int, result: ForgetResult) -> None:
    handled = {(e.table, c) for e in REGISTRY for c in (*e.delete, *e.ids)}
    for table, table_columns in columns.items():
        for col in table_columns:
            name = col["name"]
            if (table, name) in handled or not _looks_like_id(name, col):
                continue
            hits = db.execute(f'SELECT count(*) FROM "{table}" WHERE "{name}" = ? OR "{name}" = ?',
                              [user_id, str(user_id)]).fetchone()[0]
            if not hits:
                continue
            result.unregistered.append(f"{table}.{name}")
            result.add(table, _clear_column(db, table, col, user_id))


_PERSON_WORDS = ("user", "chat", "member", "asker", "author", "actor", "assignee", "sender", "recipient",
                 "expert", "owner", "person", "voter", "rater", "muted", "subscriber")


def forget_and_log(db, user_id: int, now: dt.datetime, how: str,
                   also: tuple[tuple[str | None, str | None], ...] = ()) -> ForgetResult:
    """:func:`forget`, then a ``privacy_log`` row (when, how, row counts; never whose). ``how``: chat | cli."""
    from storage import ops

    with transaction(db):
        result = forget(db, user_id, also)
        ops.log_forget(db, now, how, result.changed)
    return result


def _looks_like_id(name: str, info: dict | None = None) -> bool:
    """A column that may hold a Telegram user or chat id (by its name)."""
    name = name.lower()
    if name in ("id", "query_id", "entry_id", "step_id", "file_id", "file_unique_id") or name.endswith(
            ("message_id", "thread_id", "_count", "_at", "_lang", "_name", "_title")):
        return False
    return name.endswith("_by") or any(word in name for word in _PERSON_WORDS)


def _scrub_rows(db, table: str, where: str, params: dict, text_cols: list[str], json_cols: list[str],
                key_cols: list[str], pattern, user_id: int) -> int:
    cols = text_cols + json_cols + key_cols
    select = ", ".join(f'"{c}"' for c in cols)
    changed = 0
    n_text, n_json = len(text_cols), len(json_cols)
    for row in db.execute(f'SELECT rowid, {select} FROM "{table}" WHERE {where}', params).fetchall():
        rowid, values = row[0], list(row[1:])
        new = [scrub_text(v, pattern) for v in values[:n_text]]
        new += [_scrub_json(v, pattern, user_id) for v in values[n_text:n_text + n_json]]
        # a key must stay unique: the mention becomes a replacement no other row can have
        new += [pattern.sub(f"[removed#{rowid}]", v) if isinstance(v, str) else v for v in values[n_text + n_json:]]
        if new != values:
            sets = ", ".join(f'"{c}" = ?' for c in cols)
            db.execute(f'UPDATE "{table}" SET {sets} WHERE rowid = ?', [*new, rowid])
            changed += 1
    return changed


def _clear_column(db, table: str, col: dict, user_id: int) -> int:
    """Clear the id from a column nobody registered: NULL if allowed, else 0, else delete the row."""
    name = col["name"]
    where = f'"{name}" = ? OR "{name}" = ?'
    args = [user_id, str(user_id)]
    if col["pk"]:
        return db.execute(f'DELETE FROM "{table}" WHERE {where}', args).rowcount
    try:
        value = "NULL" if not col["notnull"] else "0"
        return db.execute(f'UPDATE "{table}" SET "{name}" = {value} WHERE {where}', args).rowcount
    except sqlite3.IntegrityError:
        return db.execute(f'DELETE FROM "{table}" WHERE {where}', args).rowcount


def leftovers(db, user_id: int, names: list[str], *, person_columns_only: bool = False) -> list[str]:
    """Every ``table.column`` that still holds the id or one of the names (for tests and checks).

    ``person_columns_only``: look only at columns that may hold a person (a small id like 800
    may otherwise equal some unrelated row number).
    """
    found = []
    words = [n for n in names if n]
    for table in _tables(db):
        for col in _columns(db, table):
            name = col["name"]
            if person_columns_only and not _looks_like_id(name, col):
                continue
            rows = db.execute(f'SELECT "{name}" FROM "{table}" WHERE "{name}" IS NOT NULL').fetchall()
            for (value,) in rows:
                if value == user_id or value == str(user_id):
                    found.append(f"{table}.{name}={value!r}")
                    break
                if isinstance(value, str):
                    if re.search(rf"(?<!\d){user_id}(?!\d)", value) or any(w.lower() in value.lower() for w in words):
                        found.append(f"{table}.{name}~{value[:80]!r}")
                        break
    return found


def compact(db) -> None:
    """After a forget: rebuild and merge every full-text index (FTS5 keeps deleted terms in
    its segments until they are merged), then VACUUM and truncate the write-ahead log, so
    the database file holds no copy of what was scrubbed. Runs outside a transaction."""
    fts_tables = [row[0] for row in db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%USING FTS5%'")]
    for name in fts_tables:
        db.execute(f'INSERT INTO "{name}"("{name}") VALUES (\'rebuild\')')
        db.execute(f'INSERT INTO "{name}"("{name}") VALUES (\'optimize\')')
    db.execute("VACUUM")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
