"""Forecasts with honest intervals, early warning and process control charts, on the
92-month police series as partners send it (small counts hidden)."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from dashboard.access import OPERATOR, PUBLIC, AccessDenied
from dashboard.analysis import evaluation, forecast
from dashboard.filters import FilterError
from dashboard.geography.regions import get_region
from tests.conftest import REPO

REGION = get_region("avon_and_somerset")
ALL = "monthly_crime_count"


@pytest.fixture(scope="module")
def panel(series):
    return forecast.read_panel(series, REGION, ALL, "lsoa", viewer=OPERATOR, end="2022-12")


@pytest.fixture(scope="module")
def scores(panel):
    return forecast.rolling_scores(panel, evaluation.month_range("2022-01", "2022-12"),
                                   shares=(0.05,))


def test_each_area_gets_a_forecast_for_each_month_with_nested_intervals(series):
    got = forecast.forecast_areas(series, REGION, ALL, "lsoa", viewer=OPERATOR,
                                  train=("2018-01", "2022-12"), horizon=3)
    assert set(forecast.COLUMNS) <= set(got.columns)
    assert sorted(got["period"].unique()) == ["2023-01", "2023-02", "2023-03"]
    assert got.groupby("area_code").size().eq(3).all() and got["area_code"].nunique() > 1000
    assert got["area_name"].notna().all()
    assert (got["predicted"] > 0).all()
    lo95, lo80, hi80, hi95 = (got[f"predicted_{s}"] for s in
                              ("lower_95", "lower_80", "upper_80", "upper_95"))
    assert ((lo95 <= lo80) & (lo80 <= hi80) & (hi80 <= hi95)).all()
    assert (hi95 > lo95).mean() > 0.9  # whole counts, but not a point
    # A busy area's forecast is near its recent level.
    busy = got[got["predicted"] > 50]
    assert len(busy) and ((busy["predicted_lower_80"] < busy["predicted"])
                          & (busy["predicted"] < busy["predicted_upper_80"])).all()


def test_intervals_hold_what_they_say_and_the_ranking_is_no_worse_than_naive(scores):
    one = scores[scores["method"] == "forecast"]
    assert 0.77 <= one["inside_80"].mean() <= 0.85
    assert 0.93 <= one["inside_95"].mean() <= 0.98
    capture = scores.groupby("method")["capture"].mean()
    assert capture["forecast"] >= capture[list(forecast.NAIVE)].max() - 0.005
    assert (scores["pei"].dropna() <= 1).all()


def test_without_a_spike_few_areas_are_flagged(scores):
    assert scores.drop_duplicates("month")["flagged"].mean() <= 0.01


def test_a_planted_spike_is_flagged_and_points_higher(panel):
    t = panel.months.index("2022-06")
    expected, fitted = forecast.one_step(panel, t)
    y = panel.counts[:, t]
    plain = forecast.unusual(y, expected, fitted, ~panel.fixed[:, t])
    # A typical busy area (at the region's upper quartile), tripled.
    level = np.nanmean(panel.counts[:, t - 12:t], axis=1)
    area = int(np.nanargmin(np.abs(level - np.nanquantile(level, 0.75))))
    assert not plain["flagged"].iat[area]
    spiked = y.copy()
    spiked[area] *= 3
    got = forecast.unusual(spiked, expected, fitted, ~panel.fixed[:, t])
    assert got["flagged"].iat[area] and got["direction"].iat[area] == "higher"
    assert got["p_value"].iat[area] < 1 - forecast.WARNING
    # A busy area's month fallen to a third is flagged lower.
    busy = int(np.nanargmax(np.where(panel.fixed[:, t], np.nan, level)))
    fell = y.copy()
    fell[busy] = np.floor(fell[busy] / 3)
    assert forecast.unusual(fell, expected, fitted, ~panel.fixed[:, t])["direction"]\
        .iat[busy] == "lower"


def test_exceptions_list_unusual_areas_without_giving_small_counts_away(series):
    every = forecast.exceptions(series, REGION, "burglary", "lsoa", "2023-06",
                                viewer=OPERATOR, every=True)
    assert list(every.columns) == [*forecast.EXCEPTION_COLUMNS, "flagged"]
    assert every.attrs["untested"] > 0  # burglary has many small counts
    untested = every["p_value"].isna()
    assert untested.sum() == every.attrs["untested"]
    assert every.loc[untested, "observed"].isna().all()  # a stand-in is never shown
    flagged = every[every["flagged"]]
    assert (flagged["p_value"] < 1 - forecast.WARNING).all()
    assert set(flagged["judgement"]) <= {"worse", "better"}
    assert ((flagged["direction"] == "higher") == (flagged["judgement"] == "worse")).all()
    listed = forecast.exceptions(series, REGION, "burglary", "lsoa", "2023-06",
                                 viewer=OPERATOR)
    assert len(listed) == len(flagged)


def test_a_ward_control_chart_has_limits_and_signals(series):
    chart = forecast.control_chart(series, REGION, ALL, "ward", "E05010892",
                                   viewer=OPERATOR, end="2024-12")
    assert len(chart) == 24 and chart["period"].iat[-1] == "2024-12"
    assert ((chart["lower_99"] <= chart["expected"])
            & (chart["expected"] <= chart["upper_99"])).all()
    assert set(chart["signal"]) <= {"concern", "improvement", "common"}
    outside = (chart["observed"] > chart["upper_99"]) | (chart["observed"] < chart["lower_99"])
    assert (chart.loc[outside, "signal"] != "common").all()
    assert (chart.loc[chart["rule"] == "", "signal"] == "common").all()


def test_runs_of_seven_on_one_side_are_a_shift():
    side = np.array([1, 1, 1, 1, 1, 1, 1, -1, 0, -1, -1])
    assert forecast._runs(side).tolist() == [7] * 7 + [1, 0, 2, 2]


@pytest.mark.parametrize("call, words", [
    ({"indicator": ALL, "horizon": 0}, "horizon was 0"),
    ({"indicator": "imd2019_rank"}, "not a count"),
    ({"indicator": "crime_all"}, "a forecast needs at least 24"),
    ({"indicator": ALL, "train": ("2018-01", "2019-06")}, "a forecast needs at least 24"),
])
def test_what_cannot_be_forecast_is_refused_in_words(series, call, words):
    with pytest.raises(FilterError, match=words):
        forecast.forecast_areas(series, REGION, level="lsoa", viewer=OPERATOR, **call)


def test_partner_forecasts_go_through_the_door(series):
    with pytest.raises(AccessDenied):
        forecast.forecast_areas(series, REGION, ALL, "ward", viewer=PUBLIC)
    with pytest.raises(FilterError, match="not a month"):
        forecast.exceptions(series, REGION, ALL, "ward", "2031-01", viewer=OPERATOR)


def run(*args, store):
    return subprocess.run([sys.executable, "-m", "dashboard", *args, "--store", str(store)],
                          cwd=REPO, capture_output=True, text=True, timeout=300)


def test_the_command_line_writes_forecasts_and_exceptions(series, tmp_path):
    out = tmp_path / "forecast.csv"
    done = run("forecast", "--region", "avon_and_somerset", "--level", "ward", "--indicator",
               ALL, "--train", "2019-01:2023-12", "--horizon", "2", "--out", str(out),
               store=series.path)
    assert done.returncode == 0, done.stderr
    got = pd.read_csv(out)
    assert list(got.columns) == forecast.COLUMNS
    assert sorted(got["period"].unique()) == ["2024-01", "2024-02"]
    assert "trained on 2019-01:2023-12" in done.stderr
    out = tmp_path / "exceptions.csv"
    done = run("exceptions", "--region", "avon_and_somerset", "--level", "ward",
               "--indicator", ALL, "--period", "2024-03", "--out", str(out),
               store=series.path)
    assert done.returncode == 0, done.stderr
    assert list(pd.read_csv(out).columns) == forecast.EXCEPTION_COLUMNS
    assert "would be by chance" in done.stderr and "q_value" in done.stderr
    # A councillor with no agreement for the partner's series is refused, on the record.
    refused = run("forecast", "--region", "avon_and_somerset", "--level", "ward",
                  "--indicator", ALL, "--out", str(out), "--as", "t_councillor",
                  store=series.path)
    assert refused.returncode == 2 and "not in the catalogue" in refused.stderr
    bad = run("forecast", "--region", "avon_and_somerset", "--indicator", ALL, "--train",
              "2018-01:2030-01", "--out", str(out), store=series.path)
    assert bad.returncode == 2 and "--train" in bad.stderr and "Traceback" not in bad.stderr
    late = run("exceptions", "--region", "avon_and_somerset", "--indicator", ALL, "--period",
               "2031-01", "--out", str(out), store=series.path)
    assert late.returncode == 2 and "2031-01 is not a month of" in late.stderr


def synthetic_panel(areas: int = 300, months: int = 40, seed: int = 3) -> forecast.Panel:
    """Counts with known spread: each area's level drawn once, each month a negative
    binomial with variance mu + 0.3 mu^1.5 around it; no neighbours."""
    rng = np.random.default_rng(seed)
    level = rng.gamma(2.0, 4.0, areas)
    size = level ** 0.5 / 0.3
    counts = rng.negative_binomial(size[:, None], (size / (size + level))[:, None],
                                   (areas, months)).astype(float)
    codes = np.array([f"A{i:04d}" for i in range(areas)], dtype=object)
    return forecast.Panel(counts, codes, evaluation.month_range("2020-01", "2023-04"),
                          forecast.sparse.csr_array((areas, areas)),
                          np.zeros((areas, months), bool))


def test_the_spread_is_recovered_and_an_unknown_area_gets_no_forecast():
    panel = synthetic_panel()
    panel.counts[0] = np.nan  # an area with no known month
    got = forecast.predict(panel, 1)
    assert got["predicted"].isna().iat[0] and got["predicted_upper_95"].isna().iat[0]
    assert got["predicted"].iloc[1:].notna().all()
    dispersion, power = got.attrs["spread"][1]
    assert 1.2 <= power <= 1.8 and 0.15 <= dispersion <= 0.6
    inside = []
    for t in range(30, 40):
        mu, fitted = forecast.one_step(panel, t)
        y, ok = panel.counts[:, t], ~np.isnan(panel.counts[:, t])
        lo, hi = forecast.interval(fitted.distribution(mu[ok]), 0.8)
        inside.append(((y[ok] >= lo) & (y[ok] <= hi)).mean())
    assert 0.76 <= np.mean(inside) <= 0.86
