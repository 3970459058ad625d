"""Hotspots: known answers on a lattice, the textbook Gi*, esda itself, islands and FDR."""

import esda
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from dashboard.access import OPERATOR
from dashboard.analysis import hotspot_views, hotspots
from dashboard.analysis.hotspots import COLD, HOT, LISA, NO_DATA, NO_NEIGHBOURS, NOT_SIGNIFICANT
from dashboard.filters import ViewFilter
from dashboard.geography import weights

pytestmark = pytest.mark.backends


def grid(rows: int, cols: int, *, gap: tuple[int, int] | None = None) -> gpd.GeoDataFrame:
    """Unit squares ``r{row}c{col}`` in BNG; ``gap`` moves one cell far away (an island)."""
    cells, codes = [], []
    for r in range(rows):
        for c in range(cols):
            x, y = (c + 100, r + 100) if gap == (r, c) else (c, r)
            cells.append(shapely.box(x, y, x + 1, y + 1))
            codes.append(f"r{r}c{c}")
    return gpd.GeoDataFrame({"code": codes}, geometry=cells, crs=27700).set_index("code")


def view_of(values, codes, lad="Lattice") -> pd.DataFrame:
    values = np.asarray(values, float)
    return pd.DataFrame({"area_code": codes, "area_name": codes, "value": values,
                         "denominator": 1000.0, "rate_per_1000": values,
                         "lad_code": "X", "lad_name": lad})


def textbook_gi_star(x: np.ndarray, adjacency: np.ndarray) -> np.ndarray:
    """Ord and Getis (1995), eq. 14, binary weights with w_ii = 1, written out here."""
    n = len(x)
    w = adjacency.astype(float).copy()
    np.fill_diagonal(w, 1.0)
    xbar = x.sum() / n
    s = np.sqrt((x ** 2).sum() / n - xbar ** 2)
    wi = w.sum(axis=1)
    s1 = (w ** 2).sum(axis=1)
    return (w @ x - xbar * wi) / (s * np.sqrt((n * s1 - wi ** 2) / (n - 1)))


def test_lattice_spike_has_the_hand_computed_z_scores():
    # 5x5 queen lattice, zero everywhere but 1 in the centre. By hand: the centre's
    # Gi* z is (1 - 9/25) / (12/25) = 4/3; a corner's is -(4/25) / (sqrt(84)/25).
    g = weights.contiguity(grid(5, 5))
    y = np.zeros(25)
    y[12] = 1.0
    res = hotspots.gi_star(y, g, permutations=0)
    assert res.loc["r2c2", "z"] == pytest.approx(4 / 3)
    assert res.loc["r0c0", "z"] == pytest.approx(-4 / np.sqrt(84))


def test_lattice_block_is_one_hot_cluster_and_named_in_the_summary():
    shapes = grid(8, 8)
    g = weights.contiguity(shapes)
    codes = shapes.index.tolist()
    y = np.full(64, 10.0)
    block = [f"r{r}c{c}" for r in (5, 6, 7) for c in (5, 6, 7)]
    y[[codes.index(c) for c in block]] = 60.0
    res = hotspots.hotspots(view_of(y, codes), g, measure="count",
                            settings=hotspots.Settings(correction="none"))
    hot = set(res.loc[res["class"].isin(HOT.values()), "area_code"])
    assert "r6c6" in hot and hot <= set(block) | {"r4c4", "r4c5", "r4c6", "r4c7", "r5c4",
                                                  "r6c4", "r7c4"}
    assert res["class"].notna().all()
    line = hotspots.summary(res, g, level="lsoa", method="gi")
    assert line.startswith(f"{len(hot)} LSOAs form 1 hot-spot cluster, mostly in Lattice")


def test_island_and_no_data_get_their_own_classes_never_nan():
    shapes = grid(4, 4, gap=(0, 0))  # r0c0 is far from the rest
    g = weights.contiguity(shapes)
    assert list(g.isolates) == ["r0c0"]
    y = np.arange(16, dtype=float)
    y[5] = np.nan  # r1c1: no data
    res = hotspots.hotspots(view_of(y, shapes.index.tolist()), g, measure="count")
    cls = res.set_index("area_code")["class"]
    assert cls["r0c0"] == NO_NEIGHBOURS and cls["r1c1"] == NO_DATA
    assert res["class"].notna().all()
    assert res.set_index("area_code").loc[["r0c0", "r1c1"], "z"].isna().all()
    assert res.set_index("area_code").drop(["r0c0", "r1c1"])["z"].notna().all()


def test_q_values_are_benjamini_hochberg_by_hand():
    p = np.array([0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205, 0.212, 0.216])
    # q_(k) = min over j >= k of p_(j) * 10 / j: for k = 3, min(0.13, 0.1025, 0.084, ...).
    want = [0.01, 0.04, 0.084, 0.084, 0.084, 0.1, 0.074 * 10 / 7, 0.216, 0.216, 0.216]
    np.testing.assert_allclose(hotspots.q_values(p, "fdr"), want, rtol=1e-12)
    assert np.isnan(hotspots.q_values(p, "none")).all()
    # The areas with q <= 0.05 are those esda's threshold passes (p < its bound).
    assert list(hotspots.q_values(p, "fdr") <= 0.05) == list(p < esda.fdr(p, 0.05))


