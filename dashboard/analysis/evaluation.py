"""Did it work? An intervention's effect on one indicator, against comparison areas.

The figures are each LSOA's protected monthly counts (``measures.lsoa_month_panel``:
a hidden small count stands in as its stand-in, as in every total), so an
evaluation depends on no hidden value, like every other view.

* **Windows.** Before: the 24 months before the start; after: every month since.
* **Comparison areas.** The rest of the region (less the treated areas and the ring
  of their neighbours), or ``matched`` areas: for each treated area the
  :data:`MATCHES` untreated areas most like it before the start, in level and trend.
* **Difference-in-differences** (``did``): a Poisson model of the counts with area
  and month effects (statsmodels' conditional Poisson, which conditions the area
  effects out), the effect being the treated areas' change after the start beyond
  the comparison areas'. Its 95 % interval and p-value come from **placebo groups**:
  :data:`PLACEBOS` contiguous patches of untreated areas of the same size and level,
  each evaluated as if treated, each effect divided by its own noise before the start
  (studentised, so a steady busy patch is not judged by the spread of jumpy quiet
  ones). Plain Poisson standard errors assume counts vary only by chance, but areas
  differ from month to month far more than that (12-LSOA placebo groups of anti-social
  behaviour in Avon and Somerset spread with a standard deviation of about 15 %,
  against a plain standard error of about 6 %), so their intervals would exclude zero
  for about half of placebo patches.
* **Synthetic control** (``synthetic``, pysyncon): a weighted mix of comparison wards
  (the treated areas' share left out), each as an index of its own level before the
  start, chosen to follow the treated areas' path before the start; after the start
  it is the counterfactual. Placebo-in-space inference as above.
* **Displacement.** Bowers and Johnson's weighted displacement quotient on the ring
  of untreated neighbours, and the ring's own difference-in-differences.
* **Power.** The minimum detectable effect (80 % power, 5 % two-sided) from the
  placebo spread, stated before the result; where it is large the verdict says the
  data cannot tell.

Every function here is plain Python on a panel (rows: LSOA codes, columns: months).
"""

from __future__ import annotations

import math
import random
import re
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from dashboard import access, geography, measures
from dashboard.filters import FilterError
from dashboard.geography import weights
from dashboard.measures import catalogue
from dashboard.measures import interventions as register
from loaders import load_regions

SEED = 20241
PLACEBOS = 500
SYNTH_PLACEBOS = 100
MATCHES = 5
MIN_COMPARISON = 20  # fewer comparison areas than this: no evaluation
# Above this many areas (a national comparison) the model on every area is skipped: its
# estimate is the grouped model's exactly (see did_effects), at a minute's cost.
AREA_MODEL_MAX = 5000
MIN_DONORS = 10  # fewer comparison wards than this: no synthetic control
DONORS = 50  # the comparison wards most like the treated path before the start
BEFORE_MONTHS = 24
MIN_BEFORE, MIN_AFTER = 6, 3
STRATA = 5  # placebo groups are drawn to match the treated areas' levels (quintiles)
POWER_Z = stats.norm.ppf(0.975) + stats.norm.ppf(0.80)
CANNOT_TELL = 0.5  # a minimum detectable fall above 50 %: the data cannot tell
STAND_IN_CAUTION = 0.2  # this share of treated cells standing in: the verdict warns
METHODS = ("did", "synthetic")
COMPARISONS = ("region", "matched")
METHOD_NAMES = {"did": "difference-in-differences", "synthetic": "synthetic control"}


class EvaluationError(FilterError):
    """An evaluation cannot be made (too few months or areas): the reason in words."""

    def __init__(self, message: str) -> None:
        super().__init__("evaluation", message)


@dataclass
class Estimate:
    """One method's answer: the effect as a proportional change (``-0.25``: a quarter
    fewer), its 95 % interval, p-value and minimum detectable effect, and the monthly
    path of the treated areas against their counterfactual."""

    method: str
    effect: float
    lower: float
    upper: float
    p_value: float
    mde: float
    path: pd.DataFrame  # month, observed, counterfactual (the treated areas' totals)
    placebo_sd: float
    plain_p: float | None = None  # what plain Poisson standard errors would say
    plain_lower: float | None = None
    plain_upper: float | None = None
    note: str = ""

    @property
    def significant(self) -> bool:
        """Whether the 95 % interval excludes no change."""
        return self.lower > 0 or self.upper < 0


@dataclass
class Evaluation:
    """An intervention's evaluation on one indicator."""

    treated: list[str]
    comparison: list[str]
    ring: list[str]
    before: list[str]
    after: list[str]
    estimates: dict[str, Estimate]
    wdq: float | None
    ring_change: Estimate | None
    comparison_kind: str
    stand_in_share: float = 0.0
    left_out: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)


# -- windows -----------------------------------------------------------------------------

def month_range(start: str, end: str) -> list[str]:
    """Every month from ``start`` to ``end`` (YYYY-MM, inclusive)."""
    return [str(p) for p in pd.period_range(start, end, freq="M")]


