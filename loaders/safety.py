"""Text that a spreadsheet would run as a formula is neutralised before it leaves the app."""

from __future__ import annotations

import re

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NUMBER = r"[-+]?\d+(\.\d+)?([eE][-+]?\d+)?"  # a signed number is not a formula


def looks_like_formula(text: str) -> bool:
    """Whether text would run as a spreadsheet formula (a signed number would not)."""
    return text.startswith(FORMULA_START) and not re.fullmatch(NUMBER, text)


def neutralise_formulae(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix text cells that start like a formula with a quote (numbers are left alone)."""
    out = frame.copy()
    for col in out.columns:
        s = out[col]
        if s.dtype == object or pd.api.types.is_string_dtype(s):
            text = s.astype(str)
            risky = s.notna() & text.str.startswith(FORMULA_START) & \
                ~text.str.fullmatch(NUMBER)
            out[col] = s.where(~risky, "'" + text)
    return out
