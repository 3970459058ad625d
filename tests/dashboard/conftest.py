"""Fixtures shared by the model's tests."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest

from loaders.ingest import ingest
from store import PARTNER_TABLES, Store

SERIES = "policeuk_lsoa_monthly_avon_and_somerset_2018-01_2025-08.csv.gz"


@pytest.fixture(scope="session")
def series(tmp_path_factory, store, data) -> Store:
    """A copy of the store with the 92-month police series loaded as partner data
    (small counts hidden, LSOA 2011 codes until 2023 and 2021 codes after), and no
    other partner rows. Read only."""
    return Store(series_copy(store, data / "partners" / SERIES,
                             tmp_path_factory.mktemp("series")))


def series_copy(store: Store, file, folder) -> Path:
    """A copy of the store in ``folder`` with no partner rows but ``file`` (the police
    series, or a file made from it), loaded as the partner ``police_test``."""
    copy = folder / "store.duckdb"
    shutil.copy(store.path, copy)
    with duckdb.connect(str(copy)) as con:
        for table in PARTNER_TABLES:
            con.execute(f"DELETE FROM {table} WHERE origin = 'partner'")
    meta = folder / "meta.toml"
    meta.write_text('coverage = "avon_and_somerset"\npolarity = "high_is_bad"\n')
    report = ingest(file, store=copy, partner="police_test", meta=meta,
                    today=dt.date(2026, 12, 1))
    assert not report.refused, report.reason
    return copy
