"""Charts and small presentational helpers that return altair charts or frames."""

from __future__ import annotations

import html
import math

import altair as alt
import numpy as np
import pandas as pd

UNIT_WORDS = {"count": "", "rank": "mean rank", "score": "mean score", "ratio": "mean ratio",
              "rate": "mean rate", "proportion": "mean share", "change": "mean change"}


def headline_value(row: dict) -> str:
    """A region headline as text: a total for counts, a weighted mean otherwise."""
    value = row["value"]
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "no data"
    if row["unit"] == "count":
        return f"{value:,.0f}"
    return f"{value:,.2f}" if abs(value) < 1000 else f"{value:,.0f}"


def headline_change(row: dict) -> tuple[str | None, str]:
    """The change on a year before for an overview card, and its colour: the delta
    text (``+12% on a year ago``) and ``inverse``/``normal`` by polarity, or
    ``off`` when the change is not significant."""
    ratio = row.get("rate_ratio")
    if ratio is None or pd.isna(ratio):
        return None, "off"
    change = row.get("change_on_year_before")
    words = f"{ratio - 1:+.0%} on a year ago"  # short: a card's delta is cut off
    if change == "similar":
        return words + " (not significant)", "off"
    return words + " (significant)", "inverse" if row.get("polarity") != "low_is_bad" \
        else "normal"


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
        f"Population-weighted {UNIT_WORDS.get(row['unit'], 'mean')} of the region's LSOAs"
    rate = "" if row["rate_per_1000"] != row["rate_per_1000"] else \
        f"; {row['rate_per_1000']:,.1f} per 1,000 residents"
    return (f"{how}, {period}{rate}. Data for {row['areas_with_data']:,} of "
            f"{row['areas']:,} LSOAs.")


RANKING_BAR = "#d7301f"  # 4.5:1 on white: the bars read as well as the text


def ranking_html(top: pd.DataFrame, column: str = "rate_per_1000",
                 title: str = "Rate per 1,000 residents", *, caption: str = "",
                 digits: int = 2) -> str:
    """The areas of most need as an HTML table with a bar in each row (the order of
    ``top``, which :func:`dashboard.measures.most_need` gives).

    A table, not a chart: a screen reader reads it as rows and columns, it needs
    no text alternative, and the page draws it without starting a chart engine
    (the map page is measured against a bare map in ``benchmarks/page_ready.py``).
    Names come from partners' files, so every text is escaped.
    """
    values = pd.to_numeric(top[column], errors="coerce")
    peak = float(values.abs().max()) if values.notna().any() else 0.0
    rows = []
    for i, ((_, row), value) in enumerate(zip(top.iterrows(), values, strict=True), 1):
        share = 0.0 if not peak or pd.isna(value) or value <= 0 else value / peak * 100
        figure = "no data" if pd.isna(value) else f"{value:,.{digits}f}"
        rank = f"{i:,}" if pd.isna(row.get("rank", np.nan)) else f"{int(row['rank']):,}"
        rows.append(
            f"<tr><td class='n'>{rank}</td>"
            f"<th scope='row'>{html.escape(str(row['area_name']))} "
            f"<span class='c'>{html.escape(str(row['area_code']))}</span></th>"
            f"<td>{html.escape(str(row.get('lad_name') or ''))}</td>"
            f"<td class='v'><span class='b' aria-hidden='true' "
            f"style='width:{share * 0.7:.1f}%'></span><span>{figure}</span></td></tr>")
    return (
        "<style>.oda-rank{border-collapse:collapse;width:100%;font-size:.92em}"
        ".oda-rank caption{text-align:left;caption-side:bottom;padding-top:.4em;"
        "font-size:.9em}"
        ".oda-rank th,.oda-rank td{padding:3px 8px;border-bottom:1px solid #e3e3e3;"
        "text-align:left;font-weight:normal;vertical-align:middle}"
        ".oda-rank thead th{font-weight:600;border-bottom:1px solid #595959}"
        ".oda-rank .n{text-align:right;width:3em}.oda-rank .c{font-size:.85em}"
        ".oda-rank .v{width:40%;white-space:nowrap}"
        f".oda-rank .b{{display:inline-block;height:.9em;background:{RANKING_BAR};"
        "margin-right:.4em;vertical-align:middle}</style>"
        "<table class='oda-rank'>"
        + (f"<caption>{html.escape(caption)}</caption>" if caption else "")
        + "<thead><tr><th scope='col' class='n'>Rank</th><th scope='col'>Area</th>"
        f"<th scope='col'>District</th><th scope='col'>{html.escape(title)}</th></tr>"
        f"</thead><tbody>{''.join(rows)}</tbody></table>")


