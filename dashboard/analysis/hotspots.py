"""Hotspots that hold up to scrutiny: Getis-Ord Gi* and Local Moran's I.

The statistics are esda's (``G_Local`` with ``star=True`` on binary weights,
and ``Moran_Local`` on row-standardised weights), on queen contiguity
(``dashboard.geography.weights``). Gi* is computed by ``dashboard.analysis.randomisation`` with
esda's statistic and z-score, so that many months share one pass (emerging
hot spots). What this module adds is what a planner needs on top:

* areas with no data are left out of the test, and areas left with no
  neighbour get the class "No neighbours", never a NaN;
* rates are smoothed by empirical Bayes before testing, so an area with a tiny
  population cannot be a hot spot by chance alone;
* one p-value rule per method, used for every area, in the table, the classes,
  the map's tooltip and the export (:data:`P_COLUMN`, :data:`P_RULE`):

  - Gi*: the two-sided normal p of the z-score shown (``p_normal``);
  - Local Moran's I: the folded permutation pseudo p (``p_permutation``);

  (:func:`p_values` says why each);
* with false-discovery-rate control on, the Benjamini-Hochberg q-value of every
  p (``q_fdr``, the smallest false discovery rate at which the area would be
  significant), shown beside it;
* classes that follow from q (p without the correction) by fixed thresholds
  (:data:`LEVELS`: 99 % at 0.01, 95 % at 0.05, 90 % at 0.10), in plain words,
  and a summary.
"""

from __future__ import annotations

import inspect
import warnings
from dataclasses import dataclass

import esda
import esda.crand
import esda.getisord
import esda.moran
import esda.significance
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from esda.smoothing import Empirical_Bayes
from libpysal.graph import Graph
from scipy.sparse.csgraph import connected_components
from scipy.stats import false_discovery_control, norm

from dashboard.analysis import randomisation
from dashboard.geography.weights import neighbour_counts, restrict, restricted
from dashboard.views import classify

PERMUTATIONS = 999
SEED = 20240601
ALPHA = 0.05
METHODS = {"gi": "Getis-Ord Gi*", "lisa": "Local Moran's I"}
CORRECTIONS = {"fdr": "false discovery rate control (Benjamini-Hochberg)",
               "none": "no multiple-testing correction"}

HOT = {99: "Hot spot, 99% confidence", 95: "Hot spot, 95% confidence",
       90: "Hot spot, 90% confidence"}
COLD = {99: "Cold spot, 99% confidence", 95: "Cold spot, 95% confidence",
        90: "Cold spot, 90% confidence"}
NOT_SIGNIFICANT = "Not significant"
NO_NEIGHBOURS = "No neighbours"
NO_DATA = "No data"
SUPPRESSED = "Suppressed"
LISA = {1: "High-high cluster", 2: "Low-high outlier", 3: "Low-low cluster",
        4: "High-low outlier"}  # esda's quadrant numbers (q)

# Class colours: the dark half of ColorBrewer's RdBu (colour-blind safe) for hot and
# cold spots, so that even a 90 % area, drawn at the map's opacity on the page's
# white with no basemap, has the 3:1 contrast of WCAG's non-text criterion (1.4.11)
# against the page and against the near-white "not significant", and each level is
# at least 1.5 times lighter than the next (tests/dashboard/analysis/test_significance.py).
# GeoDa's convention for LISA; distinct greys for the classes without a test.
COLOURS = {
    HOT[99]: "#67001f", HOT[95]: "#b2182b", HOT[90]: "#d0543f",
    COLD[90]: "#3a7fb8", COLD[95]: "#1c5a9e", COLD[99]: "#053061",
    LISA[1]: "#d7191c", LISA[4]: "#fdae61", LISA[2]: "#abd9e9", LISA[3]: "#2c7bb6",
    NOT_SIGNIFICANT: "#f2f0eb", NO_NEIGHBOURS: "#7b3294", NO_DATA: classify.NO_DATA,
    SUPPRESSED: classify.SUPPRESSED,
}
ORDER = {"gi": [HOT[99], HOT[95], HOT[90], NOT_SIGNIFICANT, COLD[90], COLD[95], COLD[99],
                NO_NEIGHBOURS, SUPPRESSED, NO_DATA],
         "lisa": [LISA[1], LISA[4], NOT_SIGNIFICANT, LISA[2], LISA[3], NO_NEIGHBOURS,
                  SUPPRESSED, NO_DATA]}
