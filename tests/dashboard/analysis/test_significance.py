"""Significance a reader can reconcile: one p-value rule per method, the FDR q-value
beside it, every class following from them by the stated thresholds, and class
colours that can be told apart on a map without a basemap."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from scipy.stats import norm

from dashboard.access import OPERATOR
from dashboard.analysis import emerging, hotspot_views, hotspots
from dashboard.analysis.hotspots import COLD, HOT, LISA, NOT_SIGNIFICANT
from dashboard.filters import ViewFilter
from dashboard.geography import weights
from dashboard.views import contrast, maps
from tests.dashboard.analysis.test_hotspots import textbook_gi_star

P_GI, P_LISA, Q = "p_normal", "p_permutation", "q_fdr"
HOTWELLS = "E05010905"  # Hotwells and Harbourside, Bristol


def bh(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values, written out: q_(i) = min_{j >= i} p_(j) m / j."""
    p = np.asarray(p, float)
    m = len(p)
    order = np.argsort(p, kind="stable")
    scaled = p[order] * m / np.arange(1, m + 1)
    q = np.minimum(np.minimum.accumulate(scaled[::-1])[::-1], 1.0)
    out = np.empty(m)
    out[order] = q
    return out


def gi_class(z: float, decider: float) -> str:
    """The Gi* class stated in the legend: 99 % at 0.01, 95 % at 0.05, 90 % at 0.10."""
    for level, cut in ((99, 0.01), (95, 0.05), (90, 0.10)):
        if decider <= cut:
            return HOT[level] if z > 0 else COLD[level]
    return NOT_SIGNIFICANT


def assert_gi_is_consistent(res: pd.DataFrame, correction: str) -> None:
    tested = res[res["z"].notna()]
    assert len(tested) > 100
    z, p = tested["z"].to_numpy(), tested[P_GI].to_numpy()
    # One rule for every area: the two-sided normal p of the z-score shown.
    np.testing.assert_allclose(p, 2 * norm.sf(np.abs(z)), rtol=1e-12, atol=0)
    # So p falls as |z| rises, with no exception anywhere in the table.
    by_z = np.argsort(np.abs(z), kind="stable")
    assert (np.diff(p[by_z]) <= 0).all()
    if correction == "fdr":
        np.testing.assert_allclose(tested[Q], bh(p), rtol=1e-12)
        decider = tested[Q].to_numpy()
    else:
        assert tested[Q].isna().all()
        decider = p
    want = [gi_class(a, b) for a, b in zip(z, decider, strict=True)]
    assert tested["class"].tolist() == want
    assert (tested["significant"] == (decider <= 0.05)).all()


@pytest.fixture(scope="module")
def avon(store, regions):
    return store, regions["avon_and_somerset"]


@pytest.mark.parametrize("level,measure", [("ward", "rate"), ("lsoa", "count")])
@pytest.mark.parametrize("correction", ["fdr", "none"])
def test_every_gi_class_follows_from_its_p_or_q_on_the_real_store(avon, level, measure,
                                                                  correction):
    store, region = avon
    flt = ViewFilter(region.name, level, "crime_all", "2022-01", "2022-11", measure)
    res = hotspot_views.hotspot_view(store, region, flt, hotspots.Settings(correction=correction),
                                viewer=OPERATOR)
    assert_gi_is_consistent(res, correction)


def test_hotwells_reads_the_same_in_z_p_q_and_class(avon):
    store, region = avon
    flt = ViewFilter(region.name, "ward", "crime_all", "2022-01", "2022-11", "rate")
    res = hotspot_views.hotspot_view(store, region, flt, viewer=OPERATOR).set_index("area_code")
    row = res.loc[HOTWELLS]
    assert row["z"] == pytest.approx(5.3226, abs=1e-3)
    assert row[P_GI] == pytest.approx(2 * norm.sf(row["z"]))
    assert row[P_GI] < row[Q] < 0.01
    assert row["class"] == HOT[99]


def grid(rows: int, cols: int) -> gpd.GeoDataFrame:
    cells = [shapely.box(c, r, c + 1, r + 1) for r in range(rows) for c in range(cols)]
    codes = [f"r{r}c{c}" for r in range(rows) for c in range(cols)]
    return gpd.GeoDataFrame({"code": codes}, geometry=cells, crs=27700).set_index("code")