def windows(start: str, available: list[str], before: tuple[str, str] | None = None,
            after: tuple[str, str] | None = None) -> tuple[list[str], list[str]]:
    """The before and after windows, in months the indicator has.

    Raises
    ------
    EvaluationError
        If either window is too short, they overlap, or the after window does not
        begin at or after the start.
    """
    have = sorted(available)
    if before is None:
        first = str(pd.Period(start, "M") - BEFORE_MONTHS)
        before_months = [m for m in have if first <= m < start]
    else:
        before_months = [m for m in have if before[0] <= m <= before[1]]
    after_months = [m for m in have if (after[0] <= m <= after[1] if after else m >= start)]
    if after is not None and after[0] < start:
        raise EvaluationError(f"the after window begins {after[0]}, before the intervention "
                              f"started ({start})")
    if before_months and after_months and before_months[-1] >= after_months[0]:
        raise EvaluationError("the before window must end before the after window begins")
    span = f"the indicator has {have[0]} to {have[-1]}" if have else "the indicator has no months"
    if len(before_months) < MIN_BEFORE:
        raise EvaluationError(f"only {len(before_months)} months before the start ({start}) "
                              f"have figures; at least {MIN_BEFORE} are needed ({span})")
    if len(after_months) < MIN_AFTER:
        raise EvaluationError(f"only {len(after_months)} months from the start ({start}) "
                              f"have figures; at least {MIN_AFTER} are needed ({span})")
    return before_months, after_months


# -- comparison areas and placebo groups --------------------------------------------------

def profile(counts: pd.DataFrame, before: list[str]) -> pd.DataFrame:
    """Each area's level (log of its mean monthly count) and trend (the slope of its
    counts over the before window, relative to its mean) before the start."""
    pre = counts[before].to_numpy(float)
    mean = pre.mean(axis=1)
    t = np.arange(len(before)) - (len(before) - 1) / 2
    slope = (pre * t).sum(axis=1) / (t ** 2).sum()
    return pd.DataFrame({"level": np.log1p(mean), "trend": slope / (mean + 1)},
                        index=counts.index)


def matched(counts: pd.DataFrame, treated: list[str], pool: list[str], before: list[str],
            k: int = MATCHES) -> list[str]:
    """For each treated area, the ``k`` areas of ``pool`` nearest it in level and trend
    before the start (standardised), pooled without repeats."""
    prof = profile(counts.loc[list(dict.fromkeys([*treated, *pool]))], before)
    scale = prof.loc[pool].std().replace(0, 1)
    z = prof / scale
    cand = z.loc[pool].to_numpy()
    chosen: list[str] = []
    for code in treated:
        d = ((cand - z.loc[code].to_numpy()) ** 2).sum(axis=1)
        chosen += [pool[i] for i in np.argsort(d, kind="stable")[:k]]
    return list(dict.fromkeys(chosen))


