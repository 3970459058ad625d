"""Geography: LSOAs belong to exactly one ward; LSOA -> ward aggregation conserves totals."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard import geography

ODA = ["avon_and_somerset", "worcestershire", "west_midlands_ca"]


@pytest.mark.parametrize("name", ODA)
def test_every_lsoa_of_an_oda_area_belongs_to_exactly_one_ward(store, regions, name):
    region = regions[name]
    lookup = geography.lsoa_lookup(store, region)
    lsoas = store.query("SELECT code FROM areas WHERE geography = 'LSOA11' AND detail = 'bgc' "
                        "AND list_contains(?, lad_code)", [list(region.lads)])["code"]
    assert len(lsoas) > 300
    assert set(lsoas) == set(lookup["lsoa_code"])
    assert lookup["lsoa_code"].is_unique
    assert lookup["ward_code"].notna().all()
    wards = set(store.query("SELECT code FROM areas WHERE geography = 'WD19'")["code"])
    assert set(lookup["ward_code"]) <= wards


def test_oda_area_sizes_match_the_published_counts(store, regions):
    sizes = {n: len(geography.region_areas(store, regions[n], "lsoa")) for n in ODA}
    assert sizes == {"avon_and_somerset": 1005, "worcestershire": 364, "west_midlands_ca": 1680}
    national = geography.region_areas(store, regions["england_and_wales"], "lsoa")
    assert len(national) == 34753


def test_map_shapes_cover_every_area_in_wgs84(store, regions):
    region = regions["worcestershire"]
    for level in ("lsoa", "ward"):
        shapes = geography.map_shapes(store, region, level)
        areas = geography.region_areas(store, region, level)
        assert set(shapes["code"]) == set(areas["code"])
        assert shapes.crs.to_epsg() == 4326
        minx, miny, maxx, maxy = shapes.total_bounds
        assert -2.8 < minx < maxx < -1.7 and 51.9 < miny < maxy < 52.5


@st.composite
def lsoa_figures(draw):
    n = draw(st.integers(1, 40))
    wards = draw(st.lists(st.sampled_from(["W1", "W2", "W3", "W4"]), min_size=n, max_size=n))
    values = draw(st.lists(st.one_of(st.none(), st.integers(0, 10_000)), min_size=n,
                           max_size=n))
    pops = draw(st.lists(st.integers(1, 3_000), min_size=n, max_size=n))
    codes = [f"E01{i:06d}" for i in range(n)]
    lsoa = pd.DataFrame({"code": codes, "value": [np.nan if v is None else float(v)
                                                  for v in values],
                         "denominator": [float(p) for p in pops]})
    lookup = pd.DataFrame({"lsoa_code": codes, "ward_code": wards})
    order = draw(st.permutations(range(n)))
    return lsoa.iloc[list(order)].reset_index(drop=True), lookup


@settings(max_examples=200, deadline=None)
@given(lsoa_figures())
def test_aggregating_counts_to_wards_conserves_totals(case):
    lsoa, lookup = case
    wards = geography.aggregate_to_ward(lsoa, lookup, additive=True)
    assert wards["value"].sum() == lsoa["value"].sum()
    assert wards["denominator"].sum() == lsoa["denominator"].sum()
    # A ward whose LSOAs all lack data has no value, never zero.
    for ward, group in lookup.merge(lsoa, left_on="lsoa_code", right_on="code") \
            .groupby("ward_code"):
        got = wards.set_index("code").at[ward, "value"]
        if group["value"].isna().all():
            assert np.isnan(got)
        else:
            assert got == group["value"].sum()


@settings(max_examples=100, deadline=None)
@given(lsoa_figures())
def test_non_additive_wards_take_the_population_weighted_mean(case):
    lsoa, lookup = case
    wards = geography.aggregate_to_ward(lsoa, lookup, additive=False).set_index("code")
    merged = lookup.merge(lsoa, left_on="lsoa_code", right_on="code").dropna(subset=["value"])
    for ward, g in merged.groupby("ward_code"):
        expected = (g["value"] * g["denominator"]).sum() / g["denominator"].sum()
        assert wards.at[ward, "value"] == pytest.approx(expected)
        assert g["value"].min() - 1e-9 <= wards.at[ward, "value"] <= g["value"].max() + 1e-9
