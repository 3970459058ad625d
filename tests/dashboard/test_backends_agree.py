"""The same figures from both store backends: ward and LSOA counts, hotspot classes,
emerging hot spots and exports for Avon and Somerset, compared value for value."""

from __future__ import annotations

import datetime as dt
import os

import pandas as pd
import pytest

from dashboard import measures
from dashboard.access import OPERATOR
from dashboard.analysis import hotspot_views, hotspots
from dashboard.filters import ViewFilter
from dashboard.geography.regions import get_region
from dashboard.views import export
from store import Store

REGION = get_region("avon_and_somerset")
INDICATORS = [("crime_all", "2022-01", "2022-11"),
              ("crime_violence_and_sexual_offences", "2022-06", "2022-08"),
              ("imd2019_rank", "2019", "2019"), ("stroke_admissions", "2017", "2019")]


@pytest.fixture(scope="module")
def both(postgres):
    duck = Store(os.environ.get("ODA_STORE"))
    pgs = Store(postgres.database("agree"))
    yield duck, pgs
    pgs.close()


@pytest.mark.parametrize("level", ["lsoa", "ward"])
@pytest.mark.parametrize(("indicator", "start", "end"), INDICATORS)
def test_views_are_identical(both, level, indicator, start, end):
    flt = ViewFilter(REGION.name, level, indicator, start, end, "rate" if
                     indicator.startswith("crime") else "count")
    duck, pgs = (measures.indicator_view(s, REGION, flt, viewer=OPERATOR) for s in both)
    pd.testing.assert_frame_equal(duck, pgs)


@pytest.mark.parametrize(("level", "method"), [("ward", "gi"), ("lsoa", "gi"),
                                               ("ward", "lisa")])
def test_hotspot_classes_are_identical(both, level, method):
    flt = ViewFilter(REGION.name, level, "crime_all", "2022-01", "2022-11", "count")
    settings = hotspots.Settings(method=method)
    duck, pgs = (hotspot_views.hotspot_view(s, REGION, flt, settings, viewer=OPERATOR)
                 for s in both)
    pd.testing.assert_frame_equal(duck, pgs)
    assert (duck["class"] != duck["class"].iloc[0]).any()  # a real map, not all one class


def test_emerging_hot_spots_are_identical(both):
    flt = ViewFilter(REGION.name, "ward", "crime_all", "2022-01", "2022-11", "count")
    duck, pgs = (hotspot_views.emerging_view(s, REGION, flt, viewer=OPERATOR) for s in both)
    pd.testing.assert_frame_equal(duck, pgs)


@pytest.mark.parametrize("fmt", ["csv", "geojson"])
def test_exports_are_byte_for_byte_identical(both, fmt):
    flt = ViewFilter(REGION.name, "ward", "crime_all", "2022-01", "2022-11", "rate")
    now = dt.datetime(2026, 12, 1, 12, 0)
    duck, pgs = (export.write(s, REGION, flt, ["crime_all", "imd2019_rank"], fmt, now=now,
                              viewer=OPERATOR) for s in both)
    assert duck.keys() == pgs.keys()
    for suffix in duck:
        assert duck[suffix] == pgs[suffix], suffix
