"""Ward names instead of codes: matched within the file's districts and vintage;
case, punctuation and "&"/"and" do not matter; no match is quarantined; an
ambiguous name refuses the file with its candidates."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from loaders import wardnames
from loaders.ingest import ingest

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "partner" / "reading"
TODAY = dt.date(2026, 12, 1)


@pytest.fixture()
def store(loader_store):  # noqa: F811 - a private copy, without partner rows
    return loader_store


def test_ward_names_are_matched_to_codes_and_the_report_shows_every_match(store):
    report = ingest(FIX / "ward_names.csv", store=store, partner="bcc_test", today=TODAY)
    assert not report.refused, report.reason
    assert (report.rows_read, report.rows_loaded, report.rows_quarantined) == (6, 5, 1)
    assert report.quarantine == [{"row": 7, "column": "ward", "reason": "ward name "
                                  "'Nowhere Town' matches no ward in Birmingham"}]
    assert "'ward' holds ward names; each is matched to its ward code" in report.notes
    assert "5 ward names matched to ward codes of 2019 (WD19) in Birmingham" in report.notes
    assert {m["name"]: m["ward_code"] for m in report.matches} == {
        "Acocks Green": "E05011118", "ACOCKS GREEN": "E05011118",
        "Bordesley and Highgate": "E05011126", "bordesley & highgate": "E05011126",
        "Hall Green North": "E05011140"}
    with duckdb.connect(str(store), read_only=True) as con:
        rows = con.execute("SELECT area_code, geography, period_start, value FROM "
                           "observations WHERE indicator = 'ward_test' ORDER BY 1, 3").df()
    assert set(rows["geography"]) == {"WD19"}
    assert rows.groupby("area_code")["value"].sum().to_dict() == {
        "E05011118": 21.0, "E05011126": 11.0, "E05011140": 7.0}


def test_an_ambiguous_ward_name_refuses_the_file_with_its_candidates(store):
    report = ingest(FIX / "ward_names_ambiguous.csv", store=store, partner="x_test",
                    today=TODAY)
    assert report.refused
    assert report.reason.startswith("ward names match more than one ward in ")
    assert "'Central' could be " in report.reason
    assert "E05010892 (Central, Bristol, City of)" in report.reason
    assert "Swindon" in report.reason


@pytest.mark.parametrize(("a", "b"), [
    ("Bordesley & Highgate", "BORDESLEY AND HIGHGATE"), ("St. Mary's", "st marys"),
    ("Soho & Jewellery Quarter Ward", "soho and jewellery quarter"),
])
def test_case_punctuation_and_ampersands_do_not_matter(a, b):
    assert wardnames.normal(a) == wardnames.normal(b)


def test_names_are_matched_only_within_the_districts_the_file_is_about():
    wards = pd.DataFrame({
        "vintage": [2011] * 4, "ward_code": ["E05000001", "E05000002", "E05000003",
                                             "E05000004"],
        "ward_name": ["Abbey", "Mill", "Abbey", "Weir"],
        "lad_code": ["E06000001", "E06000001", "E06000002", "E06000002"],
        "lad_name": ["Here", "Here", "There", "There"]})
    found = wardnames.match(pd.Series(["Abbey", "Mill", "Mills"]), wards)
    assert found.districts == ["Here"]
    assert found.codes == {"Abbey": "E05000001", "Mill": "E05000002"}
    assert found.unmatched == ["Mills"]
