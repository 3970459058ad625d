"""Partner files on the tidy contract: periods, and row checks with pandera.

The contract (DESIGN.md): one row per ``area_code`` x ``period`` x ``indicator``
with a ``value``; optional ``denominator`` and ``partner``. ``loaders.reading``
lays a file out on it (wide files, other column names, a period for the whole
file); police.uk street-level files go through the police.uk adapter. Every
row either loads or is kept in the quarantine with its file row, column and
reason.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pandera.pandas as pa

CODE = r"^[EW]0[15]\d{6}$"
INDICATOR = r"^[a-z][a-z0-9_]{1,63}$"
MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
QUARTER = re.compile(r"^(\d{4})-?Q([1-4])$", re.I)
YEAR = re.compile(r"^(\d{4})$")
FINANCIAL = re.compile(r"^(\d{4})/(\d{2})$")
FORMULA_START = ("=", "+", "-", "@")
FIRST_YEAR = 2000
# Cells a partner has hidden itself: "under 5", "<5", or a mark with no number.
UNDER = re.compile(r"^(?:under|less than|fewer than|<)\s*(\d+)$", re.I)
HIDDEN_MARKS = frozenset({"*", "c", "[c]", "x", "[x]", "..", "suppressed", "[low]", "~"})
BLANK = frozenset({"", "null", "na", "n/a", "nan", "none", "-"})  # a limit not given
TOLERANCE = 1e-6  # published limits are rounded as the value is


def hidden_range(text: str, k: int = 5) -> tuple[float, float] | None:
    """The range of a cell the partner hid, or None for any other text.

    ``under 5`` and ``<5`` are 1 to 4; a mark without a number (``*``, ``c``, ``x``,
    ``..``, ``suppressed``) is 1 to k-1 for the partner's threshold k.
    """
    t = str(text).strip().lower()
    if m := UNDER.match(t):
        return (1.0, float(int(m[1]) - 1)) if int(m[1]) > 1 else None
    if t in HIDDEN_MARKS:
        return (1.0, float(k - 1)) if k > 1 else (0.0, np.nan)  # hidden, range not known
    return None


@dataclass(frozen=True)
class Period:
    """A parsed period: its label and the dates it spans."""

    label: str
    start: dt.date
    end: dt.date


def parse_period(text: str) -> Period | None:
    """Parse ``YYYY-MM``, ``YYYY-Qn``, ``YYYY`` or financial ``YYYY/YY``; None if neither."""
    t = text.strip()
    if m := MONTH.match(t):
        y, mo = int(m[1]), int(m[2])
        end = (pd.Timestamp(y, mo, 1) + pd.offsets.MonthEnd(0)).date()
        return Period(t, dt.date(y, mo, 1), end)
    if m := QUARTER.match(t):
        y, q = int(m[1]), int(m[2])
        start = dt.date(y, 3 * q - 2, 1)
        end = (pd.Timestamp(start) + pd.offsets.QuarterEnd(0)).date()
        return Period(f"{y}-Q{q}", start, end)
    if m := YEAR.match(t):
        y = int(m[1])
        return Period(t, dt.date(y, 1, 1), dt.date(y, 12, 31))
    if m := FINANCIAL.match(t):
        y = int(m[1])
        if (y + 1) % 100 != int(m[2]):
            return None
        return Period(t, dt.date(y, 4, 1), dt.date(y + 1, 3, 31))
    return None


def looks_like_period(text: str) -> bool:
    """True for a column name that is a period (a wide-by-period file)."""
    return parse_period(str(text)) is not None


@dataclass
class Validated:
    """The rows that pass, and every row that does not, with its reason."""

    good: pd.DataFrame  # area_code, period, indicator, value, denominator, partner, row, ...
    quarantine: pd.DataFrame  # row, column, reason, record
    notes: list[str] = field(default_factory=list)


def by_value_of(fn, s: pd.Series) -> dict:
    """``fn`` of each distinct value of ``s`` (a long series repeats each period and
    value for every area), for ``s.map``."""
    values = pd.unique(s)
    return dict(zip(values, map(fn, values), strict=True))


def by_value(s: pd.Series, test) -> pd.Series:
    """``test`` of each cell, worked out once per distinct value."""
    return s.map(by_value_of(test, s)).astype(bool)


def _schema(known_codes: set[str], first_year: int, today: dt.date,
            negatives: set[str]) -> pa.DataFrameSchema:
    def known(s: pd.Series) -> pd.Series:
        return s.isin(known_codes) | ~s.str.match(CODE)  # malformed is reported once

    def plausible(s: pd.Series) -> pd.Series:
        def ok(text: str) -> bool:
            p = parse_period(text)
            return p is None or (p.start.year >= first_year and p.start <= today)
        return by_value(s, ok)

    def formula(s: pd.Series) -> pd.Series:
        return ~s.str.startswith(FORMULA_START)

    def non_negative(frame: pd.DataFrame) -> pd.Series:
        return (frame["value_num"] >= 0) | frame["value_num"].isna() | \
            frame["indicator"].isin(negatives)

    return pa.DataFrameSchema({
        "area_code": pa.Column(str, [
            pa.Check.str_matches(CODE, error="area code is not an LSOA (E01/W01) or ward "
                                 "(E05/W05) code"),
            pa.Check(known, element_wise=False, error="area code is not a known LSOA or ward"),
        ]),
        "period": pa.Column(str, [
            pa.Check(lambda s: by_value(s, looks_like_period),
                     error="period is not YYYY-MM, YYYY-Qn, YYYY or YYYY/YY"),
            pa.Check(plausible, error=f"period is in the future or before {first_year}"),
        ]),
        "indicator": pa.Column(str, [
            pa.Check(formula, error="indicator starts like a spreadsheet formula"),
            pa.Check.str_matches(INDICATOR, error="indicator id must be lower_snake_case "
                                 "(letters, digits, underscores)"),
        ]),
        "partner": pa.Column(str, pa.Check(formula, error="partner starts like a spreadsheet "
                                           "formula")),
        "value_num": pa.Column(float, nullable=False),  # NaN: empty or not a number
    }, checks=[pa.Check(non_negative, error="value is negative")], strict=False)


def validate(tidy: pd.DataFrame, *, known_codes: set[str], negatives: set[str] = frozenset(),
             first_year: int = FIRST_YEAR, today: dt.date | None = None,
             hidden_k: int = 5) -> Validated:
    """Check every row against the contract; quarantine, never drop, the failures.

    Duplicate (area, period, indicator, breakdown) rows are all quarantined, never
    summed. Published confidence limits (``lower``, ``upper``) must be numbers that
    contain the value; they become ``value_lower`` and ``value_upper``.
    A cell the partner hid (:func:`hidden_range`) is kept as hidden: ``value`` NaN,
    with ``value_low`` and ``value_high`` (``hidden_k`` is the partner's threshold
    for marks without a number).
    """
    today = today or dt.date.today()
    frame = tidy.copy()
    frame["value_num"] = pd.to_numeric(frame["value"].str.replace(",", "", regex=False),
                                       errors="coerce")
    frame.loc[~np.isfinite(frame["value_num"].fillna(0)), "value_num"] = np.nan
    ranges = frame["value"].map(by_value_of(lambda t: hidden_range(t, hidden_k),
                                            frame["value"]))
    hidden = ranges.notna() & frame["value_num"].isna()
    problems: list[tuple[int, str, str]] = []
    frame.loc[hidden, "value_num"] = 0.0  # passes the value checks; hidden again below
    frame["denominator_num"] = pd.to_numeric(frame["denominator"], errors="coerce")
    for col in ("breakdown", "lower", "upper"):
        if col not in frame:
            frame[col] = ""
    limits = {}
    for col in ("lower", "upper"):
        text = frame[col].astype(str).str.strip().str.replace(",", "", regex=False)
        limits[col] = pd.to_numeric(text.where(~text.str.lower().isin(BLANK)), errors="coerce")
        bad = text.ne("") & ~text.str.lower().isin(BLANK) & limits[col].isna()
        problems += [(i, col, f"{col} confidence limit is not a number")
                     for i in frame.index[bad]]
    outside = (limits["lower"] > frame["value_num"] + TOLERANCE) | \
        (limits["upper"] < frame["value_num"] - TOLERANCE)
    outside &= ~hidden
    problems += [(i, "lower", "the confidence limits do not contain the value")
                 for i in frame.index[outside]]
    try:
        _schema(known_codes, first_year, today, negatives).validate(frame, lazy=True)
    except pa.errors.SchemaErrors as err:
        cases = err.failure_cases
        for case in cases.itertuples():
            if pd.isna(case.index):
                continue
            check = str(case.check)
            if check == "not_nullable" or case.column == "value_num" or \
                    check == "value is negative":
                column = "value"
                check = "value is empty or not a number" if check == "not_nullable" else check
            else:
                column = str(case.column)
            problems.append((int(case.index), column, check))
    bad_denominator = frame["denominator"].ne("") & frame["denominator_num"].isna()
    problems += [(i, "denominator", "denominator is not a number")
                 for i in frame.index[bad_denominator]]
    failed = {i for i, _, _ in problems}
    clean = frame.drop(index=list(failed))
    dupes = clean.duplicated(["area_code", "period", "indicator", "breakdown"], keep=False)
    key = "area, period, indicator and breakdown" if frame["breakdown"].ne("").any() \
        else "area, period and indicator"
    problems += [(i, "area_code", f"duplicate {key} (not summed)") for i in clean.index[dupes]]
    first: dict[int, tuple[str, str]] = {}
    for i, column, reason in sorted(problems, key=lambda p: p[0]):
        first.setdefault(i, (column, reason))
    idx = sorted(first)
    record_cols = ["area_code", "period", "indicator", "value", "denominator", "partner",
                   *(["breakdown"] if frame["breakdown"].ne("").any() else [])]
    quarantine = pd.DataFrame({
        "row": frame.loc[idx, "row"].astype(int).values if idx else [],
        "column": [first[i][0] for i in idx],
        "reason": [first[i][1] for i in idx],
        "record": [",".join(frame.loc[i, record_cols].astype(str)) for i in idx],
    })
    good = frame.drop(index=idx)
    kept = hidden[good.index]
    low = ranges[good.index].map(lambda r: r[0] if isinstance(r, tuple) else np.nan)
    high = ranges[good.index].map(lambda r: r[1] if isinstance(r, tuple) else np.nan)
    good = good.assign(value=good["value_num"].where(~kept), denominator=good["denominator_num"],
                       value_lower=limits["lower"][good.index].where(~kept),
                       value_upper=limits["upper"][good.index].where(~kept),
                       value_low=low.where(kept).astype(float),
                       value_high=high.where(kept).astype(float), hidden=kept)
    return Validated(good=good.drop(columns=["value_num", "denominator_num"]),
                     quarantine=quarantine)
