"""Export: exactly the data behind a map, as a file an analyst can use elsewhere."""

from __future__ import annotations

import io

import pandas as pd

from dashboard.measures import COLUMNS
from loaders.safety import neutralise_formulae


def to_csv(view: pd.DataFrame, columns: list[str] | None = None) -> bytes:
    """The view's export columns as UTF-8 CSV bytes.

    ``columns`` defaults to the map view's: ``area_code, area_name, level,
    indicator, period_start, period_end, value, denominator, rate_per_1000,
    rank``. Pass a hotspot result's columns to export it whole.
    """
    buf = io.StringIO()
    frame = view[columns or COLUMNS]
    neutralise_formulae(frame).to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue().encode("utf-8")
