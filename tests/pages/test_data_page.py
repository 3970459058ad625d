"""Data page: a good and a bad file uploaded through the page give a report and a download."""

import shutil
from pathlib import Path

import duckdb
import pytest

from tests.pages.conftest import app

pytestmark = pytest.mark.xdist_group("apptest")
FIX = Path(__file__).resolve().parent.parent / "fixtures" / "partner"


@pytest.fixture()
def private_store(tmp_path, store, monkeypatch):
    copy = tmp_path / "store.duckdb"
    shutil.copy(store.path, copy)
    with duckdb.connect(str(copy)) as con:
        for table in ("observations", "catalogue", "quarantine", "ingest_log"):
            con.execute(f"DELETE FROM {table} WHERE origin = 'partner'")
    monkeypatch.setenv("ODA_STORE", str(copy))
    return copy


def upload(at, name, data, partner=""):
    at.file_uploader(key="data_file").upload(name, data, "text/csv")
    at.text_input(key="data_partner").input(partner)
    at.button[0].click()
    return at.run()


def test_good_file_loads_and_joins_the_catalogue(private_store):
    at = app("pages/data.py", user="t_admin").run()
    assert not at.exception
    data = (b"area_code,period,indicator,value\n"
            b"E01014399,2022-01,fire_deliberate,3\nE01014400,2022-01,fire_deliberate,1\n")
    at = upload(at, "fires jan.csv", data, partner="fire")
    assert not at.exception
    assert "Loaded 2 of 2 rows." in [s.value for s in at.success]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {"Rows read": "2", "Rows loaded": "2", "Rows quarantined": "0"}
    catalogue = at.dataframe[-1].value
    row = catalogue.set_index("indicator").loc["fire_deliberate"]
    assert row["partner"] == "fire" and 0 < row["area_coverage"] < 0.01
    with duckdb.connect(str(private_store), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM observations WHERE source = "
                           "'fires jan.csv'").fetchone() == (2,)


def test_bad_rows_are_reported_with_a_quarantine_download(private_store):
    at = app("pages/data.py", user="t_admin").run()
    at = upload(at, "negative_values.csv", (FIX / "negative_values.csv").read_bytes())
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Rows quarantined"] == "1" and metrics["Rows loaded"] == "1"
    table = at.dataframe[0].value
    assert table.iloc[0].to_dict() == {"row": 2, "column": "value", "reason": "value is negative"}
    assert at.download_button(key="data_quarantine") is not None


def test_unusable_file_is_refused_with_its_reason(private_store):
    at = app("pages/data.py", user="t_admin").run()
    at = upload(at, "empty.csv", b"")
    assert not at.exception
    assert any("Refused: is empty (0 bytes)" in e.value for e in at.error)
