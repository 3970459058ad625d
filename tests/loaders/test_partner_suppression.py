"""Cells a partner hid before sending ("under 5", "*", "[c]"...): kept as hidden cells
of a known range, never quarantined as non-numeric, never read as zero, and any
total that includes one is hidden too, with its range."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import numpy as np
import pytest

from dashboard import measures
from dashboard.access import OPERATOR
from dashboard.filters import ViewFilter
from dashboard.measures import catalogue
from loaders.ingest import ingest
from loaders.partner import hidden_range
from store import Store
from tests.loaders.conftest import counts

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "partner" / "reading"
TODAY = dt.date(2026, 12, 1)
HIDDEN = ["E01014399", "E01014400", "E01014401", "E01014402", "E01014403", "E01014404",
          "E01014405", "E01014407"]


@pytest.fixture()
def loaded(tmp_path, loader_store):
    copy = loader_store
    meta = tmp_path / "meta.toml"
    meta.write_text('coverage = ["E06000022"]\n')
    report = ingest(FIX / "partner_hidden.csv", store=copy, partner="health_test", meta=meta,
                    today=TODAY)
    return copy, report


def test_partner_suppression_marks_load_as_hidden_cells_with_their_range(loaded):
    store, report = loaded
    assert counts(report) == (11, 2, 8, 1)
    assert report.quarantine == [{"row": 11, "column": "value",
                                  "reason": "value is empty or not a number"}]
    assert "8 cells were hidden by the partner; they are kept as hidden cells of a known " \
        "range (1 to 4), never as zero" in report.notes
    assert report.summary().endswith("11 rows read, 2 loaded, 8 hidden by the partner, "
                                     "1 quarantined")
    with duckdb.connect(str(store), read_only=True) as con:
        rows = con.execute("SELECT area_code, value, value_low, value_high FROM observations "
                           "WHERE indicator = 'hidden_test' ORDER BY 1").fetchall()
    hidden = {r[0]: r[1:] for r in rows if r[0] in HIDDEN}
    assert set(hidden) == set(HIDDEN)
    assert all(v is None and (lo, hi) == (1.0, 4.0) for v, lo, hi in hidden.values())


def test_a_hidden_cell_and_every_total_with_one_are_hidden_never_zero(loaded, regions):
    store, _ = loaded
    region = regions["avon_and_somerset"]

    def view(level):
        flt = ViewFilter(region.name, level, "hidden_test", "2022-01", "2022-01", "count")
        return measures.indicator_view(Store(store), region, flt, viewer=OPERATOR) \
            .set_index("area_code")

    lsoa = view("lsoa")
    assert lsoa.loc[HIDDEN, "value"].isna().all()
    assert (lsoa.loc[HIDDEN, "suppressed"] == "partner (1 to 4)").all()
    assert lsoa.loc["E01014370", "value"] == 12
    # Inside the declared coverage an LSOA without a row is zero; a hidden one is not.
    assert lsoa.loc["E01014373", "value"] == 0
    wards = view("ward")
    # E01014370 (12), E01014405 (hidden) and E01014407 (hidden) share a ward: its total
    # is 12 + two cells of 1 to 4, shown as a range and never as 12.
    assert np.isnan(wards.loc["E05012471", "value"])
    assert wards.loc["E05012471", "suppressed"] == "partner (14 to 20)"
    summary = measures.region_summary(Store(store), region, "2022-01", "2022-01",
                                      catalogue.catalogue(Store(store), viewer=OPERATOR),
                                      viewer=OPERATOR)
    assert np.isnan(summary.set_index("indicator").loc["hidden_test", "value"])


def test_the_overview_trend_and_the_england_figure_never_drop_a_hidden_cell(loaded, regions):
    """A total that includes a cell the partner hid is not given, rather than a total
    that counts the hidden cell as zero: the Overview's monthly trend, and England."""
    store, _ = loaded
    region = regions["avon_and_somerset"]
    monthly = measures.region_monthly(Store(store), region, "2022-01", "2022-01",
                                      viewer=OPERATOR).set_index("indicator")
    assert np.isnan(monthly.loc["hidden_test", "value"])
    assert monthly.loc["hidden_test", "withheld"] == len(HIDDEN)
    assert monthly.loc["crime_all", "withheld"] == 0 and monthly.loc["crime_all", "value"] > 0
    meta = measures.indicator_meta(Store(store), "hidden_test", viewer=OPERATOR)
    # However few areas it covers (coverage 0), England is not the visible cells' sum.
    assert np.isnan(measures.england_figure(Store(store), meta, "2022-01", "2022-01",
                                            rated=False, viewer=OPERATOR, coverage=0.0))


@pytest.mark.parametrize(("text", "k", "expected"), [
    ("under 5", 5, (1.0, 4.0)), ("<10", 5, (1.0, 9.0)), ("< 3", 5, (1.0, 2.0)),
    ("*", 5, (1.0, 4.0)), ("[c]", 10, (1.0, 9.0)), ("..", 5, (1.0, 4.0)),
    ("Suppressed", 5, (1.0, 4.0)), ("12", 5, None), ("", 5, None), ("lots", 5, None),
])
def test_marks_are_read_with_their_range(text, k, expected):
    assert hidden_range(text, k) == expected
