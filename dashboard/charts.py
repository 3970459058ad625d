"""Charts and small presentational helpers that return altair charts or frames."""

from __future__ import annotations

import math

import altair as alt
import numpy as np
import pandas as pd

UNIT_WORDS = {"count": "", "rank": "mean rank", "score": "mean score", "ratio": "mean ratio",
              "rate": "mean rate", "proportion": "mean share"}


def headline_value(row: dict) -> str:
    """A region headline as text: a total for counts, a weighted mean otherwise."""
    value = row["value"]
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "no data"
    if row["unit"] == "count":
        return f"{value:,.0f}"
    return f"{value:,.2f}" if abs(value) < 1000 else f"{value:,.0f}"


def short_title(title: str) -> str:
    """A catalogue title without its partner prefix, for a compact card."""
    return title.split(": ", 1)[1] if title.startswith("Police: ") else title


def headline_rate(row: dict) -> str | None:
    """``"12.3 per 1,000"`` for a count with a denominator, else None."""
    rate = row["rate_per_1000"]
    return None if rate != rate or rate is None else f"{rate:,.1f} per 1,000 residents"


def headline_help(row: dict) -> str:
    """Tooltip text for a headline: period, method and coverage."""
    period = row["period_start"] if row["period_start"] == row["period_end"] else \
        f"{row['period_start']} to {row['period_end']}"
    how = "Total over the region" if row["unit"] == "count" else \
        f"Population-weighted {UNIT_WORDS[row['unit']]} of the region's LSOAs"
    rate = "" if row["rate_per_1000"] != row["rate_per_1000"] else \
        f"; {row['rate_per_1000']:,.1f} per 1,000 residents"
    return (f"{how}, {period}{rate}. Data for {row['areas_with_data']:,} of "
            f"{row['areas']:,} LSOAs.")


def top_areas(top: pd.DataFrame) -> alt.Chart:
    """A horizontal bar chart of areas by rate per 1,000, highest first."""
    data = top.assign(label=top["area_name"] + " (" + top["lad_name"].fillna("") + ")")
    return alt.Chart(data).mark_bar(color="#f03b20").encode(
        x=alt.X("rate_per_1000:Q", title="Rate per 1,000 residents"),
        y=alt.Y("label:N", sort="-x", title=None, axis=alt.Axis(labelLimit=320)),
        tooltip=[alt.Tooltip("area_name:N", title="Area"),
                 alt.Tooltip("area_code:N", title="Code"),
                 alt.Tooltip("value:Q", title="Count", format=",.0f"),
                 alt.Tooltip("rate_per_1000:Q", title="Rate per 1,000", format=",.2f"),
                 alt.Tooltip("rank:Q", title="Rank")],
    ).properties(height=min(32 * max(len(data), 1), 360))


def freshness(catalogue: pd.DataFrame) -> pd.DataFrame:
    """How fresh each indicator is: its latest period, vintage and source."""
    return pd.DataFrame({
        "Indicator": catalogue["title"], "Partner": catalogue["partner"],
        "Latest period": catalogue["last_period"], "First period": catalogue["first_period"],
        "Periods": catalogue["n_periods"], "Vintage": catalogue["vintage"],
        "Source": catalogue["source"]})


def profile_chart(profile: pd.DataFrame, ward_name: str) -> alt.Chart:
    """A spine chart: each indicator's ward and district figures against the region's.

    Figures are shown as a percentage of the region's (the region is 100), so
    indicators in different units share one axis; a dot is red where the ward
    is worse than the region (by the indicator's polarity) and blue where better.
    """
    data = profile[profile["figure"].notna() & profile["region"].notna()
                   & (profile["region"] != 0)].copy()
    data["label"] = data["title"].str.replace("Police: ", "", regex=False)
    data["ward_index"] = data["figure"] / data["region"] * 100
    data["district_index"] = data["district"] / data["region"] * 100
    worse = np.where(data["polarity"] == "low_is_bad", data["ward_index"] < 100,
                     data["ward_index"] > 100)
    data["compared"] = np.where(worse, "worse than the region", "better than the region")
    order = data.sort_values("ward_index", ascending=False)["label"].tolist()
    y = alt.Y("label:N", sort=order, title=None, axis=alt.Axis(labelLimit=300))
    base = alt.Chart(data)
    rule = alt.Chart(pd.DataFrame({"x": [100]})).mark_rule(color="#555", strokeDash=[4, 3]) \
        .encode(x="x:Q")
    district = base.mark_tick(color="#444", thickness=2, size=14).encode(
        x=alt.X("district_index:Q"), y=y,
        tooltip=[alt.Tooltip("district_name:N", title="District"),
                 alt.Tooltip("district:Q", title="District figure", format=",.2f")])
    ward = base.mark_circle(size=110, opacity=0.9).encode(
        x=alt.X("ward_index:Q", title=f"{ward_name} and its district, as % of the region "
                "(dashed line = region)", scale=alt.Scale(type="symlog")),
        y=y, color=alt.Color("compared:N", title=None, scale=alt.Scale(
            domain=["worse than the region", "better than the region"],
            range=["#d7301f", "#2171b5"]), legend=alt.Legend(orient="bottom")),
        tooltip=[alt.Tooltip("label:N", title="Indicator"),
                 alt.Tooltip("figure:Q", title=ward_name, format=",.2f"),
                 alt.Tooltip("district:Q", title="District", format=",.2f"),
                 alt.Tooltip("region:Q", title="Region", format=",.2f"),
                 alt.Tooltip("measure:N", title="Compared"),
                 alt.Tooltip("period:N", title="Period")])
    return (rule + district + ward).properties(height=26 * max(len(data), 1) + 40)


def trend_chart(trend: pd.DataFrame, title: str) -> alt.Chart:
    """The ward's monthly figure beside the region's."""
    return alt.Chart(trend).mark_line(point=True).encode(
        x=alt.X("period:O", title="Month"),
        y=alt.Y("figure:Q", title=title),
        color=alt.Color("area:N", title=None, scale=alt.Scale(range=["#d7301f", "#636363"]),
                        legend=alt.Legend(orient="bottom")),
        tooltip=[alt.Tooltip("area:N", title="Area"), alt.Tooltip("period:O", title="Month"),
                 alt.Tooltip("figure:Q", title=title, format=",.2f")],
    ).properties(height=260)
