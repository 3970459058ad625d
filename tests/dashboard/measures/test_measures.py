"""Measures on the real store: rates after summing, ranks by need, zeros versus no data."""

import numpy as np
import pytest

from dashboard import measures
from dashboard.access import OPERATOR
from dashboard.filters import FilterError, ViewFilter

pytestmark = pytest.mark.backends

REGION = "avon_and_somerset"


def view(store, regions, **kw):
    base = {"region": REGION, "level": "ward", "indicator": "crime_all",
            "period_start": "2022-01", "period_end": "2022-11", "measure": "rate"}
    base.update(kw)
    return measures.indicator_view(store, regions[base["region"]], ViewFilter(**base),
            viewer=OPERATOR)


def test_ward_rates_are_computed_after_summing(store, regions):
    wards = view(store, regions)
    lsoas = view(store, regions, level="lsoa")
    assert wards["value"].sum() == lsoas["value"].sum()
    got = wards["value"] / wards["denominator"] * 1000
    np.testing.assert_allclose(wards["rate_per_1000"], got)
    assert list(wards.columns[:len(measures.COLUMNS)]) == measures.COLUMNS


def test_rank_one_is_the_area_of_most_need(store, regions):
    crime = view(store, regions).dropna(subset=["rate_per_1000"])
    assert crime.loc[crime["rank"] == 1, "rate_per_1000"].iat[0] == crime["rate_per_1000"].max()
    imd = view(store, regions, indicator="imd2019_rank", period_start="2019",
               period_end="2019", measure="count", level="lsoa")
    # IMD rank: 1 is most deprived nationally, so the lowest value ranks first.
    assert imd.loc[imd["rank"] == 1, "value"].iat[0] == imd["value"].min()


def test_police_zero_is_zero_inside_the_force_and_no_data_outside(store, regions):
    national = view(store, regions, region="england_and_wales", level="lsoa",
                    period_start="2022-03", period_end="2022-03")
    lookup = store.query("SELECT lsoa_code, lad_code FROM lsoa_ward WHERE vintage = 2011")
    lad = national.merge(lookup, left_on="area_code", right_on="lsoa_code")
    bristol = lad[lad["lad_code_x"] == "E06000023"]
    assert bristol["value"].notna().all() and (bristol["value"] == 0).any()
    leeds = lad[lad["lad_code_x"] == "E08000035"]
    assert leeds["value"].isna().mean() > 0.95


def test_rate_of_an_indicator_without_denominator_is_refused(store, regions):
    with pytest.raises(FilterError, match="no population denominator"):
        view(store, regions, indicator="imd2019_rank", period_start="2019", period_end="2019")


def test_indicator_on_another_vintage_is_converted_and_says_so(store, regions):
    imd = view(store, regions, indicator="imd2025_score", period_start="2025",
               period_end="2025", measure="count", level="lsoa")
    assert imd["value"].notna().mean() > 0.99
    assert imd.attrs["conversion"].startswith("Converted from LSOA21 to LSOA11 through the ONS")


def test_region_summary_totals_match_the_map(store, regions, ):
    from dashboard.measures import catalogue
    cat = catalogue.catalogue(store, viewer=OPERATOR)
    summary = measures.region_summary(store, regions[REGION], "2022-01", "2022-11", cat,
            viewer=OPERATOR)
    row = summary.set_index("indicator").loc["crime_all"]
    assert row["value"] == view(store, regions, level="lsoa")["value"].sum()
    # IMD 2025 is published on LSOA 2021 and converted to the region's 2011 LSOAs.
    imd = summary.set_index("indicator").loc["imd2025_score"]
    assert imd["areas_with_data"] > 0.99 * imd["areas"]


def test_a_month_a_force_has_no_file_for_is_no_data_not_zero(store, regions):
    # West Mercia's files end in 2022-10; Avon and Somerset's run to 2022-11.
    worcs = regions["worcestershire"]
    nov = ViewFilter("worcestershire", "lsoa", "crime_all", "2022-11", "2022-11", "count")
    assert measures.indicator_view(store, worcs, nov, viewer=OPERATOR)["value"].isna().all()
    year = nov.with_(period_start="2022-01")
    view = measures.indicator_view(store, worcs, year, viewer=OPERATOR)
    assert view["value"].notna().all()
    assert "only 10 of the 11 months" in view.attrs["partial"]
    to_oct = measures.indicator_view(store, worcs, year.with_(period_end="2022-10"),
            viewer=OPERATOR)
    assert to_oct["value"].sum() == view["value"].sum() and to_oct.attrs["partial"] == ""
    avon = ViewFilter("avon_and_somerset", "lsoa", "crime_all", "2022-11", "2022-11", "count")
    assert measures.indicator_view(store, regions["avon_and_somerset"], avon,
            viewer=OPERATOR)["value"] \
        .notna().all()
