"""The police.uk adapter counts good rows and keeps every other row with its reason."""

from pathlib import Path

import pytest

from loaders.errors import LoaderError
from loaders.policeuk import crime_indicator, is_policeuk_header, read_policeuk_file

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@pytest.mark.parametrize(("crime_type", "ident"), [
    ("Anti-social behaviour", "crime_anti_social_behaviour"),
    ("Violence and sexual offences", "crime_violence_and_sexual_offences"),
    ("Criminal damage and arson", "crime_criminal_damage_and_arson"),
    ("  Other theft ", "crime_other_theft"),
])
def test_crime_indicator_ids_are_snake_case(crime_type, ident):
    assert crime_indicator(crime_type) == ident


def test_mixed_file_counts_good_rows_and_keeps_the_rest_with_reasons():
    pf = read_policeuk_file(FIXTURES / "policeuk_mixed_street.csv", {"E01014399"})
    assert pf.rows_read == 8
    assert pf.rows_counted == 3
    assert pf.rows_counted + len(pf.kept_aside) == pf.rows_read
    kept = pf.kept_aside.set_index("row")
    assert kept.loc[4, "reason"].startswith("no LSOA code")
    assert kept.loc[5, "reason"] == "LSOA code is not a 2011 LSOA"
    assert (kept.loc[6, "column"], kept.loc[6, "reason"]) == ("Month", "month is not YYYY-MM")
    assert (kept.loc[7, "column"], kept.loc[7, "reason"]) == ("Crime type", "no crime type")
    assert kept.loc[8, "reason"] == "malformed LSOA code"
    counts = pf.counts.set_index("crime_type")["count"].to_dict()
    assert counts == {"Anti-social behaviour": 1, "Burglary": 1,
                      "Violence and sexual offences": 1}
    assert pf.force == "Avon and Somerset Constabulary"
    assert "8 rows read, 3 counted, 5 kept aside" in pf.summary()


def test_file_without_police_columns_is_refused_naming_the_file(tmp_path):
    bad = tmp_path / "not-police.csv"
    bad.write_text("area_code,value\nE01014399,3\n")
    with pytest.raises(LoaderError, match="not-police.csv.*police.uk columns"):
        read_policeuk_file(bad, {"E01014399"})
    assert not is_policeuk_header(["area_code", "value"])


def test_every_real_file_keeps_aside_rows_in_the_store(store, data):
    log = store.query("SELECT * FROM ingest_log WHERE source LIKE 'policeuk/%'")
    assert len(log) == len(list((data / "policeuk").glob("*/*-street.csv.gz"))) == 21
    assert (log["rows_read"] == log["rows_loaded"] + log["rows_quarantined"]).all()
    kept = store.query("SELECT source, count(*) AS n FROM quarantine "
                       "WHERE source LIKE 'policeuk/%' GROUP BY 1")
    merged = log.merge(kept, on="source")
    assert (merged["n"] == merged["rows_quarantined"]).all()
    assert log["rows_quarantined"].sum() > 0
