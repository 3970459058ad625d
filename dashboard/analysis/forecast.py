"""Forecasts of each area's next months, with honest intervals, and early warning.

**The model.** One log-linear count regression (statsmodels' GLM) pooled over the
region's areas predicts each area's count ``h`` months ahead from what was known
``h`` months before:

* exponentially weighted means of its own counts with half-lives of 1, 3 and 6
  months (how busy it has been lately; the 3-month one is the best of the naive
  forecasts on the police series);
* its means over the last 12 and 24 months, and its count in the same month a
  year before;
* the 3-month weighted mean of its neighbours (queen contiguity), which steadies
  a sparse area's level;
* the calendar month (seasonality shared by the region).

The regression is fitted on the :data:`FIT_MONTHS` latest months it can be tested
on, one fit for each horizon, by Poisson quasi-likelihood: the expected counts stay
right whatever the spread, and busy areas weigh by their counts, as ranking the
busiest needs (a negative binomial fit weighs quiet areas more, and ranked the
busiest slightly worse on the police series). Pooling makes it quick and lets a
sparse area borrow strength from its past, its season and its neighbours. The
24-month mean (not all the months so far) lets a forecast catch up with a lasting
change, such as a boundary's new LSOAs, within two years.

**The intervals.** A count's spread grows with its level, but more slowly than a
negative binomial with one dispersion assumes: quiet areas vary more, and busy ones
less, than that. The variance is modelled as ``mu + a * mu**p`` (the NB-P family),
with ``a`` and ``p`` fitted by moments to the training months' residuals, level by
level. An interval is the range of whole counts from the predictive distribution
whose probability is nearest the level asked (its central quantiles, narrowed by
one count at an end when that comes nearer): counts are whole numbers, and the
plain central range of a quiet area holds far more than the level says.

**Early warning.** An area's month is set against its one-month-ahead forecast
from the months before it. Its p-value is two-sided (twice the smaller tail), and
it is flagged as unusual when its month lies outside the forecast's central 99 %
range (which holds 99 % or more: p below 0.01). The false alarm rate is so held at
1 % of areas a month at most; on 48 months of the police series 0.2 % to 0.7 % of
LSOAs were flagged a month, and the pages say how many would be by chance. For
planners who want fewer and surer, each area's q-value (Benjamini-Hochberg across
the region's areas) says whether it also survives false-discovery-rate control at
5 %. What a single month can show depends on the count: a month tripled was flagged
in 9 of 10 LSOAs expecting 20 or more, 7 of 10 expecting 10 to 20, and half of those
expecting 5 to 10 (``benchmarks/forecast.py``); the process control chart's run rule
catches a lasting change that no single month shows.

Hidden months (a partner's "under 5", or a cell hidden so a total cannot give one
away) are not counts: the features step over them and no fit or test uses them.
A small count's stand-in is used as every total uses it, but a month that is a
stand-in is never tested for being unusual.
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import sparse, stats
from statsmodels.stats.multitest import multipletests
from threadpoolctl import threadpool_limits

from dashboard import geography, measures
from dashboard.access import Viewer
from dashboard.filters import FilterError
from dashboard.geography import weights
from dashboard.measures import catalogue, rates
from loaders import Region
from store import Store

HALF_LIVES = (1, 3, 6)  # months
NAIVE_HALF_LIFE = 3
MIN_MONTHS = 24  # an indicator needs this many months for a forecast
FIT_MONTHS = 24  # the latest months each fit is trained on
MAX_HORIZON = 12
HORIZON = 3  # the default: the next three months
LEVELS = (0.80, 0.95)
WARNING = 0.99  # an unusual month lies outside this interval
FDR = 0.05  # the false discovery rate a q-value is read against
METHOD = "count regression (recent levels, season, neighbours), negative binomial intervals"
COLUMNS = ["area_code", "period", "predicted", "predicted_lower_95", "predicted_upper_95",
           "predicted_lower_80", "predicted_upper_80", "method"]
EXCEPTION_COLUMNS = ["area_code", "area_name", "period", "observed", "expected",
                     "expected_lower_99", "expected_upper_99", "direction", "judgement",
                     "p_value", "q_value"]
EXPLAINED = ("The forecast: one count regression over the region's areas, from each "
             "area's recent months (weighted means with 1-, 3- and 6-month half-lives), "
             "its 12- and 24-month means, the same month a year before, its neighbours' "
             "recent level and the season. The ranges are negative binomial, with a spread "
             "that grows with the count as the backtest found it. Tested on 48 months of "
             "the police series by LSOA, 80 % ranges held the count in 80-85 % of "
             "area-months and 95 % ranges in 95-97 % for six crime types; where most areas "
             "expect less than one a month (robbery) a range of whole counts holds more "
             "than it says.")
# Naive forecasts the model is compared with: each area's next month is...
NAIVE = {"last": "last month's count",
         "mean12": "the mean of the last 12 months",
         "last_year": "the count in the same month a year before",
         "ewma": f"the exponentially weighted mean ({NAIVE_HALF_LIFE}-month half-life)"}
_SMALL = 0.5  # added before taking logs, so an area with no counts has a level
_FLOOR = 1e-3  # the least expected count


def month_index(months: list[str]) -> np.ndarray:
    """Calendar month (0 for January) of each ``YYYY-MM``."""
    return np.array([int(m[5:7]) - 1 for m in months])


def only_months(periods: list[str]) -> list[str]:
    """The periods that are months (``YYYY-MM``), not years or spans."""
    return [p for p in periods if len(p) == 7 and p[4] == "-"]


def next_months(last: str, n: int) -> list[str]:
    """The ``n`` months after ``last``."""
    start = pd.Period(last, freq="M") + 1
    return [str(p) for p in pd.period_range(start, periods=n, freq="M")]


@dataclass
class Panel:
    """Counts by area (rows) and month (columns, in order), NaN where hidden; the
    neighbours as a row-standardised sparse matrix (an isolate is its own
    neighbour); ``fixed`` marks months that are a small count's stand-in."""

    counts: np.ndarray
    codes: np.ndarray
    months: list[str]
    neighbours: sparse.csr_array
    fixed: np.ndarray

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, graph=None) -> Panel:
        """A panel from :func:`dashboard.measures.month_panel` and the region's graph
        (None: no neighbours, each area its own)."""
        codes = np.asarray(frame.index, dtype=object)
        n = len(codes)
        if graph is not None:
            adj = sparse.csr_array(weights.restrict(graph, frame.index).sparse, dtype=float)
        else:
            adj = sparse.csr_array((n, n), dtype=float)
        degree = np.asarray(adj.sum(axis=1)).ravel()
        alone = sparse.diags_array((degree == 0).astype(float))
        scale = sparse.diags_array(1 / np.maximum(degree, 1))
        marks = frame.attrs.get("stand_ins")
        fixed = marks.reindex(index=frame.index, columns=frame.columns).fillna(False)\
            .to_numpy(bool) if marks is not None else np.zeros(frame.shape, bool)
        return cls(frame.to_numpy(dtype=float), codes, [str(c) for c in frame.columns],
                   sparse.csr_array(scale @ adj + alone), fixed)

    def between(self, start: str, end: str) -> Panel:
        """The panel's months from ``start`` to ``end`` (inclusive)."""
        a, b = self.months.index(start), self.months.index(end) + 1
        return Panel(self.counts[:, a:b], self.codes, self.months[a:b], self.neighbours,
                     self.fixed[:, a:b])

    def upto(self, end: int) -> Panel:
        """The panel's first ``end`` months."""
        return Panel(self.counts[:, :end], self.codes, self.months[:end], self.neighbours,
                     self.fixed[:, :end])


