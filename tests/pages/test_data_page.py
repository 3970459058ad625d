"""Data page: a file is read and shown before anything is written; the steward can
change how it is read; then it loads, with a report and a quarantine download."""

import shutil
from pathlib import Path

import duckdb
import pytest

from tests.pages.conftest import app

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


READING = FIX / "reading"


def upload(at, name, data, partner=""):
    """Upload a file and read it: the preview, nothing written yet."""
    at.file_uploader(key="data_file").upload(name, data, "text/csv")
    at.text_input(key="data_partner").input(partner)
    at.button(key="data_read").click()
    return at.run()


def load(at, polarity="high_is_bad"):
    """Say which way is worse for each new indicator still without one, and load."""
    unset = [box for box in at.selectbox
             if (box.key or "").startswith("data_polarity_") and box.value is None]
    for box in unset:
        box.select(polarity)
    if unset:
        at = at.run()
    at.button(key="data_load").click()
    return at.run()


def rows_of(store, source):
    with duckdb.connect(str(store), read_only=True) as con:
        return con.execute("SELECT count(*) FROM observations WHERE source = ?",
                           [source]).fetchone()[0]


def test_good_file_is_shown_before_it_loads_and_joins_the_catalogue(private_store):
    at = app("pages/data.py", user="t_admin").run()
    assert not at.exception
    data = (b"area_code,period,indicator,value\n"
            b"E01014399,2022-01,fire_deliberate,3\nE01014400,2022-01,fire_deliberate,1\n")
    at = upload(at, "fires jan.csv", data, partner="fire")
    assert not at.exception
    assert "Recognised as **a table of figures**. Nothing has been written yet." in [
        m.value for m in at.markdown]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Rows that would load"] == "2"
    roles = at.dataframe[0].value.set_index("column")["read as"].to_dict()
    assert roles == {"area_code": "area code", "period": "period", "indicator": "indicator",
                     "value": "value"}
    assert rows_of(private_store, "fires jan.csv") == 0  # seen, not written
    at = load(at)
    assert not at.exception
    assert "Loaded 2 of 2 rows." in [s.value for s in at.success]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {"Rows read": "2", "Rows loaded": "2", "Hidden by the partner": "0",
                       "Rows quarantined": "0"}
    catalogue = at.dataframe[-1].value
    row = catalogue.set_index("indicator").loc["fire_deliberate"]
    assert row["partner"] == "fire" and 0 < row["area_coverage"] < 0.01
    assert rows_of(private_store, "fires jan.csv") == 2