# The p-value column of each method: its name says which rule made it.
P_COLUMN = {"gi": "p_normal", "lisa": "p_permutation"}
P_RULE = {"gi": "two-sided normal p of the z-score (Ord and Getis; as ArcGIS Hot Spot "
                "Analysis)",
          "lisa": "pseudo p from conditional permutations (folded: the share at least as "
                  "extreme in the direction observed, as GeoDa and esda's p_sim)"}
Q_COLUMN = "q_fdr"
Q_RULE = "Benjamini-Hochberg q-value: the p adjusted for false discovery rate"
# Confidence class: the largest p (or q, under FDR control) that still earns it.
LEVELS = {99: 0.01, 95: 0.05, 90: 0.10}


def columns(method: str) -> list[str]:
    """The columns of a result of ``method``, in order (the export's too)."""
    return ["area_code", "area_name", "value", "rate_per_1000", "z", P_COLUMN[method],
            Q_COLUMN, "significant", "class", "tested", "neighbours", "lad_code",
            "lad_name"]


def p_column(result: pd.DataFrame) -> str:
    """The name of a result's p-value column (:data:`P_COLUMN`)."""
    return next(c for c in P_COLUMN.values() if c in result)


def _enable_jit_cache() -> None:
    """Let numba keep esda's compiled kernels on disk between processes.

    esda compiles its permutation kernels on first use (about 20 s here) and
    does not ask numba to cache them. ``enable_caching`` is numba's documented
    switch behind ``cache=True``; with it a new process starts in about 8 s.
    A kernel that takes the statistic as a function argument (``stat_func``)
    is left out: numba cannot key such a compilation across processes, so
    caching it would only grow the cache, and re-saving its index can fail.
    """
    try:
        from numba.core.registry import CPUDispatcher
    except ImportError:  # esda falls back to plain Python without numba
        return
    for module in (esda.crand, esda.getisord, esda.moran, esda.significance):
        for obj in vars(module).values():
            if isinstance(obj, CPUDispatcher) and \
                    "stat_func" not in inspect.signature(obj.py_func).parameters:
                obj.enable_caching()


_enable_jit_cache()


