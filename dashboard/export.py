"""Export: exactly the data behind a map, as a file an analyst can use elsewhere."""

from __future__ import annotations

import io

import pandas as pd

from dashboard.measures import COLUMNS

FORMULA_START = ("=", "+", "-", "@")


def neutralise_formulae(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix text cells that a spreadsheet would run as a formula with a quote."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            s = out[col]
            risky = s.astype(str).str.startswith(FORMULA_START) & s.notna()
            out[col] = s.where(~risky, "'" + s.astype(str))
    return out


def to_csv(view: pd.DataFrame) -> bytes:
    """The view's export columns as UTF-8 CSV bytes.

    Columns: ``area_code, area_name, level, indicator, period_start,
    period_end, value, denominator, rate_per_1000, rank``.
    """
    buf = io.StringIO()
    neutralise_formulae(view[COLUMNS]).to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue().encode("utf-8")