def monthly_trends(monthly: pd.DataFrame, titles: dict[str, str]) -> alt.Chart:
    """Small multiples of each monthly count's regional total, one panel per indicator
    on its own scale, with a description a screen reader announces (the figures
    themselves are in :func:`monthly_table`)."""
    data = monthly.assign(title=monthly["indicator"].map(titles).fillna(monthly["indicator"])
                          .map(short_title),
                          month=pd.to_datetime(monthly["period_start"] + "-01"))
    first, last = data["period_start"].min(), data["period_start"].max()
    return alt.Chart(data).mark_area(line={"color": "#08519c"}, color="#c6dbef").encode(
        x=alt.X("month:T", title=None, axis=alt.Axis(format="%b %Y", tickCount=3)),
        y=alt.Y("value:Q", title=None, axis=alt.Axis(tickCount=2, format=",.0f")),
        tooltip=[alt.Tooltip("title:N", title="Indicator"),
                 alt.Tooltip("period_start:N", title="Month"),
                 alt.Tooltip("value:Q", title="Total", format=",.0f")],
    ).properties(width=165, height=70).facet(
        facet=alt.Facet("title:N", title=None, header=alt.Header(labelFontSize=12)),
        columns=4,
    ).resolve_scale(y="independent").properties(
        description=f"Monthly totals for the region of {data['indicator'].nunique()} "
        f"indicators, {first} to {last}, one small chart each. The same figures are in "
        "the table below the charts.")


def monthly_table(monthly: pd.DataFrame, titles: dict[str, str]) -> pd.DataFrame:
    """The monthly totals as a table (indicators as rows, months as columns): the text
    alternative of :func:`monthly_trends`. A month whose total includes a cell the
    partner hid is blank, never a total without it."""
    table = monthly.assign(Indicator=monthly["indicator"].map(titles)
                           .fillna(monthly["indicator"])) \
        .pivot(index="Indicator", columns="period_start", values="value")
    return table.rename_axis(columns=None).reset_index()


def freshness(catalogue: pd.DataFrame) -> pd.DataFrame:
    """How fresh each indicator is: its latest period, vintage and source."""
    return pd.DataFrame({
        "Indicator": catalogue["title"], "Partner": catalogue["partner"],
        "Latest period": catalogue["last_period"], "First period": catalogue["first_period"],
        "Periods": catalogue["n_periods"], "Vintage": catalogue["vintage"],
        "Source": catalogue["source"]})


def profile_chart(profile: pd.DataFrame, ward_name: str) -> alt.Chart:
    """A spine chart: where the ward, its district and the region fall among the
    region's wards on each indicator (0 = least need, 100 = most need).

    Positions, not raw figures, put indicators in different units on one axis.
    A dot is red where the ward shows more need than the region, blue where less.
    """
    data = profile[profile["position"].notna()].copy()
    data["label"] = data["title"].str.replace("Police: ", "", regex=False)
    data["interval"] = [f"{lo:,.2f} to {hi:,.2f}" if pd.notna(lo) and pd.notna(hi)
                        else "not published" for lo, hi in zip(
                            data["lower_95"], data["upper_95"], strict=True)] \
        if "lower_95" in data else "not published"
    worse = data["position"] > data["region_position"]
    data["compared"] = np.where(worse, "more need than the region",
                                "less need than the region")
    order = data.sort_values("position", ascending=False)["label"].tolist()
    y = alt.Y("label:N", sort=order, title=None, axis=alt.Axis(labelLimit=300))
    x = alt.X("position:Q", title="Position among the region's wards (100 = most need)",
              scale=alt.Scale(domain=[0, 100]))
    base = alt.Chart(data)
    band = base.mark_bar(color="#eeeeee", height=12).encode(
        x=alt.X("zero:Q", scale=alt.Scale(domain=[0, 100])), x2="hundred:Q", y=y) \
        .transform_calculate(zero="0", hundred="100")
    region = base.mark_tick(color="#555", thickness=2, size=16).encode(
        x="region_position:Q", y=y,
        tooltip=[alt.Tooltip("region:Q", title="Region", format=",.2f")])
    district = base.mark_point(shape="diamond", color="#444", filled=False, size=60).encode(
        x="district_position:Q", y=y,
        tooltip=[alt.Tooltip("district_name:N", title="District"),
                 alt.Tooltip("district:Q", title="District figure", format=",.2f")])
    ward = base.mark_circle(size=120, opacity=0.95).encode(
        x=x, y=y, color=alt.Color("compared:N", title=None, scale=alt.Scale(
            domain=["more need than the region", "less need than the region"],
            range=["#d7301f", "#2171b5"]), legend=alt.Legend(orient="bottom")),
        tooltip=[alt.Tooltip("label:N", title="Indicator"),
                 alt.Tooltip("figure:Q", title=ward_name, format=",.2f"),
                 alt.Tooltip("interval:N", title="95% confidence interval"),
                 alt.Tooltip("district:Q", title="District", format=",.2f"),
                 alt.Tooltip("region:Q", title="Region", format=",.2f"),
                 alt.Tooltip("measure:N", title="Compared"),
                 alt.Tooltip("period:N", title="Period")])
    return (band + region + district + ward).properties(
        description=f"Spine chart: where {ward_name}, its district and the region fall "
        f"among the region's wards on {len(data)} indicators. The same figures are in the "
        "table 'Every indicator' below the chart.",
        height=26 * max(len(data), 1) + 40,
        title=alt.TitleParams(f"{ward_name} (dot), its district (diamond) and the region "
                              "(tick)", fontSize=12, anchor="start"))


