"""The map's crime_all counts equal counts taken straight from the raw police.uk files.

The expected side reads the gzipped police.uk CSVs with the standard library,
maps each row's LSOA to its ward through the ONS lookup CSV, and keeps the
region's LSOAs by the LAD codes in config/regions.toml. Nothing of it goes
through the store or the loaders.
"""

from __future__ import annotations

import csv
import gzip
import tomllib
from collections import Counter

import pytest

from dashboard import measures
from dashboard.access import OPERATOR
from dashboard.filters import ViewFilter

REGION = "avon_and_somerset"


@pytest.fixture(scope="module")
def raw(data):
    from tests.conftest import REPO
    lads = set(tomllib.loads((REPO / "config" / "regions.toml").read_text())
               ["regions"][REGION]["lads"])
    ward_of, lsoas = {}, set()
    with open(data / "lookups" / "lsoa11_wd19_lad19_ew_bestfit_ons.csv",
              encoding="utf-8-sig") as f:
        for row in csv.DictReader(f):
            if row["LAD19CD"] in lads:
                ward_of[row["LSOA11CD"]] = row["WD19CD"]
                lsoas.add(row["LSOA11CD"])
    lsoa_counts, ward_counts, months = Counter(), Counter(), set()
    for path in sorted((data / "policeuk").glob("*/*-street.csv.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                code, month = row["LSOA code"].strip(), row["Month"]
                if code in lsoas:
                    lsoa_counts[code, month] += 1
                    ward_counts[ward_of[code], month] += 1
                if "avon-and-somerset" in path.name:
                    months.add(month)
    return lsoa_counts, ward_counts, sorted(months), lsoas


@pytest.mark.parametrize("level", ["lsoa", "ward"])
def test_crime_all_counts_equal_raw_for_every_month(store, regions, raw, level):
    lsoa_counts, ward_counts, months, lsoas = raw
    expected_counts = lsoa_counts if level == "lsoa" else ward_counts
    assert len(months) == 11
    for month in months:
        flt = ViewFilter(REGION, level, "crime_all", month, month)
        view = measures.indicator_view(store, regions[REGION], flt, viewer=OPERATOR)
        got = {c: v for c, v in zip(view["area_code"], view["value"], strict=True) if v > 0}
        expected = {c: n for (c, m), n in expected_counts.items() if m == month}
        assert got == expected, f"{level} {month}"
        assert view["value"].sum() == sum(expected.values())
    if level == "lsoa":
        assert set(view["area_code"]) == lsoas
    else:
        # Wards no LSOA is best-fitted to are shown, with no figure (never zero).
        empty = view[~view["area_code"].isin({w for w, _ in ward_counts})]
        assert set(empty["area_code"]) >= {"E05006760", "E05006764"}
        assert empty.loc[empty["area_code"].isin(["E05006760", "E05006764"]), "value"].isna().all()
