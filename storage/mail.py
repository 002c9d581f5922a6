"""All SQL of the e-mail channel: bound addresses, e-mail invitations, query threads, the
messages carried, once-a-day notices, and the e-mail rows of the delivery ledger.

E-mail rows of the ledger (``deliveries`` with ``method = 'email'``) wait as ``queued``,
not ``pending``, so the Telegram deliverer never picks them up; they are claimed, sent
and marked like the others (``sent | failed | uncertain``).
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Iterable

from storage.db import utcnow_iso

#: E-mail-only people are numbered from here up (Telegram user ids use at most 52 bits).
MAIL_PERSON_BASE = 2 ** 53
MAIL_METHOD = "email"
QUEUED = "queued"


def _one(db, sql: str, args: Iterable = ()) -> dict | None:
    rows = list(db.query(sql, list(args)))
    return rows[0] if rows else None


# -- people ----------------------------------------------------------------------------------

def person_by_address(db, address: str) -> dict | None:
    """The bound address with its person record (``users`` columns), or None."""
    return _one(db, """SELECT u.*, m.address, m.display_name, m.channel, m.unsubscribe_token, m.confirmed_at,
                              m.digest_sent_week
                       FROM mail_people m JOIN users u ON u.user_id = m.user_id WHERE m.address = ?""", [address.lower()])


def person_by_id(db, user_id: int) -> dict | None:
    return _one(db, """SELECT u.*, m.address, m.display_name, m.channel, m.unsubscribe_token, m.confirmed_at,
                              m.digest_sent_week
                       FROM mail_people m JOIN users u ON u.user_id = m.user_id WHERE m.user_id = ?""", [user_id])


def person_by_unsubscribe(db, token: str) -> dict | None:
    return _one(db, """SELECT u.*, m.address, m.channel FROM mail_people m JOIN users u ON u.user_id = m.user_id
                       WHERE m.unsubscribe_token = ?""", [token])


def next_person_id(db) -> int:
    row = db.execute("SELECT max(user_id) FROM users WHERE user_id >= ?", [MAIL_PERSON_BASE]).fetchone()
    return max(MAIL_PERSON_BASE, (row[0] or MAIL_PERSON_BASE - 1) + 1)


def bind_address(db, user_id: int, address: str, display_name: str | None, token: str, now: dt.datetime) -> None:
    """Bind ``address`` to the person (an address belongs to one person; a person has one address)."""
    address = address.lower()
    db.execute("DELETE FROM mail_people WHERE address = ? OR user_id = ?", [address, user_id])
    db.execute("INSERT INTO mail_people (user_id, address, display_name, unsubscribe_token, confirmed_at) VALUES (?, ?, ?, ?, ?)",
               [user_id, address, display_name, token, utcnow_iso(now)])


def set_channel(db, user_id: int, channel: str) -> bool:
    return db.execute("UPDATE mail_people SET channel = ? WHERE user_id = ?", [channel, user_id]).rowcount == 1


def people_for_email(db) -> list[dict]:
    """People whose reminders go (also) by e-mail."""
    return list(db.query("""SELECT u.*, m.address, m.display_name, m.channel, m.unsubscribe_token, m.digest_sent_week
                            FROM mail_people m JOIN users u ON u.user_id = m.user_id
                            WHERE m.channel IN ('email', 'both') ORDER BY m.user_id"""))


def email_only(db) -> set[int]:
    """People who chose e-mail alone for reminders (the Telegram planner leaves them out)."""
    return {row[0] for row in db.execute("SELECT user_id FROM mail_people WHERE channel = 'email'")}


def without_email_only(db, rows: list[dict]) -> list[dict]:
    """``rows`` (users) without those who chose e-mail alone for reminders."""
    skip = email_only(db)
    return [row for row in rows if row["user_id"] not in skip] if skip else rows


def mail_refs(db, prefix: str, since: dt.datetime) -> set[tuple[str, int]]:
    """(ref, person) of the e-mails with refs starting ``prefix`` queued since ``since``."""
    return {(row[0], row[1]) for row in db.execute(
        "SELECT ref, chat_id FROM deliveries WHERE method = ? AND ref LIKE ? AND created_at >= ?",
        [MAIL_METHOD, prefix + "%", utcnow_iso(since)])}


def set_digest_week(db, user_id: int, week: str) -> bool:
    """Record this week's digest once; False if it was recorded already."""
    return db.execute("UPDATE mail_people SET digest_sent_week = ? WHERE user_id = ? AND digest_sent_week IS NOT ?",
                      [week, user_id, week]).rowcount == 1


# -- invitations -------------------------------------------------------------------------------

def insert_invite(db, *, address: str, country: str, lang: str, code_hash: str, invite_hash: str | None,
                  now: dt.datetime, expires: dt.datetime) -> int:
    return db["mail_invites"].insert({
        "address": address.lower(), "country": country, "lang": lang, "code_hash": code_hash, "invite_hash": invite_hash,
        "created_at": utcnow_iso(now), "expires_at": utcnow_iso(expires)}).last_pk


