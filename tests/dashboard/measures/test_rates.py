"""Confidence intervals, comparisons and change, checked against the formulas written
out here (exact Poisson from the chi-square distribution, Wilson's score interval,
the log rate ratio) and on constructed cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import chi2

from dashboard.measures import rates


@pytest.mark.parametrize("count", [0, 1, 4, 9, 10, 57, 389, 1200])
def test_exact_poisson_limits_match_the_chi_square_formula(count):
    lower, upper = rates.poisson_limits([count])
    want_lower = 0.0 if count == 0 else chi2.ppf(0.025, 2 * count) / 2
    want_upper = chi2.ppf(0.975, 2 * (count + 1)) / 2
    assert lower[0] == pytest.approx(want_lower, rel=1e-12)
    assert upper[0] == pytest.approx(want_upper, rel=1e-12)


def test_a_rate_per_1000_scales_its_count_limits():
    lower, upper = rates.rate_limits([50, 3], [2000, 0])
    assert lower[0] == pytest.approx(chi2.ppf(0.025, 100) / 2 / 2000 * 1000)
    assert upper[0] == pytest.approx(chi2.ppf(0.975, 102) / 2 / 2000 * 1000)
    assert np.isnan(lower[1]) and np.isnan(upper[1])  # no population, no rate


def test_known_textbook_values():
    # 10 events: 95 % exact limits 4.795 to 18.39 (Garwood).
    lower, upper = rates.poisson_limits([10])
    assert (round(lower[0], 3), round(upper[0], 2)) == (4.795, 18.39)


@pytest.mark.parametrize(("k", "n"), [(0, 20), (3, 20), (50, 100), (99, 100)])
def test_wilson_limits_match_the_score_formula(k, n):
    z = 1.959963984540054
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    lower, upper = rates.wilson_limits([k], [n])
    assert lower[0] == pytest.approx(centre - half) and upper[0] == pytest.approx(centre + half)
    assert 0 <= lower[0] <= p <= upper[0] <= 1


def test_clearly_higher_similar_and_lower_than_a_comparator():
    # Intervals (lower, upper) against a region figure of 10.
    got = rates.compare([12, 8, 2, np.nan], [15, 11, 9, 5], 10)
    assert got.tolist() == ["higher", "similar", "lower", "not compared"]
    assert rates.judged(got, "high_is_bad").tolist() == ["worse", "similar", "better",
                                                         "not compared"]
    assert rates.judged(got, "low_is_bad").tolist() == ["better", "similar", "worse",
                                                        "not compared"]


def test_change_on_a_year_before_is_a_rate_ratio_with_its_interval():
    got = rates.rate_ratio([200, 100, 0], [1000, 1000, 1000], [100, 98, 5],
                           [1000, 1000, 1000])
    assert got["ratio"].iloc[0] == pytest.approx(2.0)
    se = math.sqrt(1 / 200 + 1 / 100)
    assert got["ratio_lower_95"].iloc[0] == pytest.approx(2 * math.exp(-1.959963984540054 * se))
    assert got["change"].tolist() == ["higher", "similar", "not compared"]
