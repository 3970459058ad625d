"""Shared fixtures. Tests read the real store that `make test` builds under geodata/."""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from dashboard.store import Store
from loaders import data_dir, load_regions

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def store() -> Store:
    """The built store (``make test`` builds it first)."""
    return Store(os.environ.get("ODA_STORE"))


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
