"""Fuzzing the partner CSV reader: any bytes give a table or a LoaderError, never a crash."""

import datetime as dt

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loaders.errors import LoaderError
from loaders.partner import validate
from loaders.readfile import read_partner_table
from loaders.reading import infer, to_tidy

CELLS = st.one_of(st.sampled_from(["E01014399", "E05010892", "2022-01", "fire_deliberate",
                                   "3", "-1", "", "=1+1", "x", "2022-Q1", "1,5", "nan"]),
                  st.text(max_size=12))
SEPARATORS = st.sampled_from([",", ";", "\t", "|"])


@st.composite
def csv_text(draw):
    sep = draw(SEPARATORS)
    header = draw(st.lists(st.sampled_from(["area_code", "period", "indicator", "value",
                                            "partner", "denominator", "other", "lsoa_code",
                                            "Month", "count", "Burglary"]),
                           min_size=0, max_size=6))
    rows = draw(st.lists(st.lists(CELLS, max_size=8), max_size=12))
    lines = [sep.join(header)] + [sep.join(r) for r in rows]
    return "\n".join(lines)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2048))
def test_any_bytes_give_a_table_or_a_loader_error(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("fuzz") / "f.csv"
    path.write_bytes(data)
    try:
        table = read_partner_table(path)
    except LoaderError as err:
        assert err.problems and "f.csv" in err.user_message
        return
    assert all(isinstance(c, str) for c in table.frame.columns)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(csv_text(), st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]))
def test_any_csv_reads_and_validates_with_every_row_accounted_for(tmp_path_factory, text,
                                                                    encoding):
    path = tmp_path_factory.mktemp("fuzz") / "f.csv"
    path.write_bytes(text.encode(encoding, errors="replace"))
    try:
        table = read_partner_table(path)
    except LoaderError:
        return
    try:
        tidy, _ = to_tidy(table, infer(table))
    except LoaderError as err:  # the reading names what is missing
        assert err.problems
        return
    checked = validate(tidy, known_codes={"E01014399", "E05010892"},
                       today=dt.date(2026, 11, 1))
    assert len(checked.good) + len(checked.quarantine) == len(tidy)
    assert set(checked.quarantine.get("row", pd.Series(dtype=int))) <= set(tidy["row"])
