"""Ward names instead of codes: matched within the file's districts and vintage;
case, punctuation and "&"/"and" do not matter; no match is quarantined; an
ambiguous name refuses the file with its candidates."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from loaders import wardnames
from loaders.ingest import ingest
from tests.loaders.conftest import counts

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


BIRMINGHAM = "birmingham_ward_public_health_2014-2023.csv.gz"


def test_the_birmingham_public_health_file_loads_whole_with_its_limits(store, data, regions):
    """The real file: 69 ward names, six indicators by year, an IMD breakdown and 95 %
    limits. Every row loads; each ward's total and limits equal the file's own row."""
    from dashboard.access import OPERATOR
    from dashboard.filters import ViewFilter
    from dashboard.measures import indicator_view
    from store import Store
    path = data / "partners" / BIRMINGHAM
    report = ingest(path, store=store, partner="bcc_public_health", today=TODAY)
    assert counts(report) == (3795, 3795, 0, 0)
    assert len(report.matches) == 69
    assert "'IMD' breaks the figures down: each value is kept apart, and a row marked NULL, " \
        "All or Persons is the total" in report.notes
    file = pd.read_csv(path, encoding="utf-8-sig", keep_default_na=False)
    file = file[file["IMD"] == "NULL"]  # the total rows; the others are by IMD quintile
    codes = {m["name"]: m["ward_code"] for m in report.matches}
    with duckdb.connect(str(store), read_only=True) as con:
        got = con.execute(
            "SELECT o.area_code, o.period_start, c.title, o.value, o.value_lower, "
            "o.value_upper FROM observations o JOIN catalogue c USING (indicator) "
            "WHERE o.breakdown IS NULL AND o.geography = 'WD19'").df()
        units = {r[0] for r in con.execute("SELECT DISTINCT unit FROM catalogue WHERE "
                                           "partner = 'bcc_public_health'").fetchall()}
    assert units == {"rate"}
    want = pd.DataFrame({"area_code": file["AggregationLabel"].map(codes),
                         "period_start": file["Year"].astype(str),
                         "title": file["IndicatorName"],
                         "value": file["Sum of IndicatorValue"],
                         "value_lower": file["Sum of LowerCI95"],
                         "value_upper": file["Sum of UpperCI95"]})
    key = ["area_code", "period_start", "title"]
    both = want.merge(got, on=key, suffixes=("_file", ""), validate="one_to_one")
    assert len(both) == len(want) == len(got) == 2415
    for col in ("value", "value_lower", "value_upper"):
        assert np.allclose(both[col], both[f"{col}_file"])
    # The ward map shows a ward's total with its limits, by ward only.
    flt = ViewFilter("west_midlands_ca", "ward", "mental_health_emergency_admissions_for_self_harm",
                     "2023", "2023")
    view = indicator_view(Store(store), regions["west_midlands_ca"], flt, viewer=OPERATOR) \
        .set_index("area_code")
    aston = file[(file["AggregationLabel"] == "Aston") & (file["Year"] == 2023) & (
        file["IndicatorName"] == "Mental health: Emergency admissions for self-harm")].iloc[0]
    assert tuple(view.loc[codes["Aston"], ["value", "value_lower_95", "value_upper_95"]]) == (
        aston["Sum of IndicatorValue"], aston["Sum of LowerCI95"], aston["Sum of UpperCI95"])
    assert view["value"].notna().sum() == 69
    # A ward profile lists them with their limits, ranked among the wards with figures,
    # beside the district's and region's (population-weighted) figures.
    from dashboard.analysis.profile import ward_profile
    table = ward_profile(Store(store), regions["west_midlands_ca"], codes["Aston"],
                         flt.with_(indicator="crime_all"), viewer=OPERATOR) \
        .set_index("indicator")
    row = table.loc["mental_health_emergency_admissions_for_self_harm"]
    assert (row["period"], row["figure"], row["lower_95"], row["upper_95"], row["of"]) == (
        "2023", aston["Sum of IndicatorValue"], aston["Sum of LowerCI95"],
        aston["Sum of UpperCI95"], 69)
    assert row["district"] == row["region"]  # Birmingham is the only district with figures
