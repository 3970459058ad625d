"""The embedded DuckDB store (the default backend): reading it, and writing to it
while the dashboard reads it.

Reading: the file is opened read-only, and queries are serialised by a lock: one
DuckDB connection is not for several threads at once. So one cached store is safe
to share between the app's sessions, at the cost of one queue; the PostgreSQL
backend has a connection pool instead.

Writing: DuckDB admits one process to a file when that process writes. The
dashboard holds the file open read-only, so a command-line ingest could never get
in. The two take turns instead, through files beside the store:

* a writer takes ``<store>.writer.lock`` (writers queue on it, one at a time),
  then leaves a *write request*, ``<store>.write-request``, naming itself;
* every reader (:class:`DuckStore`) watches for the
  request, finishes the query it is running, lets go of the file and holds its
  next queries until the request is gone;
* the writer retries until the file is free (saying once, plainly, what it
  waits for), writes, and removes the request.

A writer that waits longer than :data:`WAIT_SECONDS` gives up with a message
that says why; it never fails with DuckDB's lock error. A request left by a
writer that died is recognised (its process is gone) and ignored. The app keeps
serving meanwhile (cached figures need no query at all). An upload from the Data
page writes inside :meth:`DuckStore.writing`, which closes the connection the same
way.
"""

from __future__ import annotations

import atexit
import fcntl
import os
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pandas as pd

from store.base import StoreBase
from store.errors import SourceError, StoreMissingError
from store.schema import PARTNER_TABLES
from store.settings import governance_path

WAIT_SECONDS = float(os.environ.get("ODA_WRITE_WAIT_SECONDS", "120"))
POLL_SECONDS = 0.1


def request_file(store: Path) -> Path:
    """The write request beside a store file."""
    return store.with_name(store.name + ".write-request")


def pending_request(store: Path) -> str | None:
    """What the live write request says (who waits), or None when there is none.

    A request whose writer process has died is stale and removed.
    """
    req = request_file(store)
    try:
        text = req.read_text()
    except OSError:
        return None
    pid = int(text.split(" ", 1)[0]) if text[:1].isdigit() else 0
    if pid and pid != os.getpid():
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            req.unlink(missing_ok=True)
            return None
        except PermissionError:
            pass
    return text