def _ewma(counts: np.ndarray, half_life: float) -> np.ndarray:
    """Exponentially weighted mean of each row to each month, stepping over hidden
    months (NaN); NaN until a row's first known month."""
    lam = 1 - 0.5 ** (1 / half_life)
    out = np.full_like(counts, np.nan)
    level = np.full(counts.shape[0], np.nan)
    for j in range(counts.shape[1]):
        y = counts[:, j]
        known = ~np.isnan(y)
        level = np.where(known, np.where(np.isnan(level), y, lam * y + (1 - lam) * level),
                         level)
        out[:, j] = level
    return out


class _Features:
    """What each month's design rows are made from, computed once for a panel."""

    def __init__(self, panel: Panel):
        c = panel.counts
        self.panel = panel
        self.calendar = month_index(panel.months)
        self.smooth = {h: _ewma(c, h) for h in HALF_LIVES}
        seen = ~np.isnan(c)
        csum = np.cumsum(np.where(seen, c, 0), axis=1)
        cn = np.cumsum(seen, axis=1)
        pad = lambda a: np.concatenate([np.zeros((a.shape[0], 1)), a], axis=1)  # noqa: E731
        csum, cn = pad(csum), pad(cn)
        t = np.arange(c.shape[1])
        with np.errstate(invalid="ignore", divide="ignore"):
            self.mean12, self.mean24 = ((csum[:, t + 1] - csum[:, np.maximum(t + 1 - n, 0)])
                                        / (cn[:, t + 1] - cn[:, np.maximum(t + 1 - n, 0)])
                                        for n in (12, 24))

    def rows(self, base: int, target_calendar: int, target: int | None) -> np.ndarray:
        """Design rows for a month ``target_calendar`` (0-11) predicted from what was
        known at month ``base``; ``target`` is the target's own index when it is in
        the panel (its year-before month may then be known)."""
        f, c = self, self.panel.counts
        cols = [self.smooth[h][:, base] for h in HALF_LIVES]
        cols += [f.mean12[:, base], f.mean24[:, base]]
        back = (target if target is not None else base + 1) - 12
        year_before = c[:, back] if 0 <= back <= base else f.mean12[:, base]
        cols.append(np.where(np.isnan(year_before), f.mean12[:, base], year_before))
        cols.append(self.panel.neighbours @ np.nan_to_num(
            self.smooth[NAIVE_HALF_LIFE][:, base], nan=0.0))
        # a row with nothing known yet is as quiet as can be
        x = np.log(np.maximum(np.nan_to_num(np.column_stack(cols), nan=0.0), 0) + _SMALL)
        season = np.zeros((c.shape[0], 11))
        if target_calendar > 0:
            season[:, target_calendar - 1] = 1
        return np.column_stack([np.ones(c.shape[0]), x, season])


