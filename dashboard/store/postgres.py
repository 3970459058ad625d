"""The PostgreSQL + PostGIS store, for a shared deployment (``ODA_DATABASE_URL``).

Queries go through a connection pool (psycopg_pool), so the app's sessions read
in parallel, each on its own connection; there is no global lock. Any number of
app replicas can share one database (or a primary and its read replicas); the
governance register lives in the same database, so sign-ins, agreements and the
audit log are shared too.

The dashboard connects as the store's owner, which the row-level security
policies do not bind: it applies the same rules itself, in
``measures.indicator_view``, with disclosure control on top. The policies are
for everyone who reads the database directly (QGIS, psql, a notebook).
"""

from __future__ import annotations

import atexit
import os

import pandas as pd
import psycopg
from psycopg_pool import ConnectionPool

from dashboard.store.base import StoreBase
from loaders import StoreMissingError
from loaders.db import describe
from loaders.db.postgres import SEARCH_PATH, dialect, frame_of
from loaders.governance import governance_path

POOL_MAX = int(os.environ.get("ODA_POOL_SIZE", "10"))


class PgStore(StoreBase):
    """A pooled read handle on the PostgreSQL store.

    Raises
    ------
    StoreMissingError
        If the database cannot be reached or holds no built store.
    """

    backend = "postgres"

    def __init__(self, url: str, governance: str | os.PathLike | None = None) -> None:
        self.target = url
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
            self.query("SELECT 1 FROM build_info LIMIT 1")
        except psycopg.Error as err:
            self._pool.close()
            raise StoreMissingError(describe(url), "holds no built store; run `python -m "
                                    "loaders build` with ODA_DATABASE_URL set") from err

    def query(self, sql: str, params: list | tuple | None = None) -> pd.DataFrame:
        """Run a query on a pooled connection and return a DataFrame."""
        with self._pool.connection() as con:
            return frame_of(con.execute(dialect(sql), list(params or [])))

    def version(self) -> str:
        """When the store last changed: the build, then every ingest and deletion."""
        frame = self.query("SELECT key, value FROM build_info "
                           "WHERE key IN ('fingerprint', 'changed_at') ORDER BY key")
        return "|".join(frame["value"].astype(str))

    def close(self) -> None:
        self._pool.close()