@contextmanager
def write_turn(store: Path, purpose: str = "a load",
               say: Callable[[str], None] | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection to the store file, taken in turn with its readers.

    Raises
    ------
    SourceError
        If the store is not built, or the file is not free within :data:`WAIT_SECONDS`.
    """
    say = say or (lambda line: print(line, file=sys.stderr))
    if not store.exists():
        raise SourceError(str(store), "the store has not been built; run `make run` or "
                          "`python -m loaders build` first")
    lock = open(store.with_name(store.name + ".writer.lock"), "a+")  # noqa: SIM115
    deadline = time.monotonic() + WAIT_SECONDS
    try:
        _take(lock, deadline, store, say)
        req = request_file(store)
        req.write_text(f"{os.getpid()} {purpose}")
        try:
            con = _open(store, deadline, say)
            try:
                yield con
            finally:
                con.close()
        finally:
            req.unlink(missing_ok=True)
    finally:
        lock.close()  # releases the writers' lock


def _take(lock, deadline: float, store: Path, say) -> None:
    told = False
    while True:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if not told:
                say(f"waiting for another load into {store.name} to finish...")
                told = True
            if time.monotonic() > deadline:
                raise SourceError(str(store), f"another load has held the store for over "
                                  f"{WAIT_SECONDS:.0f} s; try again when it has finished") \
                    from None
            time.sleep(POLL_SECONDS)


def _open(store: Path, deadline: float, say) -> duckdb.DuckDBPyConnection:
    told = False
    while True:
        try:
            return duckdb.connect(str(store))
        except duckdb.IOException as err:
            if "lock" not in str(err).lower():
                raise SourceError(str(store), f"cannot be opened for writing: {err}") from err
            if not told:
                say(f"waiting for the dashboard to finish its current queries on "
                    f"{store.name}; it pauses reading while this load is written...")
                told = True
            if time.monotonic() > deadline:
                raise SourceError(str(store), f"is still held by another program after "
                                  f"{WAIT_SECONDS:.0f} s (a dashboard from before write "
                                  "turns, or a long query); stop it or upload through the "
                                  "Data page") from None
            time.sleep(POLL_SECONDS)


class DuckConnection:
    """A writing connection to the DuckDB store file, taken in turn with readers."""

    def __init__(self, store: Path, purpose: str = "a load") -> None:
        self._turn = write_turn(store, purpose)
        self.con = self._turn.__enter__()

    def rows(self, sql: str, params: list | tuple = ()) -> list[tuple]:
        return self.con.execute(sql, list(params)).fetchall()

    def frame(self, sql: str, params: list | tuple = ()) -> pd.DataFrame:
        return self.con.execute(sql, list(params)).df()

    def run(self, sql: str, params: list | tuple = ()) -> int:
        row = self.con.execute(sql, list(params)).fetchone()
        return int(row[0]) if row and isinstance(row[0], int) else 0

    def insert(self, table: str, frame: pd.DataFrame) -> None:
        self.con.register("_frame", frame)
        try:
            self.con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _frame")
        finally:
            self.con.unregister("_frame")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        # The file is this process's alone while the connection is open.
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise

    def close(self) -> None:
        self._turn.__exit__(None, None, None)


# -- reading: the dashboard's handle, which lets go of the file for a writer --------

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

    def query(self, sql: str, params: list | tuple | None = None, *,
              scope: tuple[str, str] | None = None) -> pd.DataFrame:
        """Run a query and return its result as a DataFrame (``scope`` is for the
        PostgreSQL store's row-level security; DuckDB has none)."""
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


# -- building: the open-data build writes a new file, then swaps it in ----------------------

def insert_frame(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
    """Append a frame to a table of a file being built (columns by name)."""
    cols = ", ".join(f'"{c}"' for c in frame.columns)
    con.register("_frame", frame)
    try:
        con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _frame")
    finally:
        con.unregister("_frame")


def stored_fingerprint(path: Path) -> str | None:
    """The fingerprint of the store at ``path``, or None if there is none."""
    if not path.exists():
        return None
    try:
        with duckdb.connect(str(path), read_only=True) as con:
            row = con.execute("SELECT value FROM build_info WHERE key = 'fingerprint'").fetchone()
    except duckdb.Error:
        return None
    return row[0] if row else None


def carry_partner_rows(con: duckdb.DuckDBPyConnection, old: Path,
                       log: Callable[[str], None]) -> None:
    """Copy partner uploads from the store being replaced into the new one.

    Open data is rebuilt from its files; partner data exists only in the store,
    so a rebuild must never lose it.
    """
    if not old.exists():
        return
    try:
        con.execute(f"ATTACH '{old}' AS old (READ_ONLY)")
    except duckdb.Error as err:
        raise SourceError(str(old), f"the existing store cannot be read to keep its partner "
                          f"uploads: {err}") from err
    try:
        cols = {t: [r[0] for r in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE database_name = 'old' "
            "AND table_name = ?", [t]).fetchall()] for t in PARTNER_TABLES}
        moved = 0
        for table in PARTNER_TABLES:
            if "origin" not in cols[table]:
                continue  # a store from before this table took partner rows holds none
            shared = [c for c in cols[table] if c in {r[0] for r in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE database_name = current_database() "
                "AND table_name = ?", [table]).fetchall()}]
            names = ", ".join(f'"{c}"' for c in shared)
            moved += con.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM old.{table} "
                                 f"WHERE origin = 'partner'").fetchone()[0]
        if moved:
            log(f"kept {moved} partner rows from the previous store")
    finally:
        con.execute("DETACH old")
