"""Export: exactly the data behind a map, as a file an analyst can use elsewhere."""

from __future__ import annotations

import io

import pandas as pd

from dashboard.measures import COLUMNS
from loaders.safety import neutralise_formulae


def to_csv(view: pd.DataFrame) -> bytes:
    """The view's export columns as UTF-8 CSV bytes.

    Columns: ``area_code, area_name, level, indicator, period_start,
    period_end, value, denominator, rate_per_1000, rank``.
    """
    buf = io.StringIO()
    neutralise_formulae(view[COLUMNS]).to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue().encode("utf-8")
