"""Access to the built store.

The store is a DuckDB file opened read-only. Queries are serialised by a lock,
so one cached ``Store`` is safe to share between the app's sessions (threads).
A partner upload from the Data page writes inside :meth:`Store.writing`, which
closes the read-only connection (DuckDB allows one writer and no readers of
another mode) and reopens it on the next query.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pandas as pd

from loaders import StoreMissingError, store_path
from loaders.governance import governance_path


class Store:
    """A read-only handle on the DuckDB store.

    Parameters
    ----------
    path : path-like, optional
        The store file; ``ODA_STORE`` or ``geodata/oda.duckdb`` by default.
    governance : path-like, optional
        The governance register; ``ODA_GOVERNANCE`` or beside the store.

    Raises
    ------
    StoreMissingError
        If the file does not exist or is not a built store.
    """

    def __init__(self, path: str | os.PathLike | None = None,
                 governance: str | os.PathLike | None = None) -> None:
        self.path = Path(store_path(path))
        # The governance register (accounts, agreements, audit) beside the store.
        self.governance = governance_path(governance, store=self.path)
        if not self.path.exists():
            raise StoreMissingError(
                str(self.path), "the store has not been built; run `make run` or "
                "`python -m loaders build`")
        self._lock = threading.RLock()
        self._con: duckdb.DuckDBPyConnection | None = None
        self._inode = 0
        try:
            self._open().execute("SELECT 1 FROM build_info LIMIT 1")
        except duckdb.Error as err:
            raise StoreMissingError(str(self.path), f"is not a built store: {err}") from err

    def _open(self) -> duckdb.DuckDBPyConnection:
        # A rebuild swaps in a new file: reopen rather than read the replaced one.
        inode = self.path.stat().st_ino
        if self._con is not None and inode != self._inode:
            self._con.close()
            self._con = None
        if self._con is None:
            self._con = duckdb.connect(str(self.path), read_only=True)
            self._inode = inode
        return self._con

    def query(self, sql: str, params: list | tuple | None = None) -> pd.DataFrame:
        """Run a query and return its result as a DataFrame."""
        with self._lock:
            return self._open().execute(sql, params or []).df()

    @contextmanager
    def writing(self) -> Iterator[Path]:
        """Hold queries back and release the file while a loader writes to it."""
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None
            yield self.path

    def info(self) -> dict[str, str]:
        """The build information: when, how long, from where."""
        return dict(self.query("SELECT key, value FROM build_info").values.tolist())
