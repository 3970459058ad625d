"""The geography vintage is a setting: a 2021 region maps LSOA 2021 data on WD24/WD25 wards."""

import pytest

from dashboard import geography, measures
from dashboard.access import OPERATOR
from dashboard.filters import ViewFilter
from loaders.config import Region


@pytest.fixture()
def bristol_2021():
    return Region(name="bristol_2021", title="Bristol (2021 geography)", lads=("E06000023",),
                  vintage=2021, lsoa_boundaries="oda", map_detail="fine")


def test_a_2021_region_draws_lsoa21_and_wd25(store, bristol_2021):
    lsoas = geography.map_shapes(store, bristol_2021, "lsoa")
    wards = geography.map_shapes(store, bristol_2021, "ward")
    assert lsoas["code"].str.startswith("E01").all() and len(lsoas) > 250
    assert set(wards["code"]) == set(geography.lsoa_lookup(store, bristol_2021)["ward_code"])


def test_imd_2025_is_shown_on_its_own_vintage(store, bristol_2021):
    flt = ViewFilter("bristol_2021", "ward", "imd2025_score", "2025", "2025", "count")
    view = measures.indicator_view(store, bristol_2021, flt, viewer=OPERATOR)
    assert view["value"].notna().all()
    assert view["value"].between(0, 100).all()
    assert view["rank"].min() == 1