def test_classes_in_plain_words_from_z_and_the_deciding_p():
    z = np.array([3.0, 2.5, 1.8, 0.3, -1.8, -2.5, -3.0])
    p = np.array([0.001, 0.03, 0.08, 0.4, 0.09, 0.02, 0.005])
    gi = hotspots._classes(z, p, hotspots.Settings(correction="none"))
    assert list(gi) == [HOT[99], HOT[95], HOT[90], NOT_SIGNIFICANT, COLD[90], COLD[95],
                        COLD[99]]
    lisa = hotspots._classes(z, p, hotspots.Settings(method="lisa", correction="none"),
                             np.array([1, 1, 1, 1, 3, 3, 3]))
    assert list(lisa) == [LISA[1], LISA[1], NOT_SIGNIFICANT, NOT_SIGNIFICANT, NOT_SIGNIFICANT,
                          LISA[3], LISA[3]]


def test_local_moran_needs_permutations():
    with pytest.raises(ValueError, match="Local Moran's I needs at least 1"):
        hotspots.Settings(method="lisa", permutations=0)


def test_empirical_bayes_pulls_small_populations_towards_the_mean():
    counts = np.array([1.0, 100.0, 50.0, 50.0])
    pop = np.array([2.0, 1000.0, 1000.0, 1000.0])  # first: raw rate 500 per 1,000
    eb = hotspots.eb_rate(counts, pop)
    overall = counts.sum() / pop.sum() * 1000
    assert abs(eb[0] - overall) < abs(500 - overall) / 5
    assert eb[1] == pytest.approx(100, rel=0.1)


@pytest.fixture(scope="module")
def avon(store, regions):
    region = regions["avon_and_somerset"]
    flt = ViewFilter(region.name, "lsoa", "crime_all", "2022-01", "2022-11", "count")
    graph = weights.region_graph(store, region, "lsoa")
    return store, region, flt, graph


def test_real_region_matches_a_direct_esda_call_and_the_textbook(avon):
    store, region, flt, graph = avon
    res = hotspot_views.hotspot_view(store, region, flt, graph=graph,
            viewer=OPERATOR).set_index("area_code")
    tested = res[res["z"].notna()].sort_index()  # the app tests areas in code order
    assert len(tested) == 1005
    sub = weights.restrict(graph, tested.index)
    y = tested.loc[sub.unique_ids, "value"].to_numpy()
    direct = esda.G_Local(y, sub, transform="B", star=True, permutations=0)
    np.testing.assert_allclose(tested.loc[sub.unique_ids, "z"], direct.Zs)
    # The two-sided normal p of z, for every area: twice esda's one-sided p_norm.
    np.testing.assert_allclose(tested.loc[sub.unique_ids, "p_normal"], 2 * direct.p_norm,
                               rtol=1e-9)
    adjacency = sub.sparse.toarray() > 0
    np.testing.assert_allclose(direct.Zs, textbook_gi_star(y, adjacency), rtol=1e-9)
    # Central Bristol (z above 10) is a hot spot at 99 %; the significant areas are
    # those with q <= 0.05, and the classes' counts add up to every area.
    assert tested.loc["E01014540", "z"] > 10
    assert res.loc["E01014540", "class"] == HOT[99]
    assert (res["significant"] == (res["q_fdr"] <= 0.05)).all()
    assert res["significant"].sum() == (tested["p_normal"] < esda.fdr(
        tested["p_normal"].to_numpy(), 0.05)).sum()


def test_real_region_local_moran_matches_esda(avon):
    store, region, flt, graph = avon
    settings = hotspots.Settings(method="lisa", correction="none")
    res = hotspot_views.hotspot_view(store, region, flt, settings, graph=graph, viewer=OPERATOR)
    res = res.set_index("area_code").sort_index()
    sub = weights.restrict(graph, res.index[res["z"].notna()])
    y = res.loc[sub.unique_ids, "value"].to_numpy()
    direct = esda.Moran_Local(y, sub, transformation="R", permutations=999,
                              seed=hotspots.SEED, n_jobs=1)
    want = np.round(np.asarray(direct.p_sim, float) * 1000) / 1000  # esda's, exact
    np.testing.assert_allclose(res.loc[sub.unique_ids, "p_permutation"], want, rtol=1e-12)
    assert res["q_fdr"].isna().all()
    sig = want <= 0.05 + 1e-9
    expected = np.where(sig, [LISA[q] for q in direct.q], NOT_SIGNIFICANT)
    assert list(res.loc[sub.unique_ids, "class"]) == list(expected)


def test_rate_measure_tests_smoothed_rates(avon):
    store, region, flt, graph = avon
    res = hotspot_views.hotspot_view(store, region, flt.with_(measure="rate"), graph=graph,
            viewer=OPERATOR)
    raw = res["value"] / (res["value"] / res["rate_per_1000"])
    assert not np.allclose(res["tested"], raw)
    assert res["tested"].corr(res["rate_per_1000"]) > 0.99


def test_isles_of_scilly_have_no_neighbours_in_england_and_wales(store, regions):
    region = regions["england_and_wales"]
    flt = ViewFilter(region.name, "lsoa", "imd2019_rank", "2019", "2019", "count")
    res = hotspot_views.hotspot_view(store, region, flt, viewer=OPERATOR).set_index("area_code")
    assert res.loc["E01019077", "class"] == NO_NEIGHBOURS  # Isles of Scilly
    assert res["class"].notna().all()
    assert set(res["class"]) <= set(hotspots.ORDER["gi"])
    assert res.loc[res["class"] == NO_DATA].index.str.startswith("W").all()  # England only
