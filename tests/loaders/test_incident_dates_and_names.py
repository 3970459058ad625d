"""Incident lists as councils and fire services write them: UK (day-first) dates,
dates split over Day/Month/Year columns, ward names instead of positions, and
positions piled on one point. Each hand-made file is loaded through the real ingest
into a private store and the stored counts are checked against counts made here
from the file itself."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import geopandas as gpd
import pandas as pd
import pytest

from loaders import incidents as inc
from loaders.fields import for_cli, for_form
from loaders.ingest import ingest
from tests.loaders.conftest import counts

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "partner" / "reading"
TODAY = dt.date(2026, 12, 1)
FIRE = "avon_fire_incidents_banes_2009-2014.csv.gz"


@pytest.fixture()
def store(loader_store):  # noqa: F811 - a private copy, without partner rows
    return loader_store


def monthly(store: Path, indicator: str) -> dict[str, float]:
    with duckdb.connect(str(store), read_only=True) as con:
        rows = con.execute("SELECT period_start, sum(value) FROM observations WHERE "
                           "indicator = ? GROUP BY 1", [indicator]).fetchall()
    return dict(sorted(rows))


def by_area(store: Path, indicator: str) -> pd.DataFrame:
    with duckdb.connect(str(store), read_only=True) as con:
        return con.execute("SELECT area_code, geography, period_start, value FROM "
                           "observations WHERE indicator = ? ORDER BY 1, 3",
                           [indicator]).df()


@pytest.mark.parametrize("period", [None, "ReceivedDate"])
def test_uk_dates_are_read_day_first_because_the_data_says_so(store, period):
    report = ingest(FIX / "incidents_uk_dates.csv", store=store, partner="council_test",
                    indicator="council_reports", period=period, today=TODAY)
    assert counts(report) == (9, 7, 0, 2)
    assert "'ReceivedDate' read day first: 3 values have a first part over 12; 1 can only " \
        "be read the other way: kept aside (choose the order (--date-order day-first or " \
        "month-first))" in [for_cli(n) for n in report.notes]
    assert report.quarantine == [
        {"row": 9, "column": "ReceivedDate",
         "reason": "date reads only month first, but the column is read day first"},
        {"row": 10, "column": "ReceivedDate", "reason": "date cannot be read"}]
    assert report.warnings == []  # no position holds more than one incident
    # The count made here: each readable date's month, day first.
    raw = pd.read_csv(FIX / "incidents_uk_dates.csv", dtype=str)
    when = pd.to_datetime(raw["ReceivedDate"], format="%d/%m/%Y %I:%M:%S %p", errors="coerce")
    want = when.dropna().dt.strftime("%Y-%m").value_counts().astype(float).to_dict()
    assert monthly(store, "council_reports") == dict(sorted(want.items())) == {
        "2019-11": 2.0, "2019-12": 2.0, "2020-01": 3.0}


@pytest.mark.parametrize(("order", "fmt", "said"), [
    (None, "%d/%m/%Y %I:%M:%S %p", "'ReceivedDate' read day first: every value is ambiguous "
     "(no part over 12); read day first, the UK order (choose the order under 'Date order')"),
    ("day-first", "%d/%m/%Y %I:%M:%S %p", "'ReceivedDate' read day first, as chosen"),
    ("month-first", "%m/%d/%Y %I:%M:%S %p", "'ReceivedDate' read month first, as chosen"),
])
def test_ambiguous_dates_are_read_day_first_unless_the_steward_chooses(store, order, fmt,
                                                                       said):
    report = ingest(FIX / "incidents_uk_dates_ambiguous.csv", store=store,
                    partner="council_test", indicator="council_reports", date_order=order,
                    today=TODAY)
    assert counts(report) == (5, 5, 0, 0)
    assert said in [for_form(n) for n in report.notes]
    assert report.reading["date_order"] == (order or "day-first")
    raw = pd.read_csv(FIX / "incidents_uk_dates_ambiguous.csv", dtype=str)
    want = pd.to_datetime(raw["ReceivedDate"], format=fmt).dt.strftime("%Y-%m") \
        .value_counts().astype(float).to_dict()
    assert monthly(store, "council_reports") == dict(sorted(want.items()))


def test_an_unknown_date_order_is_refused_naming_the_choice(store):
    report = ingest(FIX / "incidents_uk_dates_ambiguous.csv", store=store,
                    partner="council_test", indicator="council_reports",
                    date_order="year-first", today=TODAY)
    assert report.refused
    assert "'year-first' is not one of ['day-first', 'month-first']" in report.reason
    assert for_form(report.reason).endswith("under 'Date order'")


def test_dates_split_over_day_month_and_year_columns_are_counted_by_month(store):
    report = ingest(FIX / "incidents_split_dates.csv", store=store, partner="council_test",
                    indicator="council_split", today=TODAY)
    assert counts(report) == (8, 6, 0, 2)
    assert "the date is read from 'Year', 'Month', 'Day' (year, month, day); incidents are " \
        "counted by calendar month" in report.notes
    assert report.quarantine == [
        {"row": 7, "column": "Day", "reason": "date cannot be read"},  # 31 February
        {"row": 8, "column": "Month", "reason": "date cannot be read"}]  # "Marchember"
    assert report.reading["date_parts"] == ["Year", "Month", "Day"]
    # The count made here, with the month names as the file writes them.
    raw = pd.read_csv(FIX / "incidents_split_dates.csv", dtype=str)
    names = {"March": 3, "Mar": 3, "april": 4, "Apr": 4, "May": 5, "6": 6}
    raw = raw[raw["Month"].isin(names) & ~(raw["Month"] == "February")]
    want = (raw["Year"] + "-" + raw["Month"].map(names).map("{:02d}".format)) \
        .value_counts().astype(float).to_dict()
    assert monthly(store, "council_split") == dict(sorted(want.items())) == {
        "2021-03": 2.0, "2021-04": 2.0, "2021-05": 1.0, "2021-06": 1.0}


# The wards the hand-made fire list names, as the ONS lists them (2019 codes).
WARDS = {"TIMSBURY": "E05012487", "Timsbury": "E05012487", "TWERTON": "E05012488",
         "TWERTON AND WHITEWAY": "E05012488",  # its name since 2025
         "BATHAVON NORTH": "E05012461", "WIDCOMBE & LYNCOMBE": "E05012493",
         "CENTRAL": "E05010892"}  # Bristol's (Swindon has a Central too)


def test_a_masked_incident_list_is_counted_by_the_wards_it_names(store):
    report = ingest(FIX / "incidents_ward_names.csv", store=store, partner="fire_test",
                    indicator="fire_named", today=TODAY)
    assert counts(report) == (12, 8, 0, 4)
    assert "incidents are counted by the ward named in 'ward', matched within the district " \
        "named in 'unitary_authority'; names of the wards of 2019, 2024 and 2025 are all " \
        "known" in report.notes
    assert "names of another vintage than 2019's matched to the same ward under its name " \
        "then: 'Twerton & Whiteway' is Twerton (E05012488)" in report.notes
    assert report.quarantine == [
        {"row": 7, "column": "ward",
         "reason": "ward name 'ABBEY' matches no ward in Bath and North East Somerset"},
        {"row": 10, "column": "unitary_authority",
         "reason": "unitary_authority 'NOWHERESHIRE' is not a district the dashboard knows"},
        {"row": 11, "column": "ward", "reason": "no ward name given"},
        {"row": 12, "column": "datetime", "reason": "date cannot be read"}]
    assert report.reading["kind"] == "incidents" and report.reading["names"]
    # The count made here from the file, with the ward codes written out above.
    raw = pd.read_csv(FIX / "incidents_ward_names.csv", dtype=str, keep_default_na=False)
    raw = raw[raw["ward"].isin(WARDS) & (raw["unitary_authority"] != "NOWHERESHIRE")]
    raw = raw[raw["datetime"].str[:2].astype(int) <= 12]
    want = pd.DataFrame({"area_code": raw["ward"].map(WARDS),
                         "period_start": raw["datetime"].str[6:10] + "-"
                         + raw["datetime"].str[:2]}).value_counts().astype(float).sort_index()
    got = by_area(store, "fire_named")
    assert set(got["geography"]) == {"WD19"}
    pd.testing.assert_series_equal(
        got.set_index(["area_code", "period_start"])["value"].sort_index(), want,
        check_names=False)
    assert got["value"].sum() == report.rows_loaded == 8
    fires = by_area(store, "fire_named_fire")["value"].sum()
    assert fires == (raw["incident_category"] == "Fire").sum() == 4


def test_the_fire_file_warns_of_its_pile_up_in_the_preview_and_still_reads_month_first(
        store, data):
    report = ingest(data / "partners" / FIRE, store=store, partner="avon_fire",
                    indicator="fire_incidents", today=TODAY, dry_run=True)
    assert report.dry_run and not report.refused, report.reason
    raw = pd.read_csv(data / "partners" / FIRE, dtype=str)
    top = raw["location"].value_counts()
    assert (top.iat[0], top.iat[1]) == (1761, 425)
    assert len(report.warnings) == 1
    assert report.warnings[0].startswith(
        "1,761 of 10,210 incidents with a position (17%) sit at one point, (51.388009, "
        "-2.353477) in LSOA E01")
    assert "the next most common position holds 425" in report.warnings[0]
    # Month first, because the dates say so: a second part over 12.
    over = (raw["datetime"].str[3:5].astype(int) > 12).sum()
    assert f"'datetime' read month first: {over:,} values have a second part over 12" \
        in report.notes
    assert monthly(store, "fire_incidents") == {}  # a preview writes nothing


def test_the_pile_up_rule_fires_on_a_fall_back_point_and_not_on_a_busy_address():
    spread = [(375000 + 37 * i % 900, 164000 + 53 * i % 700) for i in range(200)]
    # Two busy addresses (a hospital's alarms, a station): many incidents each, but
    # neither stands far above the other.
    busy = spread + [(375500, 164500)] * 30 + [(375600, 164600)] * 25
    assert inc.pile_up(gpd.GeoSeries(gpd.points_from_xy(*zip(*busy, strict=True)), crs=27700),
                       pd.Series("", index=range(len(busy)))) == ""
    fallback = busy + [(375100, 164100)] * 150  # five times the busiest address
    said = inc.pile_up(gpd.GeoSeries(gpd.points_from_xy(*zip(*fallback, strict=True)),
                                     crs=27700),
                       pd.Series("", index=range(len(fallback))))
    assert said.startswith("150 of 405 incidents with a position (37%) sit at one point")
    assert "the next most common position holds 30" in said


def test_a_refusal_names_the_option_on_the_command_line_and_the_field_on_the_page(
        store, tmp_path):
    path = tmp_path / "reports.csv"
    path.write_text("ref,When,lat,lon\n1,sometime,51.3811,-2.3590\n2,later,51.3750,-2.3700\n")
    report = ingest(path, store=store, partner="council_test", indicator="council_reports",
                    today=TODAY)
    assert report.refused
    assert for_cli(report.reason) == "no date column could be read; choose it (--period COLUMN)"
    assert for_form(report.reason) == "no date column could be read; choose it under " \
        "'Date column'"
    assert "(--period COLUMN)" in report.summary() and "(--period COLUMN)" in report.to_json()
