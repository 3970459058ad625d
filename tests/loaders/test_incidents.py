"""Incident files: each incident placed in its LSOA and counted by month.

The real Avon Fire and Rescue file (10,210 incidents in Bath and North East
Somerset) is checked against a separate spatial join made here from the ONS
boundary file; hand-made files cover each rule with its expected report.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import geopandas as gpd
import pandas as pd
import pytest

from loaders import incidents as inc
from loaders.fields import for_cli
from loaders.ingest import ingest

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "partner" / "reading"
TODAY = dt.date(2026, 12, 1)
FIRE = "avon_fire_incidents_banes_2009-2014.csv.gz"


@pytest.fixture()
def store(loader_store):  # noqa: F811 - a private copy, without partner rows
    return loader_store


def table(store: Path, sql: str, params=()) -> pd.DataFrame:
    with duckdb.connect(str(store), read_only=True) as con:
        return con.execute(sql, list(params)).df()


def test_the_fire_service_file_counts_match_a_separate_spatial_join(store, data):
    path = data / "partners" / FIRE
    report = ingest(path, store=store, partner="avon_fire", indicator="fire_incidents",
                    today=TODAY)
    assert not report.refused, report.reason
    assert report.rows_read == 10_210 == report.rows_loaded + report.rows_quarantined
    assert "positions are read from '(latitude, longitude)' text ('location')" in report.notes
    assert "'x_coordinate' and 'y_coordinate' are masked (such as '367***') and are not " \
        "used as positions" in report.notes
    assert any(n.startswith("'datetime' is read as the date (%m/%d/%Y %I:%M:%S %p %z)")
               for n in report.notes)
    # The independent count: the file's positions joined to the ONS LSOA 2011 polygons.
    raw = pd.read_csv(path, dtype=str)
    lat_lon = raw["location"].str.extract(r"\(([-\d.]+), ([-\d.]+)\)").astype(float)
    when = pd.to_datetime(raw["datetime"].str[:10], format="%m/%d/%Y")
    pts = gpd.GeoDataFrame({"month": when.dt.strftime("%Y-%m")},
                           geometry=gpd.points_from_xy(lat_lon[1], lat_lon[0]), crs=4326)
    lsoas = gpd.read_file(f"/vsigzip/{data / 'boundaries' / 'lsoa11_oda_areas_bgc.geojson.gz'}")
    code = next(c for c in lsoas.columns if c.upper().startswith("LSOA11CD"))
    joined = gpd.sjoin(pts.to_crs(27700), lsoas[[code, "geometry"]].to_crs(27700),
                       predicate="within")
    want = joined.groupby([code, "month"]).size().astype(float).sort_index()
    got = table(store, "SELECT area_code, period_start, value FROM observations "
                "WHERE indicator = 'fire_incidents'").set_index(
        ["area_code", "period_start"])["value"].sort_index()
    assert len(got) == len(want)
    assert (got.to_numpy() == want.to_numpy()).all()
    assert got.sum() == report.rows_loaded
    # One indicator per category, adding up to the total.
    parts = table(store, "SELECT indicator, sum(value) AS n FROM observations WHERE "
                  "indicator LIKE 'fire_incidents_%' GROUP BY 1").set_index("indicator")["n"]
    assert set(parts.index) == {"fire_incidents_fire", "fire_incidents_false_alarm",
                                "fire_incidents_special_service"}
    assert parts.sum() == got.sum()
    # Points are kept for hexagons, one per incident.
    points = table(store, "SELECT sum(n) AS n FROM crime_points WHERE indicator = "
                   "'fire_incidents'")["n"].iat[0]
    assert points == report.rows_loaded


def test_an_incident_file_places_counts_and_quarantines_row_by_row(store):
    report = ingest(FIX / "incidents.csv", store=store, partner="fire_test",
                    indicator="fire_test", today=TODAY)
    assert not report.refused, report.reason
    assert (report.rows_read, report.rows_loaded, report.rows_quarantined) == (6, 3, 3)
    assert report.quarantine == [
        {"row": 5, "column": "location", "reason": "outside the dashboard's areas"},
        {"row": 6, "column": "location", "reason": "no position"},
        {"row": 7, "column": "datetime", "reason": "date cannot be read"}]
    assert "'incident_category' splits the counts: one indicator per kind, and fire_test " \
        "for them all" in report.notes
    rows = table(store, "SELECT indicator, area_code, period_start, value FROM observations "
                 "WHERE origin = 'partner' ORDER BY 1, 2, 3")
    assert rows["area_code"].nunique() == 2 and set(rows["period_start"]) == {"2010-01",
                                                                              "2010-02"}
    total = rows[rows["indicator"] == "fire_test"]
    assert total["value"].tolist() == [2.0, 1.0] or total["value"].tolist() == [1.0, 2.0]
    assert set(rows["indicator"]) == {"fire_test", "fire_test_fire", "fire_test_false_alarm"}
    titles = dict(table(store, "SELECT indicator, title FROM catalogue WHERE origin = "
                        "'partner'").values.tolist())
    assert titles["fire_test_false_alarm"] == "Fire test: False Alarm"
    # Two LSOAs of a district's 115 do not make a service that covers it.
    assert any(n.startswith("incidents in Bath and North East Somerset (2% of its LSOAs) are "
                            "counted, but those districts are not taken as covered")
               for n in report.notes), report.notes
    assert table(store, "SELECT count(*) AS n FROM coverage WHERE origin = 'partner'")[
        "n"].iat[0] == 0


def test_declared_coverage_makes_absent_lsoas_zero_in_the_months_reported(store, tmp_path):
    meta = tmp_path / "fire.toml"
    meta.write_text('coverage = ["E06000022"]\n')
    report = ingest(FIX / "incidents.csv", store=store, partner="fire_test", meta=meta,
                    indicator="fire_test", today=TODAY)
    assert not report.refused, report.reason
    cover = table(store, "SELECT DISTINCT lad_code, period FROM coverage "
                  "WHERE indicator = 'fire_test' ORDER BY 2")
    assert cover.values.tolist() == [["E06000022", "2010-01"], ["E06000022", "2010-02"]]


def test_easting_and_northing_are_read_in_british_national_grid(store):
    report = ingest(FIX / "incidents_grid.csv", store=store, partner="council_test",
                    indicator="council_reports", today=TODAY)
    assert not report.refused, report.reason
    assert (report.rows_read, report.rows_loaded, report.rows_quarantined) == (4, 3, 1)
    assert "positions are read from easting and northing ('easting', 'northing')" \
        in report.notes
    assert report.quarantine == [{"row": 5, "column": "easting", "reason": "no position"}]
    got = table(store, "SELECT period_start, sum(value) AS n FROM observations WHERE "
                "indicator = 'council_reports' GROUP BY 1 ORDER BY 1")
    assert got.values.tolist() == [["2021-03", 2.0], ["2021-04", 1.0]]


def test_an_incident_file_without_an_indicator_id_is_refused_with_what_to_give(store):
    report = ingest(FIX / "incidents.csv", store=store, today=TODAY)
    assert report.refused
    assert for_cli(report.reason) == ("name the indicator its incidents are counted as, in "
                             "lower_snake_case (--indicator fire_incidents)")


@pytest.mark.parametrize(("cells", "kind"), [
    ({"lat": ["51.38"], "lon": ["-2.36"]}, "latlon"),
    ({"Easting": ["375100"], "Northing": ["164800"]}, "bng"),
    ({"where": ["(51.38, -2.36)"]}, "pair"),
    ({"x_coordinate": ["367***"], "y_coordinate": ["159***"]}, "none"),
    ({"area_code": ["E01014399"]}, None),
])
def test_positions_are_recognised_and_masked_ones_never_used(cells, kind):
    found = inc.find_position(pd.DataFrame(cells))
    assert (found.kind if found else None) == kind