@pytest.mark.parametrize("correction", ["fdr", "none"])
def test_a_hand_made_lattice_gets_the_textbook_p_q_and_classes(correction):
    # 7x7 queen lattice: a hot block in one corner, a cold one in the other, a
    # gentle slope elsewhere, so every class from 99 % hot to 99 % cold can occur.
    shapes = grid(7, 7)
    g = weights.contiguity(shapes)
    codes = shapes.index.tolist()
    r, c = np.divmod(np.arange(49), 7)
    y = 20.0 + r + c
    y[(r >= 5) & (c >= 5)] = 60.0
    y[(r <= 1) & (c <= 1)] = 1.0
    view = pd.DataFrame({"area_code": codes, "area_name": codes, "value": y,
                         "denominator": 1000.0, "rate_per_1000": y, "lad_code": "X",
                         "lad_name": "Lattice"})
    res = hotspots.hotspots(view, g, measure="count",
                            settings=hotspots.Settings(correction=correction))
    res = res.set_index("area_code").loc[g.unique_ids]
    z = textbook_gi_star(y[[codes.index(i) for i in g.unique_ids]], g.sparse.toarray() > 0)
    np.testing.assert_allclose(res["z"], z, rtol=1e-9)
    p = 2 * norm.sf(np.abs(z))
    np.testing.assert_allclose(res[P_GI], p, rtol=1e-12)
    decider = bh(p) if correction == "fdr" else p
    assert res["class"].tolist() == [gi_class(a, b) for a, b in zip(z, decider, strict=True)]
    assert res.loc["r6c6", "class"] == HOT[99] and res.loc["r0c0", "class"].startswith("Cold")
    assert assert_levels_seen(res["class"]) >= 4


def assert_levels_seen(classes: pd.Series) -> int:
    return len(set(classes) & (set(HOT.values()) | set(COLD.values())))


def test_local_moran_uses_the_permutation_p_for_every_area(avon):
    store, region = avon
    flt = ViewFilter(region.name, "lsoa", "crime_all", "2022-01", "2022-11", "count")
    settings = hotspots.Settings(method="lisa")
    res = hotspot_views.hotspot_view(store, region, flt, settings, viewer=OPERATOR)
    tested = res[res["z"].notna()]
    p = tested[P_LISA].to_numpy()
    k = p * (settings.permutations + 1)
    # Every p is a count of permutations over permutations + 1: none is replaced by
    # an analytic figure below the floor.
    np.testing.assert_allclose(k, np.round(k), atol=1e-6)
    assert p.min() == pytest.approx(1 / (settings.permutations + 1))
    np.testing.assert_allclose(tested[Q], bh(p), rtol=1e-12)
    sig = tested[Q].to_numpy() <= 0.05
    assert (tested["significant"].to_numpy() == sig).all()
    assert (tested.loc[~sig, "class"] == NOT_SIGNIFICANT).all()
    assert tested.loc[sig, "class"].isin(LISA.values()).all()


def test_emerging_trend_follows_its_mann_kendall_p():
    rng = np.random.default_rng(7)
    z = np.cumsum(rng.normal(size=(200, 14)), axis=1)
    label, tz, tp = emerging.trends(z)
    np.testing.assert_allclose(tp, 2 * norm.sf(np.abs(tz)), rtol=1e-12)
    want = np.where(tp < 0.05, np.where(tz > 0, "increasing", "decreasing"), "no trend")
    assert list(label) == list(want)
    # A steady rise over 92 months (the police series) is very significant, not p = 0.
    _, tz, tp = emerging.trends(np.arange(92.0).reshape(1, -1))
    assert tz[0] > 12 and 0 < tp[0] == pytest.approx(2 * norm.sf(tz[0]), rel=1e-12)


# Fill opacity of the area layer: the map is drawn over the page's white.
BACKGROUND = "#ffffff"


def on_map(colour: str) -> str:
    """A class colour as it shows on the map: the layer's opacity over the page."""
    fg = [int(colour[i:i + 2], 16) for i in (1, 3, 5)]
    bg = [int(BACKGROUND[i:i + 2], 16) for i in (1, 3, 5)]
    a = maps.AREA_OPACITY
    return "#" + "".join(f"{round(a * f + (1 - a) * b):02x}" for f, b in
                         zip(fg, bg, strict=True))


@pytest.mark.parametrize("label", list(HOT.values()) + list(COLD.values()))
def test_every_confidence_class_stands_out_from_the_page_and_from_not_significant(label):
    shown = on_map(hotspots.COLOURS[label])
    # WCAG 2.2 success criterion 1.4.11, non-text contrast: 3:1.
    assert contrast.ratio(shown, BACKGROUND) >= contrast.NON_TEXT
    assert contrast.ratio(shown, on_map(hotspots.COLOURS[NOT_SIGNIFICANT])) >= 3.0


@pytest.mark.parametrize("side", [HOT, COLD])
def test_confidence_levels_are_told_apart_by_lightness(side):
    l99, l95, l90 = (contrast.luminance(on_map(hotspots.COLOURS[side[lvl]]))
                     for lvl in (99, 95, 90))
    assert (l95 + 0.05) / (l99 + 0.05) >= 1.5 and (l90 + 0.05) / (l95 + 0.05) >= 1.5
