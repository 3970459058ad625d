"""Backtests: capture rate, area share and Chainey's PAI of each hot spot method's
areas, first on a hand-made lattice whose answers are known, then every method on
the real police.uk months."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from dashboard import backtest
from dashboard.access import OPERATOR
from dashboard.filters import FilterError, ViewFilter
from tests.conftest import REPO


def lattice() -> tuple[pd.Series, pd.Series, pd.Series]:
    """A 10 x 10 lattice of areas: training counts, test counts and land areas.

    Training counts rise with the cell number (0..99), so the top five are cells
    95..99. In the test window every cell has 1 except cells 97..99, which have 21
    each: a total of 97 + 63 = 160, of which the top five hold 2 + 63 = 65. Cells
    95..99 have twice the land of the others: 10 of 105 units.
    """
    codes = [f"A{i:03d}" for i in range(100)]
    train = pd.Series(np.arange(100, dtype=float), index=codes)
    test = pd.Series(1.0, index=codes)
    test[codes[97:]] = 21.0
    area = pd.Series(1.0, index=codes)
    area[codes[95:]] = 2.0
    return train, test, area


def test_counts_on_a_lattice_with_known_capture_and_pai():
    train, test, area = lattice()
    flagged = backtest.top_share(train, 0.05)
    assert flagged == ["A099", "A098", "A097", "A096", "A095"]
    got = backtest.score(flagged, test, area)
    assert got["areas_flagged"] == 5
    assert got["test_total"] == 160 and got["captured"] == 65
    assert got["capture_rate"] == pytest.approx(65 / 160)
    assert got["area_share"] == pytest.approx(10 / 105)
    assert got["pai"] == pytest.approx((65 / 160) / (10 / 105))


def test_counts_round_the_share_up_and_break_ties_by_area_code():
    train = pd.Series([5.0, 5.0, 5.0, 1.0, np.nan], index=["C", "A", "B", "D", "E"])
    assert backtest.top_share(train, 0.3) == ["A", "B"]  # ceil(0.3 x 4 with data) = 2


def test_rolling_windows_move_one_month_at_a_time():
    months = [f"2022-{m:02d}" for m in range(1, 12)]
    windows = backtest.rolling_windows(months, train=6, test=1)
    assert len(windows) == 5
    assert windows[0] == backtest.Window("2022-01", "2022-06", "2022-07", "2022-07")
    assert windows[-1] == backtest.Window("2022-05", "2022-10", "2022-11", "2022-11")


def test_every_method_on_the_real_months_from_the_command_line(tmp_path, store):
    out = tmp_path / "backtest.csv"
    done = subprocess.run(
        [sys.executable, "-m", "dashboard", "backtest", "--region", "avon_and_somerset",
         "--level", "ward", "--indicator", "crime_all", "--train", "2022-01:2022-10",
         # Local Moran's p-values count permutations: with 199 none is below 0.005,
         # too coarse for FDR control over the wards to pass any high-high cluster.
         "--test", "2022-11:2022-11", "--permutations", "999", "--out", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    got = pd.read_csv(out)
    assert list(got.columns) == backtest.COLUMNS
    assert got["method"].tolist() == list(backtest.METHODS)
    assert (got["share"] == 0.05).all()
    total = store.query(
        "SELECT sum(o.value) AS n FROM observations o JOIN lsoa_ward l ON l.lsoa_code = "
        "o.area_code AND l.vintage = 2011 WHERE o.indicator = 'crime_all' AND "
        "o.period_start = '2022-11' AND l.lad_code IN ('E06000022', 'E06000023', "
        "'E06000024', 'E06000025', 'E07000187', 'E07000188', 'E07000189', 'E07000246')"
    )["n"].iat[0]
    assert np.allclose(got["test_total"], total)
    assert np.allclose(got["capture_rate"], got["captured"] / got["test_total"])
    assert np.allclose(got["pai"], got["capture_rate"] / got["area_share"])
    counts = got.set_index("method").loc["counts"]
    assert counts["areas_flagged"] == np.ceil(0.05 * 255)  # 255 wards with figures
    assert counts["pai"] > 1  # last year's busiest wards stay busy: better than chance
    assert (got["areas_flagged"] > 0).all()


def test_bad_windows_and_methods_are_refused_with_a_reason(store, regions):
    flt = ViewFilter("avon_and_somerset", "ward", "crime_all", "2022-01", "2022-06")
    region = regions["avon_and_somerset"]
    with pytest.raises(FilterError, match="must start after the training window"):
        backtest.backtest(store, region, flt, backtest.Window(
            "2022-01", "2022-06", "2022-05", "2022-07"), methods=["counts"], viewer=OPERATOR)
    with pytest.raises(FilterError, match="not backtest methods"):
        backtest.backtest(store, region, flt, backtest.Window(
            "2022-01", "2022-06", "2022-07", "2022-07"), methods=["magic"], viewer=OPERATOR)
    with pytest.raises(FilterError, match="is not a period of crime_all"):
        backtest.backtest(store, region, flt, backtest.Window(
            "2022-01", "2022-06", "2023-07", "2023-07"), methods=["counts"], viewer=OPERATOR)
