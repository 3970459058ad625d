"""Where the store lives, and one way for the loaders to write to it.

The store is either the embedded DuckDB file (the default: ``geodata/oda.duckdb``
or ``ODA_STORE``) or a PostgreSQL + PostGIS database, chosen by one setting,
``ODA_DATABASE_URL`` (a libpq URL such as ``postgresql://oda@db.example/oda``).

:func:`connect` returns a :class:`Connection` for either. The loaders write
through it in portable SQL with ``?`` placeholders; what differs between the two
databases (placeholders, bulk loading, locking, the schema's types) lives in
:mod:`loaders.db.duckdb` and :mod:`loaders.db.postgres`, one module a dialect.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol

import pandas as pd

from loaders.config import store_path

URL_SCHEMES = ("postgresql://", "postgres://")
# Tables that hold partner uploads beside open data (``origin = 'partner'``). Partner
# rows exist only in the store, so a rebuild carries them across.
PARTNER_TABLES = ("catalogue", "observations", "coverage", "crime_points", "quarantine",
                  "ingest_log")


def is_url(target: object) -> bool:
    """Whether a store target is a PostgreSQL URL (else it is a DuckDB file)."""
    return isinstance(target, str) and target.startswith(URL_SCHEMES)


def database_url() -> str | None:
    """``ODA_DATABASE_URL``, when the deployment uses PostgreSQL."""
    value = os.environ.get("ODA_DATABASE_URL", "").strip()
    return value or None


def store_target(store: str | os.PathLike | None = None) -> Path | str:
    """The store: ``store`` as given (a file or a URL), else ``ODA_DATABASE_URL``,
    else the DuckDB file (``ODA_STORE`` or ``geodata/oda.duckdb``)."""
    if store is not None and str(store) != "":
        return str(store) if is_url(str(store)) else Path(store)
    return database_url() or store_path()


def describe(target: Path | str) -> str:
    """A store target for messages, without any password in a URL."""
    if not is_url(target):
        return str(target)
    from psycopg.conninfo import conninfo_to_dict
    info = conninfo_to_dict(str(target))
    return (f"postgresql://{info.get('user', '')}@{info.get('host', '')}"
            f"{':' + str(info['port']) if info.get('port') else ''}/{info.get('dbname', '')}")


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


def connect(target: Path | str, *, purpose: str = "a load") -> Connection:
    """A writing connection to the store.

    Raises
    ------
    loaders.LoaderError
        If the store is not built, or (DuckDB) the file stays busy too long.
    """
    if is_url(target):
        from loaders.db import postgres
        return postgres.PgConnection(str(target))
    from loaders.db import duckdb
    return duckdb.DuckConnection(Path(target), purpose=purpose)


def first(con: Connection, sql: str, params: list | tuple = ()) -> tuple | None:
    """The first row of a query, or None."""
    rows = con.rows(sql, params)
    return rows[0] if rows else None


def batches(values: list, size: int = 5000) -> Iterator[list]:
    """``values`` in lists of at most ``size`` (for IN lists)."""
    for i in range(0, len(values), size):
        yield values[i:i + size]
