"""An indicator's catalogue details, polarity and unit above all: asked for, never
assumed, and changeable afterwards (audited) without loading the file again."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import duckdb
import pandas as pd
import pytest

from dashboard.access import OPERATOR
from dashboard.analysis.profile import summary, ward_profile
from dashboard.filters import ViewFilter
from loaders import details
from loaders.errors import LoaderError
from loaders.ingest import ingest
from store import Store, governance
from tests.conftest import REPO

TODAY = dt.date(2026, 12, 1)
BIRMINGHAM = "birmingham_ward_public_health_2014-2023.csv.gz"
HLE = "cancer_and_aging_healthy_life_expectancy_male"
HLE_TITLE = "Cancer & Aging: Healthy life expectancy (male)"


@pytest.fixture()
def store(loader_store):  # noqa: F811 - a private copy, without partner rows
    return loader_store


def catalogued(store, indicator: str) -> tuple:
    with duckdb.connect(str(store), read_only=True) as con:
        return con.execute("SELECT unit, polarity, additive FROM catalogue WHERE indicator = ?",
                           [indicator]).fetchone()


def audit(event: str) -> list[dict]:
    return [json.loads(d) for d in governance.audit_entries(event=event)["detail"]]


def test_a_long_life_expectancy_is_the_least_need_once_its_details_say_lower_is_worse(
        store, data, regions, tmp_path):
    """Birmingham's real file, with details naming healthy life expectancy in years,
    lower is worse: Nechells, among the shortest, ranks among the most need, and the
    ward profile never says it fares best there."""
    meta = tmp_path / "details.toml"
    meta.write_text(f'[{HLE}]\nunit = "years"\npolarity = "low_is_bad"\n', encoding="utf-8")
    report = ingest(data / "partners" / BIRMINGHAM, store=store, partner="bcc_public_health",
                    today=TODAY, meta=meta)
    assert not report.refused, report.reason
    assert catalogued(store, HLE) == ("years", "low_is_bad", False)
    file = pd.read_csv(data / "partners" / BIRMINGHAM, encoding="utf-8-sig",
                       keep_default_na=False)
    hle = file[(file["IndicatorName"] == HLE_TITLE) & (file["IMD"] == "NULL")]
    latest = hle[hle["Year"] == hle["Year"].max()].set_index("AggregationLabel")[
        "Sum of IndicatorValue"].astype(float)
    # Counted here: 1 is the shortest healthy life expectancy (most need).
    want_rank = int((latest < latest["Nechells"]).sum()) + 1
    assert want_rank <= 3  # Nechells is among the shortest
    codes = {m["name"]: m["ward_code"] for m in report.matches}
    region = regions["west_midlands_ca"]
    flt = ViewFilter(region.name, "ward", "crime_all", "2023", "2023")
    table = ward_profile(Store(store), region, codes["Nechells"], flt, viewer=OPERATOR) \
        .set_index("indicator")
    row = table.loc[HLE]
    assert row["figure"] == latest["Nechells"]
    assert (row["rank"], row["of"]) == (want_rank, len(latest))
    assert row["position"] > 90  # near the most-need end of the spine
    said = summary(table.reset_index(), "Nechells", region.title)
    assert "fares best on Cancer & Aging: Healthy life expectancy (male)" not in said


def test_a_new_indicator_without_a_polarity_is_shown_as_higher_or_lower_never_better_or_worse(
        store, regions, tmp_path):
    region = regions["west_midlands_ca"]
    flt = ViewFilter(region.name, "ward", "crime_all", "2023", "2023")
    with duckdb.connect(str(store), read_only=True) as con:
        wards = [r[0] for r in con.execute(
            "SELECT DISTINCT ward_code FROM lsoa_ward WHERE vintage = ? AND lad_code = ? "
            "ORDER BY 1 LIMIT 3", [region.vintage, region.lads[0]]).fetchall()]
    path = tmp_path / "share.csv"
    path.write_text("area_code,period,indicator,value\n" + "".join(
        f"{w},2023,second_language_share,{v}\n" for w, v in zip(wards, (12.5, 30.0, 4.0),
                                                                 strict=True)),
        encoding="utf-8")
    report = ingest(path, store=store, partner="council", today=TODAY)
    assert not report.refused, report.reason
    assert catalogued(store, "second_language_share")[1] == "no_judgement"
    assert report.new_indicators == [{
        "indicator": "second_language_share", "title": "Second language share",
        "unit": "count", "polarity": "no_judgement", "stated": []}]
    assert any("no polarity was stated" in n and "higher or lower, never better or worse"
               in n for n in report.notes)
    table = ward_profile(Store(store), region, wards[1], flt, viewer=OPERATOR) \
        .set_index("indicator")
    row = table.loc["second_language_share"]
    assert {row["vs_region"], row["vs_district"]} <= {"higher", "similar", "lower",
                                                      "not compared"}
    assert "second language" not in summary(table.reset_index(), "x", region.title).lower()


def test_details_given_again_change_the_catalogue_even_for_a_file_loaded_before(
        store, tmp_path):
    """A details file with a corrected polarity, given with the same file again, is
    applied (and audited) rather than answered with "nothing changed"."""
    path = tmp_path / "hle.csv"
    path.write_text("area_code,period,indicator,value\n"
                    "E05010889,2023,hle,61.2\nE05010890,2023,hle,58.4\n", encoding="utf-8")
    first = ingest(path, store=store, partner="health", today=TODAY,
                   details={"hle": {"unit": "rate", "polarity": "high_is_bad"}})
    assert not first.refused, first.reason
    assert catalogued(store, "hle") == ("rate", "high_is_bad", False)
    meta = tmp_path / "hle.toml"
    meta.write_text('[hle]\nunit = "years"\npolarity = "low_is_bad"\n', encoding="utf-8")
    again = ingest(path, store=store, partner="health", today=TODAY, meta=meta, replace=True)
    assert again.already_loaded and not again.refused
    assert again.details_changed == {"hle": {"unit": ["rate", "years"],
                                             "polarity": ["high_is_bad", "low_is_bad"]}}
    assert "nothing changed" not in again.summary()
    assert catalogued(store, "hle") == ("years", "low_is_bad", False)
    assert audit("upload")[-1]["details_changed"] == again.details_changed


def test_details_are_changed_afterwards_audited_and_only_by_their_owner(store, tmp_path):
    path = tmp_path / "rate.csv"
    path.write_text("area_code,period,indicator,value\n"
                    "E01014399,2022-01,fire_calls,3\n", encoding="utf-8")
    assert not ingest(path, store=store, partner="fire", today=TODAY).refused
    changed = details.change("fire_calls", {"polarity": "high_is_bad", "unit": "count"},
                             actor="steward_a", role="data_steward", org="fire",
                             may_set_k=False, store=store)
    assert changed == {"polarity": ("no_judgement", "high_is_bad")}
    assert audit("catalogue")[-1] == {
        "action": "change details", "indicator": "fire_calls",
        "changes": {"polarity": {"before": "no_judgement", "after": "high_is_bad"}}}
    assert details.change("fire_calls", {"polarity": "high_is_bad"}, actor="a",
                          role="administrator", store=store) == {}
    with pytest.raises(LoaderError, match="is fire's; a data steward changes their own"):
        details.change("fire_calls", {"unit": "rate"}, actor="b", role="data_steward",
                       org="police", may_set_k=False, store=store)
    with pytest.raises(LoaderError, match="unit was 'furlongs'; it must be one of"):
        details.change("fire_calls", {"unit": "furlongs"}, actor="a", role="administrator",
                       store=store)
    with pytest.raises(LoaderError, match="only an administrator sets a suppression"):
        details.change("fire_calls", {"suppression_k": 3}, actor="b", role="data_steward",
                       org="fire", may_set_k=False, store=store)
    with pytest.raises(LoaderError, match="crime_all is open data"):
        details.change("crime_all", {"polarity": "low_is_bad"}, actor="a",
                       role="administrator", store=store)
    assert catalogued(store, "fire_calls") == ("count", "high_is_bad", True)


@pytest.mark.parametrize("unit", ["years", "percent", "rate per 100,000", "minutes"])
def test_units_partners_publish_are_taken(store, tmp_path, unit):
    path = tmp_path / "u.csv"
    path.write_text("area_code,period,indicator,value\nE05010889,2023,u_ind,61.2\n",
                    encoding="utf-8")
    report = ingest(path, store=store, partner="health", today=TODAY,
                    details={"u_ind": {"unit": unit, "polarity": "low_is_bad"}})
    assert not report.refused, report.reason
    assert catalogued(store, "u_ind") == (unit, "low_is_bad", False)


def test_the_command_line_changes_details(store, tmp_path):
    path = tmp_path / "rate.csv"
    path.write_text("area_code,period,indicator,value\n"
                    "E01014399,2022-01,fire_calls,3\n", encoding="utf-8")
    assert not ingest(path, store=store, partner="fire", today=TODAY).refused
    run = subprocess.run([sys.executable, "-m", "loaders", "details", "fire_calls",
                          "--polarity", "low_is_bad", "--store", str(store)],
                         capture_output=True, text=True, cwd=REPO, check=False)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == ("fire_calls: polarity: neither: no better or worse → "
                                  "lower is worse")
    bad = subprocess.run([sys.executable, "-m", "loaders", "details", "fire_calls",
                          "--unit", "furlongs", "--store", str(store)],
                         capture_output=True, text=True, cwd=REPO, check=False)
    assert bad.returncode == 2 and "unit was 'furlongs'" in bad.stderr
