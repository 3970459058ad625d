"""Exports: each format read back gives the view's values; metadata travels with the file."""

import io
import json

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pyogrio
import pytest

from dashboard.access import OPERATOR
from dashboard.filters import FilterError, ViewFilter
from dashboard.measures import COLUMNS, RATE_COLUMNS
from dashboard.views import export
from tests.dashboard.cli.test_cli import run

pytestmark = pytest.mark.backends

FIGURES = ["value", "denominator", "rate_per_1000", "rank"]


@pytest.fixture(scope="module")
def case(store, regions):
    region = regions["avon_and_somerset"]
    flt = ViewFilter(region.name, "ward", "crime_all", "2022-01", "2022-03", "rate")
    indicators = ["crime_all", "crime_burglary", "imd2019_rank"]
    return store, region, flt, indicators, export.export_frame(store, region, flt, indicators,
            viewer=OPERATOR)


def same_figures(got: pd.DataFrame, view: pd.DataFrame) -> None:
    got = got.reset_index(drop=True)
    assert list(got["area_code"]) == list(view["area_code"])
    for col in FIGURES:
        np.testing.assert_allclose(pd.to_numeric(got[col]).to_numpy(float),
                                   view[col].to_numpy(float), equal_nan=True, err_msg=col)
    assert list(got["suppressed"].fillna("")) == list(view["suppressed"])


def test_csv_round_trip_and_its_metadata_sidecar(case):
    store, region, flt, indicators, view = case
    files = export.write(store, region, flt, indicators, "csv", viewer=OPERATOR)
    assert list(files) == [".csv", ".metadata.json"]
    got = pd.read_csv(io.BytesIO(files[".csv"]), dtype={"period_start": str, "period_end": str})
    # With the rate measure the rate's limits and its comparison with the region follow.
    assert list(got.columns) == COLUMNS + (RATE_COLUMNS if flt.measure == "rate" else [])
    same_figures(got, view)
    meta = json.loads(files[".metadata.json"])
    assert meta["filters"]["indicators"] == indicators
    assert meta["rows"] == len(view) == 3 * 257
    assert "Open Government Licence" in meta["attribution"][0]
    assert meta["app_version"] and meta["generated_at"] and "suppressed" in meta["suppression"]
    assert [i["licence"] for i in meta["indicators"]]


def test_xlsx_round_trip_with_a_metadata_sheet(case):
    store, region, flt, indicators, view = case
    data = export.write(store, region, flt, indicators, "xlsx", viewer=OPERATOR)[".xlsx"]
    sheets = pd.read_excel(io.BytesIO(data), sheet_name=None)
    assert list(sheets) == ["data", "metadata"]
    same_figures(sheets["data"], view)
    assert "share_link" in set(sheets["metadata"]["key"])


def test_geopackage_has_valid_geometry_a_crs_and_a_metadata_table(case, tmp_path):
    store, region, flt, indicators, view = case
    path = tmp_path / "x.gpkg"
    path.write_bytes(export.write(store, region, flt, indicators, "gpkg", viewer=OPERATOR)[".gpkg"])
    layers = dict(pyogrio.list_layers(path))
    assert set(layers) == {"data", "metadata"}
    geo = pyogrio.read_dataframe(path, layer="data")
    assert geo.crs.to_epsg() == 27700
    has = geo.geometry.notna()
    assert has.mean() > 0.99 and geo.geometry[has].is_valid.all()
    same_figures(geo, view)
    meta = pyogrio.read_dataframe(path, layer="metadata")
    assert "attribution" in set(meta["key"])


def test_geojson_is_wgs84_and_carries_its_metadata(case):
    store, region, flt, indicators, view = case
    doc = json.loads(export.write(store, region, flt, indicators, "geojson",
            viewer=OPERATOR)[".geojson"])
    assert doc["metadata"]["filters"]["region"] == "avon_and_somerset"
    geo = gpd.GeoDataFrame.from_features(doc["features"], crs=4326)
    minx, miny, maxx, maxy = geo.total_bounds
    assert -4 < minx < maxx < -2 and 50.8 < miny < maxy < 51.8
    same_figures(geo, view)


def test_formula_text_is_neutralised_in_xlsx():
    frame = pd.DataFrame({c: [np.nan] for c in COLUMNS})
    frame["area_code"] = "E05000001"
    frame["area_name"] = "=HYPERLINK(\"http://x\")"
    frame["suppressed"] = "@SUM(A1)"
    book = openpyxl.load_workbook(io.BytesIO(export.to_xlsx(frame, {"title": "+t"})))
    row = [c.value for c in book["data"][2]]
    assert row[1] == "'=HYPERLINK(\"http://x\")"
    assert row[COLUMNS.index("suppressed")] == "'@SUM(A1)"
    assert book["metadata"]["B2"].value == "'+t"


def test_wrong_format_and_no_indicator_are_refused(case):
    store, region, flt, _, _ = case
    with pytest.raises(FilterError, match="'pdf' is not one of"):
        export.write(store, region, flt, ["crime_all"], "pdf", viewer=OPERATOR)
    with pytest.raises(FilterError, match="at least one indicator"):
        export.export_frame(store, region, flt, [], viewer=OPERATOR)


@pytest.mark.parametrize("fmt", ["gpkg", "xlsx"])
def test_cli_writes_the_same_file_as_the_model(fmt, tmp_path, case):
    store, region, flt, indicators, view = case
    out = tmp_path / f"x.{fmt}"
    done = run("export", "--region", "avon_and_somerset", "--level", "ward", "--indicator",
               ",".join(indicators), "--period", "2022-01:2022-03", "--measure", "rate",
               "--format", fmt, "--out", str(out))
    assert done.returncode == 0, done.stderr
    if fmt == "gpkg":
        same_figures(pyogrio.read_dataframe(out, layer="data"), view)
    else:
        same_figures(pd.read_excel(out, sheet_name="data"), view)


def test_each_indicator_carries_its_own_period_in_name_title_and_metadata(store, regions):
    """A monthly count and a deprivation index exported together: the metadata, title
    and file name give each its own period, never the chosen months for both."""
    region = regions["avon_and_somerset"]
    flt = ViewFilter(region.name, "lsoa", "crime_all", "2022-01", "2022-03", "count")
    frame = export.export_frame(store, region, flt, ["crime_all", "imd2019_rank"],
                                viewer=OPERATOR)
    files = export.write(store, region, flt, ["crime_all", "imd2019_rank"], "csv",
                         frame=frame, viewer=OPERATOR)
    meta = json.loads(files[".metadata.json"])
    periods = {i["indicator"]: i["period"] for i in meta["indicators"]}
    assert periods == {"crime_all": "2022-01:2022-03", "imd2019_rank": "2019"}
    assert meta["periods"] == periods
    assert "crime_all 2022-01:2022-03; imd2019_rank 2019" in meta["title"]
    name = export.file_name(region, "lsoa", frame.attrs["periods"])
    assert name == "oda_avon_and_somerset_lsoa_crime_all_2022-01_2022-03_imd2019_rank_2019"
    rows = frame.groupby("indicator")[["period_start", "period_end"]].agg(["min", "max"])
    assert rows.loc["imd2019_rank"].tolist() == ["2019", "2019", "2019", "2019"]
    assert meta["share_link"].startswith("/export?") and \
        "indicators=crime_all%2Cimd2019_rank" in meta["share_link"]
