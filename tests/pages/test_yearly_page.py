"""An indicator published by year: the Map opens on its latest year (never an average of
every year), and the Ward profile gives its change on a year before and its trend, with
only the region's own indicators in the trend picker."""

from __future__ import annotations

import datetime as dt
import shutil

import duckdb
import pytest

from loaders.ingest import ingest
from store import PARTNER_TABLES
from tests.pages.conftest import app

YEARS = ["2019", "2020", "2021", "2022", "2023"]


@pytest.fixture()
def yearly_store(tmp_path, store, monkeypatch):
    """The store with a hand-made yearly rate (with 95 % limits) for every Bristol ward."""
    copy = tmp_path / "store.duckdb"
    shutil.copy(store.path, copy)
    with duckdb.connect(str(copy)) as con:
        for table in PARTNER_TABLES:
            con.execute(f"DELETE FROM {table} WHERE origin = 'partner'")
        wards = [r[0] for r in con.execute(
            "SELECT DISTINCT ward_code FROM lsoa_ward WHERE vintage = 2011 AND "
            "lad_code = 'E06000023' ORDER BY 1").fetchall()]
    lines = ["area_code,period,indicator,value,lower_95,upper_95"]
    for i, ward in enumerate(wards):
        for j, year in enumerate(YEARS):
            value = 100 + 10 * i + 20 * j  # every ward rising year on year
            lines.append(f"{ward},{year},self_harm_admissions,{value},{value * 0.8:.1f},"
                         f"{value * 1.2:.1f}")
    path = tmp_path / "self_harm.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = ingest(path, store=copy, partner="health", today=dt.date(2026, 12, 1),
                    details={"self_harm_admissions": {"unit": "rate",
                                                      "polarity": "high_is_bad"}})
    assert not report.refused, report.reason
    monkeypatch.setenv("ODA_STORE", str(copy))
    return copy, wards


def test_the_map_opens_a_yearly_indicator_on_its_latest_year(yearly_store):
    at = app("pages/map.py", user="t_admin", indicator="self_harm_admissions", level="ward").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.select_slider(key="map_period_years").value == ("2023", "2023")
    assert any("2023" in s.value and "2019" not in s.value for s in at.subheader)


def test_the_profile_gives_a_yearly_indicators_change_and_trend(yearly_store):
    _, wards = yearly_store
    at = app("pages/profile.py", user="t_admin", ward=wards[0]).run()
    assert not at.exception, [e.value for e in at.exception]
    table = at.dataframe[0].value.set_index("Indicator")
    row = table.loc["Self harm admissions"]
    # 2023 against 2022: 180 / 160 for the first ward, its limits +/- 20 %.
    assert row["Change on a year before"].startswith("+12%")
    assert row["Trend"] == "rising"
    picker = at.selectbox(key="pro_trend")
    assert "self_harm_admissions" in picker.options or \
        "Self harm admissions" in picker.options
    picker.select("self_harm_admissions").run()
    assert not at.exception
    assert not any("No indicator has figures" in i.value for i in at.info)
    by_period = at.dataframe[-1].value  # the trend's table: every year, not the months
    assert set(YEARS) <= set(by_period.astype(str).to_numpy().ravel())


def test_the_trend_picker_offers_only_the_regions_indicators(yearly_store):
    """In the West Midlands, Bristol's yearly rate is not offered."""
    at = app("pages/profile.py", user="t_admin", region="west_midlands_ca").run()
    assert not at.exception
    at.selectbox(key="pro_ward_pick").select_index(0).run()
    assert not at.exception, [e.value for e in at.exception]
    options = at.selectbox(key="pro_trend").options
    assert options and not any("Self harm" in o for o in options)
