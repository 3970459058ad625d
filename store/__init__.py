"""The store: the only code that opens a connection to it.

The store is either the embedded DuckDB file (the default: ``geodata/oda.duckdb``
or ``ODA_STORE``) or a PostgreSQL + PostGIS database, chosen by one setting,
``ODA_DATABASE_URL`` (:mod:`store.settings`). This package holds both backends,
the one schema (:mod:`store.schema`), the governance register
(:mod:`store.governance`: accounts, agreements, the audit log) and, on
PostgreSQL, the roles and row-level security (:mod:`store.security`).

* :func:`Store` opens a read handle (:class:`store.base.StoreBase`), safe to share
  between the app's sessions; the model reads partner rows through it only in its
  one door (``dashboard.measures``).
* :func:`connect` opens a writing :class:`Connection` for the loaders.

Both speak portable SQL with ``?`` placeholders; what differs between the two
databases (placeholders, bulk loading, locking, types) lives in
:mod:`store.duckdb` and :mod:`store.postgres`, one module a dialect. Nothing
here imports ``loaders`` or ``dashboard``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol

import pandas as pd

from store.base import StoreBase
from store.errors import ConfigError, SourceError, StoreMissingError
from store.schema import PARTNER_TABLES
from store.settings import (
    database_url,
    describe,
    governance_path,
    is_url,
    store_path,
    store_target,
)


class Connection(Protocol):
    """What the loaders need of a store connection (both backends provide it)."""

    def rows(self, sql: str, params: list | tuple = ()) -> list[tuple]:
        """Run a query and return its rows."""

    def frame(self, sql: str, params: list | tuple = ()) -> pd.DataFrame:
        """Run a query and return a DataFrame."""

    def run(self, sql: str, params: list | tuple = ()) -> int:
        """Run one statement; return the rows it changed."""

    def insert(self, table: str, frame: pd.DataFrame) -> None:
        """Append a frame's rows to a table, columns matched by name."""

    def transaction(self) -> AbstractContextManager[None]:
        """One transaction that writers take in turn (committed at the end)."""

    def close(self) -> None:
        """Give the connection back."""


def Store(path: str | os.PathLike | None = None,  # noqa: N802 (reads as the class it returns)
          governance: str | os.PathLike | None = None, *, bound: bool = True) -> StoreBase:
    """Open the store for reading: ``path`` (a DuckDB file or a PostgreSQL URL), else
    ``ODA_DATABASE_URL``, else the DuckDB file (``ODA_STORE`` or the default).

    On PostgreSQL the handle is ``bound`` by default: it reads as the app's database
    role, under row-level security for each query's scope. ``bound=False`` reads as
    the connecting login (the owner sees everything): for tests and operators only.

    Raises
    ------
    StoreMissingError
        If the store has not been built.
    """
    target = store_target(path)
    if is_url(target):
        from store.postgres import PgStore
        return PgStore(str(target), governance=governance, bound=bound)
    from store.duckdb import DuckStore
    return DuckStore(target, governance=governance)


def connect(target: Path | str, *, purpose: str = "a load") -> Connection:
    """A writing connection to the store.

    Raises
    ------
    SourceError
        If the store is not built, or (DuckDB) the file stays busy too long.
    """
    if is_url(target):
        from store import postgres
        return postgres.PgConnection(str(target))
    from store import duckdb
    return duckdb.DuckConnection(Path(target), purpose=purpose)


def first(con: Connection, sql: str, params: list | tuple = ()) -> tuple | None:
    """The first row of a query, or None."""
    rows = con.rows(sql, params)
    return rows[0] if rows else None


def batches(values: list, size: int = 5000) -> Iterator[list]:
    """``values`` in lists of at most ``size`` (for IN lists)."""
    for i in range(0, len(values), size):
        yield values[i:i + size]


__all__ = ["PARTNER_TABLES", "ConfigError", "Connection", "SourceError", "Store", "StoreBase",
           "StoreMissingError", "batches", "connect", "database_url", "describe", "first",
           "governance_path", "is_url", "store_path", "store_target"]
