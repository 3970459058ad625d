"""A hidden small count stands in, in every total, as its expected value given the
indicator's visible counts, never the midpoint k/2 that inflated long totals; and
``estimated`` counts every stand-in, those of converted months too."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dashboard import measures
from dashboard.access import OPERATOR
from dashboard.filters import ViewFilter
from dashboard.measures import disclosure

SERIES = "policeuk_lsoa_monthly_avon_and_somerset_2018-01_2025-08.csv.gz"
K = 5


@pytest.mark.parametrize("size,mean", [(0.8, 1.5), (1.5, 3.0), (4.0, 8.0)])
def test_the_stand_in_is_the_expected_hidden_value_of_counts_like_incidents(size, mean):
    """Counts drawn from a negative binomial (a Poisson whose rate varies by area): the
    stand-in fitted to the visible counts alone is within 6 % of the true mean of the
    hidden ones, where k/2 is not."""
    rng = np.random.default_rng(7)
    cells = pd.Series(rng.negative_binomial(size, size / (size + mean), 200_000))
    hidden = cells.between(1, K - 1)
    visible = cells[cells >= K].value_counts()
    got = disclosure.stand_in(visible, K)
    truth = cells[hidden].mean()
    assert abs(got - truth) / truth < 0.06, (got, truth)


def test_with_too_few_visible_counts_the_stand_in_is_the_midpoint():
    assert disclosure.stand_in(pd.Series({5: 3, 6: 2, 9: 1}), K) == 2.5
    assert disclosure.stand_in(pd.Series(dtype=float), K) == 2.5
    assert disclosure.stand_in(pd.Series({5: 100}), 1) == 0.0


@pytest.fixture(scope="module")
def truth(data):
    return pd.read_csv(data / "partners" / SERIES)


def _view(series, regions, indicator):
    region = regions["avon_and_somerset"]
    flt = ViewFilter(region.name, "lsoa", indicator, "2018-01", "2025-08", "count")
    return measures.indicator_view(series, region, flt, viewer=OPERATOR).set_index("area_code")


def test_a_long_total_counts_every_stand_in_and_is_not_inflated(series, regions, truth):
    """Robbery in E01014372 over 92 months: 48 in the source, 31 months of them small
    (1 to 4), some of them on LSOA 2021 codes. Every one is counted in ``estimated``,
    and the total is the visible counts plus 31 stand-ins."""
    rows = truth[truth["area_code"] == "E01014372"]["Robbery"]
    small = rows.between(1, K - 1)
    assert (rows.sum(), int(small.sum())) == (48, 31)
    view = _view(series, regions, "robbery")
    row = view.loc["E01014372"]
    assert row["estimated"] == 31
    put = measures.stand_in(series, "robbery", viewer=OPERATOR)
    assert 1 < put < 2.5
    assert row["value"] == np.floor(rows[~small].sum() + 31 * put + 0.5)
    assert abs(row["value"] - 48) < abs(78 - 48)


@pytest.mark.parametrize("column,indicator", [("Burglary", "burglary"),
                                              ("Anti-social behaviour",
                                               "anti_social_behaviour")])
def test_the_regions_total_over_the_series_is_within_five_percent_of_the_source(
        series, regions, truth, column, indicator):
    """Over 92 months, k/2 put burglary 63 % above the source across the region's
    LSOAs; the fitted stand-in keeps it within 5 %."""
    view = _view(series, regions, indicator)
    source = truth[column].sum()
    assert abs(view["value"].sum() - source) / source < 0.05, (view["value"].sum(), source)
