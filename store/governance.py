"""The governance register: accounts, information-sharing agreements and the audit log.

Open data can always be rebuilt from its files; governance cannot. So it lives
in its own small file beside the store (``geodata/governance.sqlite``, or
``ODA_GOVERNANCE``), which a store rebuild never touches. It is SQLite, not
DuckDB, because several programs write to it at once (the app's sign-ins and
audit entries, ``python -m dashboard`` and ``python -m loaders`` runs): SQLite
lets many processes read while one writes, and a writer waits its turn (up to
:data:`WAIT_SECONDS`) instead of failing, where DuckDB admits one process only.

The audit log is append-only and hash-chained: each entry's ``hash`` is the
SHA-256 of the entry before it and its own fields, so editing or deleting a
row breaks the chain (:func:`verify_chain`).

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
import json
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from store import postgres
from store.errors import SourceError
from store.settings import governance_path

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
        return self.con.execute(postgres.dialect(sql), list(params))


def ensure(url: str) -> None:
    """Create the register's schema in a PostgreSQL store (idempotent)."""
    with postgres.open_connection(url) as con:
        con.execute(PG_DDL)
    _ready.add(url)


@contextmanager
def _connect_pg(url: str, write: bool) -> Iterator[_Pg]:
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


def agreements(path=None) -> pd.DataFrame:
    """Every agreement, its list columns as Python lists."""
    frame = read("SELECT * FROM agreements ORDER BY id", path=path)
    for col in LIST_COLUMNS:
        frame[col] = frame[col].map(json.loads)
    return frame


def agreement_ids(path=None) -> set[str]:
    """The ids of every agreement (a loader checks ``--agreement`` against them)."""
    return set(read("SELECT id FROM agreements", path=path)["id"])


def _entry_hash(prev: str, seq: int, at: str, actor: str, role: str, event: str,
                detail: str) -> str:
    body = json.dumps([seq, at, actor, role, event, detail],
                      ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((prev + body).encode("utf-8")).hexdigest()


def append_audit(actor: str, role: str, event: str, detail: dict, path=None) -> int:
    """Append one entry to the audit log, chained to the one before; return its number."""
    text = json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str)
    with connect(path, write=True) as con:
        last = con.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1") \
            .fetchone()
        seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
        at = now()
        con.execute("INSERT INTO audit_log VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [seq, at, actor, role, event, text, prev,
                     _entry_hash(prev, seq, at, actor, role, event, text)])
    return seq


def verify_chain(path=None) -> list[str]:
    """Check the audit log's chain; return one line per broken entry (empty: intact)."""
    log = read("SELECT * FROM audit_log ORDER BY seq", path=path)
    problems, prev, expected = [], GENESIS, 1
    for row in log.itertuples(index=False):
        if row.seq != expected:
            problems.append(f"entry {expected} is missing (the next is {row.seq})")
        if row.prev_hash != prev:
            problems.append(f"entry {row.seq} does not follow the entry before it")
        if _entry_hash(row.prev_hash, row.seq, row.logged_at, row.actor, row.role, row.event,
                       row.detail) != row.hash:
            problems.append(f"entry {row.seq} ({row.event} by {row.actor}) was changed")
        prev, expected = row.hash, row.seq + 1
    return problems


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
