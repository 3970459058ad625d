"""Loader test fixtures."""

from __future__ import annotations

import shutil

import duckdb
import pytest

from loaders.db import PARTNER_TABLES


@pytest.fixture()
def loader_store(tmp_path, store):
    """A private copy of the built store's file with no partner rows, to load into."""
    copy = tmp_path / "store.duckdb"
    shutil.copy(store.path, copy)
    with duckdb.connect(str(copy)) as con:
        for table in PARTNER_TABLES:
            con.execute(f"DELETE FROM {table} WHERE origin = 'partner'")
    return copy
