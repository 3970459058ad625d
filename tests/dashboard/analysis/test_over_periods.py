"""Many periods in one pass: the views of every month read together, and Gi* of every
month tested together, are each the same as one month read and tested alone.

The Gi* kernel is checked against a plain numpy computation with the same draws,
and against esda's own simulations on a real region.
"""

from __future__ import annotations

import warnings

import esda
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from libpysal.graph import Graph

from dashboard import measures
from dashboard.access import OPERATOR, AccessDenied, Viewer
from dashboard.analysis import hotspot_views, hotspots, randomisation
from dashboard.filters import ViewFilter
from dashboard.geography import weights
from dashboard.measures import disclosure

# From LSOA 2011 codes to 2021 codes: these months hold both, so each is converted.
MONTHS = ("2022-07", "2023-08")


@pytest.fixture(scope="module")
def months(series):
    flt = ViewFilter("avon_and_somerset", "lsoa", "monthly_crime_count", *MONTHS, "count")
    return hotspot_views.periods(series, flt, viewer=OPERATOR)


@pytest.mark.parametrize("level,measure", [("lsoa", "count"), ("ward", "rate")])
def test_views_read_together_equal_each_month_read_alone(series, regions, months, level,
                                                         measure):
    region = regions["avon_and_somerset"]
    flt = ViewFilter("avon_and_somerset", level, "monthly_crime_count", *MONTHS, measure)
    together = measures.indicator_views(series, region, flt, months, viewer=OPERATOR)
    assert list(together) == months and len(months) == 14
    hidden = set()
    for month in months:
        alone = measures.indicator_view(series, region, flt.with_(
            period_start=month, period_end=month), viewer=OPERATOR)
        pd.testing.assert_frame_equal(together[month], alone)
        for key in ("measure", "suppression_k", "stand_in", "partial"):
            assert together[month].attrs[key] == alone.attrs[key], (month, key)
        assert together[month].attrs["region_figure"] == pytest.approx(
            alone.attrs["region_figure"], nan_ok=True)
        hidden |= set(alone["suppressed"])
    # The months put disclosure control to work: small counts are hidden, each month
    # on its own (secondary suppression across periods: tests/dashboard/measures/test_disclosure).
    if level == "lsoa":
        assert disclosure.PRIMARY in hidden
    assert "LSOA11" in together[months[0]].attrs["conversion"]


def test_views_read_together_refuse_what_one_view_refuses(series, regions, months):
    region = regions["avon_and_somerset"]
    flt = ViewFilter("avon_and_somerset", "lsoa", "monthly_crime_count", *MONTHS, "count")
    councillor = Viewer("t_councillor", "councillor")  # wards only
    with pytest.raises(AccessDenied):
        measures.indicator_view(series, region, flt, viewer=councillor)
    with pytest.raises(AccessDenied):
        measures.indicator_views(series, region, flt, months, viewer=councillor)


def test_hot_spots_tested_together_equal_each_month_tested_alone(series, regions, months):
    region = regions["avon_and_somerset"]
    flt = ViewFilter("avon_and_somerset", "lsoa", "monthly_crime_count", *MONTHS, "count")
    graph = weights.region_graph(series, region, "lsoa")
    views = measures.indicator_views(series, region, flt, months, viewer=OPERATOR)
    together = hotspots.hotspots_over_periods(views, graph, measure="count")
    classes = set()
    for month in months:
        alone = hotspots.hotspots(views[month], graph, measure="count")
        pd.testing.assert_frame_equal(together[month], alone)
        classes |= set(alone["class"])
    assert {hotspots.HOT[99], hotspots.SUPPRESSED, hotspots.NOT_SIGNIFICANT} <= classes


def _lattice(side: int) -> Graph:
    cells = [shapely.box(c, r, c + 1, r + 1) for r in range(side) for c in range(side)]
    return Graph.build_contiguity(gpd.GeoDataFrame(geometry=cells), rook=False)


def _brute_force(y: np.ndarray, adj, permutations: int, seed: int) -> np.ndarray:
    """The folded pseudo p-value of Gi*, one area and one draw at a time."""
    dense = adj.toarray() > 0
    drawn = randomisation.draws(int(dense.sum(axis=1).max()), len(y), permutations, seed)
    p = np.empty_like(y)
    for i in range(len(y)):
        others = np.delete(np.arange(len(y)), i)
        neighbours = np.flatnonzero(dense[i])
        observed = y[i] + y[neighbours].sum(axis=0)
        sims = np.array([y[i] + y[others[drawn[d, :len(neighbours)]]].sum(axis=0)
                         for d in range(permutations)])
        larger = (sims >= observed).sum(axis=0)
        larger = np.minimum(larger, permutations - larger)
        p[i] = (larger + 1) / (permutations + 1)
    return p


@pytest.mark.parametrize("whole", [True, False])
def test_kernel_equals_a_plain_computation_with_the_same_draws(whole):
    rng = np.random.default_rng(7)
    adj = randomisation.adjacency(_lattice(6))
    # Whole counts tie often (a simulated sum equal to the observed one); rates do not.
    y = rng.poisson(3, (36, 5)).astype(float) if whole else rng.gamma(2.0, 1.5, (36, 5))
    y[14:16] += 9  # a hot corner
    _, z, p = randomisation.gi_star(y, adj, permutations=199, seed=11)
    np.testing.assert_array_equal(p, _brute_force(y, adj, 199, 11))
    assert p.min() < 0.05 and np.isfinite(z).all()


def test_kernel_matches_esda_on_a_real_region_ties_counted_as_at_least(series, regions,
                                                                       months):
    """The same statistic, z and draws as esda's G_Local: the simulated sums are esda's
    own. Counting them against the observed sum, ties included, gives our p exactly;
    esda's own p differs only where its division splits a tie."""
    region = regions["avon_and_somerset"]
    flt = ViewFilter("avon_and_somerset", "lsoa", "monthly_crime_count", *MONTHS, "count")
    views = measures.indicator_views(series, region, flt, months[:3], viewer=OPERATOR)
    graph = weights.region_graph(series, region, "lsoa")
    tested = pd.DataFrame({m: hotspots._tested(v, "count") for m, v in views.items()})
    tested.index = views[months[0]]["area_code"]
    tested = tested.dropna()
    sub = weights.restrict(graph, tested.index)
    y = tested.loc[sub.unique_ids].to_numpy()
    _, z, p = randomisation.gi_star(y, randomisation.adjacency(sub), permutations=999,
                                    seed=hotspots.SEED)
    split = 0
    for k in range(y.shape[1]):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            direct = esda.G_Local(y[:, k], sub, transform="B", star=True, permutations=999,
                                  seed=hotspots.SEED, n_jobs=1, keep_simulations=True)
        np.testing.assert_allclose(z[:, k], direct.Zs, rtol=1e-9)
        sums = np.rint(direct.rGs * y[:, k].sum())  # esda's simulated sums, whole again
        observed = np.rint(direct.Gs * y[:, k].sum())
        larger = (sums >= observed[:, None]).sum(axis=1)
        larger = np.minimum(larger, 999 - larger)
        np.testing.assert_array_equal(p[:, k], (larger + 1) / 1000)
        theirs = np.round(np.asarray(direct.p_sim, float) * 1000) / 1000
        split += int((np.abs(theirs - p[:, k]) > 1e-12).sum())
    assert split > 0  # whole counts tie, and esda's division splits some of those ties
