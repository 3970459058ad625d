"""Forecasts and early warning in the app: the Hotspots page's expected-next-month map,
the ward profile's process control chart and the Overview's unusual wards, on the
92-month police series shared with councillors and analysts by an agreement; the
public, outside it, sees none of them."""

from __future__ import annotations

import datetime as dt

import pytest

from dashboard.access import OPERATOR, agreements
from store import Store
from tests.conftest import _add_people
from tests.dashboard.conftest import SERIES, series_copy
from tests.pages.conftest import app
from tests.pages.test_roles import page_text

WARD = "E05010892"
INDICATORS = ["monthly_crime_count", "burglary", "anti_social_behaviour"]


@pytest.fixture(scope="module")
def series_world(tmp_path_factory, data):
    folder = tmp_path_factory.mktemp("series_world")
    path = series_copy(Store(), data / "partners" / SERIES, folder)
    gov = folder / "gov.sqlite"
    _add_people(gov)
    agreements.add({"id": "ISA-SERIES", "title": "Police monthly series",
                    "parties": "police_test", "indicators": ",".join(INDICATORS),
                    "roles": "councillor,analyst", "level": "lsoa",
                    "expires": (dt.date.today() + dt.timedelta(days=700)).isoformat()},
                   set(INDICATORS), by=OPERATOR, path=gov)
    return path, gov


@pytest.fixture()
def world(series_world, monkeypatch):
    path, gov = series_world
    monkeypatch.setenv("ODA_STORE", str(path))
    monkeypatch.setenv("ODA_GOVERNANCE", str(gov))


def test_the_hotspots_page_maps_the_expected_next_month(world):
    at = app("pages/hotspots.py", region="avon_and_somerset",
             indicator="monthly_crime_count", period="2022-01:2022-12", level="ward").run()
    assert not at.exception, [e.value for e in at.exception]
    at.toggle(key="hot_fc").set_value(True).run()
    assert not at.exception, [e.value for e in at.exception]
    text = page_text(at)
    assert "Expected Monthly crime count in 2023-01, from the months to 2022-12" in text
    assert "held the count in" in text  # the calibration is stated
    table = next(d.value for d in at.dataframe if "predicted_upper_95" in d.value)
    assert len(table) == 15 and table["predicted"].is_monotonic_decreasing


def test_the_ward_profile_draws_a_process_control_chart(world):
    at = app("pages/profile.py", region="avon_and_somerset", ward=WARD).run()
    assert not at.exception, [e.value for e in at.exception]
    text = page_text(at)
    assert "Is this month unusual?" in text
    assert "Making Data Count" in text and ("common cause" in text or "special cause" in text)
    assert any("period" in d.value and "upper_99" in d.value for d in at.dataframe)


def test_the_overview_lists_the_unusual_wards(world):
    at = app("pages/overview.py", region="avon_and_somerset").run()
    assert not at.exception, [e.value for e in at.exception]
    text = page_text(at)
    assert "Unusual this month" in text
    assert "would be by chance in a month" in text
    assert "were unusual in" in text or "was unusual in" in text


@pytest.mark.parametrize("page, params", [
    ("overview.py", {}), ("profile.py", {"ward": WARD}),
    ("hotspots.py", {"indicator": "monthly_crime_count", "period": "2022-01:2022-12"})])
def test_the_public_sees_no_forecast_of_partner_data(world, page, params):
    at = app(f"pages/{page}", user=None, region="avon_and_somerset", **params).run()
    assert not at.exception, [e.value for e in at.exception]
    text = page_text(at)
    assert "Monthly crime count" not in text
    assert "Expected Monthly" not in text and "unusual in" not in text


def test_the_backtest_panel_scores_the_forecast_with_two_years_of_training(world):
    at = app("pages/hotspots.py", region="avon_and_somerset",
             indicator="monthly_crime_count", period="2019-01:2021-03", level="ward").run()
    at.slider(key="hot_bt_train").set_value(24).run()
    at.toggle(key="hot_bt_run").set_value(True).run()
    assert not at.exception, [e.value for e in at.exception]
    table = next(d.value for d in at.dataframe if "pei_median" in d.value).set_index("method")
    fc = table.loc["Forecast (count regression)"]
    assert fc["windows"] == 3 and 0.8 < fc["pei_median"] <= 1
    assert fc["capture_median"] >= table["capture_median"].drop(fc.name).min()
    assert not any("forecast needs" in c.value for c in at.caption)
