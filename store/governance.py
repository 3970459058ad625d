"""The governance register: accounts, information-sharing agreements and the audit log.

Open data can always be rebuilt from its files; governance cannot. So it lives
in its own small file beside the store (``geodata/governance.sqlite``, or
``ODA_GOVERNANCE``), which a store rebuild never touches. It is SQLite, not
DuckDB, because several programs write to it at once (the app's sign-ins and
audit entries, ``python -m dashboard`` and ``python -m loaders`` runs): SQLite
lets many processes read while one writes, and a writer waits its turn (up to
:data:`WAIT_SECONDS`) instead of failing, where DuckDB admits one process only.

The audit log is append-only and chained with a key: each entry's ``hash`` is an
HMAC-SHA256, under the deployment's secret (:mod:`store.secrets`, never in the
register), of the entry before it and its own fields. Editing or deleting a row
breaks the chain, forging one needs the key, and a checkpoint of the last entry
kept outside the register finds a removed tail (:func:`verify_chain`).

When the store is PostgreSQL (``ODA_DATABASE_URL``), the register is the
``governance`` schema of the same database instead: every app replica shares it,
and its row-level security policies read the agreements from it. Writers there
take an advisory lock in turn, as SQLite's writers take its write lock.

This module is storage only; the rules (who may see what) are
``dashboard.access``; the database's own enforcement is :mod:`store.security`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from store import secrets
from store.errors import SourceError
from store.settings import describe, governance_path

TABLES = """
CREATE TABLE IF NOT EXISTS accounts (name TEXT PRIMARY KEY, role TEXT NOT NULL,
    org TEXT NOT NULL DEFAULT '', password_hash TEXT, active INTEGER DEFAULT 1,
    failed_logins INTEGER DEFAULT 0, locked_until TEXT, last_login TEXT,
    created_at TEXT, created_by TEXT);
CREATE TABLE IF NOT EXISTS agreements (id TEXT PRIMARY KEY, title TEXT NOT NULL,
    parties TEXT NOT NULL, purpose TEXT, lawful_basis TEXT,
    indicators TEXT NOT NULL, roles TEXT NOT NULL, orgs TEXT NOT NULL,
    level TEXT NOT NULL, start_date TEXT, review_date TEXT, expires TEXT NOT NULL,
    status TEXT NOT NULL, created_at TEXT, updated_at TEXT);
