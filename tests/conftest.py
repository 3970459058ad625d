"""Shared fixtures. Tests read the real store that `make test` builds under geodata/.

Each test process gets its own governance register (accounts, agreements, audit)
in a temporary folder, so tests never touch the one beside the store.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

os.environ["ODA_GOVERNANCE"] = str(Path(tempfile.mkdtemp(prefix="oda-test-governance-"))
                                   / "governance.sqlite")

import geopandas as gpd
import pytest
import shapely

from dashboard.access import OPERATOR, accounts
from dashboard.store import Store
from loaders import data_dir, load_regions

PASSWORD = "test password 123"
# One account per role: (name, role, organisation).
PEOPLE = [("t_councillor", "councillor", ""), ("t_analyst", "analyst", "avon_police"),
          ("t_planner", "police_planner", "avon_police"),
          ("t_steward", "data_steward", "test_partner"), ("t_admin", "administrator", "")]

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def store() -> Store:
    """The built store (``make test`` builds it first)."""
    return Store(os.environ.get("ODA_STORE"))


@pytest.fixture(scope="session", autouse=True)
def people() -> dict[str, str]:
    """An account for every role in this process's governance register."""
    have = set(accounts.users()["name"])
    for name, role, org in PEOPLE:
        if name not in have:
            accounts.add_user(name, role, org, PASSWORD, by=OPERATOR)
    return {name: role for name, role, _ in PEOPLE}


@pytest.fixture(scope="session")
def regions():
    """The region presets."""
    return load_regions()


@pytest.fixture(scope="session")
def data() -> Path:
    """The open data folder."""
    return data_dir()


@pytest.fixture()
def lattice() -> gpd.GeoDataFrame:
    """A 3x3 grid of unit squares in BNG, codes A1..C3 (row letter, column number)."""
    cells = [(r, c) for r in range(3) for c in range(3)]
    return gpd.GeoDataFrame(
        {"code": [f"{'ABC'[r]}{c + 1}" for r, c in cells]},
        geometry=[shapely.box(c, r, c + 1, r + 1) for r, c in cells], crs=27700)


@pytest.fixture(scope="session")
def partner_world(tmp_path_factory, store):
    """A private store with three hand-made partner indicators, each with a different
    standing in the agreements register:

    - ``test_in``: in the live agreement ``ISA-IN`` (councillors and analysts, LSOA);
    - ``test_out``: in no agreement (its own stewards and administrators only);
    - ``test_gone``: in ``ISA-GONE``, which expired a year ago.

    Values are drawn with a fixed seed over Avon and Somerset's LSOAs, 12 months of
    2022, all at least 10 (no small counts: access, not disclosure, is tested here).
    Returns the store path; point ``ODA_STORE`` at it to use it from a page.
    """
    import datetime as dt
    import shutil

    import duckdb
    import numpy as np
    import pandas as pd

    from dashboard.access import agreements
    from loaders.ingest import ingest

    folder = tmp_path_factory.mktemp("partner_world")
    copy = folder / "store.duckdb"
    shutil.copy(store.path, copy)
    with duckdb.connect(str(copy)) as con:
        for table in ("observations", "catalogue", "quarantine", "ingest_log"):
            con.execute(f"DELETE FROM {table} WHERE origin = 'partner'")
        codes = [r[0] for r in con.execute(
            "SELECT DISTINCT lsoa_code FROM lsoa_ward l JOIN lad_codes d "
            "ON l.lad_code IN (d.lad_code, d.lad_code_active) WHERE l.vintage = 2011 "
            "AND d.lad_code_active IN ('E06000022', 'E06000023', 'E06000024', 'E06000025') "
            "ORDER BY 1").fetchall()]
    rng = np.random.default_rng(7)
    rows = [(code, f"2022-{m:02d}", ind, int(rng.integers(10, 40)))
            for ind in ("test_in", "test_out", "test_gone") for code in codes
            for m in range(1, 13)]
    path = folder / "partner.csv"
    pd.DataFrame(rows, columns=["area_code", "period", "indicator", "value"]) \
        .to_csv(path, index=False)
    meta = folder / "meta.toml"
    meta.write_text('[test_in]\ntitle = "Test: shared indicator"\n'
                    '[test_out]\ntitle = "Test: unshared indicator"\n'
                    '[test_gone]\ntitle = "Test: expired indicator"\n')
    report = ingest(path, partner="test_partner", meta=meta, store=copy)
    assert not report.refused, report.reason
    have = set(agreements.register()["id"])
    today = dt.date.today()
    for spec in ({"id": "ISA-IN", "indicators": ["test_in"], "expires": today.replace(
                  year=today.year + 2)},
                 {"id": "ISA-GONE", "indicators": ["test_gone"], "expires": today.replace(
                  year=today.year - 1), "start_date": today.replace(year=today.year - 3)}):
        if spec["id"] not in have:
            agreements.add({"title": f"Test agreement {spec['id']}", "parties": "test_partner",
                            "roles": "councillor,analyst", "level": "lsoa", **spec},
                           {"test_in", "test_out", "test_gone"}, by=OPERATOR)
    return copy
