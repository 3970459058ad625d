"""Breakdown columns (sex, age group...) kept as dimensions, and published confidence
limits kept with their values.

Rows that differ only in a breakdown are not duplicates; ``NULL``, ``All`` and
``Persons`` mean "not broken down"; a count broken down one way with no total row
gets the sum of its breakdowns (hidden, with its range, when a part is hidden);
a column that is the same within each indicator describes it and is not a
breakdown. Maps and exports show the total or one chosen breakdown value.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import numpy as np
import pytest

from dashboard import measures
from dashboard.access import OPERATOR
from dashboard.filters import FilterError, ViewFilter
from dashboard.measures import catalogue
from loaders.ingest import HEADERS, REQUIRED, ingest
from loaders.readfile import read_partner_table
from loaders.reading import infer, limit_side, not_broken_down
from store import Store
from tests.loaders.conftest import counts

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "partner" / "reading"
TODAY = dt.date(2026, 12, 1)


def _view(store, regions, indicator, breakdown="", level="lsoa"):
    flt = ViewFilter("avon_and_somerset", level, indicator, "2023", "2023",
                     breakdown=breakdown)
    view = measures.indicator_view(Store(store), regions["avon_and_somerset"], flt,
                                   viewer=OPERATOR)
    return view.set_index("area_code")


@pytest.fixture()
def by_sex(loader_store):
    report = ingest(FIX / "breakdowns.csv", store=loader_store, partner="health_test",
                    today=TODAY)
    return loader_store, report


def test_breakdowns_are_kept_apart_and_a_missing_total_is_their_sum(by_sex):
    store, report = by_sex
    assert counts(report) == (13, 10, 1, 2)
    assert report.quarantine == [
        {"row": 9, "column": "area_code",
         "reason": "duplicate area, period, indicator and breakdown (not summed)"},
        {"row": 10, "column": "area_code",
         "reason": "duplicate area, period, indicator and breakdown (not summed)"}]
    assert "'Sex', 'Age group' break the figures down: each value is kept apart, and a row " \
        "marked NULL, All or Persons is the total" in report.notes
    assert "3 totals were made by adding each count's breakdowns (by Age group, Sex), where " \
        "the file has no total row (1 with a partner-hidden part, hidden too)" in report.notes
    assert any(n.startswith("no total row for some areas of falls_test") for n in report.notes)
    with duckdb.connect(str(store), read_only=True) as con:
        rows = con.execute("SELECT area_code, coalesce(breakdown, '') AS b, value, value_low, "
                           "value_high FROM observations WHERE indicator = 'falls_test' "
                           "ORDER BY 1, 2").df()
    got = {(r.area_code, r.b): r.value for r in rows.itertuples()}
    assert got[("E01014370", "")] == 12.0  # made: 7 + 5
    assert got[("E01014399", "")] == 9.0  # the partner's own total, never re-added
    assert got[("E01014402", "")] == 12.0  # by age group: 2 + 10
    assert got[("E01014403", "Sex: Female; Age group: 0-15")] == 1.0
    assert ("E01014403", "") not in got  # broken down two ways: no total is made
    hidden = rows[(rows.area_code == "E01014400") & (rows.b == "")].iloc[0]
    assert np.isnan(hidden.value) and (hidden.value_low, hidden.value_high) == (9.0, 12.0)
    assert catalogue.breakdowns(Store(store), "falls_test", viewer=OPERATOR) == [
        "Age group: 0-15", "Age group: 16+", "Sex: Female", "Sex: Female; Age group: 0-15",
        "Sex: Male", "Sex: Male; Age group: 16+"]


def test_maps_show_the_total_or_one_chosen_breakdown(by_sex, regions):
    store, _ = by_sex
    total = _view(store, regions, "falls_test")
    assert total.loc["E01014370", "value"] == 12 and total.loc["E01014399", "value"] == 9
    assert total.loc["E01014400", "suppressed"] == "partner (9 to 12)"
    assert np.isnan(total.loc["E01014403", "value"])  # no total: No data, never a guess
    assert set(total["breakdown"]) == {""}
    female = _view(store, regions, "falls_test", "Sex: Female")
    assert female.loc["E01014370", "value"] == 7
    assert female.loc["E01014400", "suppressed"] == "partner (1 to 4)"
    assert set(female["breakdown"]) == {"Sex: Female"}
    # Beside other indicators (a profile, an export) the breakdown stays with its own.
    flt = ViewFilter("avon_and_somerset", "lsoa", "falls_test", "2023", "2023",
                     breakdown="Sex: Female")
    assert measures.filter_for(Store(store), flt, "falls_test",
                               viewer=OPERATOR).breakdown == "Sex: Female"
    assert measures.filter_for(Store(store), flt, "crime_all", viewer=OPERATOR).breakdown == ""


def test_breakdown_none_makes_rows_that_differ_only_by_it_duplicates(loader_store):
    report = ingest(FIX / "breakdowns.csv", store=loader_store, partner="health_test",
                    today=TODAY, breakdown="none")
    assert report.refused  # every area's rows now repeat: all are duplicates
    assert report.reason == "no valid rows: all 13 rows have problems"
    assert report.rows_quarantined == 13


def test_a_column_the_same_within_each_indicator_describes_it(loader_store):
    raw = read_partner_table(FIX / "definition_columns.csv", "definition_columns.csv",
                             REQUIRED, HEADERS, 10**7)
    reading = infer(raw)
    assert reading.breakdowns == []
    assert "'Gender' is the same within each indicator (e.g. 'Female'): it describes the " \
        "indicator, not a breakdown" in reading.decisions
    assert reading.ignored == ["Gender", "Locality"]
    report = ingest(FIX / "definition_columns.csv", store=loader_store, partner="x_test",
                    today=TODAY)
    assert (report.rows_read, report.rows_loaded, report.rows_quarantined) == (4, 4, 0)


@pytest.mark.parametrize(("name", "side"), [
    ("LowerCI95", "lower"), ("Sum of UpperCI95", "upper"), ("lower_ci", "lower"),
    ("Upper limit", "upper"), ("LCL", "lower"), ("uci_95", "upper"), ("lower", None),
    ("Lower tier", None), ("value", None)])
def test_confidence_limit_columns_are_recognised_by_name(name, side):
    assert limit_side(name) == side


@pytest.mark.parametrize(("cell", "total"), [
    ("NULL", True), ("All", True), ("All ages", True), ("Persons", True), ("", True),
    ("Female", False), ("Q1", False), ("0-15", False)])
def test_null_all_and_persons_mean_not_broken_down(cell, total):
    assert not_broken_down(cell) is total


def test_published_limits_are_kept_checked_and_shown(loader_store, regions):
    report = ingest(FIX / "rate_limits.csv", store=loader_store, partner="health_test",
                    today=TODAY)
    assert counts(report) == (5, 3, 0, 2)
    assert report.quarantine == [
        {"row": 5, "column": "lower", "reason": "the confidence limits do not contain the value"},
        {"row": 6, "column": "lower", "reason": "lower confidence limit is not a number"}]
    assert "'LowerCI95' and 'UpperCI95' are read as the 95 % confidence limits of the value, " \
        "kept as published" in report.notes
    assert any("catalogued as a rate, since its figures come with confidence limits" in n
               for n in report.notes)
    meta = measures.indicator_meta(Store(loader_store), "smoking_prevalence", viewer=OPERATOR)
    assert (meta["unit"], bool(meta["additive"])) == ("rate", False)
    view = _view(loader_store, regions, "smoking_prevalence")
    assert tuple(view.loc["E01014370", ["value", "value_lower_95", "value_upper_95"]]) == (
        14.2, 11.0, 17.9)
    assert view.loc["E01014400", "value"] == 9.8
    assert np.isnan(view.loc["E01014400", "value_lower_95"])  # not published: not made up
    wards = _view(loader_store, regions, "smoking_prevalence", level="ward")
    assert wards["value_lower_95"].isna().all()  # an average of LSOAs has no published limit
    with pytest.raises(FilterError, match="no rate per 1,000"):
        measures.indicator_view(Store(loader_store), regions["avon_and_somerset"], ViewFilter(
            "avon_and_somerset", "lsoa", "smoking_prevalence", "2023", "2023", measure="rate"),
            viewer=OPERATOR)