def invite_by_code(db, code_hash: str) -> dict | None:
    return _one(db, "SELECT * FROM mail_invites WHERE code_hash = ?", [code_hash])


def confirm_invite(db, invite_id: int, user_id: int, now: dt.datetime) -> bool:
    return db.execute("UPDATE mail_invites SET confirmed_at = ?, user_id = ? WHERE id = ? AND confirmed_at IS NULL",
                      [utcnow_iso(now), user_id, invite_id]).rowcount == 1


def confirmed_invite_for_telegram(db, invite_hash: str) -> dict | None:
    """The confirmed e-mail invitation that came with this Telegram invitation."""
    return _one(db, "SELECT * FROM mail_invites WHERE invite_hash = ? AND confirmed_at IS NOT NULL", [invite_hash])


def invites_used_by(db, user_id: int) -> list[str]:
    """Hashes of the Telegram invitations this user redeemed."""
    return [row[0] for row in db.execute("SELECT token_hash FROM invites WHERE used_by = ?", [user_id])]


def move_queries(db, from_user: int, to_user: int) -> int:
    """An e-mail-only person joins their Telegram record: their queries follow."""
    db.execute("UPDATE query_ratings SET user_id = ? WHERE user_id = ?", [to_user, from_user])
    return db.execute("UPDATE queries SET asker_id = ? WHERE asker_id = ?", [to_user, from_user]).rowcount


# -- threads and messages ------------------------------------------------------------------------

def add_thread(db, query_id: int, address: str, subject: str, token: str) -> None:
    db.execute("INSERT OR IGNORE INTO mail_threads (query_id, address, subject, token) VALUES (?, ?, ?, ?)",
               [query_id, address.lower(), subject, token])


def thread(db, query_id: int) -> dict | None:
    return _one(db, "SELECT * FROM mail_threads WHERE query_id = ?", [query_id])


def add_message(db, *, message_id: str, query_id: int | None, direction: str, address: str, fate: str,
                now: dt.datetime, detail: str | None = None) -> int | None:
    """Record a message by its Message-ID; None when it was recorded before (seen twice)."""
    cur = db.execute(
        """INSERT INTO mail_messages (message_id, query_id, direction, address, fate, detail, at) VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT(message_id) DO NOTHING""",
        [message_id, query_id, direction, address.lower(), fate, detail, utcnow_iso(now)])
    return cur.lastrowid if cur.rowcount == 1 else None


def set_message_fate(db, row_id: int, fate: str, query_id: int | None, detail: str | None = None) -> None:
    db.execute("UPDATE mail_messages SET fate = ?, query_id = ?, detail = ? WHERE id = ?", [fate, query_id, detail, row_id])


def query_of_messages(db, message_ids: Iterable[str]) -> int | None:
    """The query the newest of these Message-IDs belongs to."""
    ids = [m for m in message_ids if m]
    if not ids:
        return None
    row = db.execute(f"SELECT query_id FROM mail_messages WHERE query_id IS NOT NULL AND message_id IN ({','.join('?' * len(ids))})"
                     " ORDER BY id DESC LIMIT 1", ids).fetchone()
    return row[0] if row else None


def thread_message_ids(db, query_id: int) -> list[str]:
    """The Message-IDs of a query's e-mails, oldest first (for ``References``)."""
    return [row[0] for row in db.execute("SELECT message_id FROM mail_messages WHERE query_id = ? ORDER BY id", [query_id])]


def last_inbound(db, query_id: int) -> str | None:
    row = db.execute("SELECT message_id FROM mail_messages WHERE query_id = ? AND direction = 'in' ORDER BY id DESC LIMIT 1",
                     [query_id]).fetchone()
    return row[0] if row else None


def add_file(db, query_id: int, mail_message: int, name: str, mime_type: str, content: bytes | None, size: int,
             state: str = "waiting", reason: str | None = None) -> int:
    return db["mail_files"].insert({"query_id": query_id, "mail_message": mail_message, "name": name, "mime_type": mime_type,
                                    "size": size, "content": content, "state": state, "reason": reason}).last_pk


def waiting_files(db, query_id: int | None = None) -> list[dict]:
    """Files not yet posted to the experts' chat (of queries whose card is there)."""
    sql = """SELECT f.* FROM mail_files f JOIN queries q ON q.id = f.query_id
             WHERE f.state IN ('waiting', 'refused') AND q.posted_at IS NOT NULL"""
    args: list = []
    if query_id is not None:
        sql += " AND f.query_id = ?"
        args.append(query_id)
    return list(db.query(sql + " ORDER BY f.id", args))


