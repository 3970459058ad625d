"""The embedded DuckDB store (the default backend).

The file is opened read-only, and queries are serialised by a lock: one DuckDB
connection is not for several threads at once. So one cached store is safe to
share between the app's sessions, at the cost of one queue; the PostgreSQL
backend has a connection pool instead.

Writers take turns with the readers (:mod:`loaders.db.duckdb`): when a
command-line ingest asks for the file, the store finishes its current query,
closes the file and holds its next queries until the write is done, then
reopens it. The app keeps serving (cached figures need no query at all) and the
ingest never meets DuckDB's lock error. An upload from the Data page writes
inside :meth:`DuckStore.writing`, which closes the connection the same way.
"""

from __future__ import annotations

import atexit
import os
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pandas as pd

from dashboard.store.base import StoreBase
from loaders import StoreMissingError
from loaders.db.duckdb import POLL_SECONDS, WAIT_SECONDS, pending_request
from loaders.governance import governance_path

_open_stores: weakref.WeakSet[DuckStore] = weakref.WeakSet()
_watcher: threading.Thread | None = None
_watcher_lock = threading.Lock()


def _watch() -> None:
    """Let go of the file of every idle store whose file a writer has asked for."""
    while True:
        time.sleep(POLL_SECONDS)
        for store in list(_open_stores):
            if store._con is not None and pending_request(store.target):
                store._release()


def _start_watcher() -> None:
    global _watcher
    with _watcher_lock:
        if _watcher is None or not _watcher.is_alive():
            _watcher = threading.Thread(target=_watch, name="oda-store-watcher", daemon=True)
            _watcher.start()


@atexit.register
def _close_all() -> None:
    # Close files before the interpreter tears DuckDB's bindings down.
    for store in list(_open_stores):
        store._release()


class DuckStore(StoreBase):
    """A read-only handle on the DuckDB store file.

    Parameters
    ----------
    path : path-like
        The store file.
    governance : path-like, optional
        The governance register; ``ODA_GOVERNANCE`` or beside the store.

    Raises
    ------
    StoreMissingError
        If the file does not exist or is not a built store.
    """

    backend = "duckdb"

    def __init__(self, path: str | os.PathLike, governance: str | os.PathLike | None = None
                 ) -> None:
        self.target = Path(path)
        # The governance register (accounts, agreements, audit) beside the store.
        self.governance = governance_path(governance, store=self.target)
        if not self.target.exists():
            raise StoreMissingError(
                str(self.target), "the store has not been built; run `make run` or "
                "`python -m loaders build`")
        self._lock = threading.RLock()
        self._con: duckdb.DuckDBPyConnection | None = None
        self._inode = 0
        try:
            with self._lock:
                self._open().execute("SELECT 1 FROM build_info LIMIT 1")
        except duckdb.Error as err:
            raise StoreMissingError(str(self.target), f"is not a built store: {err}") from err
        _open_stores.add(self)
        _start_watcher()

    def _open(self) -> duckdb.DuckDBPyConnection:
        # A writer asked for the file: wait for it (the lock holds every other query).
        waited = time.monotonic()
        while pending_request(self.target) and time.monotonic() - waited < WAIT_SECONDS + 5:
            if self._con is not None:
                self._con.close()
                self._con = None
            time.sleep(POLL_SECONDS)
        # A rebuild swaps in a new file: reopen rather than read the replaced one.
        inode = self.target.stat().st_ino
        if self._con is not None and inode != self._inode:
            self._con.close()
            self._con = None
        if self._con is None:
            self._con = duckdb.connect(str(self.target), read_only=True)
            self._inode = inode
        return self._con

    def _release(self) -> None:
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None

    def query(self, sql: str, params: list | tuple | None = None) -> pd.DataFrame:
        """Run a query and return its result as a DataFrame."""
        with self._lock:
            return self._open().execute(sql, list(params or [])).df()

    def version(self) -> str:
        """The file's modification time: every build and every write changes it."""
        try:
            return str(self.target.stat().st_mtime_ns)
        except OSError:
            return "0"

    @contextmanager
    def writing(self) -> Iterator[Path]:
        """Hold queries back and release the file while a loader writes to it."""
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None
            yield self.target

    def close(self) -> None:
        self._release()
        _open_stores.discard(self)
