"""Read access to the built store.

The store is a DuckDB file opened read-only; each query gets its own cursor, so
one cached ``Store`` is safe to share between the app's sessions (threads).
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pandas as pd

from loaders import StoreMissingError, store_path


class Store:
    """A read-only handle on the DuckDB store.

    Parameters
    ----------
    path : path-like, optional
        The store file; ``ODA_STORE`` or ``geodata/oda.duckdb`` by default.

    Raises
    ------
    StoreMissingError
        If the file does not exist or is not a built store.
    """

    def __init__(self, path: str | os.PathLike | None = None) -> None:
        self.path = Path(store_path(path))
        if not self.path.exists():
            raise StoreMissingError(
                str(self.path), "the store has not been built; run `make run` or "
                "`python -m loaders build`")
        try:
            self._con = duckdb.connect(str(self.path), read_only=True)
            self._con.execute("SELECT 1 FROM build_info LIMIT 1")
        except duckdb.Error as err:
            raise StoreMissingError(str(self.path), f"is not a built store: {err}") from err

    def query(self, sql: str, params: list | tuple | None = None) -> pd.DataFrame:
        """Run a query and return its result as a DataFrame."""
        cur = self._con.cursor()
        try:
            return cur.execute(sql, params or []).df()
        finally:
            cur.close()

    def info(self) -> dict[str, str]:
        """The build information: when, how long, from where."""
        return dict(self.query("SELECT key, value FROM build_info").values.tolist())
