"""Change on the same period a year before, with significance, on the 92-month partner
series: each ward's rate ratio and its interval, the region's headline, and a profile
that marks it and the trend over the months."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dashboard import measures
from dashboard.access import OPERATOR
from dashboard.analysis import profile
from dashboard.filters import ViewFilter
from dashboard.measures import catalogue
from dashboard.views import charts

Z = 1.959963984540054


def test_year_before_labels():
    assert measures.year_before("2023-04") == "2022-04"
    assert measures.year_before("2023") == "2022"
    assert measures.year_before("junk") is None


def test_each_ward_has_a_rate_ratio_on_the_year_before(series, regions):
    region = regions["avon_and_somerset"]
    flt = ViewFilter("avon_and_somerset", "ward", "burglary", "2024-01", "2024-06", "rate")
    got = measures.change_on_year_before(series, region, flt, viewer=OPERATOR)
    now = measures.indicator_view(series, region, flt, viewer=OPERATOR)
    before = measures.indicator_view(series, region, flt.with_(
        period_start="2023-01", period_end="2023-06"), viewer=OPERATOR)
    assert got["area_code"].tolist() == now["area_code"].tolist()
    np.testing.assert_allclose(got["value_year_before"], before["value"])
    ok = (now["value"] > 0).to_numpy() & (before["value"] > 0).to_numpy()
    o1, o0 = now["value"].to_numpy()[ok], before["value"].to_numpy()[ok]
    np.testing.assert_allclose(got["rate_ratio"].to_numpy()[ok], o1 / o0)
    se = np.sqrt(1 / o1 + 1 / o0)
    np.testing.assert_allclose(got["rate_ratio_lower_95"].to_numpy()[ok],
                               o1 / o0 * np.exp(-Z * se))
    lower, upper = got["rate_ratio_lower_95"], got["rate_ratio_upper_95"]
    assert (got.loc[lower > 1, "change_on_year_before"] == "higher").all()
    assert (got.loc[upper < 1, "change_on_year_before"] == "lower").all()
    assert set(got["change_on_year_before"]) <= {"higher", "similar", "lower",
                                                 "not compared"}


def test_no_year_before_gives_none(store, regions):
    flt = ViewFilter("avon_and_somerset", "ward", "crime_all", "2022-01", "2022-03", "rate")
    assert measures.change_on_year_before(store, regions["avon_and_somerset"], flt,
                                          viewer=OPERATOR) is None


def test_the_region_headline_and_its_card(series, regions):
    summary = measures.region_summary(series, regions["avon_and_somerset"], "2024-01",
                                      "2024-06", catalogue.catalogue(series, viewer=OPERATOR),
                                      viewer=OPERATOR).set_index("indicator")
    row = summary.loc["burglary"]
    assert row["rate_ratio"] == pytest.approx(row["value"] / row["value_year_before"])
    se = math.sqrt(1 / row["value"] + 1 / row["value_year_before"])
    assert row["rate_ratio_upper_95"] == pytest.approx(row["rate_ratio"] * math.exp(Z * se))
    text, colour = charts.headline_change(row.to_dict())
    assert text.startswith(f"{row['rate_ratio'] - 1:+.0%} on a year ago")
    assert colour == ("off" if row["change_on_year_before"] == "similar" else "inverse")


def test_the_profile_marks_change_and_trend(series, regions):
    flt = ViewFilter("avon_and_somerset", "ward", "burglary", "2024-01", "2024-12", "rate")
    table = profile.ward_profile(series, regions["avon_and_somerset"], "E05010892", flt,
                                 viewer=OPERATOR).set_index("indicator")
    row = table.loc["burglary"]
    assert row["change_ratio"] > 0 and row["change"] in {"worse", "similar", "better"}
    assert row["trend"] in {"rising", "falling", "no clear trend"}
    shown = profile.display_table(table.reset_index()).set_index("Indicator")
    assert shown.loc[row["title"], "Change on a year before"].endswith(row["change"])