CREATE TABLE IF NOT EXISTS audit_log (seq INTEGER PRIMARY KEY,
    logged_at TEXT NOT NULL, actor TEXT NOT NULL, role TEXT NOT NULL,
    event TEXT NOT NULL, detail TEXT NOT NULL, prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, name TEXT NOT NULL,
    created_at TEXT NOT NULL, last_seen TEXT NOT NULL, expires_at TEXT NOT NULL,
    revoked_at TEXT, ticket_used INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS sign_in_attempts (name TEXT NOT NULL, client TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0, locks INTEGER NOT NULL DEFAULT 0,
    locked_until TEXT, last_at TEXT, PRIMARY KEY (name, client));
CREATE TABLE IF NOT EXISTS interventions (id TEXT PRIMARY KEY, title TEXT NOT NULL,
    agency TEXT NOT NULL, region TEXT NOT NULL, kind TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    start_month TEXT NOT NULL, end_month TEXT, dose DOUBLE PRECISION, dose_unit TEXT,
    indicators TEXT NOT NULL, problem TEXT NOT NULL DEFAULT '', cost DOUBLE PRECISION,
    contact TEXT NOT NULL DEFAULT '', status TEXT NOT NULL,
    visibility TEXT NOT NULL DEFAULT 'partners', agreement TEXT, areas_from TEXT,
    created_at TEXT, created_by TEXT, updated_at TEXT, updated_by TEXT);
CREATE TABLE IF NOT EXISTS intervention_areas (intervention TEXT NOT NULL,
    geography TEXT NOT NULL, code TEXT NOT NULL, PRIMARY KEY (intervention, code));
"""
DDL = "PRAGMA journal_mode = WAL;\n" + TABLES
# PostgreSQL: the same tables in their own schema, and the roles the policies read.
PG_DDL = ("CREATE SCHEMA IF NOT EXISTS governance;\nSET search_path = governance;\n" + TABLES
          + "CREATE TABLE IF NOT EXISTS roles (name TEXT PRIMARY KEY, finest_level TEXT, "
          "partner_data TEXT);\n")
LIST_COLUMNS = ("parties", "indicators", "roles", "orgs")
GENESIS = "0" * 64
WAIT_SECONDS = 15.0
_ready: set[Path | str] = set()
_ready_lock = threading.Lock()


class _Pg:
    """A psycopg connection that takes the register's ``?`` placeholders."""

    def __init__(self, con) -> None:
        self.con = con

    def execute(self, sql: str, params: list | tuple = ()):
        from store import postgres
        return self.con.execute(postgres.dialect(sql), list(params))


def ensure(url: str) -> None:
    """Create the register's schema in a PostgreSQL store (idempotent)."""
    from store import postgres  # psycopg: only for a register in PostgreSQL
    with postgres.open_connection(url) as con:
        con.execute(PG_DDL)
    _ready.add(url)


@contextmanager
def _connect_pg(url: str, write: bool) -> Iterator[_Pg]:
    from store import postgres
    if url not in _ready:
        ensure(url)
    with postgres.open_connection(url, autocommit=False) as con:
        con.execute("SET search_path = governance")
        if write:
            con.execute("SELECT pg_advisory_xact_lock(%s)", [postgres.GOVERNANCE_LOCK])
        yield _Pg(con)
        con.commit()


@contextmanager
def connect(path: str | os.PathLike | None = None, *, write: bool = False
            ) -> Iterator[sqlite3.Connection | _Pg]:
    """A short-lived connection to the governance register, created on first use.

    The ``with`` block is one transaction: committed at its end, rolled back
    on an error. With ``write`` it takes the write lock at once (``BEGIN
    IMMEDIATE``), so two writers never both read the same last audit entry.

    Raises
    ------
    SourceError
        If another program holds the write lock for longer than :data:`WAIT_SECONDS`.
    """
    file = governance_path(path)
    if isinstance(file, str):
        with _connect_pg(file, write) as con:
            yield con
        return
    file.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(file, timeout=WAIT_SECONDS, isolation_level=None)
    try:
        if file not in _ready:
            with _ready_lock:
                con.executescript(DDL)
                _ready.add(file)
        con.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            yield con
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    except sqlite3.OperationalError as err:
        if "locked" in str(err) or "busy" in str(err):
            raise SourceError(str(file), "the governance register is busy (another program "
                              "is writing to it); try again") from err
        raise
    finally:
        con.close()


def now() -> str:
    """The current time in UTC as stored: ISO 8601 to the microsecond, no zone."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(timespec="microseconds")


def _param(value):
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="microseconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


def read(sql: str, params: list | None = None, path=None) -> pd.DataFrame:
    """Run a query on the governance register and return a frame."""
    with connect(path) as con:
        cur = con.execute(sql, [_param(p) for p in params or []])
        names = [d[0] for d in cur.description]
        return pd.DataFrame.from_records(cur.fetchall(), columns=names)


def execute(sql: str, params: list | None = None, path=None) -> int:
    """Run one statement on the governance file; return the rows it changed."""
    with connect(path, write=True) as con:
        return con.execute(sql, [_param(p) for p in params or []]).rowcount


# -- accounts ---------------------------------------------------------------------------

def account(name: str, path=None, *, active_only: bool = False) -> pd.DataFrame:
    """The account of a name (case does not matter): one row, or none."""
    return read("SELECT * FROM accounts WHERE lower(name) = lower(?)"
                + (" AND active = 1" if active_only else ""), [name], path)


def add_account(name: str, role: str, org: str, password_hash: str | None, by: str,
                path=None) -> bool:
    """Add an account; False when the name is taken."""
    with connect(path, write=True) as con:
        if con.execute("SELECT 1 FROM accounts WHERE name = ?", [name]).fetchone():
            return False
        con.execute("INSERT INTO accounts (name, role, org, password_hash, active, created_at, "
                    "created_by) VALUES (?, ?, ?, ?, 1, ?, ?)",
                    [name, role, org, password_hash, now(), by])
    return True


def accounts(path=None) -> pd.DataFrame:
    """Every account, without its password hash."""
    return read("SELECT name, role, org, active, failed_logins, locked_until, last_login, "
                "created_at, created_by FROM accounts ORDER BY name", path=path)


def set_account_active(name: str, active: bool, path=None) -> bool:
    """Disable or re-enable an account (its failures forgotten); False when unknown."""
    return bool(execute("UPDATE accounts SET active = ?, failed_logins = 0, locked_until = NULL "
                        "WHERE name = ?", [active, name], path))


# -- sessions kept across a reload (a signed cookie names one) ------------------------------

def add_session(session_id: str, name: str, now: dt.datetime, expires: dt.datetime,
                path=None) -> None:
    """Record a signed-in session of an account."""
    at = now.isoformat(timespec="seconds")
    execute("INSERT INTO sessions (id, name, created_at, last_seen, expires_at) VALUES "
            "(?, ?, ?, ?, ?)", [session_id, name, at, at, expires.isoformat(timespec="seconds")],
            path)


def session(session_id: str, path=None) -> dict | None:
    """A session's row (None when there is none)."""
    row = read("SELECT * FROM sessions WHERE id = ?", [session_id], path)
    return None if row.empty else row.iloc[0].to_dict()


def use_ticket(session_id: str, path=None) -> bool:
    """Spend a session's one-time ticket; False when it was spent already."""
    return bool(execute("UPDATE sessions SET ticket_used = 1 WHERE id = ? AND "
                        "ticket_used = 0 AND revoked_at IS NULL", [session_id], path))


def touch_session(session_id: str, now: dt.datetime, path=None) -> None:
    """The session was used now (its idle time starts again)."""
    execute("UPDATE sessions SET last_seen = ? WHERE id = ?",
            [now.isoformat(timespec="seconds"), session_id], path)


def revoke_sessions(now: dt.datetime, path=None, *, session_id: str | None = None,
                    name: str | None = None) -> int:
    """End one session, or every session of an account."""
    where, key = ("id = ?", session_id) if session_id else ("lower(name) = lower(?)", name)
    return execute(f"UPDATE sessions SET revoked_at = ? WHERE {where} AND revoked_at IS NULL",
                   [now.isoformat(timespec="seconds"), key], path)


# -- agreements -------------------------------------------------------------------------

AGREEMENT_FIELDS = ("title", "parties", "purpose", "lawful_basis", "indicators", "roles",
                    "orgs", "level", "start_date", "review_date", "expires", "status")


def add_agreement(agreement_id: str, values: list, path=None) -> None:
    """Add an agreement (``values`` in :data:`AGREEMENT_FIELDS` order)."""
    stamp = now()
    execute(f"INSERT INTO agreements (id, {', '.join(AGREEMENT_FIELDS)}, created_at, "
            f"updated_at) VALUES (?, {', '.join('?' * len(AGREEMENT_FIELDS))}, ?, ?)",
            [agreement_id, *values, stamp, stamp], path)


def update_agreement(agreement_id: str, values: list, path=None) -> None:
    """Replace an agreement's fields (``values`` in :data:`AGREEMENT_FIELDS` order)."""
    execute(f"UPDATE agreements SET {', '.join(f'{f} = ?' for f in AGREEMENT_FIELDS)}, "
            "updated_at = ? WHERE id = ?", [*values, now(), agreement_id], path)


def agreements_stamp(path=None) -> str:
    """Changes whenever an agreement is added or changed (a cache key)."""
    row = read("SELECT count(*) AS n, max(updated_at) AS at FROM agreements", path=path).iloc[0]
    return f"{row['n']}:{row['at']}"


def audit_entries(since: dt.datetime | None = None, user: str | None = None,
                  event: str | None = None, path=None) -> pd.DataFrame:
    """The audit log, oldest first, filtered by time (from), user and event."""
    where, params = [], []
    for clause, value in (("logged_at >= ?", since), ("actor = ?", user),
                          ("event = ?", event)):
        if value:
            where.append(clause)
            params.append(value)
    text = f"WHERE {' AND '.join(where)}" if where else ""
    return read(f"SELECT seq, logged_at, actor, role, event, detail, hash FROM audit_log "
                f"{text} ORDER BY seq", params, path=path)


def agreements(path=None) -> pd.DataFrame:
    """Every agreement, its list columns as Python lists."""
    frame = read("SELECT * FROM agreements ORDER BY id", path=path)
    for col in LIST_COLUMNS:
        frame[col] = frame[col].map(json.loads)
    return frame


def agreement_ids(path=None) -> set[str]:
    """The ids of every agreement (a loader checks ``--agreement`` against them)."""
    return set(read("SELECT id FROM agreements", path=path)["id"])


KEYED = "k1:"  # an entry chained with the deployment's HMAC key (store.secrets)


def _entry_hash(prev: str, seq: int, at: str, actor: str, role: str, event: str,
                detail: str, keyed: bool = True) -> str:
    body = json.dumps([seq, at, actor, role, event, detail],
                      ensure_ascii=False, separators=(",", ":"))
    if keyed:
        return KEYED + secrets.mac("audit", prev + body)
    return hashlib.sha256((prev + body).encode("utf-8")).hexdigest()  # before the key


def register_id(path=None) -> str:
    """The register as its checkpoint names it (a file's absolute path, or a URL without
    its password)."""
    target = governance_path(path)
    return describe(target) if isinstance(target, str) else str(target.resolve())


def append_audit(actor: str, role: str, event: str, detail: dict, path=None) -> int:
    """Append one entry to the audit log, chained to the one before with the deployment's
    key, and move the checkpoint kept outside the register to it; return its number."""
    text = json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str)
    with connect(path, write=True) as con:
        last = con.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1") \
            .fetchone()
        seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
        at = now()
        entry = _entry_hash(prev, seq, at, actor, role, event, text)
        con.execute("INSERT INTO audit_log VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [seq, at, actor, role, event, text, prev, entry])
        # Inside the write lock, so writers move the checkpoint in the chain's order.
        secrets.write_checkpoint(register_id(path), seq, entry, prev)
    return seq


def verify_chain(path=None) -> list[str]:
    """Check the audit log; return one line per problem (empty: intact).

    Every entry must follow the one before and carry its keyed MAC (entries from
    before the register had a key are checked as a plain chain, and only before the
    first keyed one). The log must still reach the checkpoint kept outside the
    register, so a removed tail, or a removed log, is found too.
    """
    log = read("SELECT * FROM audit_log ORDER BY seq", path=path)
    problems, prev, expected, keyed_seen = [], GENESIS, 1, False
    for row in log.itertuples(index=False):
        if row.seq != expected:
            problems.append(f"entry {expected} is missing (the next is {row.seq})")
        if row.prev_hash != prev:
            problems.append(f"entry {row.seq} does not follow the entry before it")
        keyed = str(row.hash).startswith(KEYED)
        if keyed_seen and not keyed:
            problems.append(f"entry {row.seq} ({row.event} by {row.actor}) has no keyed MAC "
                            "after keyed entries: it was forged")
        keyed_seen |= keyed
        want = _entry_hash(row.prev_hash, row.seq, row.logged_at, row.actor, row.role,
                           row.event, row.detail, keyed=keyed)
        if not hmac.compare_digest(want, str(row.hash)):
            problems.append(f"entry {row.seq} ({row.event} by {row.actor}) was changed or "
                            "forged (its MAC does not match the deployment's key)")
        prev, expected = row.hash, row.seq + 1
    try:
        checkpoint = secrets.read_checkpoint(register_id(path))
    except SourceError as err:
        return [*problems, err.user_message]
    last = int(log["seq"].max()) if len(log) else 0
    if checkpoint is None:
        if last:  # a register from before checkpoints gets one with its next entry
            problems.append("the checkpoint kept outside the register is missing, so a cut "
                            f"at the end cannot be ruled out; the log has {last} entries")
        return problems
    seq, head = checkpoint
    if last == 0:
        problems.append(f"the audit log is empty, but the checkpoint records {seq} entries: "
                        "the log was deleted")
    elif last < seq:
        problems.append(f"the log ends at entry {last}, but the checkpoint records entry "
                        f"{seq}: entries were removed from its end")
    else:
        at = log.loc[log["seq"] == seq, "hash"]
        if at.empty or not hmac.compare_digest(str(at.iat[0]), head):
            problems.append(f"entry {seq} is not the entry the checkpoint records")
    return problems


def take_sign_in_attempt(name: str, client: str, now: dt.datetime, *, limit: int,
                         pause: dt.timedelta, most: dt.timedelta, path=None
                         ) -> dt.datetime | None:
    """Count one sign-in attempt by ``client`` for ``name`` *before* its password is
    checked, in one write transaction, so attempts sent at once are counted one by one.

    A pair that has used up ``limit`` attempts without a success is paused: for
    ``pause`` the first time, twice as long each time after, at most ``most``. Names
    are counted whether or not they are accounts, so an unknown name is answered as a
    known one is. Returns when the pair is paused until (the attempt must be refused
    without checking the password), or None.
    """
    name, at = name.strip().lower()[:64], now.isoformat(timespec="seconds")
    with connect(path, write=True) as con:
        row = con.execute("SELECT attempts, locks, locked_until, last_at FROM "
                          "sign_in_attempts WHERE name = ? AND client = ?",
                          [name, client]).fetchone()
        attempts, locks, until, last = row if row else (0, 0, None, None)
        if until and dt.datetime.fromisoformat(until) > now:
            return dt.datetime.fromisoformat(until)
        if attempts >= limit:  # the pause runs from the last attempt of the spent round
            until = dt.datetime.fromisoformat(last) + min(pause * 2 ** locks, most)
            con.execute("UPDATE sign_in_attempts SET attempts = 0, locks = locks + 1, "
                        "locked_until = ? WHERE name = ? AND client = ?",
                        [until.isoformat(timespec="seconds"), name, client])
            if until > now:
                return until
        con.execute("INSERT INTO sign_in_attempts (name, client, attempts, locks, last_at) "
                    "VALUES (?, ?, 1, 0, ?) ON CONFLICT (name, client) DO UPDATE SET "
                    "attempts = sign_in_attempts.attempts + 1, last_at = excluded.last_at",
                    [name, client, at])
        con.execute("UPDATE accounts SET failed_logins = failed_logins + 1 "
                    "WHERE lower(name) = ?", [name])
        # Pairs quiet for a day start afresh (and junk names do not pile up).
        con.execute("DELETE FROM sign_in_attempts WHERE last_at < ? AND (locked_until IS NULL "
                    "OR locked_until < ?)", [(now - dt.timedelta(days=1)).isoformat(), at])
    return None


def sign_in_attempts(name: str, client: str, path=None) -> int:
    """How many attempts ``client`` has made for ``name`` since its last success or pause."""
    row = read("SELECT attempts FROM sign_in_attempts WHERE name = ? AND client = ?",
               [name.strip().lower()[:64], client], path)
    return int(row["attempts"].iat[0]) if len(row) else 0


def clear_sign_in(name: str, client: str, now: dt.datetime, path=None) -> None:
    """A successful sign-in: its pair's attempts and pauses start afresh."""
    with connect(path, write=True) as con:
        con.execute("DELETE FROM sign_in_attempts WHERE name = ? AND client = ?",
                    [name.strip().lower()[:64], client])
        con.execute("UPDATE accounts SET failed_logins = 0, locked_until = NULL, "
                    "last_login = ? WHERE lower(name) = ?",
                    [now.isoformat(timespec="microseconds"), name.strip().lower()])


def assign(agreement_id: str, indicators: list[str], path=None) -> None:
    """Add indicators to an agreement (an upload loaded under it).

    Raises
    ------
    SourceError
        If the agreement is unknown, or an indicator already belongs to another.
    """
    with connect(path, write=True) as con:
        rows = con.execute("SELECT id, indicators FROM agreements").fetchall()
        have = {i: json.loads(ind) for i, ind in rows}
        if agreement_id not in have:
            raise SourceError("--agreement", f"{agreement_id!r} is not in the register")
        taken = {i: a for a, ind in have.items() if a != agreement_id for i in ind}
        clash = sorted(i for i in indicators if i in taken)
        if clash:
            raise SourceError("--agreement", f"indicators {clash} already belong to the "
                              f"agreement {taken[clash[0]]}")
        merged = sorted(set(have[agreement_id]) | set(indicators))
        con.execute("UPDATE agreements SET indicators = ?, updated_at = ? WHERE id = ?",
                    [json.dumps(merged), now(), agreement_id])