def message_attachment(db, chat_id: int, message_id: int) -> dict | None:
    """The photo or document a Telegram message of a query carried (``query_attachments``), or None."""
    return _one(db, "SELECT * FROM query_attachments WHERE chat_id = ? AND message_id = ?", [chat_id, message_id])


def file_done(db, file_id: int, state: str, reason: str | None = None) -> None:
    db.execute("UPDATE mail_files SET state = ?, content = NULL, reason = ? WHERE id = ?", [state, reason, file_id])


def messages_by_fate(db) -> dict[str, int]:
    return {row[0]: row[1] for row in db.execute("SELECT fate, count(*) FROM mail_messages GROUP BY fate")}


def notice_once(db, address: str, kind: str, day: str) -> bool:
    """True (and recorded) if ``address`` had no ``kind`` answer on ``day`` yet."""
    return db.execute(
        """INSERT INTO mail_notices (address, kind, day) VALUES (?, ?, ?)
           ON CONFLICT(address, kind) DO UPDATE SET day = excluded.day WHERE mail_notices.day <> excluded.day""",
        [address.lower(), kind, day]).rowcount == 1


# -- the e-mail rows of the delivery ledger ---------------------------------------------------------

def enqueue(db, *, kind: str, ref: str, person_id: int, payload: dict, due_at: dt.datetime, now: dt.datetime,
            promise: str) -> tuple[int, bool]:
    """A queued e-mail unless one exists for (kind, ref, person); (its id, whether it is new)."""
    cur = db.execute(
        """INSERT INTO deliveries (kind, ref, chat_id, method, payload, status, due_at, created_at, promise)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(kind, ref, chat_id) DO NOTHING""",
        [kind, ref, person_id, MAIL_METHOD, json.dumps(payload, ensure_ascii=False), QUEUED, utcnow_iso(due_at),
         utcnow_iso(now), promise])
    row = db.execute("SELECT id FROM deliveries WHERE kind = ? AND ref = ? AND chat_id = ?", [kind, ref, person_id]).fetchone()
    return row[0], cur.rowcount == 1


def queued_id(db, kind: str, ref: str, person_id: int) -> int | None:
    """The ledger row of (kind, ref, person) if it exists already (the e-mail was built before)."""
    row = db.execute("SELECT id FROM deliveries WHERE kind = ? AND ref = ? AND chat_id = ?", [kind, ref, person_id]).fetchone()
    return row[0] if row else None


def claim(db, delivery_id: int, now: dt.datetime) -> dict | None:
    """Move a queued e-mail row to 'claimed' (committed before the SMTP transaction); the row, or None."""
    cur = db.execute("UPDATE deliveries SET status = 'claimed', claimed_at = ?, attempts = attempts + 1 WHERE id = ? AND status = ?",
                     [utcnow_iso(now), delivery_id, QUEUED])
    if cur.rowcount != 1:
        return None
    return _one(db, "SELECT * FROM deliveries WHERE id = ?", [delivery_id])


def get(db, delivery_id: int) -> dict | None:
    return _one(db, "SELECT * FROM deliveries WHERE id = ?", [delivery_id])


def postpone(db, delivery_id: int, due_at: dt.datetime, error: str) -> None:
    """A transient failure (4xx, connection): queued again for ``due_at``."""
    db.execute("UPDATE deliveries SET status = ?, due_at = ?, error = ? WHERE id = ?", [QUEUED, utcnow_iso(due_at), error, delivery_id])


def finish(db, delivery_id: int, status: str, now: dt.datetime, error: str | None = None) -> None:
    db.execute("UPDATE deliveries SET status = ?, sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END, error = ? WHERE id = ?",
               [status, status, utcnow_iso(now), error, delivery_id])


def due(db, now: dt.datetime, limit: int = 200) -> list[int]:
    """Queued e-mails that are due (rows put back to 'pending' by ``ldn-bot deliveries resend`` are queued again)."""
    db.execute("UPDATE deliveries SET status = ? WHERE method = ? AND status = 'pending'", [QUEUED, MAIL_METHOD])
    return [row[0] for row in db.execute(
        "SELECT id FROM deliveries WHERE method = ? AND status = ? AND due_at <= ? ORDER BY due_at, id LIMIT ?",
        [MAIL_METHOD, QUEUED, utcnow_iso(now), limit])]


# -- the channel page's one-time forms (m0023) -----------------------------------------------------

def use_form_nonce(db, nonce: str, now: dt.datetime, keep_since: dt.datetime) -> bool:
    """Record a form's nonce as used; False when it was used before. Nonces used before
    ``keep_since`` are dropped (their forms are too old to be taken anyway)."""
    db.execute("DELETE FROM mail_form_nonces WHERE used_at < ?", [utcnow_iso(keep_since)])
    return db.execute("INSERT OR IGNORE INTO mail_form_nonces (nonce, used_at) VALUES (?, ?)", [nonce, utcnow_iso(now)]).rowcount == 1
