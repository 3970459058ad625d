"""Partner ingest: hand-made malformed files, each with its expected message.

Every file either is refused whole with one reason, or loads its good rows and
quarantines the rest; for every file, rows read = rows loaded + rows quarantined.
Each test works on its own copy of the built store.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from loaders.fields import for_cli
from loaders.ingest import ingest, quarantine_csv
from loaders.readfile import display_name
from tests.conftest import REPO

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "partner"
TODAY = dt.date(2026, 11, 1)


@pytest.fixture()
def store(loader_store):  # noqa: F811 - a private copy, without partner rows
    return loader_store


def run(store, name, **kw):
    report = ingest(FIX / name, store=store, today=TODAY, **kw)
    if not report.refused:
        assert report.rows_read == report.rows_loaded + report.rows_quarantined, name
    return report


REFUSED = [
    ("empty.csv", "is empty (0 bytes)"),
    ("whitespace_only.csv", "only white space"),
    ("header_only.csv", "a header but no rows"),
    ("no_area_code.csv", "no column of area codes was found"),
    ("binary_garbage.csv", "not a text file"),
    ("all_rows_bad.csv", "no valid rows: all 2 rows have problems"),
    ("compression_bomb.xlsx", "possible compression bomb"),
    ("broken.xlsx", "cannot be opened"),
    ("repeated_columns.csv", "the columns 'value' and 'Value' differ only in case; say "
                             "which holds the value (--value COLUMN)"),
]


@pytest.mark.parametrize(("name", "message"), REFUSED)
def test_unusable_files_are_refused_with_one_clear_reason(store, name, message):
    report = run(store, name)
    assert report.refused and message in for_cli(report.reason)
    assert report.rows_loaded == 0


QUARANTINED = [
    ("bad_codes.csv", 2, "area_code", "area code is not an LSOA (E01/W01) or ward (E05/W05) code"),
    ("unknown_codes.csv", 2, "area_code", "area code is not a known LSOA or ward"),
    ("negative_values.csv", 2, "value", "value is negative"),
    ("non_numeric.csv", 2, "value", "value is empty or not a number"),
    ("non_numeric.csv", 3, "value", "value is empty or not a number"),
    ("out_of_range_periods.csv", 2, "period", "period is in the future or before 2000"),
    ("out_of_range_periods.csv", 3, "period", "period is in the future or before 2000"),
    ("bad_periods.csv", 2, "period", "period is not YYYY-MM, YYYY-Qn, YYYY or YYYY/YY"),
    ("bad_periods.csv", 3, "period", "period is not YYYY-MM, YYYY-Qn, YYYY or YYYY/YY"),
    ("duplicates.csv", 2, "area_code", "duplicate area, period and indicator (not summed)"),
    ("duplicates.csv", 3, "area_code", "duplicate area, period and indicator (not summed)"),
    ("formula_text.csv", 2, "indicator", "indicator starts like a spreadsheet formula"),
    ("formula_text.csv", 3, "partner", "partner starts like a spreadsheet formula"),
    ("ragged_rows.csv", 2, "", "has more cells than the header's 5 columns"),
    ("bad_indicator_ids.csv", 2, "indicator", "indicator id must be lower_snake_case"),
    ("bad_denominator.csv", 2, "denominator", "denominator is not a number"),
    ("title_rows.xlsx", 6, "value", "value is negative"),
]


@pytest.mark.parametrize(("name", "row", "column", "message"), QUARANTINED)
def test_bad_rows_are_quarantined_with_row_column_and_reason(store, name, row, column, message):
    report = run(store, name)
    assert not report.refused, report.reason
    assert report.rows_loaded >= 1
    by_row = {q["row"]: q for q in report.quarantine}
    assert row in by_row, report.quarantine
    assert by_row[row]["column"] == column
    assert by_row[row]["reason"].startswith(message)


@pytest.mark.parametrize(("name", "note"), [
    ("semicolon.csv", "separated by ';'"),
    ("tab_separated.tsv", "separated by '\\t'"),
    ("bom.csv", "byte-order mark"),
    ("latin1.csv", "Windows-1252"),
    ("title_rows.xlsx", "3 title row(s) above the header were skipped"),
    ("merged_header.xlsx", "1 title row(s) above the header were skipped"),
    ("wide_by_period.csv", "one column per period"),
])
def test_awkward_but_readable_files_load_and_say_what_was_done(store, name, note):
    report = run(store, name)
    assert not report.refused, report.reason
    assert report.rows_loaded >= 1
    assert any(note in n for n in report.notes), report.notes


def test_wide_file_counts_rows_after_reshaping(store):
    report = run(store, "wide_by_period.csv")
    assert (report.rows_read, report.rows_loaded, report.rows_quarantined) == (6, 5, 1)
    assert report.quarantine[0]["reason"] == "value is empty or not a number"


def test_mixed_vintages_are_handled_row_by_row(store):
    report = run(store, "mixed_vintages.csv")
    assert report.rows_loaded == 3
    with duckdb.connect(str(store)) as con:
        got = dict(con.execute("SELECT area_code, geography FROM observations "
                               "WHERE origin = 'partner'").fetchall())
    # E01033909 exists only in 2021; E01014399 is unchanged (the same area in both
    # vintages) and so follows the file's majority; E05010892 is a WD19 ward code.
    assert got == {"E01014399": "LSOA21", "E01033909": "LSOA21", "E05010892": "WD19"}


def test_same_file_twice_changes_nothing(store):
    first = run(store, "negative_values.csv")

    def snapshot():
        with duckdb.connect(str(store)) as con:
            return [con.execute(f"SELECT * FROM {t} WHERE origin = 'partner' ORDER BY ALL")
                    .fetchall() for t in ("observations", "catalogue", "quarantine")]
    before = snapshot()
    second = run(store, "negative_values.csv")
    assert second.already_loaded and second.rows_loaded == first.rows_loaded
    assert snapshot() == before


def test_a_corrected_file_replaces_its_earlier_rows_and_the_log_keeps_both(store, tmp_path):
    path = tmp_path / "fires.csv"
    path.write_text("area_code,period,indicator,value,partner\n"
                    "E01014399,2022-01,fire_deliberate,3,fire\n"
                    "E01014400,2022-01,fire_deliberate,9,fire\n")
    ingest(path, store=store, today=TODAY)
    path.write_text("area_code,period,indicator,value,partner\n"
                    "E01014399,2022-01,fire_deliberate,4,fire\n")
    refused = ingest(path, store=store, today=TODAY)
    assert refused.refused and "already loaded (2 rows)" in refused.reason
    report = ingest(path, store=store, today=TODAY, replace=True)
    assert report.replaced_rows == 2
    with duckdb.connect(str(store)) as con:
        rows = con.execute("SELECT area_code, value FROM observations "
                           "WHERE source = 'fires.csv'").fetchall()
        log = con.execute("SELECT count(*) FROM ingest_log WHERE source = 'fires.csv'").fetchone()
    assert rows == [("E01014399", 4.0)]
    assert log == (2,)


def test_new_indicator_is_catalogued_with_defaults_or_sidecar(store, tmp_path):
    report = run(store, "semicolon.csv")
    assert any("catalogued with default" in n for n in report.notes)
    meta = tmp_path / "meta.toml"
    meta.write_text('[fire_accidental]\ntitle = "Accidental dwelling fires"\nunit = "count"\n'
                    'polarity = "high_is_bad"\ndenominator = "population"\nsuppression_k = 3\n'
                    'licence = "Partner data"\n')
    path = tmp_path / "acc.csv"
    path.write_text("area_code,period,indicator,value,partner\n"
                    "E01014399,2022-01,fire_accidental,1,fire\n")
    report = ingest(path, store=store, meta=meta, today=TODAY)
    assert not any("catalogued with default" in n for n in report.notes)
    with duckdb.connect(str(store)) as con:
        row = con.execute("SELECT title, suppression_k, partner, origin FROM catalogue "
                          "WHERE indicator = 'fire_accidental'").fetchone()
    assert row == ("Accidental dwelling fires", 3, "fire", "partner")


def test_oversized_file_is_refused_without_reading_it(store):
    report = ingest(FIX / "duplicates.csv", store=store, max_bytes=50, today=TODAY)
    assert report.refused and "over the 50-byte limit" in report.reason


def test_odd_file_names_are_shown_safely(store):
    report = run(store, "fire data (final) v2 ☃.csv")
    assert report.file == "fire data (final) v2 ☃.csv" and report.rows_loaded == 1
    assert display_name("../../etc/passwd") == "passwd"
    assert display_name("C:\\temp\\evil\x00name.csv") == "evil?name.csv"
    assert display_name("") == "(unnamed file)"


def test_quarantine_download_neutralises_formula_text(store):
    report = run(store, "formula_text.csv")
    report.quarantine.append({"row": 99, "column": "x", "reason": "=1+1"})
    text = quarantine_csv(report).decode()
    assert "'=1+1" in text and "\n99,x,=1+1" not in text


def test_fixtures_are_at_least_twenty_malformed_files():
    assert len(list(FIX.iterdir())) >= 20


def test_command_line_exit_codes_and_json_report(store, tmp_path):
    out = tmp_path / "report.json"
    ok = subprocess.run([sys.executable, "-m", "loaders", "ingest", str(FIX / "duplicates.csv"),
                         "--store", str(store), "--report", str(out)], cwd=REPO,
                        capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    report = json.loads(out.read_text())
    assert {"rows_read", "rows_loaded", "rows_quarantined", "refused", "reason",
            "quarantine"} <= set(report)
    assert report["quarantine"][0] == {"row": 2, "column": "area_code",
                                       "reason": "duplicate area, period and indicator "
                                                 "(not summed)"}
    bad = subprocess.run([sys.executable, "-m", "loaders", "ingest", str(FIX / "empty.csv"),
                          "--store", str(store)], cwd=REPO, capture_output=True, text=True,
                         timeout=120)
    assert bad.returncode == 2
    assert bad.stderr.strip() == "refused: empty.csv: is empty (0 bytes)"


def test_gzipped_police_file_is_recognised_and_counted(store, data):
    source = data / "policeuk" / "west-mercia" / "2022-03-west-mercia-street.csv.gz"
    with duckdb.connect(str(store)) as con:  # pretend the store was built without it
        con.execute("DELETE FROM ingest_log WHERE source LIKE '%2022-03-west-mercia%'")
        con.execute("DELETE FROM observations WHERE indicator LIKE 'crime_%' "
                    "AND period_start = '2022-03'")
    report = ingest(source, store=store, today=TODAY)
    assert not report.refused, report.reason
    assert any("police.uk street-level" in n for n in report.notes)
    # 218 rows without a usable LSOA, and 26 in districts no loaded force covers
    # (crimes West Mercia recorded in the West Midlands): kept aside with the reason.
    assert (report.rows_read, report.rows_loaded, report.rows_quarantined) == (10308, 10064, 244)
    outside = [q for q in report.quarantine if q["reason"].startswith("outside the police")]
    assert len(outside) == 26
    assert "crime_all" in report.indicators


def test_a_file_already_in_the_store_as_open_data_is_not_added_twice(store, data):
    source = data / "policeuk" / "west-mercia" / "2022-03-west-mercia-street.csv.gz"
    report = ingest(source, store=store, today=TODAY)
    assert report.already_loaded


def test_a_police_month_downloaded_again_is_not_counted_twice(store, data, tmp_path):
    import gzip
    source = data / "policeuk" / "west-mercia" / "2022-03-west-mercia-street.csv.gz"
    again = tmp_path / "2022-03-west-mercia-street.csv"  # same crimes, different bytes
    again.write_bytes(gzip.decompress(source.read_bytes()))
    report = ingest(again, store=store, today=TODAY)
    assert report.refused
    assert "2022-03 are already in the store" in report.reason


def test_an_ingested_police_month_is_zero_where_the_force_recorded_no_crime(store, data,
                                                                          tmp_path, regions):
    """A new month of police.uk (the force's November rows, re-dated 2023-01) loads
    with the force's coverage: an LSOA of its districts without a row is 0, not No data."""
    import gzip

    from dashboard.access import OPERATOR
    from dashboard.filters import ViewFilter
    from dashboard.measures import indicator_view
    from store import Store
    source = data / "policeuk" / "avon-and-somerset" / "2022-11-avon-and-somerset-street.csv.gz"
    month = tmp_path / "2023-01-avon-and-somerset-street.csv"
    month.write_text(gzip.decompress(source.read_bytes()).decode()
                     .replace(",2022-11,", ",2023-01,"))
    report = ingest(month, store=store, today=TODAY)
    assert not report.refused, report.reason
    assert any("coverage: 5 districts in 1 month(s)" in n for n in report.notes), report.notes
    region = regions["avon_and_somerset"]

    def view(month):
        flt = ViewFilter(region.name, "lsoa", "crime_all", month, month, "count")
        return indicator_view(Store(store), region, flt, viewer=OPERATOR) \
            .set_index("area_code")["value"]

    new, built = view("2023-01"), view("2022-11")  # the same crimes, ingested and built
    assert len(new) == 1005 and new.notna().all(), new[new.isna()]
    assert (new == 0).sum() > 0
    pd.testing.assert_series_equal(new, built)


def test_gzip_bomb_is_refused_without_unpacking_it_all(store, tmp_path):
    import gzip
    bomb = tmp_path / "bomb.csv.gz"
    bomb.write_bytes(gzip.compress(b"area_code,period\n" + b"0" * (20 * 1024 * 1024)))
    report = ingest(bomb, store=store, max_bytes=1024 * 1024, today=TODAY)
    assert report.refused and "compression bomb" in report.reason


def test_first_year_and_size_limit_are_configurable_on_the_command_line(store):
    done = subprocess.run([sys.executable, "-m", "loaders", "ingest",
                           str(FIX / "out_of_range_periods.csv"), "--store", str(store),
                           "--first-year", "1980", "--max-mb", "1"], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "3 rows read, 2 loaded, 1 quarantined" in done.stdout  # 1990 is now plausible
    small = subprocess.run([sys.executable, "-m", "loaders", "ingest", str(FIX / "bom.csv"),
                            "--store", str(store), "--max-mb", "0.00001"], cwd=REPO,
                           capture_output=True, text=True, timeout=120)
    assert small.returncode == 2 and "over the 10-byte limit" in small.stderr


def test_a_partner_file_cannot_add_to_open_data_or_to_another_file(store, tmp_path):
    path = tmp_path / "sneaky.csv"
    path.write_text("area_code,period,indicator,value\n"
                    "E01014399,2022-01,crime_all,5000\n"
                    "E01014400,2022-01,fire_deliberate,3\n")
    report = ingest(path, store=store, today=TODAY, partner="fire")
    assert report.rows_loaded == 1
    assert "indicator id 'crime_all' is reserved for open data" in report.quarantine[0]["reason"]
    again = tmp_path / "second.csv"
    again.write_text("area_code,period,indicator,value\nE01014400,2022-01,fire_deliberate,9\n")
    second = ingest(again, store=store, today=TODAY, partner="fire")
    assert second.refused and "already loaded from sneaky.csv" in \
        second.quarantine[0]["reason"]
    other = tmp_path / "other.csv"
    other.write_text("area_code,period,indicator,value\nE01014401,2022-01,fire_deliberate,9\n")
    third = ingest(other, store=store, today=TODAY, partner="health")
    assert third.refused and "belongs to fire" in third.quarantine[0]["reason"]


def test_a_steward_uploads_for_their_own_organisation_only(store, tmp_path):
    from loaders.ingest import Uploader
    steward = Uploader(name="sam", role="data_steward", org="fire", may_set_k=False)
    path = tmp_path / "fires.csv"
    path.write_text("area_code,period,indicator,value,partner\n"
                    "E01014399,2022-01,fire_small,3,fire\n"
                    "E01014400,2022-01,fire_small,3,police\n")
    meta = tmp_path / "meta.toml"
    meta.write_text("suppression_k = 0\n")
    report = ingest(path, store=store, today=TODAY, uploader=steward, meta=meta)
    assert report.rows_loaded == 1 and report.quarantine[0]["column"] == "partner"
    assert any("only an administrator sets" in n for n in report.notes)
    with duckdb.connect(str(store)) as con:
        k = con.execute("SELECT suppression_k FROM catalogue WHERE indicator = 'fire_small'")
        assert k.fetchone() == (5,)
    refused = ingest(path, store=store, today=TODAY, uploader=steward, partner="police")
    assert refused.refused and "you upload for fire, not police" in refused.reason


def test_limits_on_columns_indicators_and_catalogue_values(store, tmp_path):
    wide = tmp_path / "wide.csv"
    wide.write_text("area_code," + ",".join(f"c{i}" for i in range(300)) + "\n"
                    "E01014399," + ",".join("1" for _ in range(300)) + "\n")
    report = ingest(wide, store=store, today=TODAY)
    assert report.refused and "301 columns" in report.reason
    bad = tmp_path / "meta.toml"
    bad.write_text('suppression_k = "none"\nunit = "change"\npolarity = "sideways"\n')
    path = tmp_path / "x.csv"
    path.write_text("area_code,period,indicator,value\nE01014399,2022-01,x_one,3\n")
    report = ingest(path, store=store, today=TODAY, meta=bad)
    assert report.refused and "suppression_k was 'none'" in report.reason
    assert "polarity was 'sideways'" in report.reason and "unit was" not in report.reason


def test_formula_text_never_reaches_the_catalogue_or_a_file_name(store, tmp_path):
    meta = tmp_path / "meta.toml"
    meta.write_text('title = "=HYPERLINK(\\"http://evil.example\\",\\"click\\")"\n')
    path = tmp_path / "x.csv"
    path.write_text("area_code,period,indicator,value\nE01014399,2022-01,x_one,3\n")
    report = ingest(path, store=store, today=TODAY, meta=meta)
    assert report.refused and "title starts like a spreadsheet formula" in report.reason
    assert display_name("=cmd|' -C calc'!A0.csv").startswith("_=")
