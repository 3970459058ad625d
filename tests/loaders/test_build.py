"""The store build: idempotent, complete, and clear when the data folder is missing."""

import os

import pytest

from loaders.build import build, fingerprint
from loaders.config import data_dir
from loaders.errors import ConfigError, LoaderError
from store.duckdb import stored_fingerprint
from store.settings import store_path


def test_building_again_with_the_same_inputs_changes_nothing(store):
    path = store.path
    before = (path.stat().st_mtime_ns, stored_fingerprint(path))
    said = []
    assert build(path, log=said.append) == path
    assert said == [f"store {path} is up to date"]
    assert (path.stat().st_mtime_ns, stored_fingerprint(path)) == before
    assert before[1] == fingerprint(data_dir(), list(store.query(
        "SELECT name FROM regions")["name"]))


def test_store_holds_every_table_the_dashboard_reads(store):
    counts = dict(store.query(
        "SELECT geography || ':' || detail, count(*) FROM areas GROUP BY 1").values.tolist())
    assert counts == {"LSOA11:bgc": 3049, "LSOA11:bsc": 34753, "LSOA21:bgc": 3131,
                      "WD19:bgc": 8071, "WD25:bgc": 7588, "LAD19:bgc": 339, "LAD25:bgc": 318}
    lookups = dict(store.query("SELECT vintage, count(*) FROM lsoa_ward GROUP BY 1")
                   .values.tolist())
    assert lookups == {2011: 34753, 2021: 35672}
    pop = dict(store.query("SELECT geography, sum(population) FROM population GROUP BY 1")
               .values.tolist())
    assert pop == {"LSOA11": 59_115_809, "LSOA21": 59_597_114}
    cat = store.query("SELECT * FROM catalogue")
    for column in ("indicator", "title", "partner", "unit", "polarity", "source", "licence",
                   "vintage"):
        assert cat[column].notna().all(), column
    assert {"crime_all", "crime_anti_social_behaviour", "crime_violence_and_sexual_offences",
            "imd2019_rank", "imd2025_score", "acute_morbidity", "mood_anxiety",
            "homelessness", "housing_poor_condition", "road_traffic_accidents",
            "stroke_admissions"} <= set(cat["indicator"])
    partners = dict(cat[["indicator", "partner"]].values.tolist())
    assert partners["crime_all"] == "police" and partners["stroke_admissions"] == "health"


def test_crime_all_counts_every_counted_row(store):
    total = store.query("SELECT sum(value) FROM observations WHERE indicator = 'crime_all'")
    types = store.query("SELECT sum(value) FROM observations WHERE indicator LIKE 'crime_%' "
                        "AND indicator <> 'crime_all'")
    counted = store.query("SELECT sum(rows_loaded) FROM ingest_log WHERE source LIKE 'policeuk/%'")
    assert total.iat[0, 0] == types.iat[0, 0] == counted.iat[0, 0]


def test_missing_data_folder_is_named(monkeypatch, tmp_path):
    monkeypatch.setenv("ODA_DATA_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(ConfigError, match="nowhere.*does not exist"):
        data_dir()


def test_unknown_region_is_refused_before_building(tmp_path):
    with pytest.raises(LoaderError, match="unknown region"):
        build(tmp_path / "x.duckdb", regions=["narnia"])
    assert not (tmp_path / "x.duckdb").exists()


def test_default_store_is_under_geodata(monkeypatch):
    monkeypatch.delenv("ODA_STORE", raising=False)
    assert store_path().parts[-2:] == ("geodata", "oda.duckdb")
    assert os.fspath(store_path()).endswith("geodata/oda.duckdb")
