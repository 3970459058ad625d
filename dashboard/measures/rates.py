"""Rates with 95 % confidence intervals, comparisons and change, as Fingertips gives them.

The methods are those Public Health England and OHID use:

* a count, and a rate built on one (per 1,000 residents), takes the exact
  Poisson interval of the count, from the chi-square distribution:
  ``lower = chi2.ppf(0.025, 2 O) / 2`` and ``upper = chi2.ppf(0.975, 2 (O + 1)) / 2``;
* a proportion takes Wilson's score interval;
* an area is *higher* or *lower* than a comparator when the comparator's value
  lies outside the area's 95 % interval, else *similar*; polarity turns higher
  and lower into worse and better;
* change on a year before is the rate ratio, with its interval on the log scale
  (``exp(ln RR +/- 1.96 sqrt(1/O1 + 1/O0))``); it is significant when the
  interval leaves out 1.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import chi2, norm

LEVEL = 0.95
Z = float(norm.ppf(1 - (1 - LEVEL) / 2))
HIGHER, SIMILAR, LOWER = "higher", "similar", "lower"
NOT_COMPARED = "not compared"
BETTER, WORSE = "better", "worse"
# Fingertips' better green, similar amber-yellow and worse red, in their colour-blind
# safe (Okabe-Ito) shades: bluish green, yellow and vermilion; higher and lower with no
# judgement in two blues; not compared grey. Charts add a shape and words to each.
COMPARISON_COLOURS = {BETTER: "#009E73", SIMILAR: "#F0E442", WORSE: "#D55E00",
                      HIGHER: "#0072B2", LOWER: "#56B4E9", NOT_COMPARED: "#BBBBBB"}
# The polarities that say which way is worse; any other (an indicator where higher is
# neither better nor worse) is compared as higher or lower, never judged.
JUDGED = ("high_is_bad", "low_is_bad")


def poisson_limits(count, level: float = LEVEL) -> tuple[np.ndarray, np.ndarray]:
    """Exact Poisson limits of observed counts (NaN where the count is missing)."""
    o = np.asarray(count, dtype=float)
    a = (1 - level) / 2
    with np.errstate(invalid="ignore"):
        lower = np.where(o > 0, chi2.ppf(a, 2 * o) / 2, 0.0)
        upper = chi2.ppf(1 - a, 2 * (o + 1)) / 2
    bad = ~np.isfinite(o) | (o < 0)
    return np.where(bad, np.nan, lower), np.where(bad, np.nan, upper)


def rate_limits(count, denominator, per: float = 1000.0,
                level: float = LEVEL) -> tuple[np.ndarray, np.ndarray]:
    """Limits of a rate ``count / denominator x per`` from the count's exact Poisson
    limits (NaN where there is no denominator)."""
    lower, upper = poisson_limits(count, level)
    d = np.asarray(denominator, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(d > 0, per / d, np.nan)
    return lower * scale, upper * scale


def wilson_limits(successes, n, level: float = LEVEL) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score limits of a proportion ``successes / n`` (0 to 1)."""
    k, n = np.asarray(successes, dtype=float), np.asarray(n, dtype=float)
    z = float(norm.ppf(1 - (1 - level) / 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    ok = n > 0
    return np.where(ok, centre - half, np.nan), np.where(ok, centre + half, np.nan)


def compare(lower, upper, comparator) -> np.ndarray:
    """``higher``, ``similar`` or ``lower``: the area's interval against a comparator's
    value (``not compared`` where either is missing)."""
    lo, hi = np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)
    c = np.broadcast_to(np.asarray(comparator, dtype=float), lo.shape)
    out = np.full(lo.shape, NOT_COMPARED, dtype=object)
    known = np.isfinite(lo) & np.isfinite(hi) & np.isfinite(c)
    out[known] = SIMILAR
    out[known & (lo > c)] = HIGHER
    out[known & (hi < c)] = LOWER
    return out




def rank_meaning(polarity: str) -> str:
    """What rank 1 is: the area of most need, or (with no judgement) the highest."""
    return "1 = most need" if polarity in JUDGED else "1 = highest"


def judged(compared, polarity: str) -> np.ndarray:
    """Higher and lower as better and worse, by the indicator's polarity (left as
    higher and lower for a polarity that makes no judgement)."""
    c = np.asarray(compared, dtype=object)
    if polarity not in JUDGED:
        return c.copy()
    worse = HIGHER if polarity == "high_is_bad" else LOWER
    return np.select([c == worse, (c == HIGHER) | (c == LOWER)], [WORSE, BETTER], c)


def rate_ratio(count, denominator, count_before, denominator_before,
               level: float = LEVEL) -> pd.DataFrame:
    """This period's rate against the same period a year before.

    Returns
    -------
    DataFrame
        ``ratio, ratio_lower_95, ratio_upper_95, change`` (``higher``, ``similar``
        or ``lower``: whether the interval leaves out 1). With a zero count in
        either period the ratio has no interval and is not compared.
    """
    o1, d1 = np.asarray(count, dtype=float), np.asarray(denominator, dtype=float)
    o0, d0 = np.asarray(count_before, dtype=float), np.asarray(denominator_before, dtype=float)
    z = float(norm.ppf(1 - (1 - level) / 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = (o1 / d1) / (o0 / d0)
        se = np.sqrt(1 / o1 + 1 / o0)
        lower, upper = ratio * np.exp(-z * se), ratio * np.exp(z * se)
    ok = (o1 > 0) & (o0 > 0) & (d1 > 0) & (d0 > 0)
    ratio = np.where((o0 > 0) & (d0 > 0) & (d1 > 0), ratio, np.nan)
    lower, upper = np.where(ok, lower, np.nan), np.where(ok, upper, np.nan)
    return pd.DataFrame({"ratio": ratio, "ratio_lower_95": lower, "ratio_upper_95": upper,
                         "change": compare(lower, upper, 1.0)})


def ratio_of_published(value, lower, upper, value_before, lower_before, upper_before,
                       level: float = LEVEL) -> pd.DataFrame:
    """A published figure (a rate, a life expectancy) against the same period a year
    before, from the partner's own 95 % limits: the ratio of the two, with its interval
    on the log scale, each figure's standard error taken from its limits
    (``(ln upper - ln lower) / (2 x 1.96)``). Without limits, or with a figure of zero
    or below, the ratio has no interval and is not compared.

    Returns
    -------
    DataFrame
        As :func:`rate_ratio`: ``ratio, ratio_lower_95, ratio_upper_95, change``.
    """
    v1, v0 = np.asarray(value, dtype=float), np.asarray(value_before, dtype=float)
    arrays = [np.asarray(a, dtype=float) for a in (lower, upper, lower_before, upper_before)]
    z = float(norm.ppf(1 - (1 - level) / 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where((v0 > 0) & (v1 >= 0), v1 / v0, np.nan)
        se1 = (np.log(arrays[1]) - np.log(arrays[0])) / (2 * Z)
        se0 = (np.log(arrays[3]) - np.log(arrays[2])) / (2 * Z)
        se = np.sqrt(se1 ** 2 + se0 ** 2)
        lower_r, upper_r = ratio * np.exp(-z * se), ratio * np.exp(z * se)
    ok = np.isfinite(se) & (se > 0) & (v1 > 0) & (v0 > 0)
    lower_r, upper_r = np.where(ok, lower_r, np.nan), np.where(ok, upper_r, np.nan)
    return pd.DataFrame({"ratio": ratio, "ratio_lower_95": lower_r, "ratio_upper_95": upper_r,
                         "change": compare(lower_r, upper_r, 1.0)})
