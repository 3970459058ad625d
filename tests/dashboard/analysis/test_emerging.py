"""Emerging hot spots: every category from a series built to produce it; the CLI."""

import numpy as np
import pandas as pd
import pytest

from dashboard.analysis import emerging
from tests.dashboard.cli.test_cli import run

N = 11
RISING = np.linspace(2, 6, N)
FLAT = np.array([3.0, 3.5] * 5 + [3.0])
FALLING = RISING[::-1].copy()


def flags(*on: int, n: int = N) -> np.ndarray:
    out = np.zeros(n, bool)
    out[list(on)] = True
    return out


HOT_CASES = {
    "New": (flags(10), flags(), FLAT),
    "Consecutive": (flags(8, 9, 10), flags(), FLAT),
    "Intensifying": (flags(*range(N)), flags(), RISING),
    "Persistent": (flags(*range(N)), flags(), FLAT),
    "Diminishing": (flags(*range(N)), flags(), FALLING),
    "Sporadic": (flags(0, 2, 5, 10), flags(), FLAT),
    "Oscillating": (flags(0, 5, 10), flags(2, 3), FLAT),
    "Historical": (flags(*range(10)), flags(), FLAT),
}


@pytest.mark.parametrize("pattern", list(HOT_CASES))
def test_each_hot_pattern_from_a_series_built_for_it(pattern):
    hot, cold, z = HOT_CASES[pattern]
    assert emerging.category(hot, cold, z) == f"{pattern} hot spot"


@pytest.mark.parametrize("pattern", list(HOT_CASES))
def test_each_cold_pattern_mirrors_its_hot_one(pattern):
    hot, cold, z = HOT_CASES[pattern]
    assert emerging.category(cold, hot, -z) == f"{pattern} cold spot"


@pytest.mark.parametrize("hot, cold", [
    (flags(), flags()),                 # never significant
    (flags(2, 3), flags()),             # hot once, long ago, not now
    (flags(1), flags(4)),               # both, neither now
])
def test_no_pattern(hot, cold):
    assert emerging.category(hot, cold, FLAT) == emerging.NO_PATTERN


def test_trend_is_mann_kendall_on_the_z_scores():
    assert emerging.trend(RISING)[0] == "increasing"
    assert emerging.trend(FALLING)[0] == "decreasing"
    assert emerging.trend(FLAT)[0] == "no trend"


def test_classify_leaves_untested_areas_without_a_pattern():
    z = pd.DataFrame([RISING, np.r_[RISING[:-1], np.nan]], index=["a", "b"])
    hot = pd.DataFrame([flags(*range(N)), flags(*range(N))], index=["a", "b"])
    cold = pd.DataFrame([flags(), flags()], index=["a", "b"])
    out = emerging.classify(z, hot, cold)
    assert out.loc["a", "category"] == "Intensifying hot spot"
    assert out.loc["b", "category"] == emerging.NO_PATTERN
    assert out.loc["a", "periods_hot"] == N


def test_category_refuses_a_month_both_hot_and_cold():
    with pytest.raises(ValueError, match="never both"):
        emerging.category(flags(3), flags(3), FLAT)


def test_emerging_cli_writes_a_category_per_ward(tmp_path, store, regions):
    out = tmp_path / "emerging.csv"
    done = run("emerging", "--region", "avon_and_somerset", "--level", "ward",
               "--indicator", "crime_all", "--period", "2022-01:2022-11",
               "--measure", "count", "--permutations", "199", "--out", str(out))
    assert done.returncode == 0, done.stderr
    got = pd.read_csv(out)
    assert {"area_code", "area_name", "category", "trend"} <= set(got.columns)
    assert len(got) == got["area_code"].nunique() == 257
    assert set(got["category"]) <= set(emerging.CATEGORIES)
    assert got["category"].ne(emerging.NO_PATTERN).any()


def test_emerging_cli_says_when_there_are_too_few_periods(tmp_path):
    done = run("emerging", "--region", "avon_and_somerset", "--indicator", "crime_all",
               "--period", "2022-01:2022-06", "--out", str(tmp_path / "x.csv"))
    assert done.returncode == 2
    assert "at least 10 periods" in done.stderr and "has 6" in done.stderr


def test_trends_of_all_areas_at_once_match_pymannkendall_area_by_area():
    rng = np.random.default_rng(7)
    z = np.vstack([rng.normal(size=(40, 12)),
                   np.arange(12.0) + rng.normal(scale=0.5, size=(5, 12)),  # rising
                   np.round(rng.normal(size=(5, 12))),  # many ties
                   np.full((1, 12), 2.0)])  # flat
    z[3, 4] = np.nan  # a month not tested
    label, tz, tp = emerging.trends(z)
    for row in range(len(z)):
        want = emerging.trend(z[row])
        assert (label[row], tz[row], tp[row]) == pytest.approx(want) if row != 3 else \
            label[row] == "no trend"
    assert (label[40:45] == "increasing").all()
