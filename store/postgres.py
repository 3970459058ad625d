"""The PostgreSQL + PostGIS store, for a shared deployment (``ODA_DATABASE_URL``).

Everything about talking to PostgreSQL is here: the ``?``-to-``%s`` placeholder
change, bulk loading with COPY, the lock writers take in turn, and the two
handles: :class:`PgStore`, which the dashboard reads through a connection pool
(psycopg_pool, so the app's sessions read in parallel, each on its own
connection), and :class:`PgConnection`, which the loaders write through.
Publishing a build is :mod:`store.publish`; roles and row-level security are
:mod:`store.security`.

Layout in the database:

* schema ``oda``: the store's tables (:mod:`store.schema`), with ``areas.geom`` as
  ``geometry(…, 27700)`` and the simplified map geometry (``map_fine``,
  ``map_coarse``) as ``geometry(…, 4326)``, so QGIS opens them;
* schema ``governance``: accounts, agreements and the audit log
  (:mod:`store.governance`), plus ``roles`` copied from ``config/roles.toml``.

Any number of app replicas can share one database; the governance register lives
in the same database, so sign-ins, agreements and the audit log are shared too.
"""

from __future__ import annotations

import atexit
import hashlib
import io
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager

import pandas as pd
import psycopg
from psycopg_pool import ConnectionPool

from store.base import StoreBase
from store.errors import SourceError, StoreMissingError
from store.settings import describe, governance_path

SEARCH_PATH = "oda,public"
# Writers (ingests, deletions, publishing) take this lock in turn; readers never wait.
WRITE_LOCK = int.from_bytes(hashlib.sha256(b"oda store writers").digest()[:4], "big")
GOVERNANCE_LOCK = WRITE_LOCK + 1
# The database role the app reads as: bound by row-level security, never the owner.
APP_ROLE = "oda_app"
_PLACEHOLDER = re.compile(r"\?")


def dialect(sql: str) -> str:
    """Portable SQL (``?`` placeholders) as psycopg takes it (``%s``; ``%`` doubled)."""
    return _PLACEHOLDER.sub("%s", sql.replace("%", "%%"))


def open_connection(url: str, *, autocommit: bool = True) -> psycopg.Connection:
    """A connection with the store's search path and no server-side prepared plans
    (a published build swaps the tables under them)."""
    try:
        return psycopg.connect(url, autocommit=autocommit, prepare_threshold=None,
                               options=f"-c search_path={SEARCH_PATH}", connect_timeout=10)
    except psycopg.OperationalError as err:
        raise SourceError("ODA_DATABASE_URL", f"cannot connect to PostgreSQL: "
                          f"{str(err).strip().splitlines()[0]}") from err


def frame_of(cur: psycopg.Cursor) -> pd.DataFrame:
    """A cursor's result as a DataFrame with the dtypes the DuckDB store gives."""
    names = [d.name for d in cur.description or []]
    rows = cur.fetchall()
    frame = pd.DataFrame.from_records(rows, columns=names) if rows else \
        pd.DataFrame({n: pd.Series(dtype=object) for n in names})
    for d in cur.description or []:
        col = frame[d.name]
        if d.type_code in (20, 21, 23):  # int8, int2, int4
            kind = "int64" if d.type_code == 20 else "int32"
            frame[d.name] = col.astype(kind.capitalize() if col.isna().any() else kind) \
                if len(col) else col.astype(kind)
        elif d.type_code in (700, 701, 1700):  # float4, float8, numeric
            frame[d.name] = pd.to_numeric(col, errors="coerce").astype("float64")
        elif d.type_code in (1082, 1114, 1184):  # date, timestamp, timestamptz
            frame[d.name] = pd.to_datetime(col).astype("datetime64[us]")
        elif d.type_code == 16 and len(col) and not col.isna().any():
            frame[d.name] = col.astype(bool)
    return frame


