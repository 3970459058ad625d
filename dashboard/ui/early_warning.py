"""What the pages show of forecasts and early warning: the forecast table's columns,
the unusual areas and a process control chart, drawn the same way on every page."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import LoaderError
from dashboard.analysis import forecast
from dashboard.filters import ViewFilter
from dashboard.ui import cached, session, widgets
from dashboard.ui.session import Context
from dashboard.views import charts


def forecast_columns() -> dict:
    """Column settings of a forecast table."""
    number = st.column_config.NumberColumn
    return {"area_name": st.column_config.TextColumn("area"),
            "area_code": st.column_config.TextColumn("code"),
            "predicted": number("expected", format="%.1f",
                                help="The forecast's expected count"),
            "predicted_lower_80": number("80% from", format="%d"),
            "predicted_upper_80": number("80% to", format="%d",
                                         help="The count is 80 % likely to be in this range"),
            "predicted_lower_95": number("95% from", format="%d"),
            "predicted_upper_95": number("95% to", format="%d",
                                         help="The count is 95 % likely to be in this range")}


def unusual_areas(flt: ViewFilter, v: Context, noun: str) -> pd.DataFrame | None:
    """The areas whose month ``flt.period_end`` was outside its forecast's 99 % range,
    listed with their figures and what they mean; the whole test (None if it could
    not be made, with the reason shown)."""
    try:
        every = cached.exceptions_result(flt, v)
    except LoaderError as err:
        st.warning(err.user_message, icon=":material/warning:")
        return None
    flagged = every[every["flagged"]]
    tested = every.attrs["tested"]
    chance = (1 - forecast.WARNING) * tested
    if flagged.empty:
        st.success(f"No {noun[:-1]} was unusual in {flt.period_end}: every one of the "
                   f"{tested:,} tested was inside its forecast's 99 % range.",
                   icon=":material/check:")
    else:
        worse = (flagged["judgement"] == "worse").sum()
        better = (flagged["judgement"] == "better").sum()
        st.markdown(f"**{len(flagged)} of {tested:,} {noun} "
                    f"{'was' if len(flagged) == 1 else 'were'} unusual in "
                    f"{flt.period_end}**: " + ", ".join(
                        f"{n} {w}" for n, w in ((worse, "worse than expected"),
                                                (better, "better than expected")) if n)
                    + ("" if worse + better == len(flagged) else
                       f"{len(flagged) - worse - better} higher or lower than expected")
                    + ".")
        shown = flagged.assign(signal=[charts.SIGNAL_WORDS[_signal(j)]
                                       for j in flagged["judgement"]])
        columns = ["area_name", "area_code", "observed", "expected", "expected_lower_99",
                   "expected_upper_99", "signal", "p_value", "q_value"]
        styled = shown[columns].style.map(charts.signal_style, subset=["signal"]).format(
            {"observed": "{:,.0f}", "expected": "{:,.1f}", "expected_lower_99": "{:,.0f}",
             "expected_upper_99": "{:,.0f}", "p_value": "{:.1e}", "q_value": "{:.1e}"})
        st.dataframe(styled,
                     hide_index=True, width="stretch", column_config={
            "area_name": st.column_config.TextColumn("area"),
            "area_code": st.column_config.TextColumn("code"),
            "observed": st.column_config.NumberColumn("count", format="%d"),
            "expected": st.column_config.NumberColumn("expected", format="%.1f"),
            "expected_lower_99": st.column_config.NumberColumn("99% from", format="%d"),
            "expected_upper_99": st.column_config.NumberColumn("99% to", format="%d"),
            "signal": st.column_config.TextColumn("signal"),
            "p_value": st.column_config.NumberColumn(
                "p", format="%.1e", help="How likely a month this far from expected "
                "would be by chance (two-sided)"),
            "q_value": st.column_config.NumberColumn(
                "q (FDR)", format="%.1e", help="Benjamini-Hochberg q-value across the "
                f"tested {noun}: at {forecast.FDR:.2f} or less it survives false discovery "
                "rate control at 5 %")})
    st.caption(f"Each {noun[:-1]}'s count in {flt.period_end} against the count expected "
               "from the months before it. Outside its 99 % range is unusual; about "
               f"{chance:.0f} of {tested:,} would be by chance in a month, so read one flag "
               "with care and a run of them (the chart) with more. "
               f"{every.attrs['untested']:,} {noun} were not tested: their month has no "
               "figure, is hidden, or is a small count.")
    return every


def _signal(judgement: str) -> str:
    return {"worse": "concern", "better": "improvement"}.get(judgement, judgement or "common")


def control_chart(flt: ViewFilter, area: str, name: str, v: Context) -> None:
    """One area's process control chart with its variation icon, and its figures."""
    try:
        chart = cached.control_chart(flt, area, v)
    except LoaderError as err:
        st.warning(err.user_message, icon=":material/warning:")
        return
    title = chart.attrs["title"]
    last = chart.iloc[-1]
    higher = bool(last["observed"] > last["expected"]) if pd.notna(last["observed"]) else False
    words = (f"{last['period']}: {charts.SIGNAL_WORDS[last['signal']]}"
             + (f" ({last['rule']})" if last["rule"] else "")
             if pd.notna(last["observed"]) else f"{last['period']}: hidden (a small count)")
    st.html(charts.variation_icon(last["signal"] if pd.notna(last["observed"]) else "common",
                                  higher, f"{name}, {words}"))
    st.altair_chart(charts.control_chart(chart, widgets.plain(title)), width="stretch")
    st.caption("Dashed: the count expected each month from the months before it; grey "
               "band: its 99 % limits. A month outside them, or a run of "
               f"{forecast.RUN} or more on one side of expected, is special cause "
               "variation: orange where it is worse, blue where it is better, as NHS "
               "England's Making Data Count charts show it. Grey points are common cause.")
    with st.expander("These figures as a table"):
        st.dataframe(chart.drop(columns=["hidden"]), hide_index=True, width="stretch")


def indicator_picker(key: str, among: list[str] | None = None) -> str | None:
    """A picker of the count indicators with enough months for a forecast (``among``
    them, when given), the police's monthly all crime first; None if there are none."""
    v = session.version()
    ids = [i for i in cached.forecastable(v) if among is None or i in among]
    if not ids:
        return None
    titles = cached.catalogue(v).set_index("indicator")["title"]
    first = next((i for i in ("monthly_crime_count", "crime_all") if i in ids), ids[0])
    return st.selectbox("Indicator", ids, index=ids.index(first), format_func=titles.get,
                        key=f"{key}_ew_indicator", help="Counts with at least "
                        f"{forecast.MIN_MONTHS} months: what a forecast needs.")


def month_to(indicator: str, end: str, v: Context) -> str:
    """The indicator's latest month up to ``end`` (its first month if none is)."""
    months = forecast.only_months(cached.months(indicator, v))
    earlier = [m for m in months if m <= end]
    return earlier[-1] if earlier else months[0]


NONE_YET = (f"No count shared with you has the {forecast.MIN_MONTHS} months a forecast "
            "needs yet. Early warning appears here once a partner's monthly series is long "
            "enough.")