@dataclass(frozen=True)
class Fitted:
    """One horizon's regression and the spread of its counts (variance
    ``mu + dispersion * mu**power``)."""

    horizon: int
    params: np.ndarray
    dispersion: float
    power: float

    def mean(self, x: np.ndarray) -> np.ndarray:
        return np.maximum(np.exp(np.clip(x @ self.params, -30, 30)), _FLOOR)

    def distribution(self, mu: np.ndarray):
        """The predictive negative binomial of each expected count (scipy frozen)."""
        mu = np.maximum(np.asarray(mu, dtype=float), _FLOOR)
        size = mu ** (2 - self.power) / max(self.dispersion, 1e-8)
        return stats.nbinom(size, size / (size + mu))


def _spread(y: np.ndarray, mu: np.ndarray) -> tuple[float, float]:
    """``a`` and ``p`` of the variance ``mu + a * mu**p``, by moments: the excess
    variance over Poisson in ten bands of expected count, a straight line through
    their logs weighted by the rows in each band."""
    edges = np.unique(np.quantile(mu, np.linspace(0, 1, 11)))
    band = np.clip(np.searchsorted(edges, mu, side="right") - 1, 0, max(len(edges) - 2, 0))
    lx, ly, w = [], [], []
    for b in np.unique(band):
        sel = band == b
        m, obs = mu[sel], y[sel]
        excess = ((obs - m) ** 2 - m).sum() / (m ** 2).sum()
        if excess > 0 and m.mean() > 0:
            lx.append(np.log(m.mean()))
            ly.append(np.log(excess))
            w.append(sel.sum())
    if not lx:
        return 1e-6, 2.0  # no more spread than Poisson
    if len(lx) == 1:
        return float(np.exp(ly[0])), 2.0
    slope, intercept = np.polyfit(lx, ly, 1, w=np.sqrt(w))
    power = float(np.clip(2 + slope, 1.0, 2.0))
    # the level fixed, refit the scale so the mean excess matches
    scale = float(np.average(np.exp(np.array(ly) - (power - 2) * np.array(lx)), weights=w))
    return max(scale, 1e-6), power