class PgConnection:
    """A writing connection to the PostgreSQL store."""

    def __init__(self, url: str) -> None:
        self.con = open_connection(url)
        if not self.con.execute("SELECT to_regclass('oda.build_info')").fetchone()[0]:
            self.con.close()
            raise SourceError("ODA_DATABASE_URL", "the database holds no store yet; run "
                              "`python -m loaders build` with ODA_DATABASE_URL set")

    def rows(self, sql: str, params: list | tuple = ()) -> list[tuple]:
        return self.con.execute(dialect(sql), list(params)).fetchall()

    def frame(self, sql: str, params: list | tuple = ()) -> pd.DataFrame:
        return frame_of(self.con.execute(dialect(sql), list(params)))

    def run(self, sql: str, params: list | tuple = ()) -> int:
        return self.con.execute(dialect(sql), list(params)).rowcount

    def insert(self, table: str, frame: pd.DataFrame) -> None:
        copy_frame(self.con, table, frame)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One transaction; writers wait for each other here, readers never do."""
        with self.con.transaction():
            self.con.execute("SELECT pg_advisory_xact_lock(%s)", [WRITE_LOCK])
            yield
            self.con.execute("UPDATE build_info SET value = clock_timestamp()::text "
                             "WHERE key = 'changed_at'")

    def close(self) -> None:
        self.con.close()


def copy_frame(con: psycopg.Connection, table: str, frame: pd.DataFrame) -> None:
    """Append a frame to a table with COPY (columns by name; NaN and None are NULL)."""
    if frame.empty:
        return
    ints = {name for name, in con.execute(
        "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 "
        "AND atttypid IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype)",
        [table]).fetchall()}
    # pandas holds whole numbers with gaps as floats ("3.0"), which COPY refuses.
    frame = frame.assign(**{c: frame[c].astype("Int64") for c in frame.columns
                            if c in ints and frame[c].dtype.kind == "f"})
    buf = io.StringIO()
    frame.to_csv(buf, index=False, header=False, na_rep="\\N")
    cols = ", ".join(f'"{c}"' for c in frame.columns)
    with con.cursor().copy(f"COPY {table} ({cols}) FROM STDIN WITH (FORMAT csv, NULL '\\N')"
                           ) as cp:
        cp.write(buf.getvalue())



def stored_fingerprint(url: str) -> str | None:
    """The fingerprint of the build the database holds, or None."""
    with open_connection(url) as con:
        if not con.execute("SELECT to_regclass('oda.build_info')").fetchone()[0]:
            return None
        row = con.execute("SELECT value FROM oda.build_info WHERE key = 'fingerprint'") \
            .fetchone()
    return row[0] if row else None



POOL_MAX = int(os.environ.get("ODA_POOL_SIZE", "10"))


class PgStore(StoreBase):
    """A pooled read handle on the PostgreSQL store.

    Raises
    ------
    StoreMissingError
        If the database cannot be reached or holds no built store.
    """

    backend = "postgres"

    def __init__(self, url: str, governance: str | os.PathLike | None = None, *,
                 bound: bool = True) -> None:
        self.target, self.bound = url, bound
        self.governance = governance_path(governance, store=url)
        self._pool = ConnectionPool(
            url, min_size=1, max_size=POOL_MAX, open=False, name="oda-store",
            kwargs={"autocommit": True, "prepare_threshold": None,
                    "options": f"-c search_path={SEARCH_PATH}"})
        try:
            self._pool.open(wait=True, timeout=15)
        except Exception as err:  # psycopg_pool.PoolTimeout carries no reason of its own
            self._pool.close()
            raise StoreMissingError(describe(url), "cannot be reached; is PostgreSQL "
                                    "running and ODA_DATABASE_URL right?") from err
        atexit.register(self._pool.close)
        try:
            with self._pool.connection() as con:
                con.execute("SELECT 1 FROM build_info LIMIT 1")
                app_role = con.execute("SELECT 1 FROM pg_roles WHERE rolname = %s",
                                       [APP_ROLE]).fetchone()
        except psycopg.Error as err:
            self._pool.close()
            raise StoreMissingError(describe(url), "holds no built store; run `python -m "
                                    "loaders build` with ODA_DATABASE_URL set") from err
        if bound and not app_role:
            self._pool.close()
            raise StoreMissingError(describe(url), f"was published without the app's "
                                    f"database role {APP_ROLE}; publish it again with "
                                    "`python -m loaders build --force`")

    def query(self, sql: str, params: list | tuple | None = None, *,
              scope: tuple[str, str] | None = None) -> pd.DataFrame:
        """Run a query on a pooled connection and return a DataFrame.

        A bound store (the app's) runs it as the database role ``oda_app`` with the
        scope's role and organisation set for the transaction, so the row-level
        security policies (:mod:`store.security`) bind it as they bind any SQL login:
        it reads no partner row the scope may not use."""
        with self._pool.connection() as con:
            if not self.bound:
                return frame_of(con.execute(dialect(sql), list(params or [])))
            role, org = scope or ("public", "")
            with con.transaction():
                con.execute("SELECT set_config('role', %s, true), "
                            "set_config('oda.role', %s, true), set_config('oda.org', %s, true)",
                            [APP_ROLE, role, org or ""])
                return frame_of(con.execute(dialect(sql), list(params or [])))

    def version(self) -> str:
        """When the store last changed: the build, then every ingest and deletion."""
        frame = self.query("SELECT key, value FROM build_info "
                           "WHERE key IN ('fingerprint', 'changed_at') ORDER BY key")
        return "|".join(frame["value"].astype(str))

    def close(self) -> None:
        self._pool.close()
