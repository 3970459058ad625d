"""The export command writes exactly the data behind the map; bad input exits 2."""

import subprocess
import sys

import pandas as pd

from dashboard import measures
from dashboard.access import OPERATOR
from dashboard.filters import ViewFilter
from tests.conftest import REPO


def run(*args):
    return subprocess.run([sys.executable, "-m", "dashboard", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=120)


def test_export_writes_the_map_data(tmp_path, store, regions):
    out = tmp_path / "wards.csv"
    done = run("export", "--region", "avon_and_somerset", "--level", "ward", "--indicator",
               "crime_all", "--period", "2022-03:2022-03", "--measure", "rate",
               "--format", "csv", "--out", str(out))
    assert done.returncode == 0, done.stderr
    columns = measures.COLUMNS + measures.RATE_COLUMNS  # the rate's limits and comparison
    text = ("breakdown", "suppressed", "compared_with_region", "why_blank")
    got = pd.read_csv(out, dtype={"period_start": str, "period_end": str,
                                  **dict.fromkeys(text, str)}, keep_default_na=False,
                      na_values={c: [""] for c in columns if c not in text})
    assert list(got.columns) == columns
    flt = ViewFilter("avon_and_somerset", "ward", "crime_all", "2022-03", "2022-03", "rate")
    expected = measures.indicator_view(store, regions["avon_and_somerset"], flt, viewer=OPERATOR)
    pd.testing.assert_frame_equal(got, expected[columns].astype({"rank": float}),
                                  check_dtype=False)


def test_bad_period_exits_2_with_one_clear_line(tmp_path):
    done = run("export", "--region", "avon_and_somerset", "--indicator", "crime_all",
               "--period", "2022-03:2023-01", "--out", str(tmp_path / "x.csv"))
    assert done.returncode == 2
    assert "period" in done.stderr and "2023-01 not in the data" in done.stderr
    assert not (tmp_path / "x.csv").exists()


def test_unknown_region_is_named(tmp_path):
    done = run("export", "--region", "narnia", "--indicator", "crime_all",
               "--period", "2022-03:2022-03", "--out", str(tmp_path / "x.csv"))
    assert done.returncode == 2 and "'narnia' is not a region preset" in done.stderr


def test_hotspots_writes_one_row_per_area_as_the_model_does(tmp_path, store, regions):
    from dashboard.analysis import hotspot_views, hotspots
    out = tmp_path / "hot.csv"
    done = run("hotspots", "--region", "avon_and_somerset", "--level", "ward", "--indicator",
               "crime_all", "--period", "2022-01:2022-11", "--measure", "rate",
               "--method", "gi", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "hot-spot cluster" in done.stderr or "No significant clusters" in done.stderr
    got = pd.read_csv(out)
    assert list(got.columns[:9]) == ["area_code", "area_name", "value", "rate_per_1000", "z",
                                     "p_normal", "q_fdr", "significant", "class"]
    flt = ViewFilter("avon_and_somerset", "ward", "crime_all", "2022-01", "2022-11", "rate")
    expected = hotspot_views.hotspot_view(store, regions["avon_and_somerset"], flt, viewer=OPERATOR)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    assert set(got["class"]) <= set(hotspots.ORDER["gi"])


def test_hotspots_rejects_a_bad_permutation_count(tmp_path):
    done = run("hotspots", "--region", "avon_and_somerset", "--indicator", "crime_all",
               "--period", "2022-03:2022-03", "--permutations", "-5",
               "--out", str(tmp_path / "x.csv"))
    assert done.returncode == 2 and "permutations was -5" in done.stderr