def _one_thread(work):
    """Run ``work`` with the linear algebra library on one thread. Each fit solves
    many small least-squares problems, where threads only wait on each other: on a
    2-core machine shared with another process, each solve took 7 times as long."""
    @functools.wraps(work)
    def run(*args, **kwargs):
        with threadpool_limits(1, user_api="blas"):
            return work(*args, **kwargs)
    return run


def fit(features: _Features, end: int, horizon: int) -> Fitted:
    """The ``horizon``-month regression trained on targets up to month index ``end - 1``
    (the latest :data:`FIT_MONTHS` whose base month is known)."""
    c = features.panel.counts
    targets = [t for t in range(max(horizon, end - FIT_MONTHS), end) if t - horizon >= 0]
    if not targets:
        raise FilterError("train", "too few months to fit a forecast")
    x = np.vstack([features.rows(t - horizon, features.calendar[t], t) for t in targets])
    y = np.concatenate([c[:, t] for t in targets])
    known = ~np.isnan(y)
    x, y = x[known], y[known]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # perfect fits and separation in sparse data
        params = _glm(y, x, sm.families.Poisson()).params
    mu = np.maximum(np.exp(np.clip(x @ params, -30, 30)), _FLOOR)
    # A small count's stand-in (its expected value) trains the spread as well: left
    # out, the spread is fitted to zeros and counts of 5 or more alone, and the ranges
    # came out too wide against the true counts (92 % held by 80 % ranges for
    # anti-social behaviour, against 86 % with the stand-ins; benchmarks/forecast.py).
    dispersion, power = _spread(y, mu)
    return Fitted(horizon, np.asarray(params), dispersion, power)


def _glm(y: np.ndarray, x: np.ndarray, family, start=None):
    """statsmodels' GLM by IRLS, with the pseudo-inverse where least squares fails."""
    model = sm.GLM(y, x, family=family)
    try:
        return model.fit(start_params=start)
    except np.linalg.LinAlgError:
        return model.fit(start_params=start, wls_method="pinv")


def interval(dist, level: float) -> tuple[np.ndarray, np.ndarray]:
    """The whole-count range whose predictive probability is nearest ``level``: the
    central quantiles, narrowed at one end by a count when that comes nearer."""
    lo = dist.ppf((1 - level) / 2)
    hi = dist.ppf((1 + level) / 2)
    mass = lambda a, b: dist.cdf(b) - dist.cdf(a - 1)  # noqa: E731
    full = mass(lo, hi)
    upper = np.where(hi > lo, mass(lo, hi - 1), -np.inf)
    lower = np.where(hi > lo, mass(lo + 1, hi), -np.inf)
    gap = lambda m: np.abs(m - level)  # noqa: E731
    cut_hi = (gap(upper) < gap(full)) & (gap(upper) <= gap(lower))
    cut_lo = (gap(lower) < gap(full)) & ~cut_hi
    return np.where(cut_lo, lo + 1, lo), np.where(cut_hi, hi - 1, hi)


def p_values(dist, observed: np.ndarray) -> np.ndarray:
    """Two-sided p-value of each observed count under its predictive distribution."""
    y = np.asarray(observed, dtype=float)
    low, high = dist.cdf(y), dist.sf(y - 1)
    return np.minimum(1.0, 2 * np.minimum(low, high))