def test_bad_rows_are_reported_with_a_quarantine_download(private_store):
    at = app("pages/data.py", user="t_admin").run()
    at = upload(at, "negative_values.csv", (FIX / "negative_values.csv").read_bytes())
    assert not at.exception
    assert {m.label: m.value for m in at.metric}["Rows quarantined"] == "1"
    at = load(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Rows quarantined"] == "1" and metrics["Rows loaded"] == "1"
    table = at.dataframe[0].value
    assert table.iloc[0].to_dict() == {"row": 2, "column": "value", "reason": "value is negative"}
    assert at.download_button(key="data_quarantine") is not None


def test_unusable_file_cannot_be_loaded_and_says_why(private_store):
    at = app("pages/data.py", user="t_admin").run()
    at = upload(at, "empty.csv", b"")
    assert not at.exception
    assert any("the file cannot load: is empty (0 bytes)" in w.value for w in at.warning)
    assert at.button(key="data_load").disabled


def test_a_steward_settles_what_the_file_lacks_before_it_loads(private_store):
    """An incident file needs the indicator its incidents count as: the preview says so,
    the steward types it, reads again, and loads."""
    at = app("pages/data.py", user="t_admin").run()
    at = upload(at, "incidents.csv", (READING / "incidents.csv").read_bytes(), partner="fire")
    assert not at.exception
    assert "Recognised as **a list of incidents, counted by LSOA and month**. Nothing has " \
        "been written yet." in [m.value for m in at.markdown]
    assert any("name the indicator its incidents are counted as" in w.value
               for w in at.warning)
    assert at.button(key="data_load").disabled
    at.text_input(key="data_pick_id").input("fire_test")
    at.button(key="data_reread").click()
    at = at.run()
    assert not at.exception
    assert not any("cannot load" in w.value for w in at.warning)
    roles = at.dataframe[0].value.set_index("column")["read as"].to_dict()
    assert roles["location"] == "position" and roles["datetime"] == "date"
    assert rows_of(private_store, "incidents.csv") == 0
    at = load(at)
    assert not at.exception
    assert rows_of(private_store, "incidents.csv") > 0


def test_ward_name_matches_and_breakdowns_show_before_loading(private_store):
    at = app("pages/data.py", user="t_admin").run()
    at = upload(at, "breakdowns.csv", (READING / "breakdowns.csv").read_bytes(),
                partner="health")
    roles = at.dataframe[0].value.set_index("column")["read as"].to_dict()
    assert roles["Sex"] == roles["Age group"] == "breakdown"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Hidden by the partner"] == "1"
    at.multiselect(key="data_pick_breakdowns").set_value([])
    at.button(key="data_reread").click()
    at = at.run()  # with no breakdowns every area's rows repeat: nothing would load
    assert any("no valid rows" in w.value for w in at.warning)
    at = upload(at, "ward_names.csv", (READING / "ward_names.csv").read_bytes(),
                partner="bcc")
    assert not at.exception
    assert at.expander[0].label == "Ward names matched to codes (5)"


def test_the_preview_asks_each_new_indicators_polarity_and_unit_before_it_loads(
        private_store):
    """A new indicator's polarity is asked, never assumed: the load waits for it, and
    the unit and polarity chosen are what the catalogue keeps."""
    at = app("pages/data.py", user="t_admin").run()
    data = (b"area_code,period,indicator,value\n"
            b"E05010889,2023,healthy_life_expectancy,61.2\n"
            b"E05010890,2023,healthy_life_expectancy,58.4\n")
    at = upload(at, "hle.csv", data, partner="health")
    assert not at.exception
    polarity = at.selectbox(key="data_polarity_healthy_life_expectancy")
    assert polarity.value is None
    assert at.button(key="data_load").disabled
    assert any("Choose a polarity for 1 new indicator under 'Polarity'" in i.value
               for i in at.info)
    at.selectbox(key="data_unit_healthy_life_expectancy").select("years")
    polarity.select("low_is_bad")
    at = at.run()
    assert not at.button(key="data_load").disabled
    at = load(at)
    assert not at.exception
    with duckdb.connect(str(private_store), read_only=True) as con:
        got = con.execute("SELECT unit, polarity, additive FROM catalogue "
                          "WHERE indicator = 'healthy_life_expectancy'").fetchone()
    assert got == ("years", "low_is_bad", False)


def test_a_steward_changes_an_indicators_details_without_loading_again(private_store):
    at = app("pages/data.py", user="t_steward").run()
    data = (b"area_code,period,indicator,value\n"
            b"E01014399,2022-01,school_absence,3\n")
    at.file_uploader(key="data_file").upload("absence.csv", data, "text/csv")
    at.button(key="data_read").click()
    at = load(at.run())
    assert not at.exception
    at.selectbox(key="details_indicator").select("school_absence")
    at = at.run()
    at.radio(key="details_polarity_school_absence").set_value("no_judgement")
    at.selectbox(key="details_unit_school_absence").select("percent")
    at.button(key="details_save").click()
    at = at.run()
    assert not at.exception
    assert [s.value.replace("\\:", ":") for s in at.success][-1] == (
        "Changed: unit: count → percent; polarity: higher is worse → neither: no better or "
        "worse")
    with duckdb.connect(str(private_store), read_only=True) as con:
        assert con.execute("SELECT unit, polarity FROM catalogue WHERE indicator = "
                           "'school_absence'").fetchone() == ("percent", "no_judgement")


def notes_of(at) -> list[str]:
    """The notes shown, as read (without the Markdown escapes)."""
    return [c.value.replace("\\", "") for c in at.caption if c.value.startswith("Note: ")]


def test_messages_on_the_page_name_the_form_fields_not_command_line_options(private_store):
    at = app("pages/data.py", user="t_admin").run()
    data = b"ref,When,lat,lon\n1,sometime,51.3811,-2.3590\n2,later,51.3750,-2.3700\n"
    at = upload(at, "reports.csv", data, partner="council")
    assert not at.exception
    said = " ".join(w.value for w in at.warning).replace("\\", "")
    assert "in lower_snake_case under 'Indicator id'" in said
    assert "--" not in said
    at.text_input(key="data_pick_id").input("council_reports")
    at.button(key="data_reread").click()
    at = at.run()
    said = " ".join(w.value for w in at.warning).replace("\\", "")
    assert "no date column could be read; choose it under 'Date column'" in said
    assert "--" not in said and at.button(key="data_load").disabled


def test_the_date_order_is_read_from_the_dates_and_can_be_chosen_on_the_form(private_store):
    at = app("pages/data.py", user="t_admin").run()
    at = upload(at, "ambiguous.csv", (READING / "incidents_uk_dates_ambiguous.csv")
                .read_bytes(), partner="council")
    at.text_input(key="data_pick_id").input("council_reports")
    at.button(key="data_reread").click()
    at = at.run()
    assert not at.exception
    assert any("read day first: every value is ambiguous (no part over 12); read day first, "
               "the UK order (choose the order under 'Date order')" in n
               for n in notes_of(at)), notes_of(at)
    assert not any("--" in n for n in notes_of(at))
    order = at.selectbox(key="data_pick_date_order")
    assert order.value == "" and order.format_func("") == "read from the dates (now day first)"
    at.selectbox(key="data_pick_date_order").set_value("month-first")
    at.button(key="data_reread").click()
    at = at.run()
    assert any("read month first, as chosen" in n for n in notes_of(at)), notes_of(at)
    at = load(at)
    assert not at.exception
    with duckdb.connect(str(private_store), read_only=True) as con:
        months = dict(con.execute("SELECT period_start, sum(value) FROM observations WHERE "
                                  "indicator = 'council_reports' GROUP BY 1").fetchall())
    assert months == {"2019-10": 1.0, "2019-11": 1.0, "2020-02": 1.0, "2020-05": 2.0}
