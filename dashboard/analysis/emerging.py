"""Emerging hot spots: how each area's Gi* changes over the months of a period.

Gi* is computed for every month (``dashboard.analysis.hotspots``); a month counts as a
hot (cold) spot for an area when the area is a hot (cold) spot at 90 %
confidence or more, after the chosen correction. The trend of each area's
monthly z-scores is the Mann-Kendall test (``pymannkendall``). The categories
follow the space-time pattern mining literature (ArcGIS Emerging Hot Spot
Analysis), evaluated in this order for an area whose final month is hot:

* **Oscillating**: hot in the final month, a cold spot in some earlier month,
  and hot in under 90 % of months;
* **New**: hot in the final month only;
* **Consecutive**: hot in an unbroken run of two or more months at the end,
  never before it, and in under 90 % of months;
* **Intensifying / Persistent / Diminishing**: hot in at least 90 % of months
  including the final one, with z-scores significantly rising / showing no
  trend / significantly falling;
* **Sporadic**: hot in the final month, on and off before, never cold, and
  in under 90 % of months.

An area not hot in the final month but hot in at least 90 % of months is
**Historical**. Cold spots mirror all of these, with "intensifying" meaning
the z-scores fall. Anything else is "No pattern detected".
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pymannkendall
from scipy.stats import norm

MIN_PERIODS = 10
SHARE = 0.9
TREND_ALPHA = 0.05
NO_PATTERN = "No pattern detected"
PATTERNS = ["New", "Consecutive", "Intensifying", "Persistent", "Diminishing", "Sporadic",
            "Oscillating", "Historical"]
CATEGORIES = [f"{p} hot spot" for p in PATTERNS] + [f"{p} cold spot" for p in PATTERNS] \
    + [NO_PATTERN]
# Reds for hot, blues for cold (ColorBrewer Reds/Blues), light grey for none:
# the strongest, most current patterns darkest.
COLOURS = dict(zip(
    CATEGORIES,
    ["#fcae91", "#fb6a4a", "#99000d", "#cb181d", "#ef3b2c", "#fee0d2", "#fc9272", "#a5a5a5"]
    + ["#bdd7e7", "#6baed6", "#08306b", "#2171b5", "#4292c6", "#deebf7", "#9ecae1",
       "#8c96a8"]
    + ["#f4f4f4"], strict=True))


def trend(z: np.ndarray, alpha: float = TREND_ALPHA) -> tuple[str, float, float]:
    """Mann-Kendall trend of a z-score series: (``increasing|decreasing|no trend``, z, p)."""
    z = np.asarray(z, float)
    if np.isnan(z).any() or len(z) < 3 or np.ptp(z) == 0:
        return "no trend", 0.0, 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = pymannkendall.original_test(z, alpha=alpha)
    return res.trend, float(res.z), float(res.p)


def _pattern(hot: np.ndarray, cold: np.ndarray, direction: str) -> str | None:
    """The hot-side pattern of a series (``direction`` is the MK trend towards 'hot')."""
    n = len(hot)
    share = hot.sum() / n
    if not hot.any():
        return None
    if not hot[-1]:
        return "Historical" if share >= SHARE else None
    if share >= SHARE:
        return {"increasing": "Intensifying", "decreasing": "Diminishing"}.get(
            direction, "Persistent")
    run = n - (np.flatnonzero(~hot).max() + 1) if (~hot).any() else n
    before = hot[:n - run]
    if cold[:n - run].any():
        return "Oscillating"
    if not before.any():
        return "New" if run == 1 else "Consecutive"
    return "Sporadic"


def category(hot: np.ndarray, cold: np.ndarray, z: np.ndarray,
             direction: str | None = None) -> str:
    """The emerging hot spot category of one area.

    Parameters
    ----------
    hot, cold : array of bool
        Whether the area was a significant hot (cold) spot in each period, oldest first.
    z : array of float
        Its Gi* z-score in each period.
    direction : str, optional
        The Mann-Kendall trend of ``z`` when already computed (:func:`trend`).
    """
    hot = np.asarray(hot, bool)
    cold = np.asarray(cold, bool)
    if hot.shape != cold.shape or (hot & cold).any():
        raise ValueError("hot and cold must be the same length and never both true")
    if direction is None:
        direction, _, _ = trend(z)
    flipped = {"increasing": "decreasing", "decreasing": "increasing"}.get(direction, direction)
    if cold[-1]:
        found = _pattern(cold, hot, flipped)
        return f"{found} cold spot" if found else NO_PATTERN
    found = _pattern(hot, cold, direction)
    if found:
        return f"{found} hot spot"
    found = _pattern(cold, hot, flipped)
    return f"{found} cold spot" if found else NO_PATTERN


def trends(z: np.ndarray, alpha: float = TREND_ALPHA) -> tuple[np.ndarray, np.ndarray,
                                                                np.ndarray]:
    """:func:`trend` of every row of an areas x periods array at once.

    The same Mann-Kendall test as ``pymannkendall.original_test`` (score S over all
    pairs of periods, its variance with the correction for ties, the continuity-
    corrected z and its two-sided p), computed for all areas together: one call per
    area took most of an England and Wales run. Rows with a missing value, fewer
    than 3 periods or no variation get ``no trend``, 0 and 1, as :func:`trend` does.
    """
    z = np.asarray(z, float)
    n_areas, n = z.shape
    label = np.full(n_areas, "no trend", dtype=object)
    tz, tp = np.zeros(n_areas), np.ones(n_areas)
    ok = ~np.isnan(z).any(axis=1) & (n >= 3)
    if n >= 3:
        ok &= np.ptp(np.where(np.isnan(z), 0.0, z), axis=1) > 0
    if not ok.any():
        return label, tz, tp
    x = z[ok]
    i, j = np.triu_indices(n, k=1)
    s = np.sign(x[:, j] - x[:, i]).sum(axis=1)
    ties = np.zeros(len(x))
    for row, values in enumerate(x):  # ties are rare in z-scores: a cheap loop
        _, counts = np.unique(values, return_counts=True)
        t = counts[counts > 1].astype(float)
        ties[row] = np.sum(t * (t - 1) * (2 * t + 5))
    var = (n * (n - 1) * (2 * n + 5) - ties) / 18
    score = np.where(s > 0, (s - 1) / np.sqrt(var), np.where(s < 0, (s + 1) / np.sqrt(var), 0.0))
    p = 2 * norm.sf(np.abs(score))  # not 1 - cdf, which is 0 for a strong trend
    h = np.abs(score) > norm.ppf(1 - alpha / 2)
    label[ok] = np.where(h & (score > 0), "increasing",
                         np.where(h & (score < 0), "decreasing", "no trend"))
    tz[ok], tp[ok] = score, p
    return label, tz, tp


def classify(z: pd.DataFrame, hot: pd.DataFrame, cold: pd.DataFrame) -> pd.DataFrame:
    """Category and trend of every area, from per-period frames (areas x periods).

    Returns
    -------
    DataFrame
        Indexed by area: ``category, periods_hot, periods_cold, trend, trend_z,
        trend_p``. An area with a missing z in any period (not tested then)
        gets "No pattern detected".
    """
    zs = z.to_numpy(float)
    h = hot.reindex(index=z.index, columns=z.columns).fillna(False).to_numpy(bool)
    c = cold.reindex(index=z.index, columns=z.columns).fillna(False).to_numpy(bool)
    direction, tz, tp = trends(zs)
    tested = ~np.isnan(zs).any(axis=1)
    cats = np.full(len(zs), NO_PATTERN, dtype=object)
    for row in np.flatnonzero(tested & (h.any(axis=1) | c.any(axis=1))):
        cats[row] = category(h[row], c[row], zs[row], direction[row])
    return pd.DataFrame({"category": cats, "periods_hot": h.sum(axis=1),
                         "periods_cold": c.sum(axis=1), "trend": direction, "trend_z": tz,
                         "trend_p": tp}, index=pd.Index(z.index, name="area_code"))


def category_counts(result: pd.DataFrame) -> pd.DataFrame:
    """Areas per category in legend order, only categories that occur (plus none)."""
    counts = result["category"].value_counts()
    present = [c for c in CATEGORIES if counts.get(c, 0) or c == NO_PATTERN]
    return pd.DataFrame({"category": present, "colour": [COLOURS[c] for c in present],
                         "areas": [int(counts.get(c, 0)) for c in present]})


def with_pattern(result: pd.DataFrame) -> pd.DataFrame:
    """The areas of an emerging result that show a pattern."""
    return result[result["category"] != NO_PATTERN]
