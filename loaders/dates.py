"""The date of each incident in a partner's list, read as the partner wrote it.

Incident lists write dates in many layouts: ISO (``2021-03-02``), a US export's
``01/28/2010 08:40:18 PM +0000`` (month first), a UK council's ``11/11/2019
09:36:00 AM`` (day first), or the date split over ``Day``, ``Month`` (``March``,
``Mar`` or ``3``) and ``Year`` columns. :func:`find_date` finds the column(s) and
the layout; :func:`months` gives each row's calendar month.

Where day and month are both numbers, which comes first is read from the data: a
first part over 12 (``25/11/2019``) can only be a day, a second part over 12
(``11/25/2019``) only a day too. When every value could be either (``11/11/2019``),
the UK order, day first, is taken, and the report says so; the steward can choose
the order. Values that can only be read the other way than the column's order are
kept aside with their reason, never guessed.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass

import pandas as pd

from loaders.fields import ask
from loaders.readfile import normal

DATE_NAMES = ("datetime", "date_time", "date", "incident_date", "incident_datetime",
              "call_date", "date_of_call", "time_of_call", "reported_date", "occurred",
              "timestamp", "received_date", "receiveddate", "date_received", "report_date",
              "reportdate", "created", "created_date", "date_reported", "dateofincident")
YEAR_NAMES = ("year", "yr", "incident_year", "call_year", "year_of_call")
MONTH_NAMES = ("month", "mon", "month_name", "incident_month", "call_month", "month_of_call")
DAY_NAMES = ("day", "dd", "day_of_month", "incident_day", "call_day")
ORDERS = {"day-first": ("%d", "%m"), "month-first": ("%m", "%d")}
# Layouts with day and month as numbers, longest first ({} {} are day and month in the
# column's order); strict, so a layout reads a cell only when it reads all of it.
ORDERED_FORMATS = ("{}/{}/%Y %I:%M:%S %p %z", "{}/{}/%Y %I:%M:%S %p", "{}/{}/%Y %I:%M %p",
                   "{}/{}/%Y %H:%M:%S", "{}/{}/%Y %H:%M", "{}/{}/%Y", "{}-{}-%Y %H:%M:%S",
                   "{}-{}-%Y %H:%M", "{}-{}-%Y", "{}.{}.%Y %H:%M", "{}.{}.%Y", "{}/{}/%y")
# Layouts that say which part is the month.
PLAIN_FORMATS = ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M:%S%z", "%Y-%m-%d %H:%M:%S",
                 "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%Y/%m/%d", "%d %b %Y",
                 "%d %B %Y", "%d-%b-%Y", "%d-%b-%y", "%d %b %Y %H:%M", "%d %B %Y %H:%M")
READ_SHARE = 0.8  # a layout (or split columns) must read this share of a column's cells
SAMPLE = 500  # cells tried when choosing a layout; the order is decided on them all
MONTHS = {**{m.lower(): i for i, m in enumerate(calendar.month_name) if m},
          **{m.lower(): i for i, m in enumerate(calendar.month_abbr) if m}, "sept": 9}


@dataclass
class Dates:
    """Where an incident list keeps its dates and how they are read."""

    columns: tuple[str, ...]  # one column, or the year, month (and day) columns
    fmt: str = ""  # the layout of a single column (strptime codes)
    order: str | None = None  # "day-first" | "month-first" where day and month are numbers
    how: str = ""  # how the order was decided, for the report
    day: str | None = None  # of split columns: the day column, when it holds days

    def describe(self) -> str:
        """A sentence for the report: which column(s) and layout."""
        if self.fmt:
            said = f"'{self.columns[0]}' is read as the date ({self.fmt})"
        else:
            said = ("the date is read from " + ", ".join(map(repr, self.columns))
                    + " (year, month" + (", day" if self.day else "") + ")")
        return said + "; incidents are counted by calendar month"


def month_number(cell: object) -> int | None:
    """A month from ``"March"``, ``"Mar"``, ``"mar."``, ``"3"`` or ``"03"``; None if none."""
    text = str(cell).strip().lower().rstrip(".")
    if text.isdigit():
        return int(text) if 1 <= int(text) <= 12 else None
    return MONTHS.get(text)


def _parse(cells: pd.Series, fmt: str) -> pd.Series:
    return pd.to_datetime(cells, format=fmt, errors="coerce", utc="%z" in fmt)


def _cells(frame: pd.DataFrame, column: str) -> pd.Series:
    text = frame[column].astype(str).str.strip()
    return text[(text != "") & (text.str.lower() != "nan")]


def _ordered(column: str, cells: pd.Series, order: str | None) -> Dates | None:
    """A day/month layout of numbers, with its order read from the data (or as given)."""
    sample = cells.head(SAMPLE)
    for template in ORDERED_FORMATS:
        fmts = {o: template.format(*parts) for o, parts in ORDERS.items()}
        if not (_parse(sample, fmts["day-first"]).notna()
                | _parse(sample, fmts["month-first"]).notna()).mean() >= READ_SHARE:
            continue
        day = _parse(cells, fmts["day-first"]).notna()
        month = _parse(cells, fmts["month-first"]).notna()
        only_day, only_month = int((day & ~month).sum()), int((month & ~day).sum())
        if order in ORDERS:
            how = f"'{column}' read {order.replace('-', ' ')}, as chosen"
            if (only_month if order == "day-first" else only_day):
                how += (f" ({only_month if order == 'day-first' else only_day:,} can only be "
                        "read the other way: kept aside)")
        elif only_day or only_month:
            order = "day-first" if only_day >= only_month else "month-first"
            lead, other = (only_day, only_month) if order == "day-first" else \
                (only_month, only_day)
            part = "first" if order == "day-first" else "second"
            how = (f"'{column}' read {order.replace('-', ' ')}: {lead:,} values have a "
                   f"{part} part over 12")
            if other:
                how += (f"; {other:,} can only be read the other way: kept aside (choose "
                        f"the order {ask('date_order')})")
        else:
            order = "day-first"
            how = (f"'{column}' read day first: every value is ambiguous (no part over 12); "
                   f"read day first, the UK order (choose the order {ask('date_order')})")
        return Dates((column,), fmts[order], order, how)
    return None


def _single(frame: pd.DataFrame, column: str, order: str | None) -> Dates | None:
    cells = _cells(frame, column)
    if cells.empty:
        return None
    if found := _ordered(column, cells, order):
        return found
    sample = cells.head(SAMPLE)
    for fmt in PLAIN_FORMATS:
        if _parse(sample, fmt).notna().mean() >= READ_SHARE:
            return Dates((column,), fmt)
    return None


def _split(frame: pd.DataFrame, by_name: dict[str, str]) -> Dates | None:
    """Year and month columns (and a day column, when it holds days of the month)."""
    year = next((by_name[n] for n in YEAR_NAMES if n in by_name), None)
    month = next((by_name[n] for n in MONTH_NAMES if n in by_name), None)
    if not (year and month):
        return None
    years = pd.to_numeric(_cells(frame, year), errors="coerce")
    if not (years.between(1900, 2100) & (years % 1 == 0)).mean() >= READ_SHARE:
        return None
    if not _cells(frame, month).map(month_number).notna().mean() >= READ_SHARE:
        return None
    day = next((by_name[n] for n in DAY_NAMES if n in by_name), None)
    if day is not None:
        days = pd.to_numeric(_cells(frame, day), errors="coerce")
        day = day if days.between(1, 31).mean() >= READ_SHARE else None
    return Dates(tuple(c for c in (year, month, day) if c), day=day)


def find_date(frame: pd.DataFrame, named: str | None = None,
              order: str | None = None) -> Dates | None:
    """Where the dates are and how to read them; None when no column reads.

    Parameters
    ----------
    frame : DataFrame
        The incident list (text cells).
    named : str, optional
        The date column, as the steward chose it.
    order : {"day-first", "month-first"}, optional
        The order of day and month, where both are numbers; read from the data when
        None (day first, the UK order, when every value could be either).
    """
    if named:
        return _single(frame, named, order)
    by_name = {normal(c): c for c in reversed(list(frame.columns))}
    for name in DATE_NAMES:
        if name in by_name and (found := _single(frame, by_name[name], order)):
            return found
    if found := _split(frame, by_name):
        return found
    # A column whose name says it holds dates or times ("ReceivedDate", "Time Logged").
    for column in frame.columns:
        if re.search(r"date|time|when", normal(column)) and normal(column) not in DATE_NAMES \
                and (found := _single(frame, column, order)):
            return found
    return None


def months(frame: pd.DataFrame, dates: Dates) -> pd.Series:
    """``YYYY-MM`` of each row's date ('' where it cannot be read)."""
    if dates.fmt:
        when = _parse(frame[dates.columns[0]].astype(str).str.strip(), dates.fmt)
        return when.dt.strftime("%Y-%m").fillna("")
    year = pd.to_numeric(frame[dates.columns[0]].astype(str).str.strip(), errors="coerce")
    month = frame[dates.columns[1]].map(month_number)
    ok = year.between(1900, 2100) & (year % 1 == 0) & month.notna()
    text = pd.Series("", index=frame.index, dtype=object)
    text[ok] = [f"{int(y):04d}-{int(m):02d}" for y, m in zip(year[ok], month[ok], strict=True)]
    if dates.day:  # a day that is not in its month (31 February) makes the date unreadable
        day = pd.to_numeric(frame[dates.day].astype(str).str.strip(), errors="coerce")
        real = pd.to_datetime(text.where(ok, "") + "-" + day.astype("Int64").astype(str),
                              format="%Y-%m-%d", errors="coerce").notna()
        text[~real] = ""
    return text