@_one_thread
def predict(panel: Panel, horizon: int = HORIZON, end: int | None = None,
            fits: dict[int, Fitted] | None = None) -> pd.DataFrame:
    """Each area's forecast for the ``horizon`` months after month index ``end - 1``
    (default: the panel's last month), trained on the months up to it.

    Returns :data:`COLUMNS` (``period`` is the forecast month) plus ``horizon``; an area
    with no known month has blank figures. ``attrs["spread"]`` holds each horizon's
    dispersion and power.
    """
    end = len(panel.months) if end is None else end
    features = _Features(panel.upto(end))
    ahead = next_months(panel.months[end - 1], horizon)
    # An area with no known month (a ward no LSOA is best-fitted to, or hidden
    # throughout) gets no forecast: blank, not the quietest.
    seen = ~np.isnan(panel.counts[:, :end]).all(axis=1)
    parts, fitted = [], {}
    for h in range(1, horizon + 1):
        one = (fits or {}).get(h) or fit(features, end, h)
        fitted[h] = one
        mu = one.mean(features.rows(end - 1, month_index([ahead[h - 1]])[0], None))
        dist = one.distribution(mu)
        part = {"area_code": panel.codes, "period": ahead[h - 1],
                "predicted": np.where(seen, mu, np.nan)}
        for level in sorted(LEVELS, reverse=True):
            lo, hi = interval(dist, level)
            pct = round(level * 100)
            for side, bound in (("lower", lo), ("upper", hi)):
                part[f"predicted_{side}_{pct}"] = pd.array(
                    np.where(seen, bound, np.nan), dtype="Float64").astype("Int64")
        parts.append(pd.DataFrame(part).assign(method=METHOD, horizon=h))
    out = pd.concat(parts, ignore_index=True)
    # plain numbers only: pandas compares attrs when frames combine
    out.attrs["spread"] = {h: (f.dispersion, f.power) for h, f in fitted.items()}
    return out


@_one_thread
def one_step(panel: Panel, month: int, features: _Features | None = None
             ) -> tuple[np.ndarray, Fitted]:
    """The expected count of each area in month index ``month``, from a model
    trained on the months before it, and that model. ``features``: the panel's
    (every feature is causal, so one set serves every month)."""
    features = _Features(panel) if features is None else features
    fitted = fit(features, month, 1)
    return fitted.mean(features.rows(month - 1, features.calendar[month], month)), fitted


def naive(panel: Panel, end: int, horizon: int = 1, features: _Features | None = None
          ) -> dict[str, np.ndarray]:
    """The naive forecasts (:data:`NAIVE`) of month index ``end + horizon - 1`` from
    the months up to ``end - 1`` (``features``: the panel's, whose weighted means
    are already made)."""
    c = panel.counts[:, :end]
    target = end + horizon - 1
    year = target - 12
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an area hidden throughout
        return {"last": c[:, -1],
                "mean12": np.nanmean(c[:, -12:], axis=1),
                "last_year": c[:, year] if 0 <= year < end else np.full(len(c), np.nan),
                "ewma": (features.smooth[NAIVE_HALF_LIFE][:, end - 1] if features
                         else _ewma(c, NAIVE_HALF_LIFE)[:, -1])}


def unusual(observed: np.ndarray, expected: np.ndarray, fitted: Fitted,
            testable: np.ndarray | None = None) -> pd.DataFrame:
    """Each area's month against its forecast: ``p_value`` (two-sided), the 99 % limits
    (the central quantiles, holding 99 % or more), ``flagged`` (outside them: p below
    0.01), ``direction`` (higher, lower or blank) and ``q_value`` (Benjamini-Hochberg
    across the tested areas: at most 5 % of the areas with q <= 0.05 are expected to be
    chance). Areas not ``testable`` (hidden or a stand-in) get no p-value and are
    never flagged."""
    y = np.asarray(observed, dtype=float)
    expected = np.asarray(expected, dtype=float)
    ok = ~np.isnan(y) if testable is None else (np.asarray(testable, bool) & ~np.isnan(y))
    dist = fitted.distribution(expected)
    lo, hi = dist.ppf((1 - WARNING) / 2), dist.ppf((1 + WARNING) / 2)
    p = np.where(ok, p_values(dist, np.where(ok, y, 0)), np.nan)
    q = np.full(len(y), np.nan)
    if ok.any():
        q[ok] = multipletests(p[ok], alpha=FDR, method="fdr_bh")[1]
    flagged = ok & ((y < lo) | (y > hi))
    direction = np.where(flagged, np.where(y > expected, "higher", "lower"), "")
    return pd.DataFrame({"observed": y, "expected": expected, "expected_lower_99": lo,
                         "expected_upper_99": hi, "p_value": p, "q_value": q,
                         "direction": direction, "flagged": flagged})


