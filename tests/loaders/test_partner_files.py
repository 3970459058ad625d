"""Partner files as partners hold them: the real files in the data folder's
``partners/``, each checked against a count made here from the file itself, and
hand-made files for each rule, each with its expected report.

For every file: rows read = rows loaded + rows quarantined.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from dashboard.access import OPERATOR
from dashboard.filters import ViewFilter
from dashboard.measures import indicator_view
from loaders.fields import for_cli
from loaders.ingest import ingest
from store import Store
from tests.conftest import REPO

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "partner" / "reading"
TODAY = dt.date(2026, 12, 1)
SERIES = "policeuk_lsoa_monthly_avon_and_somerset_2018-01_2025-08.csv.gz"
WMP = "wmp_lsoa_crime_total_2024-04_2026-04.csv.gz"


@pytest.fixture()
def store(loader_store):  # noqa: F811 - a private copy, without partner rows
    return loader_store


def accounted(report) -> None:
    assert not report.refused, report.reason
    assert report.rows_read == report.rows_loaded + report.rows_quarantined


def stored(store: Path, indicator: str) -> pd.DataFrame:
    with duckdb.connect(str(store), read_only=True) as con:
        return con.execute("SELECT * FROM observations WHERE indicator = ?",
                           [indicator]).df()


def view(store, regions, region, level, indicator, start, end):
    r = regions[region]
    return indicator_view(Store(store), r, ViewFilter(r.name, level, indicator, start, end,
                                                      "count"), viewer=OPERATOR)


# Real files -------------------------------------------------------------------------

def test_a_force_total_over_25_months_loads_as_one_period_and_maps_the_combined_authority(
        store, data, regions):
    path = data / "partners" / WMP
    report = ingest(path, store=store, partner="west_midlands_police", today=TODAY,
                    period="2024-04:2026-04", indicator="wmp_crime_total")
    accounted(report)
    assert (report.rows_read, report.rows_quarantined) == (1719, 0)
    assert "'lsoa_code' is read as the area code" in report.notes
    assert "'crimes' is read as the value" in report.notes
    rows = stored(store, "wmp_crime_total")
    assert set(rows["period_start"]) == {"2024-04"} and set(rows["period_end"]) == {"2026-04"}
    assert set(rows["geography"]) == {"LSOA21"}
    assert (rows["date_start"].min(), rows["date_end"].max()) == (
        pd.Timestamp("2024-04-01"), pd.Timestamp("2026-04-30"))
    # Independent count: the file's own crimes per LSOA.
    raw = pd.read_csv(path).set_index("lsoa_code")["crimes"].astype(float).sort_index()
    pd.testing.assert_series_equal(rows.set_index("area_code")["value"].sort_index(), raw,
                                   check_names=False)
    wards = view(store, regions, "west_midlands_ca", "ward", "wmp_crime_total", "2024-04",
                 "2026-04")
    assert wards["value"].notna().all()
    assert wards["value"].sum() == raw.sum() == 683_821


def test_a_92_month_series_loads_each_month_on_its_own_vintage_with_zeros_inside_its_coverage(
        store, data, regions, tmp_path):
    meta = tmp_path / "series.toml"
    meta.write_text('coverage = "avon_and_somerset"\nunit = "count"\nsuppression_k = 0\n')
    path = data / "partners" / SERIES
    report = ingest(path, store=store, partner="avon_police", meta=meta, today=TODAY)
    accounted(report)
    raw = pd.read_csv(path)
    assert report.rows_read == len(raw) * 7  # one row per area, month and column
    assert any("one column per indicator (7" in n for n in report.notes)
    assert any("coverage: 5 districts in 92 month(s)" in n for n in report.notes)
    rows = stored(store, "monthly_crime_count")
    assert len(rows) == len(raw) and rows["period_start"].nunique() == 92
    # Each row on its own vintage: all 2011 codes before the change, all 2021 at the end.
    by_month = rows.groupby("period_start")["geography"].agg(set)
    assert by_month["2018-01"] == {"LSOA11"} and by_month["2025-08"] == {"LSOA21"}
    with duckdb.connect(str(store), read_only=True) as con:
        only_2021 = {r[0] for r in con.execute(
            "SELECT lsoa_code FROM lsoa_ward WHERE vintage = 2021 EXCEPT "
            "SELECT lsoa_code FROM lsoa_ward WHERE vintage = 2011").fetchall()}
    assert (rows.loc[rows["area_code"].isin(only_2021), "geography"] == "LSOA21").all()
    # Independent count: monthly totals per LSOA are the file's.
    got = rows.set_index(["area_code", "period_start"])["value"].sort_index()
    want = raw.set_index(["area_code", "period"])["monthly_crime_count"].astype(float) \
        .sort_index()
    assert (got.to_numpy() == want.to_numpy()).all()
    assert titles(store)["anti_social_behaviour"] == "Anti-social behaviour"
    # Inside the declared coverage an LSOA missing from a month is 0, not No data.
    month = raw[raw["period"] == "2019-06"]
    lsoa = view(store, regions, "avon_and_somerset", "lsoa", "monthly_crime_count",
                "2019-06", "2019-06").set_index("area_code")["value"]
    assert len(lsoa) == 1005 and lsoa.notna().all()
    assert (lsoa == 0).sum() == 1005 - month["area_code"].isin(lsoa.index).sum()
    assert lsoa.sum() == month["monthly_crime_count"].sum()


def titles(store: Path) -> dict[str, str]:
    with duckdb.connect(str(store), read_only=True) as con:
        return dict(con.execute("SELECT indicator, title FROM catalogue "
                                "WHERE origin = 'partner'").fetchall())


# Hand-made files, one rule each ---------------------------------------------------

def test_a_total_without_a_period_is_refused_until_it_is_given(store):
    report = ingest(FIX / "force_total.csv", store=store, today=TODAY)
    assert report.refused
    assert for_cli(report.reason) == (
        "no period column was found; give the period the file covers (--period 2024 or "
        "--period 2024-04:2026-04); no indicator column was found; name the indicator "
        "(--indicator ID)")


def test_a_total_with_its_period_and_indicator_given_loads_and_says_what_it_left_out(store):
    report = ingest(FIX / "force_total.csv", store=store, today=TODAY, partner="wmp",
                    period="2024-04:2026-04", indicator="wmp_crime_total_test")
    accounted(report)
    assert (report.rows_read, report.rows_loaded, report.rows_quarantined) == (3, 2, 1)
    assert report.quarantine == [{"row": 4, "column": "area_code",
                                  "reason": "area code is not a known LSOA or ward"}]
    assert report.notes[:4] == [
        "'lsoa_code' is read as the area code",
        "every row is for the period 2024-04:2026-04 (given for the file)",
        "'crimes' is read as the value",
        "not read: 'force', 'lsoa_name', 'crime_rank', 'pct_of_force_crime'"]


def test_a_value_column_named_on_the_command_line_is_read(store):
    report = ingest(FIX / "force_total.csv", store=store, today=TODAY, partner="wmp",
                    period="2025", indicator="wmp_crime_share_test", value="pct_of_force_crime")
    accounted(report)
    rows = stored(store, "wmp_crime_share_test")
    assert sorted(rows["value"]) == [0.7, 1.8]
    assert set(rows["period_start"]) == set(rows["period_end"]) == {"2025"}


@pytest.mark.parametrize(("choices", "message"), [
    ({"value": "no_such_column"}, "the value column 'no_such_column' is not in the file"),
    ({"period": "April 2024", "indicator": "x_test"}, "period 'April 2024' is not"),
    ({"period": "2024", "indicator": "Not An Id"}, "indicator id 'Not An Id' must be"),
])
def test_wrong_choices_are_refused_with_what_was_wrong(store, choices, message):
    report = ingest(FIX / "force_total.csv", store=store, today=TODAY, **choices)
    assert report.refused and message in report.reason, report.reason


def test_columns_named_after_crime_types_become_indicators_with_their_names_as_titles(store):
    report = ingest(FIX / "named_types.csv", store=store, today=TODAY, partner="police_test")
    accounted(report)
    assert (report.rows_read, report.rows_loaded, report.rows_quarantined) == (9, 8, 1)
    assert report.quarantine == [{"row": 4, "column": "value",
                                  "reason": "value is empty or not a number"}]
    assert sorted(report.indicators) == ["anti_social_behaviour", "burglary",
                                         "monthly_crime_count"]
    assert titles(store) == {"anti_social_behaviour": "Anti-social behaviour",
                             "burglary": "Burglary",
                             "monthly_crime_count": "Monthly crime count"}


def test_the_command_line_takes_the_reading_choices(store):
    done = subprocess.run(
        [sys.executable, "-m", "loaders", "ingest", str(FIX / "force_total.csv"), "--store",
         str(store), "--partner", "wmp", "--code", "lsoa_code", "--period", "2024-04:2026-04",
         "--indicator", "wmp_crime_total_cli", "--value", "crimes"],
        cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "3 rows read, 2 loaded, 1 quarantined" in done.stdout
    assert "note: every row is for the period 2024-04:2026-04" in done.stdout


def test_a_coverage_that_names_nothing_known_is_refused(store, tmp_path):
    meta = tmp_path / "bad.toml"
    meta.write_text('coverage = "nowhere"\n')
    report = ingest(FIX / "named_types.csv", store=store, meta=meta, today=TODAY)
    assert report.refused
    assert "coverage was 'nowhere'; it must be 'all', a region (" in report.reason
