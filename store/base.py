"""The interface every store backend provides."""

from __future__ import annotations

import abc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd


class StoreBase(abc.ABC):
    """A read handle on the store, safe to share between the app's sessions (threads).

    Attributes
    ----------
    target : Path or str
        The DuckDB file, or the PostgreSQL URL.
    governance : Path or str
        The governance register (accounts, agreements, audit): a SQLite file beside
        a DuckDB store, the ``governance`` schema of a PostgreSQL one.
    backend : str
        ``"duckdb"`` or ``"postgres"``.
    """

    backend: str
    target: Path | str
    governance: Path | str

    @abc.abstractmethod
    def query(self, sql: str, params: list | tuple | None = None, *,
              scope: tuple[str, str] | None = None) -> pd.DataFrame:
        """Run a portable query (``?`` placeholders) and return a DataFrame.

        ``scope`` is the viewer's ``(role, organisation)``; None reads as the public.
        On PostgreSQL a store opened for the app (``bound``) runs the query under
        the database's row-level security for that scope, so it cannot return a
        partner's row the scope may not use; the DuckDB file has no such layer, and
        the model's door is the guard there."""

    @abc.abstractmethod
    def version(self) -> str:
        """Changes whenever the store's contents do (a build, an upload, a deletion):
        the key cached figures depend on."""

    @contextmanager
    def writing(self) -> Iterator[Path | str]:
        """The target for a loader to write to from this process (a DuckDB store
        lets go of its file meanwhile)."""
        yield self.target

    @property
    def path(self) -> Path | str:
        """The target (kept for callers that name a DuckDB store by its file)."""
        return self.target

    def info(self) -> dict[str, str]:
        """The build information: when, how long, from where."""
        return dict(self.query("SELECT key, value FROM build_info").values.tolist())

    @abc.abstractmethod
    def close(self) -> None:
        """Let go of connections (a finished test or a stopped server)."""