# ---------------------------------------------------------------------------
# Through the door: the region's protected monthly counts, then the model.

def read_panel(store: Store, region: Region, indicator: str, level: str, *,
               viewer: Viewer, end: str | None = None, start: str | None = None,
               graph=None) -> Panel:
    """The protected monthly counts of ``indicator`` (``measures.month_panel``: the
    door, with its access and disclosure control) from ``start`` to ``end`` (default:
    all its months) as a :class:`Panel` with the region's neighbours.

    Raises
    ------
    FilterError
        If the indicator is not a monthly count with at least :data:`MIN_MONTHS` months
        to ``end``; AccessDenied as ``measures.indicator_view``.
    """
    months = catalogue.months(store, indicator, viewer=viewer)
    monthly = only_months(months)
    if end is not None and end not in monthly:
        raise FilterError("period", f"{end} is not a month of {indicator} "
                          f"(it has {_span(monthly)})")
    chosen = [m for m in monthly if (start is None or m >= start)
              and (end is None or m <= end)]
    if len(chosen) < MIN_MONTHS:
        raise FilterError("indicator", f"{indicator} has {len(chosen)} months to forecast "
                          f"from ({_span(chosen)}); a forecast needs at least {MIN_MONTHS}")
    gaps = pd.period_range(chosen[0], chosen[-1], freq="M").size - len(chosen)
    if gaps:
        raise FilterError("indicator", f"{indicator} misses {gaps} months between "
                          f"{chosen[0]} and {chosen[-1]}; a forecast needs every month")
    frame = measures.month_panel(store, region, indicator, chosen, level=level,
                                 viewer=viewer)
    graph = weights.region_graph(store, region, level) if graph is None else graph
    return Panel.from_frame(frame, graph)


def forecastable(store: Store, *, viewer: Viewer) -> list[str]:
    """The count indicators the viewer may see with at least :data:`MIN_MONTHS`
    months, in catalogue order."""
    cat = catalogue.catalogue(store, viewer=viewer)
    counts = cat[(cat["unit"] == "count") & cat["additive"].astype(bool)]
    return [i for i in counts["indicator"]
            if len(only_months(catalogue.months(store, i, viewer=viewer))) >= MIN_MONTHS]


def _count_indicator(store: Store, indicator: str, viewer: Viewer) -> dict:
    """The indicator's catalogue entry, if it is a count (a forecast models counts)."""
    meta = measures.indicator_meta(store, indicator, viewer=viewer)
    if meta.get("unit") != "count" or not meta.get("additive"):
        raise FilterError("indicator", f"{indicator} is a {meta.get('unit')}, not a count; "
                          "forecasts are made for counts")
    return meta


def forecast_areas(store: Store, region: Region, indicator: str, level: str, *,
                   viewer: Viewer, train: tuple[str, str] | None = None,
                   horizon: int = HORIZON, graph=None) -> pd.DataFrame:
    """Each of the region's areas' forecast for the ``horizon`` months after the
    training months (default: all the indicator's months): :data:`COLUMNS` plus
    ``area_name`` and ``horizon``, in area then month order.

    Raises
    ------
    FilterError
        For a horizon outside 1 to :data:`MAX_HORIZON`, an indicator that is not a
        count, or too few training months; AccessDenied as ``measures.indicator_view``.
    """
    if not 1 <= int(horizon) <= MAX_HORIZON:
        raise FilterError("horizon", f"horizon was {horizon}; it must be 1 to {MAX_HORIZON} "
                          "months")
    _count_indicator(store, indicator, viewer)
    start, end = train if train else (None, None)
    panel = read_panel(store, region, indicator, level, viewer=viewer, start=start, end=end,
                       graph=graph)
    out = predict(panel, int(horizon))
    out["predicted"] = out["predicted"].round(2)
    names = _names(store, region, level)
    out.insert(1, "area_name", out["area_code"].map(names))
    out = out.sort_values(["area_code", "period"], kind="stable").reset_index(drop=True)
    out.attrs["trained"] = f"{panel.months[0]}:{panel.months[-1]}"
    return out