def _strata(levels: pd.Series) -> pd.Series:
    ranks = levels.rank(method="first")
    return pd.Series(np.minimum((ranks - 1) * STRATA // len(levels), STRATA - 1).astype(int),
                     index=levels.index)


def placebo_groups(counts: pd.DataFrame, treated: list[str], pool: list[str],
                   before: list[str], n: int, seed: int = SEED,
                   neighbours: dict[str, list[str]] | None = None) -> list[np.ndarray]:
    """``n`` groups of untreated areas (positions in ``pool``), each the size of the
    treated group and like it.

    With ``neighbours`` (each area's touching areas), each group is a contiguous patch,
    as an intervention's footprint is (neighbouring areas share their ups and downs,
    so scattered areas would understate how much a patch varies): grown from a seed
    at the level of one of the treated areas, a touching area at a time. Without,
    scattered areas, as many from each fifth of the pool's levels before the start
    as the treated group has.
    """
    level = profile(counts.loc[list(dict.fromkeys([*treated, *pool]))], before)["level"]
    cuts = np.quantile(level.loc[pool], np.linspace(0, 1, STRATA + 1)[1:-1])
    pool_stratum = np.searchsorted(cuts, level.loc[pool].to_numpy(), side="right")
    treated_strata = np.searchsorted(cuts, level.loc[treated].to_numpy(), side="right")
    members = [np.flatnonzero(pool_stratum == s) for s in range(STRATA)]
    rng = np.random.default_rng(seed)
    size = len(treated)
    groups = []
    if neighbours is not None:
        at = {code: i for i, code in enumerate(pool)}
        near = [[at[c] for c in neighbours.get(code, ()) if c in at] for code in pool]
        picks = random.Random(int(rng.integers(2**62)))  # small draws: Python's is faster
        seeds = [m.tolist() or list(range(len(pool))) for m in members]
        strata = treated_strata.tolist()
        for _ in range(n):
            start = picks.choice(seeds[picks.choice(strata)])
            group, taken, frontier = [start], {start}, set(near[start])
            while len(group) < min(size, len(pool)):
                frontier -= taken
                if frontier:
                    nxt = picks.choice(sorted(frontier))
                else:  # the patch is hemmed in: carry on from another seed
                    nxt = picks.choice([i for i in range(len(pool)) if i not in taken])
                group.append(nxt)
                taken.add(nxt)
                frontier.update(near[nxt])
            groups.append(np.array(group))
        return groups
    want = np.bincount(treated_strata, minlength=STRATA)
    for _ in range(n):
        parts = []
        for s, w in enumerate(want):
            if w:
                take = members[s] if len(members[s]) else np.arange(len(pool))
                parts.append(rng.choice(take, size=min(w, len(take)), replace=False))
        groups.append(np.concatenate(parts))
    return groups


# -- difference-in-differences -----------------------------------------------------------

def did_effects(treated: np.ndarray, control: np.ndarray, post: np.ndarray,
                iterations: int = 500, tol: float = 1e-11) -> np.ndarray:
    """The Poisson difference-in-differences effect (log rate ratio) of each row's
    treated monthly totals against its control totals, all rows at once.

    With area and month effects, the Poisson estimate depends on the areas' counts
    only through the two groups' monthly totals (profile the area effects out: each
    area's expected counts are its total shared out over the months), so this is the
    same estimate as the model on every area, found by iterative proportional
    fitting of its margins: month totals, the comparison total, and the treated
    totals before and after. NaN where the treated group has no count before or after.
    """
    yt, yc = np.atleast_2d(treated).astype(float), np.atleast_2d(control).astype(float)
    post = np.asarray(post, bool)
    mt = np.full_like(yt, 1.0) * yt.mean(axis=1, keepdims=True).clip(1e-9)
    mc = np.full_like(yc, 1.0) * yc.mean(axis=1, keepdims=True).clip(1e-9)
    month_total = yt + yc
    targets = {"c": yc.sum(1, keepdims=True), "pre": yt[:, ~post].sum(1, keepdims=True),
               "post": yt[:, post].sum(1, keepdims=True)}
    for _ in range(iterations):
        both = mt + mc
        f = np.divide(month_total, both, out=np.ones_like(both), where=both > 0)
        mt, mc = mt * f, mc * f
        mc *= np.divide(targets["c"], mc.sum(1, keepdims=True),
                        out=np.ones_like(targets["c"]), where=mc.sum(1, keepdims=True) > 0)
        for key, cols in (("pre", ~post), ("post", post)):
            s = mt[:, cols].sum(1, keepdims=True)
            mt[:, cols] *= np.divide(targets[key], s, out=np.ones_like(s), where=s > 0)
        gap = np.abs(mt + mc - month_total).max() / max(month_total.max(), 1)
        if gap < tol:
            break
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.log(mt[:, post].sum(1) / mc[:, post].sum(1)) \
            - np.log(mt[:, ~post].sum(1) / mc[:, ~post].sum(1))
    bad = (targets["pre"][:, 0] <= 0) | (targets["post"][:, 0] <= 0)
    return np.where(bad | ~np.isfinite(ratio), np.nan, ratio)


def grouped_model(yt: np.ndarray, yc: np.ndarray, post: np.ndarray) -> tuple[float, float]:
    """The effect (log rate ratio) and its plain standard error from statsmodels' Poisson
    model of the two groups' monthly totals (group and month effects). Once the area
    effects are profiled out, the model on every area has the same likelihood for the
    effect, so the same estimate and the same plain error."""
    fit = _grouped_fit(yt, yc, post)
    return float(fit.params[-1]), float(fit.bse[-1])


def _grouped_fit(yt: np.ndarray, yc: np.ndarray, post: np.ndarray):
    import statsmodels.api as sm
    t = len(yt)
    exog = np.column_stack([np.ones(2 * t), np.r_[np.zeros(t), np.ones(t)],
                            np.vstack([np.eye(t)[:, 1:]] * 2),
                            np.r_[np.zeros(t), np.asarray(post, float)]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sm.GLM(np.r_[yc, yt], exog, family=sm.families.Poisson()).fit()


def area_model(counts: pd.DataFrame, treated: list[str], comparison: list[str],
               before: list[str], after: list[str]) -> float:
    """The effect (log rate ratio) from statsmodels' Poisson model with area effects
    (conditioned out) and month effects on every treated and comparison area's
    monthly counts, started from the grouped model's estimate (the same one)."""
    from statsmodels.discrete.conditional_models import ConditionalPoisson
    months = before + after
    y = counts.loc[list(treated) + list(comparison), months].to_numpy(float)
    keep = y.sum(axis=1) > 0  # an area with no count says nothing about change
    y = np.rint(y[keep])
    is_treated = np.r_[np.ones(len(treated), bool), np.zeros(len(comparison), bool)][keep]
    n, t = y.shape
    post = np.r_[np.zeros(len(before), bool), np.ones(len(after), bool)]
    start = np.asarray(_grouped_fit(y[is_treated].sum(0), y[~is_treated].sum(0),
                                    post).params[2:])  # its month effects and effect
    effect = (is_treated[:, None] & post[None, :]).ravel().astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = ConditionalPoisson(y.ravel(), np.column_stack([np.tile(np.eye(t)[:, 1:], (n, 1)),
                                                             effect]),
                                 groups=np.repeat(np.arange(n), t)).fit(
            start_params=start, disp=0, maxiter=100, skip_hessian=True)
    return float(fit.params[-1])


def _matched_for(counts: pd.DataFrame, pool: list[str], group: np.ndarray,
                 before: list[str], k: int) -> list[str]:
    """A placebo group's own matched comparison areas, from the rest of the pool."""
    members = {int(i) for i in group}
    return matched(counts, [pool[i] for i in group],
                   [c for j, c in enumerate(pool) if j not in members], before, k)


def noise(treated: np.ndarray, counterfactual: np.ndarray, n_before: int) -> np.ndarray:
    """Each row's own noise: the spread, before the start, of the log ratio of the treated
    totals to their counterfactual (the comparison totals, or the synthetic control),
    scaled to the effect's (a difference of means before and after). A patch of busy,
    steady areas is less noisy than one of quiet, jumpy ones; dividing each effect by
    its own noise puts the placebos and the treated group on one footing."""
    t, c = np.atleast_2d(treated), np.atleast_2d(counterfactual)
    gaps = np.log((t + 0.5) / (np.clip(c, 0, None) + 0.5))
    n_after = gaps.shape[1] - n_before
    with np.errstate(invalid="ignore"):
        spread = np.std(gaps[:, :n_before], axis=1, ddof=1)
    return spread * math.sqrt(1 / n_before + 1 / n_after)


def _from_null(beta: float, scale: float, null: np.ndarray, null_scale: np.ndarray,
               method: str, path: pd.DataFrame, note: str = "") -> Estimate:
    """An estimate whose interval and p-value come from the placebo groups, studentised:
    each effect is divided by its own noise (:func:`noise`), the treated group's
    statistic is set among the placebos', and the interval is the estimate less its
    noise times the placebos' upper and lower 2.5 % order statistics.

    The order statistics are the exact ones for R placebos (the k-th from each end,
    k = floor(0.025 (R + 1))). Without studentising, a busy city-centre patch was judged
    against the spread of every kind of patch in the region, and 7 to 10 % of placebo
    patches were called significant instead of 5 %.
    """
    keep = np.isfinite(null) & np.isfinite(null_scale) & (null_scale > 0)
    stat = np.sort(null[keep] / null_scale[keep])
    if len(stat) < 39:  # fewer cannot put 2.5 % in each tail
        raise EvaluationError("too few placebo groups could be estimated (too few "
                              "comparison areas with counts)")
    if not (np.isfinite(scale) and scale > 0):
        raise EvaluationError("the treated areas' counts do not vary before the start, so "
                              "their noise cannot be measured")
    k = max(1, int(np.floor(0.025 * (len(stat) + 1))))
    lo_q, hi_q = stat[k - 1], stat[len(stat) - k]
    sd = (hi_q - lo_q) / (2 * stats.norm.ppf(0.975)) * scale
    centre = float(np.median(stat))
    t = beta / scale
    p = (1 + np.sum(np.abs(stat - centre) >= abs(t - centre))) / (len(stat) + 1)
    return Estimate(method=method, effect=math.expm1(beta),
                    lower=math.expm1(beta - hi_q * scale),
                    upper=math.expm1(beta - lo_q * scale), p_value=float(min(p, 1.0)),
                    mde=-math.expm1(-POWER_Z * sd), path=path, placebo_sd=float(sd),
                    note=note)


def did(counts: pd.DataFrame, treated: list[str], comparison: list[str], pool: list[str],
        before: list[str], after: list[str], *, matched_k: int | None = None,
        placebos: int = PLACEBOS, seed: int = SEED, model: bool = True,
        neighbours: dict[str, list[str]] | None = None) -> Estimate:
    """Difference-in-differences of ``treated`` against ``comparison``, with placebo
    inference over groups drawn from ``pool`` (each compared with the rest of the
    pool, or with its own matched areas when ``matched_k`` is given).

    ``model`` fits statsmodels' model on every area for the estimate (else the same
    estimate from the group totals, :func:`did_effects`)."""
    months = before + after
    post = np.r_[np.zeros(len(before), bool), np.ones(len(after), bool)]
    values = counts[months].to_numpy(float)
    index = {code: i for i, code in enumerate(counts.index)}
    t_rows = [index[c] for c in treated]
    c_rows = [index[c] for c in comparison]
    yt, yc = values[t_rows].sum(0), values[c_rows].sum(0)
    beta, plain_se = grouped_model(yt, yc, post)
    if model and len(treated) + len(comparison) <= AREA_MODEL_MAX:
        beta = area_model(counts, treated, comparison, before, after)
    if not np.isfinite(beta):
        raise EvaluationError("the treated areas have no count before or after the start")
    pool_rows = np.array([index[c] for c in pool])
    groups = placebo_groups(counts, treated, pool, before, placebos, seed, neighbours)
    pool_total = values[pool_rows].sum(0)
    fake_t = np.array([values[pool_rows[g]].sum(0) for g in groups])
    if matched_k:
        fake_c = np.array([values[[index[c] for c in _matched_for(counts, pool, g, before,
                                                               matched_k)]].sum(0)
                           for g in groups])
    else:
        fake_c = pool_total[None, :] - fake_t
    null = did_effects(fake_t, fake_c, post)
    # The counterfactual: the treated areas' expected counts with no effect, the
    # comparison areas' month-to-month change applied to the treated areas' level.
    share = yt[~post].sum() / max(yc[~post].sum(), 1e-9)
    path = pd.DataFrame({"month": months, "observed": yt, "counterfactual": yc * share,
                         "comparison": yc})
    n_before = int((~post).sum())
    out = _from_null(beta, float(noise(yt, yc, n_before)[0]), null,
                     noise(fake_t, fake_c, n_before), "did", path)
    if np.isfinite(plain_se) and plain_se > 0:
        z = beta / plain_se
        out.plain_p = float(2 * stats.norm.sf(abs(z)))
        out.plain_lower = math.expm1(beta - 1.96 * plain_se)
        out.plain_upper = math.expm1(beta + 1.96 * plain_se)
    return out


# -- synthetic control -------------------------------------------------------------------

def _synth_effect(yt: np.ndarray, donors: np.ndarray, n_before: int,
                  quarters: np.ndarray) -> tuple[float, np.ndarray]:
    """The synthetic control effect (log ratio of the treated total after the start
    to its synthetic counterpart) and the counterfactual path, for one treated series
    against donor series (rows), each as an index of its mean before the start."""
    from pysyncon import Synth
    base = yt[:n_before].mean()
    if base <= 0:
        return np.nan, np.full(len(yt), np.nan)
    z1 = yt / base
    means = donors[:, :n_before].mean(axis=1)
    ok = means > 0
    z0 = donors[ok] / means[ok, None]
    if z0.shape[0] < MIN_DONORS:
        return np.nan, np.full(len(yt), np.nan)
    # The donors most like the treated path before the start (Abadie's advice: a small
    # pool of similar units interpolates less), then pysyncon's weights on them.
    a = z1[:n_before] - z1[:n_before].mean()
    b = z0[:, :n_before] - z0[:, :n_before].mean(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = np.nan_to_num(b @ a / np.sqrt((b ** 2).sum(axis=1) * (a ** 2).sum()))
    dist = np.abs(z0[:, :n_before] - z1[:n_before]).mean(axis=1)
    pick = np.argsort(dist - 0.5 * corr, kind="stable")[:DONORS]
    z0 = z0[pick]
    names = [f"d{i}" for i in range(len(z0))]
    x0 = pd.DataFrame(z0[:, :n_before].T, columns=names).groupby(quarters).mean()
    x1 = pd.Series(z1[:n_before], name="treated").groupby(quarters).mean()
    x0.index = x1.index = [f"q{i}" for i in range(len(x1))]
    model = Synth()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X0=x0, X1=x1.rename("treated"),
                  Z0=pd.DataFrame(z0[:, :n_before].T, columns=names),
                  Z1=pd.Series(z1[:n_before], name="treated"), custom_V=np.ones(len(x1)))
    counterfactual = (z0.T @ np.asarray(model.W)) * base
    after = counterfactual[n_before:].sum()
    if after <= 0:
        return np.nan, counterfactual
    return float(np.log(yt[n_before:].sum() / after)), counterfactual


def synthetic(counts: pd.DataFrame, treated: list[str], comparison: list[str],
              pool: list[str], ward_of: pd.Series, before: list[str], after: list[str], *,
              placebos: int = SYNTH_PLACEBOS, seed: int = SEED,
              neighbours: dict[str, list[str]] | None = None) -> Estimate:
    """Synthetic control of the treated areas' total from comparison wards (each ward's
    comparison LSOAs added up), with placebo-in-space inference over groups drawn from
    ``pool`` as for :func:`did`."""
    months = before + after
    n_before = len(before)
    values = counts[months].to_numpy(float)
    index = {code: i for i, code in enumerate(counts.index)}
    quarters = np.arange(n_before)[::-1] // 3
    quarters = quarters[::-1]

    wards = ward_of.reindex(counts.index).fillna("?").to_numpy()
    ward_ids = pd.factorize(wards)[0]
    n_wards = ward_ids.max() + 1

    def ward_sums(rows: list[int]) -> tuple[np.ndarray, np.ndarray]:
        sums = np.zeros((n_wards, len(months)))
        np.add.at(sums, ward_ids[rows], values[rows])
        return sums, np.bincount(ward_ids[rows], minlength=n_wards)

    def donors_without(rows_out: set[int], base: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        """The comparison wards' totals with ``rows_out`` (a group's LSOAs) taken out."""
        sums, n = base[0].copy(), base[1].copy()
        out = sorted(rows_out)
        np.add.at(sums, ward_ids[out], -values[out])
        np.add.at(n, ward_ids[out], -1)
        return sums[n > 0]

    t_rows = {index[c] for c in treated}
    yt = values[sorted(t_rows)].sum(0)
    donors = donors_without(set(), ward_sums([index[c] for c in comparison]))
    if len(donors) < MIN_DONORS:
        raise EvaluationError(f"only {len(donors)} comparison wards: synthetic control needs "
                              f"at least {MIN_DONORS}")
    beta, counterfactual = _synth_effect(yt, donors, n_before, quarters)
    if not np.isfinite(beta):
        raise EvaluationError("the treated areas have no count before or after the start")
    pool_rows = [index[c] for c in pool]
    pool_sums = ward_sums(pool_rows)
    null, scales = [], []
    for g in placebo_groups(counts, treated, pool, before, placebos, seed, neighbours):
        rows = {pool_rows[i] for i in g}
        fake = values[sorted(rows)].sum(0)
        effect, path_of = _synth_effect(fake, donors_without(rows, pool_sums), n_before,
                                        quarters)
        null.append(effect)
        scales.append(noise(fake, path_of, n_before)[0])
    path = pd.DataFrame({"month": months, "observed": yt, "counterfactual": counterfactual})
    return _from_null(beta, float(noise(yt, counterfactual, n_before)[0]), np.array(null),
                      np.array(scales), "synthetic", path,
                      note=f"{min(len(donors), DONORS)} comparison wards in the mix")


# -- displacement ------------------------------------------------------------------------

def wdq(counts: pd.DataFrame, treated: list[str], ring: list[str], comparison: list[str],
        before: list[str], after: list[str]) -> float | None:
    """Bowers and Johnson's weighted displacement quotient: the ring's change relative to
    the comparison areas, over the treated areas' change relative to them.

    Negative: crime moved into the ring (displacement; below -1, more than the treated
    areas gained); positive: the ring fell too (a diffusion of benefits). None where
    the treated areas did not fall relative to the comparison areas (the quotient is
    then not defined) or a group has no count.
    """
    def ratio(codes: list[str], months: list[str]) -> float:
        return float(counts.loc[codes, months].to_numpy().sum())

    c_b, c_a = ratio(comparison, before), ratio(comparison, after)
    if not ring or min(c_b, c_a) <= 0:
        return None
    success = ratio(treated, after) / c_a - ratio(treated, before) / c_b
    if success >= 0:
        return None
    buffer = ratio(ring, after) / c_a - ratio(ring, before) / c_b
    return buffer / success


# -- the whole evaluation ------------------------------------------------------------------

def evaluate(counts: pd.DataFrame, treated: list[str], ring: list[str], ward_of: pd.Series,
             before: list[str], after: list[str], *, methods: tuple[str, ...] = METHODS,
             comparison: str = "region", placebos: int = PLACEBOS,
             synth_placebos: int = SYNTH_PLACEBOS, seed: int = SEED,
             neighbours: dict[str, list[str]] | None = None, exact: bool = True
             ) -> Evaluation:
    """Evaluate an intervention on a panel of counts (rows: the region's LSOAs; columns:
    months), for its ``treated`` LSOAs and their ``ring`` of untreated neighbours.

    Areas with a month hidden for another reason than a small count (NaN) are left out.

    Raises
    ------
    EvaluationError
        If there are too few months or comparison areas, or no treated area has figures.
    """
    months = before + after
    usable = counts[months].notna().all(axis=1)
    left_out = sorted(set(treated) & set(counts.index[~usable]))
    panel = counts.loc[usable, months]
    treated_ok = [c for c in treated if c in panel.index]
    if not treated_ok:
        raise EvaluationError("none of the intervention's areas has figures in every month "
                              "of the windows")
    ring_ok = [c for c in ring if c in panel.index and c not in treated_ok]
    pool = [c for c in panel.index if c not in set(treated_ok) | set(ring_ok)]
    if len(pool) < MIN_COMPARISON:
        raise EvaluationError(f"only {len(pool)} comparison areas; at least {MIN_COMPARISON} "
                              "are needed")
    if comparison not in COMPARISONS:
        raise EvaluationError(f"comparison {comparison!r} must be one of {COMPARISONS}")
    chosen = pool if comparison == "region" else matched(panel, treated_ok, pool, before)
    k = MATCHES if comparison == "matched" else None
    estimates: dict[str, Estimate] = {}
    skipped: dict[str, str] = {}
    for method in methods:
        try:
            if method == "did":
                estimates[method] = did(panel, treated_ok, chosen, pool, before, after,
                                        matched_k=k, placebos=placebos, seed=seed,
                                        model=exact, neighbours=neighbours)
            elif method == "synthetic":
                estimates[method] = synthetic(panel, treated_ok, chosen, pool, ward_of,
                                              before, after, placebos=synth_placebos,
                                              seed=seed, neighbours=neighbours)
            else:
                raise EvaluationError(f"method {method!r} must be one of {METHODS}")
        except EvaluationError as err:
            if len(methods) == 1:
                raise
            skipped[method] = str(err)
    ring_change = None
    if ring_ok:
        try:
            ring_change = did(panel, ring_ok, pool, pool, before, after, placebos=placebos,
                              seed=seed + 1, model=False, neighbours=neighbours)
        except EvaluationError as err:
            skipped["ring"] = str(err)
    stand_ins = counts.attrs.get("stand_ins")
    share = float(stand_ins.loc[treated_ok, months].to_numpy().mean()) \
        if isinstance(stand_ins, pd.DataFrame) else 0.0
    return Evaluation(treated=treated_ok, comparison=list(chosen), ring=ring_ok, before=before,
                      after=after, estimates=estimates,
                      wdq=wdq(panel, treated_ok, ring_ok, pool, before, after),
                      ring_change=ring_change, comparison_kind=comparison,
                      stand_in_share=share, left_out=left_out, skipped=skipped)


def _pct(x: float) -> str:
    return f"{abs(x) * 100:.0f} %"


def verdict(ev: Evaluation, title: str, polarity: str = "high_is_bad") -> str:
    """The evaluation in plain words: the effect, its interval, whether the data can
    tell, and whether the change moved to neighbouring areas."""
    return " ".join(verdict_lines(ev, title, polarity))


def power_words(ev: Evaluation) -> str:
    """What the windows could detect, said before any result: the smallest change each
    method would find four times in five (80 % power, 5 % two-sided)."""
    parts = [f"{_pct(e.mde)} by {METHOD_NAMES[m]}" for m, e in ev.estimates.items()]
    return (f"With {len(ev.treated)} treated areas, {len(ev.before)} months before and "
            f"{len(ev.after)} after, these windows could detect a change of "
            + " or ".join(parts) + " or more.")


def verdict_lines(ev: Evaluation, title: str, polarity: str = "high_is_bad") -> list[str]:
    """:func:`verdict`, a sentence or two a line: what the windows could detect, any
    caution, each method's result, displacement."""
    lines = [power_words(ev)]
    if ev.stand_in_share >= STAND_IN_CAUTION:
        lines.append(f"Caution: {ev.stand_in_share * 100:.0f} % of the treated areas' monthly "
                     "counts are small counts hidden by disclosure control, each standing in "
                     "as one value, so a change among them cannot show and the estimate leans "
                     "towards no change.")
    for method, est in ev.estimates.items():
        name = METHOD_NAMES[method]
        where = "comparison areas" if method == "did" else "its synthetic control"
        if est.mde > CANNOT_TELL and not est.significant:
            lines.append(f"The data cannot tell whether it worked ({name}): only a change of "
                         f"{_pct(est.mde)} or more could be detected, and the estimate "
                         f"({_signed(est.effect)}, 95 % CI {_signed(est.lower)} to "
                         f"{_signed(est.upper)}) includes no change.")
        elif est.significant:
            way = "fell" if est.effect < 0 else "rose"
            lo, hi = (-est.upper, -est.lower) if est.effect < 0 else (est.lower, est.upper)
            good = (est.effect < 0) == (polarity != "low_is_bad")
            lines.append(f"{title} {way} {_pct(est.effect)} (95 % CI {lo * 100:.0f} % to "
                         f"{hi * 100:.0f} %) more than in {where} ({name}, p = "
                         f"{est.p_value:.3f}){'' if good else ': the wrong way'}.")
        else:
            lines.append(f"No clear change ({name}): {_signed(est.effect)} against {where} "
                         f"(95 % CI {_signed(est.lower)} to {_signed(est.upper)}, p = "
                         f"{est.p_value:.2f}).")
    lines.append(displacement_words(ev))
    return lines


def areas_table(ev: Evaluation) -> pd.DataFrame:
    """``area_code, role``: the treated areas, the comparison areas and the ring."""
    rows = [(c, "treated") for c in ev.treated] + [(c, "comparison") for c in ev.comparison] \
        + [(c, "ring") for c in ev.ring] + [(c, "left out: a hidden month") for c in ev.left_out]
    return pd.DataFrame(rows, columns=["area_code", "role"])


def _signed(x: float) -> str:
    return f"{x * 100:+.0f} %"


def displacement_words(ev: Evaluation) -> str:
    """Whether the change moved to the ring of neighbouring areas, in words."""
    rc = ev.ring_change
    if not ev.ring or rc is None:
        return "Displacement was not tested: the areas have no untreated neighbours with figures."
    q = "" if ev.wdq is None else f"; weighted displacement quotient {ev.wdq:.2f}"
    if rc.significant and rc.effect > 0:
        return (f"Sign that it moved to neighbouring areas: they rose {_pct(rc.effect)} "
                f"(95 % CI {_pct(rc.lower)} to {_pct(rc.upper)}) more than the rest{q}.")
    if rc.significant and rc.effect < 0:
        return (f"Benefits spread to neighbouring areas: they fell {_pct(rc.effect)} "
                f"(95 % CI {_pct(rc.upper)} to {_pct(rc.lower)}) more than the rest{q}.")
    return (f"No sign that it moved to neighbouring areas ({_signed(rc.effect)}, 95 % CI "
            f"{_signed(rc.lower)} to {_signed(rc.upper)}{q}).")


OUTPUT_COLUMNS = ["method", "indicator", "effect", "effect_lower_95", "effect_upper_95",
                  "p_value", "treated_areas", "comparison_areas", "mde", "wdq"]


def table(ev: Evaluation, indicator: str) -> pd.DataFrame:
    """One row per method, as ``python -m dashboard evaluate`` writes it."""
    rows = [{"method": m, "indicator": indicator, "effect": e.effect,
             "effect_lower_95": e.lower, "effect_upper_95": e.upper, "p_value": e.p_value,
             "treated_areas": len(ev.treated), "comparison_areas": len(ev.comparison),
             "mde": e.mde, "wdq": ev.wdq}
            for m, e in ev.estimates.items()]
    return pd.DataFrame(rows, columns=OUTPUT_COLUMNS)


# -- from the store --------------------------------------------------------------------------

def parse_window(text: str | None, name: str) -> tuple[str, str] | None:
    """``START:END`` in months, or None.

    Raises
    ------
    EvaluationError
        If it is not two months, in order.
    """
    if not text:
        return None
    parts = str(text).split(":")
    if len(parts) != 2 or not all(re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", p) for p in parts):
        raise EvaluationError(f"{name} {text!r} must be START:END in months, such as "
                              "2021-01:2022-12")
    if parts[0] > parts[1]:
        raise EvaluationError(f"{name} {text!r} ends before it starts")
    return parts[0], parts[1]


def treated_lsoas(store, region, record: dict) -> list[str]:
    """The LSOAs an intervention covers (a ward's LSOAs, where it names wards)."""
    if record["level"] != "ward":
        return list(record["areas"])
    lookup = geography.lsoa_lookup(store, region)
    return sorted(lookup.loc[lookup["ward_code"].isin(record["areas"]), "lsoa_code"])


def neighbours_of(store, region) -> dict[str, list[str]]:
    """Each of the region's LSOAs' touching LSOAs (queen contiguity)."""
    adj = weights.region_graph(store, region, "lsoa").adjacency.reset_index()
    adj.columns = ["focal", "neighbor", "weight"]
    adj = adj[adj["weight"] > 0]
    return adj.groupby("focal")["neighbor"].agg(list).to_dict()


def ring_of(neighbours: dict[str, list[str]], codes: list[str]) -> list[str]:
    """The untreated areas that touch the treated ones."""
    return sorted({n for c in codes for n in neighbours.get(c, ())} - set(codes))


def evaluate_intervention(store, intervention_id: str, indicator: str, *, viewer,
                          before: str | None = None, after: str | None = None,
                          methods: tuple[str, ...] = METHODS, comparison: str = "region",
                          placebos: int = PLACEBOS, synth_placebos: int = SYNTH_PLACEBOS
                          ) -> tuple[Evaluation, dict, dict]:
    """Evaluate a registered intervention on one indicator, as ``viewer`` may: the record
    and the figures both come through the door. Returns the evaluation, the record and
    the indicator's catalogue entry.

    Raises
    ------
    AccessDenied
        If the viewer may not see the record, or the indicator at LSOA level.
    EvaluationError
        If the windows or areas cannot support an evaluation.
    """
    rec = register.record(store, intervention_id, viewer=viewer)
    region = load_regions()[rec["region"]]
    grants = access.rules(store, viewer)
    meta = measures.indicator_meta(store, indicator, viewer=viewer, grants=grants)
    if meta.get("frequency") != "monthly" or not meta.get("additive"):
        raise EvaluationError(f"{meta['title']} is not a monthly count; an evaluation needs "
                              "monthly counts")
    have = catalogue.months(store, indicator, viewer=viewer, grants=grants)
    first, last = windows(rec["start_month"], have, parse_window(before, "--before"),
                          parse_window(after, "--after"))
    panel = measures.lsoa_month_panel(store, region, indicator, first + last, viewer=viewer,
                                      grants=grants)
    treated = [c for c in treated_lsoas(store, region, rec) if c in panel.index]
    if not treated:
        raise EvaluationError(f"none of {intervention_id}'s areas is an LSOA with figures "
                              f"for {meta['title']}")
    lookup = geography.lsoa_lookup(store, region)
    ward_of = lookup.set_index("lsoa_code")["ward_code"]
    near = neighbours_of(store, region)
    ev = evaluate(panel, treated, ring_of(near, treated), ward_of, first, last,
                  methods=methods, comparison=comparison, placebos=placebos,
                  synth_placebos=synth_placebos, neighbours=near)
    return ev, rec, meta