def trend_chart(trend: pd.DataFrame, title: str) -> alt.Chart:
    """The ward's monthly figure beside the region's."""
    return alt.Chart(trend).mark_line(point=True).encode(
        x=alt.X("period:O", title="Month"),
        y=alt.Y("figure:Q", title=title),
        color=alt.Color("area:N", title=None, scale=alt.Scale(range=["#d7301f", "#636363"]),
                        legend=alt.Legend(orient="bottom")),
        tooltip=[alt.Tooltip("area:N", title="Area"), alt.Tooltip("period:O", title="Month"),
                 alt.Tooltip("figure:Q", title=title, format=",.2f")],
    ).properties(height=260, description=f"Line chart: {title} by month, the ward beside "
                 "the region. The same figures are in the table below the chart.")


def trend_table(trend: pd.DataFrame) -> pd.DataFrame:
    """The trend chart's figures, a row per month and a column per area."""
    return trend.pivot_table(index="period", columns="area", values="figure", sort=True) \
        .round(2).reset_index().rename(columns={"period": "Month"}).rename_axis(columns=None)


def contributions_chart(index: pd.DataFrame, titles: dict[str, str], top: int = 15
                        ) -> alt.Chart:
    """Stacked bars: each indicator's contribution to the top areas' demand index."""
    head = index.head(top)
    cols = [c for c in head.columns if c.startswith("contrib_")]
    long = head.melt(id_vars=["area_code", "area_name"], value_vars=cols,
                     var_name="indicator", value_name="points")
    long["indicator"] = long["indicator"].str.removeprefix("contrib_").map(titles)
    order = head["area_name"].tolist()
    return alt.Chart(long).mark_bar().encode(
        x=alt.X("points:Q", title="Demand index (0-100): each indicator's contribution",
                stack="zero"),
        y=alt.Y("area_name:N", sort=order, title=None,
                axis=alt.Axis(labelLimit=260, labelOverlap=False)),
        color=alt.Color("indicator:N", title=None, legend=alt.Legend(orient="bottom",
                                                                     columns=2),
                        scale=alt.Scale(scheme="tableau10")),
        tooltip=[alt.Tooltip("area_name:N", title="Area"),
                 alt.Tooltip("indicator:N", title="Indicator"),
                 alt.Tooltip("points:Q", title="Points", format=".1f")],
    ).properties(height=24 * max(len(order), 1) + 40,
                 description=f"Stacked bar chart: each indicator's contribution to the demand "
                 f"index of the {len(order)} areas of most need. The same figures are in the "
                 "table below the chart.")


def backtest_chart(results: pd.DataFrame, names: dict[str, str]) -> alt.Chart:
    """Each method's PAI in every test window (dots) and its median (a bar), with a
    rule at 1: flagging areas at random."""
    data = results.dropna(subset=["pai"]).assign(
        name=lambda d: d["method"].map(names),
        capture=lambda d: d["capture_rate"])
    order = data.groupby("name")["pai"].median().sort_values(ascending=False).index.tolist()
    y = alt.Y("name:N", sort=order, title=None, axis=alt.Axis(labelLimit=260))
    base = alt.Chart(data)
    median = base.mark_bar(color="#9ecae1", height=16).encode(
        x=alt.X("median(pai):Q", title="Predictive Accuracy Index (PAI; 1 = no better "
                "than chance)"), y=y,
        tooltip=[alt.Tooltip("name:N", title="Method"),
                 alt.Tooltip("median(pai):Q", title="Median PAI", format=".2f"),
                 alt.Tooltip("median(capture):Q", title="Median capture rate", format=".0%")])
    dots = base.mark_circle(size=55, color="#08306b", opacity=0.8).encode(
        x="pai:Q", y=y,
        tooltip=[alt.Tooltip("name:N", title="Method"),
                 alt.Tooltip("window:N", title="Train -> test"),
                 alt.Tooltip("pai:Q", title="PAI", format=".2f"),
                 alt.Tooltip("capture:Q", title="Capture rate", format=".0%"),
                 alt.Tooltip("area_share:Q", title="Area share", format=".1%"),
                 alt.Tooltip("areas_flagged:Q", title="Areas flagged")])
    chance = base.mark_rule(color="#d7301f", strokeDash=[4, 3]).encode(x=alt.datum(1.0))
    return (median + dots + chance).properties(
        description="Dot chart: each method's Predictive Accuracy Index in every test "
        "window, its median as a bar, and a dashed line at 1 (no better than chance). The "
        "medians, ranges and wins are in the table below the chart.",
        height=34 * max(len(order), 1),
        title=alt.TitleParams("PAI in each test window (dots) and its median (bar)",
                              fontSize=12, anchor="start"))
