"""The Partner data page's upload form: how a file will be read, as choices a
steward can change before loading."""

from __future__ import annotations

import streamlit as st

from dashboard.partners import DATE_ORDERS

WHOLE_FILE = "(one for the whole file)"

def reading_choices(reading: dict, columns: list[str]) -> dict:
    """Widgets to change how a partner file is read (inside a form), prefilled with the
    current reading; returns the choices as the command line's options name them."""
    def pick(label: str, current: str | None, options: list[str], help: str) -> str | None:
        index = options.index(current) if current in options else None
        return st.selectbox(label, options, index=index, placeholder="choose a column",
                            help=help, key=f"data_pick_{label}")

    out: dict[str, str] = {}
    c1, c2, c3 = st.columns(3)
    if reading.get("kind") == "incidents":
        with c1:
            out["period"] = pick("Date column", reading.get("period"), columns,
                                 "Incidents are counted by the calendar month of this date.")
            now = DATE_ORDERS.get(reading.get("date_order") or "", "")
            found = "read from the dates" + (f" (now {now.split(' (')[0]})" if now else "")
            out["date_order"] = st.selectbox(
                "Date order", ["", *DATE_ORDERS],
                format_func=lambda o: DATE_ORDERS.get(o, found), key="data_pick_date_order",
                help="Where day and month are both numbers (11/03/2019): which comes "
                "first. Read from the dates (a part over 12 can only be a day); day first, "
                "the UK order, when every date could be either.")
        with c2:
            out["value"] = pick("Category column", reading.get("value"), columns,
                                "Splits the counts into one indicator per category.")
        out["indicator"] = c3.text_input(
            "Indicator id", value=reading.get("indicator") or "", key="data_pick_id",
            placeholder="e.g. fire_incidents",
            help="What the incidents are counted as, in lower_snake_case.")
        return {k: v for k, v in out.items() if v}
    with c1:
        out["code"] = pick("Area codes or ward names", reading.get("code"), columns,
                           "The column of LSOA or ward codes, or of ward names.")
    period = reading.get("period")
    with c2:
        chosen = pick("Period", period if period in columns else WHOLE_FILE,
                      [WHOLE_FILE, *columns], "A column of periods, or one period for "
                      "every row.")
        whole = st.text_input("Period of the whole file", value="" if period in columns
                              else period or "", placeholder="2024 or 2024-04:2026-04",
                              key="data_pick_whole_period")
        out["period"] = whole if chosen == WHOLE_FILE else chosen
    indicator = reading.get("indicator")
    with c3:
        chosen = pick("Indicator", indicator if indicator in columns else WHOLE_FILE,
                      [WHOLE_FILE, *columns], "A column of indicator ids or names, or one "
                      "id for every row.")
        whole = st.text_input("Indicator id of the whole file",
                              value="" if indicator in columns else indicator or "",
                              placeholder="e.g. falls_admissions", key="data_pick_whole_id")
        out["indicator"] = whole if chosen == WHOLE_FILE else chosen
    d1, d2 = st.columns(2)
    if not reading.get("wide_periods"):
        values = d1.multiselect("Value column(s)", columns, default=[
            v for v in reading.get("value") or [] if v in columns], key="data_pick_values",
            help="One column of figures; several make one indicator each.")
        out["value"] = ",".join(values)
    breakdowns = d2.multiselect(
        "Breakdown columns", columns, default=[b for b in reading.get("breakdown") or []
                                               if b in columns],
        key="data_pick_breakdowns", help="Columns such as sex or age group: each value is "
        "kept apart, and NULL, All or Persons mean the total.")
    out["breakdown"] = ",".join(breakdowns) or "none"
    return {k: v for k, v in out.items() if v}
