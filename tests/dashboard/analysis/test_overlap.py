"""Overlap and the composite index: counts of partners, contributions that add up, stability."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from dashboard import measures
from dashboard.access import OPERATOR
from dashboard.analysis import hotspots, overlap
from dashboard.filters import FilterError, ViewFilter
from dashboard.geography import weights


@pytest.fixture(scope="module")
def avon(store, regions):
    region = regions["avon_and_somerset"]
    flt = ViewFilter(region.name, "ward", "crime_all", "2022-01", "2022-11", "rate")
    return store, region, flt, weights.region_graph(store, region, "ward")


def test_overlap_counts_partners_whose_hot_spots_of_need_coincide(avon):
    store, region, flt, graph = avon
    ids = ["crime_all", "crime_burglary", "homelessness", "imd2019_rank"]
    result = overlap.overlap(store, region, flt, ids, graph, viewer=OPERATOR).set_index("area_code")
    # Each column is that indicator's own Gi* hot spots of need.
    burglary = flt.with_(indicator="crime_burglary")
    direct = hotspots.hotspots(measures.indicator_view(store, region, burglary,
            viewer=OPERATOR), graph,
                               measure="rate").set_index("area_code")
    assert (result["crime_burglary"].reindex(direct.index)
            == direct["class"].isin(hotspots.HOT.values())).all()
    imd = measures.indicator_view(store, region, flt.with_(
        indicator="imd2019_rank", measure="count", period_start="2019", period_end="2019"),
                viewer=OPERATOR)
    imd_hot = hotspots.hotspots(imd, graph, measure="count").set_index("area_code")
    assert (result["imd2019_rank"].reindex(imd_hot.index)
            == imd_hot["class"].isin(hotspots.COLD.values())).all()
    # Two police indicators count as one partner.
    partner = {"crime_all": "police", "crime_burglary": "police", "homelessness": "council",
               "imd2019_rank": "context"}
    expected = result[ids].apply(lambda r: len({partner[i] for i in ids if r[i]}), axis=1)
    assert (result["partners"] == expected).all()
    assert result["partners"].max() >= 2
    assert list(result["partners"]) == sorted(result["partners"], reverse=True)


def test_overlap_needs_two_indicators(avon):
    store, region, flt, graph = avon
    with pytest.raises(FilterError, match="at least two"):
        overlap.overlap(store, region, flt, ["crime_all"], graph, viewer=OPERATOR)


@settings(max_examples=100, deadline=None)
@given(scores=arrays(float, (30, 3), elements=st.floats(0, 100)),
       w=st.lists(st.floats(0, 5), min_size=3, max_size=3).filter(lambda x: sum(x) > 0))
def test_contributions_add_up_to_the_index(scores, w):
    frame = pd.DataFrame(scores, columns=["a", "b", "c"],
                         index=[f"X{i:02d}" for i in range(30)])
    frame.insert(0, "area_name", frame.index)
    frame.insert(1, "lad_name", "L")
    out = overlap.composite(frame, dict(zip("abc", w, strict=True)), draws=20)
    parts = out[["contrib_a", "contrib_b", "contrib_c"]].sum(axis=1)
    np.testing.assert_allclose(parts, out["index"], atol=1e-9)
    assert out["in_top"].between(0, 1).all()
    assert list(out["rank"]) == sorted(out["rank"])


def test_a_zero_weight_drops_an_indicator_and_stability_is_reported():
    frame = pd.DataFrame({"area_name": ["p", "q", "r"], "lad_name": "L",
                          "a": [100.0, 50.0, 0.0], "b": [0.0, 50.0, 100.0]},
                         index=["P", "Q", "R"])
    only_a = overlap.composite(frame, {"a": 1.0, "b": 0.0}, top=1)
    assert list(only_a["area_code"]) == ["P", "Q", "R"]
    assert (only_a["contrib_b"] == 0).all() and only_a["in_top"].iat[0] == 1.0
    even = overlap.composite(frame, {"a": 1.0, "b": 1.0}, top=1)
    assert set(even["index"]) == {50.0}  # a tie everywhere: no area is safely on top
    with pytest.raises(FilterError, match="at least one above 0"):
        overlap.composite(frame, {"a": 0.0, "b": 0.0})
    with pytest.raises(FilterError):
        overlap.composite(frame, {"a": -1.0, "b": 1.0})


def test_need_scores_follow_polarity(avon):
    store, region, flt, _ = avon
    scores = overlap.need_scores(store, region, flt, ["crime_all", "imd2019_rank"], viewer=OPERATOR)
    imd = measures.indicator_view(store, region, flt.with_(
        indicator="imd2019_rank", measure="count", period_start="2019", period_end="2019"),
                viewer=OPERATOR)
    most_deprived = imd.loc[imd["value"].idxmin(), "area_code"]  # rank 1 = most deprived
    assert scores.loc[most_deprived, "imd2019_rank"] == scores["imd2019_rank"].max()
    assert scores["crime_all"].idxmax() == "E05010892"  # Central Bristol