def _names(store: Store, region: Region, level: str) -> pd.Series:
    areas = geography.region_areas(store, region, level)
    return areas.set_index("code")["name"]


def exceptions(store: Store, region: Region, indicator: str, level: str, period: str, *,
               viewer: Viewer, every: bool = False, graph=None) -> pd.DataFrame:
    """The areas whose count in ``period`` was unusual against the forecast made from
    the months before it (:func:`unusual`): :data:`EXCEPTION_COLUMNS`, the most
    significant first. ``every``: all the tested areas, flagged or not (with
    ``flagged``). ``attrs``: ``tested``, ``untested`` (hidden months and small
    counts' stand-ins) and the false discovery rate.

    Raises
    ------
    FilterError
        If ``period`` is not one of the indicator's months or has fewer than
        :data:`MIN_MONTHS` - 1 months before it; AccessDenied as
        ``measures.indicator_view``.
    """
    meta = _count_indicator(store, indicator, viewer)
    panel = read_panel(store, region, indicator, level, viewer=viewer, end=period, graph=graph)
    t = len(panel.months) - 1
    expected, fitted = one_step(panel, t)
    testable = ~panel.fixed[:, t] & ~np.isnan(panel.counts[:, t])
    res = unusual(panel.counts[:, t], expected, fitted, testable)
    res.insert(0, "area_code", panel.codes)
    res.insert(1, "area_name", res["area_code"].map(_names(store, region, level)))
    res.insert(2, "period", period)
    res["judgement"] = judgement(res["direction"], meta["polarity"])
    res.loc[~testable, "observed"] = np.nan
    shown = res if every else res[res["flagged"]]
    shown = shown.sort_values(["p_value", "area_code"], kind="stable", na_position="last")
    out = shown[[*EXCEPTION_COLUMNS, *(["flagged"] if every else [])]].reset_index(drop=True)
    out.attrs.update(tested=int(testable.sum()), untested=int((~testable).sum()),
                     fdr=FDR, level=WARNING, polarity=meta["polarity"], title=meta["title"])
    return out


def judgement(direction, polarity: str) -> np.ndarray:
    """``higher``/``lower`` as ``worse``/``better`` by polarity (kept as higher and
    lower where the indicator makes no judgement); blank stays blank."""
    return rates.judged(np.asarray(direction, dtype=object), polarity)


@_one_thread
def control_chart(store: Store, region: Region, indicator: str, level: str, area: str, *,
                  viewer: Viewer, end: str | None = None, months: int = 24, graph=None
                  ) -> pd.DataFrame:
    """A process control chart of one area: for each of the ``months`` latest months
    to ``end``, its count, the count expected from the months before it, the 99 %
    limits, and whether it was unusual (``signal``: ``concern``, ``improvement``,
    ``higher``/``lower`` without a polarity, or ``common`` cause), by the early
    warning's rule for one area (outside its 99 % limits), or as part of a run of
    :data:`RUN` or more months on one side of expected (a shift).

    Each month's expectation comes from a model trained on the months before it,
    as the early warning does; the area's figures pass through the same door.
    """
    meta = _count_indicator(store, indicator, viewer)
    panel = read_panel(store, region, indicator, level, viewer=viewer, end=end, graph=graph)
    where = np.flatnonzero(panel.codes == area)
    if not where.size:
        raise FilterError("area", f"{area} is not a {level} of {region.name}")
    i = int(where[0])
    first = max(MIN_MONTHS - 12, len(panel.months) - months)
    rows = []
    features = _Features(panel)
    for t in range(first, len(panel.months)):
        mu, fitted = one_step(panel, t, features)
        dist = fitted.distribution(mu[i:i + 1])
        lo, hi = dist.ppf((1 - WARNING) / 2), dist.ppf((1 + WARNING) / 2)
        y = panel.counts[i, t]
        rows.append({"period": panel.months[t], "observed": y,
                     "hidden": bool(panel.fixed[i, t] or np.isnan(y)),
                     "expected": float(mu[i]), "lower_99": float(lo[0]),
                     "upper_99": float(hi[0])})
    out = pd.DataFrame(rows)
    out.loc[out["hidden"], "observed"] = np.nan
    out["side"] = np.sign(out["observed"] - out["expected"]).fillna(0)
    outside = (out["observed"] > out["upper_99"]) | (out["observed"] < out["lower_99"])
    shifted = _runs(out["side"].to_numpy()) >= RUN
    direction = np.where(out["observed"] > out["expected"], "higher", "lower")
    special = (outside | shifted) & ~out["hidden"]
    judged = judgement(np.where(special, direction, ""), meta["polarity"])
    signal = {"worse": "concern", "better": "improvement"}
    out["signal"] = [signal.get(j, j) if j else "common" for j in judged]
    out["rule"] = np.where(outside & ~out["hidden"], "outside the 99% limits",
                           np.where(shifted & ~out["hidden"],
                                    f"a run of {RUN} or more on one side", ""))
    out.attrs.update(title=meta["title"], polarity=meta["polarity"], area=area)
    return out.drop(columns="side")


