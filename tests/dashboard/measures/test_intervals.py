"""Confidence intervals and comparisons on the real store: every rate per 1,000 has its
exact Poisson interval, each area is compared with the region's figure, exports carry
both with the rate measure, and a ward profile compares with district, region and
England."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2

from dashboard import measures
from dashboard.access import OPERATOR
from dashboard.analysis import profile
from dashboard.filters import ViewFilter
from dashboard.measures import rates
from dashboard.views import classify, export

FLT = ViewFilter("avon_and_somerset", "ward", "crime_all", "2022-01", "2022-03", "rate")


@pytest.fixture(scope="module")
def wards(store, regions):
    return measures.indicator_view(store, regions["avon_and_somerset"], FLT, viewer=OPERATOR)


def test_each_rate_has_its_exact_poisson_interval(wards):
    shown = wards[(wards["suppressed"] == "") & wards["value"].notna()]
    o, pop = shown["value"].to_numpy(), shown["denominator"].to_numpy()
    want_lower = np.where(o > 0, chi2.ppf(0.025, 2 * o) / 2, 0) / pop * 1000
    want_upper = chi2.ppf(0.975, 2 * (o + 1)) / 2 / pop * 1000
    np.testing.assert_allclose(shown["rate_lower_95"], want_lower)
    np.testing.assert_allclose(shown["rate_upper_95"], want_upper)
    assert ((shown["rate_lower_95"] <= shown["rate_per_1000"])
            & (shown["rate_per_1000"] <= shown["rate_upper_95"])).all()


def test_each_area_is_compared_with_the_region(wards):
    region = wards.attrs["region_figure"]
    assert region == pytest.approx(wards["value"].sum() / wards["denominator"].sum() * 1000,
                                   rel=0.01)  # suppressed cells count as stand-ins
    got = wards.set_index("area_code")
    higher = got["rate_lower_95"] > region
    lower = got["rate_upper_95"] < region
    assert (got.loc[higher, "compared_with_region"] == "higher").all()
    assert (got.loc[lower, "compared_with_region"] == "lower").all()
    assert (got.loc[~higher & ~lower & got["rate_lower_95"].notna(),
                    "compared_with_region"] == "similar").all()
    assert got.loc["E05010892", "compared_with_region"] == "higher"  # Central, Bristol
    assert higher.sum() > 5 and lower.sum() > 5


def test_a_count_is_not_compared(store, regions):
    view = measures.indicator_view(store, regions["avon_and_somerset"],
                                   FLT.with_(measure="count"), viewer=OPERATOR)
    assert set(view["compared_with_region"]) == {"not compared"}
    assert export.columns_of(view) == measures.COLUMNS


def test_rate_exports_carry_the_limits_and_the_comparison(wards):
    assert export.columns_of(wards) == measures.COLUMNS + measures.RATE_COLUMNS
    got = pd.read_csv(pd.io.common.BytesIO(export.to_csv(wards)))
    assert {"rate_lower_95", "rate_upper_95", "compared_with_region"} <= set(got.columns)
    assert set(got["compared_with_region"]) <= {"higher", "similar", "lower", "not compared"}


def test_the_map_scheme_colours_worse_similar_and_better(wards):
    classes = classify.compared_classes(wards["compared_with_region"], "high_is_bad",
                                        suppressed=wards["suppressed"] != "")
    labels = {e.label: e.count for e in classes.legend}
    assert labels["Significantly worse than the region"] == \
        int((wards["compared_with_region"] == "higher").sum())
    assert labels["Significantly better than the region"] == \
        int(((wards["compared_with_region"] == "lower") & (wards["suppressed"] == "")).sum())
    worse = wards["compared_with_region"].eq("higher").to_numpy()
    assert {classes.colours[i] for i in np.flatnonzero(worse)} == {
        rates.COMPARISON_COLOURS["worse"]}


def test_the_ward_profile_compares_with_district_region_and_england(store, regions):
    table = profile.ward_profile(store, regions["avon_and_somerset"], "E05010892", FLT,
                                 viewer=OPERATOR).set_index("indicator")
    crime = table.loc["crime_all"]
    assert crime["lower_95"] < crime["figure"] < crime["upper_95"]
    assert crime["vs_region"] == rates.judged(rates.compare(
        [crime["lower_95"]], [crime["upper_95"]], [crime["region"]]), "high_is_bad")[0]
    assert crime["vs_region"] == "worse"  # Central Bristol: far above the region
    assert np.isnan(crime["england"]) and crime["vs_england"] == "not compared"
    national = table[table["england"].notna()]
    assert len(national)  # indicators that cover England get an England figure
    shown = profile.display_table(table.reset_index())
    assert {"vs district", "vs region", "vs England"} <= set(shown.columns)
