"""A source covers only the areas it declares or was built for: police.uk figures the
districts of the forces with a file that month. Outside them the figure is No data, and
so is every comparator, trend, rank and hot spot test built from it."""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pandas as pd
import pytest

from dashboard import measures
from dashboard.access import OPERATOR
from dashboard.filters import ViewFilter
from dashboard.measures import region_monthly, view_and_comparators
from loaders.ingest import ingest


@pytest.fixture(scope="module")
def wmca(regions):
    return regions["west_midlands_ca"]


def test_no_west_midlands_police_file_means_no_crime_figures_in_the_combined_authority(
        store, wmca):
    """West Mercia's files hold a few crimes located in Birmingham: they are kept aside,
    so no ward, district or the region gets a crime figure from them."""
    flt = ViewFilter(wmca.name, "ward", "crime_all", "2022-03", "2022-03", "rate")
    view, comparators = view_and_comparators(store, wmca, flt, viewer=OPERATOR)
    assert view["value"].notna().sum() == 0
    assert comparators.isna().all(), comparators[comparators.notna()]
    assert view["rank"].isna().all()
    monthly = region_monthly(store, wmca, "2022-01", "2022-11", viewer=OPERATOR)
    crime = monthly[monthly["indicator"] == "crime_all"]
    assert crime["value"].notna().sum() == 0  # no regional crime trend line


def test_crimes_outside_the_forces_areas_are_kept_aside_with_their_reason(store):
    reasons = store.query(
        "SELECT source, count(*) AS n FROM quarantine WHERE reason LIKE "
        "'outside the police force areas with files for %' GROUP BY source")
    assert len(reasons) == 21  # every force's file has some, each kept with its row
    assert reasons["n"].sum() > 400


def test_inside_the_forces_areas_figures_are_unchanged(store, regions):
    """Avon and Somerset's ward figures still add up to its force files' counted rows."""
    avon = regions["avon_and_somerset"]
    flt = ViewFilter(avon.name, "lsoa", "crime_all", "2022-03", "2022-03")
    view = measures.indicator_view(store, avon, flt, viewer=OPERATOR)
    assert view["value"].notna().all()
    counted = store.query(
        "SELECT sum(o.value) AS n FROM observations o JOIN lsoa_ward w ON "
        "w.lsoa_code = o.area_code AND w.vintage = 2011 WHERE o.indicator = 'crime_all' "
        "AND o.period_start = '2022-03' AND w.lad_code IN (SELECT lad_code FROM lad_codes "
        "WHERE lad_code_active IN ('E06000022', 'E06000023', 'E06000024', 'E06000025', "
        "'E06000066') OR lad_code IN ('E06000022', 'E06000023', 'E06000024', "
        "'E06000025', 'E06000066'))")["n"].iat[0]
    assert view["value"].sum() == counted


def test_a_national_view_says_how_much_of_the_country_it_covers(store, regions):
    ew = regions["england_and_wales"]
    flt = ViewFilter(ew.name, "lsoa", "crime_all", "2022-03", "2022-03")
    view = measures.indicator_view(store, ew, flt, viewer=OPERATOR)
    note = measures.coverage_note(view, "LSOAs", ew.title)
    n = int(view["value"].notna().sum())
    assert note.startswith(f"Figures cover {n:,} of the {len(view):,} LSOAs of England and "
                           "Wales")
    assert 0 < n / len(view) < 0.1
    # Every LSOA with a figure lies in a district of a loaded force.
    districts = set(view.loc[view["value"].notna(), "lad_code"])
    forces = set(store.query("SELECT DISTINCT pfa_name FROM lad_pfa WHERE lad_code IN "
                             f"({', '.join(repr(d) for d in districts)})")["pfa_name"])
    assert forces <= {"Avon and Somerset", "West Mercia"}


def test_rows_outside_a_partners_declared_coverage_are_kept_aside(loader_store, tmp_path):
    """Details that declare a region's coverage: a row in another district is
    quarantined with its reason, never loaded."""
    path = tmp_path / "calls.csv"
    # Two Bristol LSOAs, and one in Birmingham (outside Avon and Somerset).
    path.write_text("area_code,period,indicator,value\n"
                    "E01014485,2022-03,fire_calls,4\nE01014486,2022-03,fire_calls,6\n"
                    "E01008881,2022-03,fire_calls,9\n", encoding="utf-8")
    meta = tmp_path / "calls.toml"
    meta.write_text('[fire_calls]\ncoverage = "avon_and_somerset"\npolarity = "high_is_bad"\n',
                    encoding="utf-8")
    report = ingest(path, store=loader_store, partner="fire", meta=meta,
                    today=dt.date(2026, 12, 1))
    assert not report.refused, report.reason
    assert (report.rows_loaded, report.rows_quarantined) == (2, 1)
    assert report.quarantine[0]["row"] == 4
    assert report.quarantine[0]["reason"].startswith("outside the coverage declared for "
                                                     "fire_calls")
    with duckdb.connect(str(loader_store), read_only=True) as con:
        got = con.execute("SELECT area_code, value FROM observations WHERE indicator = "
                          "'fire_calls' ORDER BY 1").fetchall()
    assert got == [("E01014485", 4.0), ("E01014486", 6.0)]
    assert np.isfinite(pd.Series([v for _, v in got])).all()


def test_a_partner_police_file_from_another_force_keeps_its_strays_aside(loader_store,
                                                                         tmp_path):
    """A police.uk file uploaded by a partner: its rows in districts no loaded force
    covers are kept aside like the build's."""
    header = ("Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,"
              "LSOA code,LSOA name,Crime type,Last outcome category,Context\n")
    rows = ["x1,2022-12,Avon and Somerset Constabulary,Avon and Somerset Constabulary,"
            "-2.59,51.45,On or near X,E01014485,Bristol 001A,Burglary,,\n",
            "x2,2022-12,Avon and Somerset Constabulary,Avon and Somerset Constabulary,"
            "-1.89,52.48,On or near Y,E01008881,Birmingham 067A,Burglary,,\n"]
    path = tmp_path / "2022-12-avon-and-somerset-street.csv"
    path.write_text(header + "".join(rows), encoding="utf-8")
    report = ingest(path, store=loader_store, today=dt.date(2026, 12, 1))
    assert not report.refused, report.reason
    assert report.rows_quarantined == 1
    assert report.quarantine[0]["row"] == 3
    assert "outside the police force areas with files for 2022-12" in \
        report.quarantine[0]["reason"]
    with duckdb.connect(str(loader_store), read_only=True) as con:
        areas = {r[0] for r in con.execute(
            "SELECT area_code FROM observations WHERE period_start = '2022-12'").fetchall()}
    assert areas == {"E01014485"}