def other_way(frame: pd.DataFrame, dates: Dates) -> pd.Series:
    """Rows whose date reads only in the other order of day and month than the
    column's (``12/30/2019`` in a column read day first)."""
    if dates.order not in ORDERS:
        return pd.Series(False, index=frame.index)
    swap = {"%d": "%m", "%m": "%d"}
    fmt = re.sub(r"%[dm]", lambda m: swap[m[0]], dates.fmt)
    return _parse(frame[dates.columns[0]].astype(str).str.strip(), fmt).notna()


def unreadable(frame: pd.DataFrame, dates: Dates, month: pd.Series) -> pd.Series:
    """For each row whose date cannot be read: the column to blame ('' for readable rows)."""
    out = pd.Series("", index=frame.index, dtype=object)
    bad = month == ""
    if dates.fmt:
        out[bad] = dates.columns[0]
        return out
    year = pd.to_numeric(frame[dates.columns[0]].astype(str).str.strip(), errors="coerce")
    year_bad = ~(year.between(1900, 2100) & (year % 1 == 0))
    month_bad = frame[dates.columns[1]].map(month_number).isna()
    out[bad] = dates.day or dates.columns[1]
    out[bad & month_bad] = dates.columns[1]
    out[bad & year_bad] = dates.columns[0]
    return out