RUN = 7  # months in a row on one side of expected: a shift, as Making Data Count
# reads seven or more points on one side of the centre line


def _runs(side: np.ndarray) -> np.ndarray:
    """For each position, the length of the run of the same non-zero sign it is in
    (0 where the sign is 0)."""
    out = np.zeros(len(side), int)
    start = 0
    for j in range(1, len(side) + 1):
        if j == len(side) or side[j] != side[start]:
            if side[start] != 0:
                out[start:j] = j - start
            start = j
    return out


def _span(months: list[str]) -> str:
    return f"{months[0]} to {months[-1]}" if months else "no months"


# ---------------------------------------------------------------------------
# Scoring: calibration and capture over rolling test months.

SHARES = (0.01, 0.02, 0.05, 0.10)


def capture(figure: np.ndarray, actual: np.ndarray, codes: np.ndarray, share: float
            ) -> tuple[float, float]:
    """The share of ``actual`` in the ceil(share x areas) areas with the highest
    ``figure`` (ties broken by code), and Hunt's PEI*: that capture over the most any
    as many areas could have caught."""
    known = ~np.isnan(actual) & ~np.isnan(figure)
    f, y, c = figure[known], actual[known], codes[known]
    n = int(np.ceil(share * len(y)))
    total = y.sum()
    if not n or not total:
        return np.nan, np.nan
    order = np.lexsort((c, -f))[:n]
    caught = y[order].sum()
    best = np.sort(y)[::-1][:n].sum()
    return caught / total, (caught / best if best else np.nan)


@_one_thread
def rolling_scores(panel: Panel, test_months: list[str], shares=SHARES) -> pd.DataFrame:
    """Each test month's one-month-ahead forecast (trained on the months before it)
    against the naive forecasts: a row per month, method and share with
    ``capture`` and ``pei``, and per month the forecast's interval coverage
    (``inside_80``, ``inside_95``) and the share of areas flagged as unusual."""
    rows = []
    features = _Features(panel)
    for month in test_months:
        t = panel.months.index(month)
        mu, fitted = one_step(panel, t, features)
        y = panel.counts[:, t]
        known = ~np.isnan(y) & ~panel.fixed[:, t]  # a stand-in is not a realised count
        dist = fitted.distribution(mu[known])
        cover = {}
        for level in LEVELS:
            lo, hi = interval(dist, level)
            cover[f"inside_{round(level * 100)}"] = float(((y[known] >= lo)
                                                          & (y[known] <= hi)).mean())
        flags = unusual(y, mu, fitted, ~panel.fixed[:, t])["flagged"].mean()
        methods = {"forecast": mu, **naive(panel, t, features=features)}
        for share in shares:
            for name, figure in methods.items():
                cap, pei = capture(figure, y, panel.codes, share)
                rows.append({"month": month, "method": name, "share": share,
                             "capture": cap, "pei": pei, **cover,
                             "flagged": float(flags)})
    return pd.DataFrame(rows)
