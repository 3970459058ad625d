"""The store the model reads: one interface, two backends.

* :mod:`dashboard.store.duckdb`: the embedded DuckDB file, the default, which is
  what lets ``make run`` work on a laptop;
* :mod:`dashboard.store.postgres`: PostgreSQL + PostGIS, chosen by
  ``ODA_DATABASE_URL``, for a deployment that many people and several app
  replicas share.

Both answer the same portable SQL (``?`` placeholders) with the same frames;
:class:`dashboard.store.base.StoreBase` is the interface. :func:`Store` opens
whichever the settings (or its argument) name.
"""

from __future__ import annotations

import os

from dashboard.store.base import StoreBase
from loaders.db import is_url, store_target


def Store(path: str | os.PathLike | None = None,  # noqa: N802 (reads as the class it returns)
          governance: str | os.PathLike | None = None) -> StoreBase:
    """Open the store: ``path`` (a DuckDB file or a PostgreSQL URL), else
    ``ODA_DATABASE_URL``, else the DuckDB file (``ODA_STORE`` or the default).

    Raises
    ------
    loaders.StoreMissingError
        If the store has not been built.
    """
    target = store_target(path)
    if is_url(target):
        from dashboard.store.postgres import PgStore
        return PgStore(str(target), governance=governance)
    from dashboard.store.duckdb import DuckStore
    return DuckStore(target, governance=governance)


__all__ = ["Store", "StoreBase"]
