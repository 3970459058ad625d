"""Loader test fixtures."""

from __future__ import annotations

import shutil

import duckdb
import pytest

from store import PARTNER_TABLES


@pytest.fixture()
def loader_store(tmp_path, store):
    """A private copy of the built store's file with no partner rows, to load into."""
    copy = tmp_path / "store.duckdb"
    shutil.copy(store.path, copy)
    with duckdb.connect(str(copy)) as con:
        for table in PARTNER_TABLES:
            con.execute(f"DELETE FROM {table} WHERE origin = 'partner'")
    return copy


def counts(report) -> tuple[int, int, int, int]:
    """A loaded file's rows read, loaded, hidden by the partner and quarantined, after
    checking that it loaded and that no row is lost."""
    assert not report.refused, report.reason
    assert report.rows_read == report.rows_loaded + report.rows_suppressed + \
        report.rows_quarantined
    return (report.rows_read, report.rows_loaded, report.rows_suppressed,
            report.rows_quarantined)