def warm_up() -> None:
    """Compile the permutation kernels now (a tiny lattice), so the first real run is
    quick."""
    cells = [shapely.box(c, r, c + 1, r + 1) for r in range(4) for c in range(4)]
    graph = Graph.build_contiguity(gpd.GeoDataFrame(geometry=cells), rook=True)
    y = np.arange(16, dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gi_star(y, graph, permutations=0)
        esda.Moran_Local(y, graph, transformation="R", permutations=9, seed=1, n_jobs=1,
                         keep_simulations=False)


@dataclass(frozen=True)
class Settings:
    """How a hotspot test is run (each is a choice on the page and the CLI).

    ``permutations`` and ``seed`` drive Local Moran's p-values; Gi*'s p is the
    normal p of its z-score and needs none (:func:`p_values`).
    """

    method: str = "gi"
    permutations: int = PERMUTATIONS
    seed: int = SEED
    correction: str = "fdr"
    alpha: float = ALPHA

    def __post_init__(self):
        if self.method not in METHODS:
            raise ValueError(f"method was {self.method!r} but is expected to be one of "
                             f"{list(METHODS)}")
        if self.correction not in CORRECTIONS:
            raise ValueError(f"correction was {self.correction!r} but is expected to be one "
                             f"of {list(CORRECTIONS)}")
        if not 0 <= self.permutations <= 99_999:
            raise ValueError(f"permutations was {self.permutations} but is expected to be "
                             "between 0 and 99,999")
        if self.method == "lisa" and self.permutations < 1:
            raise ValueError("permutations was 0 but Local Moran's I needs at least 1: "
                             "its p-values come from the permutations")


DEFAULT = Settings()


def eb_rate(count: np.ndarray, population: np.ndarray) -> np.ndarray:
    """Empirical Bayes smoothed rates per 1,000 (esda, Marshall's global method).

    Each area's raw rate is pulled towards the region's rate, more strongly
    the smaller its population.
    """
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        rate = Empirical_Bayes(np.asarray(count, float), np.asarray(population, float)).r
    return np.asarray(rate, float).ravel() * 1000.0


def gi_star(y: np.ndarray, graph: Graph, *, permutations: int = PERMUTATIONS,
            seed: int = SEED) -> pd.DataFrame:
    """Getis-Ord Gi* of ``y`` on binary contiguity weights, self included.

    esda's statistic, analytic z and permutation draws, computed by
    ``dashboard.analysis.randomisation`` (which tests many periods in one pass, and counts a
    simulated sum equal to the observed one as at least as large, as the
    definition of the pseudo p-value says: esda's division can split such a tie).

    Returns
    -------
    DataFrame
        Indexed like ``graph.unique_ids``: ``G``, ``z`` (esda's analytic
        ``Zs``, the Ord and Getis 1995 z-score) and ``p_sim`` (folded pseudo
        p-value; NaN without permutations).
    """
    g, z, p = randomisation.gi_star(np.asarray(y, float).reshape(-1, 1),
                                   randomisation.adjacency(graph),
                                   permutations=permutations, seed=seed)
    return pd.DataFrame({"G": g[:, 0], "z": z[:, 0], "p_sim": p[:, 0]},
                        index=graph.unique_ids)


def local_moran(y: np.ndarray, graph: Graph, *, permutations: int = PERMUTATIONS,
                seed: int = SEED) -> pd.DataFrame:
    """Local Moran's I of ``y`` on row-standardised contiguity weights.

    Returns
    -------
    DataFrame
        Indexed like ``graph.unique_ids``: ``I``, ``z`` (analytic, under
        conditional randomisation: esda's ``EIc`` and ``VIc``), ``p_sim`` and
        ``q`` (esda's quadrant: 1 high-high, 2 low-high, 3 low-low, 4 high-low).
    """
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        m = esda.Moran_Local(np.asarray(y, float), graph, transformation="R",
                             permutations=permutations, seed=seed, n_jobs=1,
                             keep_simulations=False)
        z = (m.Is - m.EIc) / np.sqrt(m.VIc)
    return pd.DataFrame({"I": m.Is, "z": z, "p_sim": _exact(m, permutations), "q": m.q},
                        index=graph.unique_ids)


def _exact(stat, permutations: int) -> np.ndarray:
    """esda's ``p_sim`` as the exact fraction (k + 1) / (permutations + 1).

    esda may return it in single precision (0.0199999995 for 0.02).
    """
    if not permutations:
        return np.full(stat.n, np.nan)
    k = np.round(np.asarray(stat.p_sim, float) * (permutations + 1))
    return k / (permutations + 1)


def p_values(method: str, z: np.ndarray, p_sim: np.ndarray) -> np.ndarray:
    """Every tested area's p-value, by the one rule of ``method``.

    **Gi*: the two-sided normal p of the z-score**, ``2 * (1 - Phi(|z|))``. Gi*
    includes the area itself, and Ord and Getis (1995) derive its mean and
    variance with every value exchangeable: the z-score and its normal p test the
    same hypothesis. esda's conditional permutation holds the area's own value
    fixed and moves only its neighbours', so its pseudo p asks a different question
    and can contradict the z beside it: Hotwells and Harbourside (2 neighbours, a
    crime rate 4.6 times the median) had z = 5.32 and pseudo p = 0.004. The normal p
    is also not held at the permutation floor (1/1,000 with 999), so false
    discovery rate control works over tens of thousands of LSOAs, and it is what
    ArcGIS Hot Spot Analysis reports: 90/95/99 % without correction are
    |z| >= 1.645/1.960/2.576, the thresholds planners know. It is a monotone
    function of |z|, so the table can never rank them differently. Its weakness is
    the normal approximation itself, least reliable for an area with few
    neighbours on skewed data; the ``neighbours`` column shows how many.

    **Local Moran's I: the folded permutation pseudo p**, esda's ``p_sim`` for
    every area, never replaced. The local I is a product of the area's own
    deviation and its neighbours' mean, whose distribution is far from normal
    (Anselin 1995), so the permutations, which hold the area's value fixed as the
    statistic's meaning requires, are the reference. No p is below
    1/(permutations + 1); more permutations lower that floor.
    """
    if method == "gi":
        return 2.0 * norm.sf(np.abs(np.asarray(z, float)))
    return np.asarray(p_sim, float).copy()


def q_values(p: np.ndarray, correction: str) -> np.ndarray:
    """The Benjamini-Hochberg q-value of each p over the family ``p`` (NaN without
    the correction, and where p is NaN).

    An area is significant at false discovery rate ``alpha`` exactly when its
    q <= alpha: the same areas as esda's ``fdr`` threshold at that level.
    """
    p = np.asarray(p, float)
    q = np.full(len(p), np.nan)
    ok = ~np.isnan(p)
    if correction == "fdr" and ok.any():
        q[ok] = false_discovery_control(p[ok], method="bh")
    return q


def confidence(decider: np.ndarray) -> np.ndarray:
    """99, 95, 90 or 0 per test: the strictest of :data:`LEVELS` its q (or p) meets."""
    decider = np.asarray(decider, float)
    out = np.zeros(len(decider), dtype=int)
    for level in sorted(LEVELS):  # 90, then 95, then 99 overwrite
        out[decider <= LEVELS[level]] = level
    return out


def hotspots(view: pd.DataFrame, graph: Graph, *, measure: str,
             settings: Settings | None = None) -> pd.DataFrame:
    """Test every area of a view for hot and cold spots (or LISA clusters).

    Parameters
    ----------
    view : DataFrame
        From ``measures.indicator_view``: ``area_code, area_name, value,
        denominator, rate_per_1000, lad_code, lad_name``.
    graph : Graph
        Contiguity of the view's areas (``weights.region_graph``); areas it
        lacks are treated as having no neighbours.
    measure : {"count", "rate"}
        ``rate`` tests empirical-Bayes smoothed rates per 1,000.
    settings : Settings

    Returns
    -------
    DataFrame
        :func:`columns` of the method, one row per area of ``view``, ordered
        by ``z`` (highest first) with untested areas last. ``class`` is never
        missing; ``z`` and the p-value are NaN only for areas that were not
        tested (no data, or no neighbour); ``q_fdr`` is NaN too without the
        correction.
    """
    settings = settings or DEFAULT
    view = view.reset_index(drop=True)
    tested = _tested(view, measure)
    rows = np.flatnonzero(tested.notna().to_numpy())
    z, p = np.full(len(view), np.nan), np.full(len(view), np.nan)
    counts = q = None
    if len(rows) >= 3:
        sub = restrict(graph, view["area_code"].to_numpy()[rows])
        counts = neighbour_counts(sub).to_numpy()  # in the order of ``rows``
        if settings.method == "gi":  # the normal p of z: no permutations (p_values)
            res = gi_star(tested.to_numpy()[rows], sub, permutations=0)
        else:
            res = local_moran(tested.to_numpy()[rows], sub,
                              permutations=settings.permutations, seed=settings.seed)
        z[rows], p[rows] = res["z"].to_numpy(), res["p_sim"].to_numpy()
        q = res["q"].to_numpy() if "q" in res else None
    return _result(view, tested, rows, counts, z, p, settings, q)


def hotspots_over_periods(views: dict[str, pd.DataFrame], graph: Graph, *, measure: str,
                          settings: Settings | None = None) -> dict[str, pd.DataFrame]:
    """Gi* of each period's view (``measures.indicator_views``), all in one pass.

    Each result is what :func:`hotspots` gives for that view: the same statistic,
    p-values, correction (each period its own family) and classes. Periods whose
    tested areas are the same (all of them, usually) share the weights and are
    computed together (``dashboard.analysis.randomisation``).
    """
    settings = settings or DEFAULT
    if settings.method != "gi":
        raise ValueError("hot spots over periods are Gi* only")
    views = {key: view.reset_index(drop=True) for key, view in views.items()}
    tested = {key: _tested(view, measure) for key, view in views.items()}
    groups: dict[bytes, list[str]] = {}
    for key, values in tested.items():
        groups.setdefault(values.notna().to_numpy().tobytes(), []).append(key)
    adjacency = randomisation.adjacency(graph)
    out = {}
    for keys in groups.values():
        first = views[keys[0]]
        if not first["area_code"].equals(views[keys[-1]]["area_code"]):
            raise ValueError("every period's view must list the same areas in order")
        rows = np.flatnonzero(tested[keys[0]].notna().to_numpy())
        n = len(first)
        z, p = np.full((n, len(keys)), np.nan), np.full((n, len(keys)), np.nan)
        counts = None
        if len(rows) >= 3:
            sub = randomisation.binary(restricted(adjacency, graph.unique_ids,
                                                  first["area_code"].to_numpy()[rows]))
            counts = np.diff(sub.indptr)
            y = np.column_stack([tested[key].to_numpy()[rows] for key in keys])
            _, z[rows], p[rows] = randomisation.gi_star(y, sub, permutations=0,
                                                        seed=settings.seed)
        for i, key in enumerate(keys):
            out[key] = _result(views[key], tested[key], rows, counts, z[:, i], p[:, i],
                               settings)
    return {key: out[key] for key in views}


def _tested(view: pd.DataFrame, measure: str) -> pd.Series:
    """The figure each area is tested on (NaN: not tested). A suppressed small count is
    tested as its stand-in (``measures.indicator_view``), so the test sees no hole
    where it is; its own z and class are not shown. ``rate`` smooths rates by
    empirical Bayes."""
    stand_in = view.attrs.get("stand_in") or {}
    values = view["value"].fillna(view["area_code"].map(stand_in)) if stand_in \
        else view["value"]
    if measure != "rate":
        return values.astype(float)
    usable = values.notna() & (view["denominator"] > 0)
    tested = pd.Series(np.nan, index=view.index)
    if usable.any():
        tested[usable] = eb_rate(values[usable], view.loc[usable, "denominator"])
    return tested


def _result(view: pd.DataFrame, tested: pd.Series, rows: np.ndarray,
            counts: np.ndarray | None, z_all: np.ndarray, p_all: np.ndarray,
            settings: Settings, q: np.ndarray | None = None) -> pd.DataFrame:
    """The result frame of one view from its statistics (``z_all``, and for Local
    Moran ``p_all``, the pseudo p, for every area, NaN where untested): the method's
    p-value, q-value and class, and the areas without a test said so."""
    n = len(view)
    z, p, fdr = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    neighbours, significant = np.zeros(n, int), np.zeros(n, bool)
    labels = np.full(n, NO_DATA, dtype=object)
    if counts is not None:
        neighbours[rows] = counts
        connected = counts > 0
        ok = rows[connected]
        labels[rows[~connected]] = NO_NEIGHBOURS
        # The family is every area tested, suppressed ones too (tested as their
        # stand-ins; their own figures are hidden below).
        z[ok] = z_all[ok]
        p[ok] = p_values(settings.method, z_all[ok], p_all[ok])
        fdr[ok] = q_values(p[ok], settings.correction)
        decider = fdr[ok] if settings.correction == "fdr" else p[ok]
        labels[ok] = _classes(z[ok], decider, settings,
                              None if q is None else q[connected])
        significant[ok] = decider <= settings.alpha
    else:
        labels[rows] = NO_NEIGHBOURS
    if "suppressed" in view:  # hidden by disclosure control: no figure shown, said so
        hidden = (view["suppressed"] != "").to_numpy()
        labels[hidden] = SUPPRESSED
        z[hidden], p[hidden], fdr[hidden], significant[hidden] = np.nan, np.nan, np.nan, False
        tested = tested.where(~hidden)
    out = pd.DataFrame({
        "area_code": view["area_code"].to_numpy(), "area_name": view["area_name"].to_numpy(),
        "value": view["value"].to_numpy(), "rate_per_1000": view["rate_per_1000"].to_numpy(),
        "z": z, P_COLUMN[settings.method]: p, Q_COLUMN: fdr, "significant": significant,
        "class": labels, "tested": tested.to_numpy(), "neighbours": neighbours,
        "lad_code": view["lad_code"].to_numpy(), "lad_name": view["lad_name"].to_numpy()})
    order = np.lexsort((np.where(np.isnan(z), 0.0, -z), np.isnan(z)))  # z high to low
    return out.iloc[order].reset_index(drop=True)[columns(settings.method)]


def _classes(z: np.ndarray, decider: np.ndarray, settings: Settings,
             quadrant: np.ndarray | None = None) -> np.ndarray:
    """Class of each tested area from its z (Gi*) or quadrant (Local Moran) and the
    figure that decides significance: q under FDR control, else p."""
    decider = np.asarray(decider, float)
    if settings.method == "gi":
        level = confidence(decider)
        labels = np.full(len(z), NOT_SIGNIFICANT, dtype=object)
        for lvl in LEVELS:
            labels[(level == lvl) & (z > 0)] = HOT[lvl]
            labels[(level == lvl) & (z < 0)] = COLD[lvl]
        return labels
    labels = np.array([LISA.get(int(q), NOT_SIGNIFICANT) for q in quadrant], dtype=object)
    labels[~(decider <= settings.alpha)] = NOT_SIGNIFICANT
    return labels


def at_floor(result: pd.DataFrame, settings: Settings) -> int:
    """How many areas' permutation p is at its floor, 1/(permutations + 1): none of
    the permutations was as extreme (0 for Gi*, whose p has no floor)."""
    if settings.method != "lisa":
        return 0
    floor = 1.0 / (settings.permutations + 1)
    return int((result[P_COLUMN["lisa"]] <= floor * (1 + 1e-9)).sum())


def class_counts(result: pd.DataFrame, method: str) -> pd.DataFrame:
    """Areas per class, in legend order (classes with no area are kept, with 0)."""
    counts = result["class"].value_counts()
    return pd.DataFrame({"class": ORDER[method],
                         "colour": [COLOURS[c] for c in ORDER[method]],
                         "areas": [int(counts.get(c, 0)) for c in ORDER[method]]})


def significant_areas(result: pd.DataFrame) -> pd.DataFrame:
    """The areas in a hot, cold, cluster or outlier class, highest z first."""
    keep = set(HOT.values()) | set(COLD.values()) | set(LISA.values())
    return result[result["class"].isin(keep)]


def clusters(result: pd.DataFrame, graph: Graph, labels: set[str]) -> pd.Series:
    """Cluster number per area whose class is in ``labels``: neighbours share one."""
    codes = result.loc[result["class"].isin(labels), "area_code"]
    if codes.empty:
        return pd.Series(dtype=int)
    sub = restrict(graph, codes)
    _, comp = connected_components(sub.sparse, directed=False)
    return pd.Series(comp, index=sub.unique_ids)


def summary(result: pd.DataFrame, graph: Graph, *, level: str, method: str,
            polarity: str = "high_is_bad") -> str:
    """One plain-English line, e.g. "12 wards form 3 hot-spot clusters, mostly in Bristol"."""
    noun = {"lsoa": ("LSOA", "LSOAs"), "ward": ("ward", "wards"),
            "hex": ("hexagon", "hexagons")}[level]
    # Suppressed areas are tested as their stand-ins, though their figures are not shown.
    tested = (result["z"].notna() | (result["class"] == SUPPRESSED)).sum()
    if tested == 0:
        return f"No {noun[1]} could be tested: none has both data and a neighbour."
    if method == "gi":
        groups = [("hot-spot", set(HOT.values())), ("cold-spot", set(COLD.values()))]
    else:
        groups = [("high-high", {LISA[1]}), ("low-low", {LISA[3]})]
    parts = []
    for name, labels in groups:
        members = result[result["class"].isin(labels)]
        if members.empty:
            continue
        n_clusters = clusters(result, graph, labels).nunique()
        where = members["lad_name"].value_counts()
        mostly = f", mostly in {where.index[0]}" if len(where) and pd.notna(where.index[0]) \
            else ""
        plural = "s" if n_clusters != 1 else ""
        area = noun[0] if len(members) == 1 else noun[1]
        verb = "forms" if len(members) == 1 else "form"
        parts.append(f"{len(members):,} {area} {verb} {n_clusters:,} {name} "
                     f"cluster{plural}{mostly}")
    if not parts:
        return (f"No significant clusters: none of the {tested:,} {noun[1]} tested "
                "stands out from its neighbours.")
    line = "; ".join(parts) + "."
    if polarity == "low_is_bad" and method == "gi":
        line += " For this indicator low values mean more need, so cold spots mark need."
    return line[0].upper() + line[1:]
