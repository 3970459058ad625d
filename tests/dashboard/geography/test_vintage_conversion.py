"""Converting between LSOA vintages: whole counts, exact totals, population shares."""

import dataclasses

import pandas as pd
import pytest

from dashboard import measures
from dashboard.access import OPERATOR
from dashboard.filters import ViewFilter
from dashboard.geography import vintage


def lookup(pairs, pops):
    w = pd.DataFrame(pairs, columns=["source_code", "target_code"])
    w["population"] = w["target_code"].map(pops)
    w["weight"] = w["population"] / w.groupby("source_code")["population"].transform("sum")
    return w[["source_code", "target_code", "weight"]]


def test_unchanged_merged_and_split_areas_on_a_hand_made_lookup():
    # A unchanged -> a; B and C merge into bc; D splits into d1 (300 people) and d2 (100).
    w = lookup([("A", "a"), ("B", "bc"), ("C", "bc"), ("D", "d1"), ("D", "d2")],
               {"a": 1, "bc": 1, "d1": 300, "d2": 100})
    values = pd.DataFrame({"code": ["A", "B", "C", "D"], "value": [5.0, 2.0, 3.0, 8.0]})
    out, report = vintage.convert(values, w, additive=True, source="LSOA11", target="LSOA21")
    got = dict(zip(out["code"], out["value"], strict=True))
    assert got == {"a": 5, "bc": 5, "d1": 6, "d2": 2}
    assert report.apportioned_areas == 1 and report.apportioned_total == 8
    assert report.areas_in == 4 and report.areas_out == 4 and report.unmatched == 0


def test_whole_counts_stay_whole_and_keep_their_total():
    w = lookup([("D", "d1"), ("D", "d2"), ("D", "d3")], {"d1": 1, "d2": 1, "d3": 1})
    out, _ = vintage.convert(pd.DataFrame({"code": ["D"], "value": [10.0]}), w, additive=True,
                             source="LSOA11", target="LSOA21")
    assert sorted(out["value"]) == [3, 3, 4] and out["value"].sum() == 10


def test_scores_take_population_weighted_means_not_shares():
    w = lookup([("B", "bc"), ("C", "bc")], {"bc": 1})
    out, _ = vintage.convert(pd.DataFrame({"code": ["B", "C"], "value": [10.0, 20.0]}), w,
                             additive=False, source="LSOA11", target="LSOA21",
                             source_population=pd.Series({"B": 100, "C": 300}))
    assert out["value"].iat[0] == pytest.approx(17.5)


def test_a_police_month_converted_to_lsoa21_keeps_its_total_exactly(store, regions):
    national = regions["england_and_wales"]
    as_2021 = dataclasses.replace(national, vintage=2021)
    flt = ViewFilter("england_and_wales", "lsoa", "crime_all", "2022-03", "2022-03")
    lsoa11 = measures.indicator_view(store, national, flt, viewer=OPERATOR)
    lsoa21 = measures.indicator_view(store, as_2021, flt, viewer=OPERATOR)
    assert lsoa21["value"].sum() == lsoa11["value"].sum() > 20_000
    assert (lsoa21["value"].dropna() % 1 == 0).all()
    assert "Converted from LSOA11 to LSOA21" in lsoa21.attrs["conversion"]
    assert "split areas were shared by population" in lsoa21.attrs["conversion"]
