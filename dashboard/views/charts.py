"""Charts and small presentational helpers that return altair charts or frames."""

from __future__ import annotations

import functools
import html
import math
import textwrap

import altair as alt
import numpy as np
import pandas as pd

from dashboard.measures import rates

# Every chart's text is drawn in this colour on this background: 12.6:1, past WCAG AA's
# 4.5:1. Streamlit's own chart theme draws labels in a faded grey (3.7:1 on white);
# a chart's own configuration takes precedence over it, so each chart carries this.
CHART_TEXT = "#333333"
CHART_BACKGROUND = "#ffffff"
TEXT_CONFIG = {
    "background": CHART_BACKGROUND,
    "axis": {"labelColor": CHART_TEXT, "titleColor": CHART_TEXT},
    "legend": {"labelColor": CHART_TEXT, "titleColor": CHART_TEXT},
    "header": {"labelColor": CHART_TEXT, "titleColor": CHART_TEXT},
    "title": {"color": CHART_TEXT, "subtitleColor": CHART_TEXT},
    "text": {"color": CHART_TEXT},
}


def drawn(make):
    """A chart-making function whose chart comes back :func:`readable`."""
    @functools.wraps(make)
    def wrapper(*args, **kwargs):
        return readable(make(*args, **kwargs))
    return wrapper


def readable(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    """The chart with the app's text colours (:data:`TEXT_CONFIG`): the one place every
    chart the app draws, on a page or in a report, gets them."""
    config = TEXT_CONFIG
    return chart.configure(background=config["background"]) \
        .configure_axis(**config["axis"]).configure_legend(**config["legend"]) \
        .configure_header(**config["header"]).configure_title(**config["title"]) \
        .configure_text(**config["text"])


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


def panel_titles(indicators: pd.Series, titles: dict[str, str], short: bool = False
                 ) -> dict[str, str]:
    """A label for each indicator, one panel or row each: its title (shortened, with
    ``short``), and its id beside it where two indicators would share one (a partner's
    "Burglary" beside police.uk's "Police: Burglary"), so no two are drawn as one."""
    ids = list(dict.fromkeys(indicators))
    names = {i: titles.get(i) or i for i in ids}
    if short:
        names = {i: short_title(n) for i, n in names.items()}
    seen = pd.Series(names).value_counts()
    return {i: f"{n} ({i})" if seen[n] > 1 else n for i, n in names.items()}


@drawn
def monthly_trends(monthly: pd.DataFrame, titles: dict[str, str]) -> alt.Chart:
    """Small multiples of each monthly count's regional total, one panel per indicator
    on its own scale, with a description a screen reader announces (the figures
    themselves are in :func:`monthly_table`)."""
    data = monthly.assign(title=monthly["indicator"].map(panel_titles(
        monthly["indicator"], titles, short=True)),
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
    table = monthly.assign(Indicator=monthly["indicator"].map(panel_titles(
        monthly["indicator"], titles))) \
        .pivot(index="Indicator", columns="period_start", values="value")
    return table.rename_axis(columns=None).reset_index()


def freshness(catalogue: pd.DataFrame) -> pd.DataFrame:
    """How fresh each indicator is: its latest period, vintage and source."""
    return pd.DataFrame({
        "Indicator": catalogue["title"], "Partner": catalogue["partner"],
        "Latest period": catalogue["last_period"], "First period": catalogue["first_period"],
        "Periods": catalogue["n_periods"], "Vintage": catalogue["vintage"],
        "Source": catalogue["source"]})


# The spine chart's classes: each row's significance against its benchmark, as a legend
# label, a colour (``rates.COMPARISON_COLOURS``) and a shape, so colour is never the
# only cue; the row's label says it in words as well.
SIGNIFICANCE = {
    rates.BETTER: ("Better", "circle"),
    rates.SIMILAR: ("Similar", "square"),
    rates.WORSE: ("Worse", "diamond"),
    rates.HIGHER: ("Higher (no judgement)", "triangle-up"),
    rates.LOWER: ("Lower (no judgement)", "triangle-down"),
    rates.NOT_COMPARED: ("Not compared (no interval)", "cross"),
}
SIGNIFICANCE_WORDS = {rates.BETTER: "better than", rates.SIMILAR: "similar to",
                      rates.WORSE: "worse than", rates.HIGHER: "higher than",
                      rates.LOWER: "lower than"}
LABEL_WIDTH = 26  # characters a row's label is wrapped at: it fits beside a phone's spine
LINE = "\n"


def _wrap(text: str, width: int = LABEL_WIDTH) -> list[str]:
    return textwrap.wrap(text, width, break_long_words=True) or [""]


def spine_rows(profile: pd.DataFrame) -> pd.DataFrame:
    """The rows of :func:`profile_chart`: each indicator with a figure for the ward (or
    one suppressed), its benchmark and its significance against it.

    The benchmark is England where the indicator's figures cover England, else the
    region; ``significance`` is the ward's 95 % interval against it (``vs_england`` or
    ``vs_region`` of :func:`dashboard.analysis.profile.ward_profile`), judged by polarity.
    ``label`` is the indicator's title wrapped into lines, then a line of words saying
    how it compares (the words join the colour and shape of its dot).
    """
    shown = profile[profile["figure"].notna() | (profile["suppressed"] != "")].copy()
    on_england = shown["england"].notna()
    shown["benchmark_name"] = np.where(on_england, "England", "the region")
    shown["benchmark"] = np.where(on_england, shown["england"], shown["region"])
    shown["benchmark_position"] = np.where(
        on_england, shown.get("england_position", np.nan), shown["region_position"])
    compared = np.where(on_england, shown["vs_england"], shown["vs_region"])
    shown["significance"] = [c if c in SIGNIFICANCE else rates.NOT_COMPARED
                             for c in compared]
    shown["class"] = shown["significance"].map(lambda c: SIGNIFICANCE[c][0])
    words = []
    for row in shown.itertuples():
        if row.suppressed != "":
            words.append("suppressed (small count)")
        elif row.significance in SIGNIFICANCE_WORDS:
            words.append(f"{SIGNIFICANCE_WORDS[row.significance]} {row.benchmark_name}")
        elif pd.isna(row.benchmark):
            words.append("no benchmark figure")
        else:
            words.append(f"not compared with {row.benchmark_name}")
    shown["verdict"] = words
    shown["label"] = [LINE.join([*_wrap(t.replace("Police: ", "")), w[:1].upper() + w[1:]])
                      for t, w in zip(shown["title"], shown["verdict"], strict=True)]
    shown["interval"] = [f"{lo:,.2f} to {hi:,.2f}" if pd.notna(lo) and pd.notna(hi)
                         else "not published" for lo, hi in zip(
                             shown["lower_95"], shown["upper_95"], strict=True)]
    return shown


@drawn
def profile_chart(profile: pd.DataFrame, ward_name: str, district_name: str = "") -> alt.Chart:
    """A spine chart, as Fingertips draws one: each indicator's row spans the region's
    wards (0 = least need, 100 = most; the darker middle half from the 25th to the 75th
    percentile), with the benchmark (England, or the region where England is not
    covered) as a black line, the district as a hollow circle and the ward as a dot
    coloured and shaped by its significance against the benchmark: better, similar or
    worse as the indicator's polarity says, higher or lower where it makes no
    judgement, not compared without a confidence interval.

    Positions, not raw figures, put indicators in different units on one axis; the
    colour comes from the ward's confidence interval, never from its position. Every
    row's label is shown in full (wrapped), ending with the comparison in words.
    """
    data = spine_rows(profile)
    district_name = district_name or (str(data["district_name"].dropna().iat[0])
                                      if data["district_name"].notna().any() else "district")
    lines = max([lab.count(LINE) + 1 for lab in data["label"]], default=2)
    order = data.sort_values("position", ascending=False, na_position="last")["label"].tolist()
    newline = LINE.encode("unicode_escape").decode()
    y = alt.Y("label:N", sort=order, title=None, scale=alt.Scale(paddingInner=0.25),
              axis=alt.Axis(labelExpr=f"split(datum.label, '{newline}')",
                            labelLimit=0, labelFontSize=12, labelLineHeight=14,
                            labelPadding=6, ticks=False, domain=False))
    need = alt.Scale(domain=[0, 100], nice=False)
    x = alt.X("position:Q", scale=need, axis=alt.Axis(
        values=[0, 25, 50, 75, 100], title=["Among the region's wards", "(0 least need, "
                                            "100 most)"]))
    base = alt.Chart(data)
    spine = base.mark_bar(color="#e6e6e6").encode(
        x=alt.X("zero:Q", scale=need), x2="hundred:Q", y=y).transform_calculate(
        zero="0", hundred="100")
    middle = base.mark_bar(color="#c2c2c2").encode(
        x=alt.X("q1:Q", scale=need), x2="q3:Q", y=y).transform_calculate(q1="25", q3="75")
    benchmark = base.mark_tick(color="#000000", thickness=3).encode(
        x=alt.X("benchmark_position:Q", scale=need), y=y,
        tooltip=[alt.Tooltip("benchmark_name:N", title="Benchmark"),
                 alt.Tooltip("benchmark:Q", title="Benchmark figure", format=",.2f")])
    district = base.mark_point(shape="circle", filled=False, color="#333333", size=90,
                               strokeWidth=1.5).encode(
        x=alt.X("district_position:Q", scale=need), y=y,
        tooltip=[alt.Tooltip("district_name:N", title="District"),
                 alt.Tooltip("district:Q", title="District figure", format=",.2f")])
    classes = list(SIGNIFICANCE)
    labels = [SIGNIFICANCE[c][0] for c in classes]
    # Two columns of classes beside a wide spine, one beside a phone's narrow one.
    legend = alt.Legend(columns={"expr": "width < 320 ? 1 : 2"},
                        title="Ward compared with the benchmark", orient="bottom",
                        direction="horizontal", labelLimit=0, titleLimit=0, symbolSize=120,
                        symbolStrokeColor="#333333", symbolStrokeWidth=1)
    ward = base.mark_point(filled=True, size=150, opacity=1, stroke="#333333",
                           strokeWidth=1).encode(
        x=x, y=y,
        color=alt.Color("class:N", title="Ward compared with the benchmark", legend=legend,
                        scale=alt.Scale(domain=labels, range=[
                            rates.COMPARISON_COLOURS[c] for c in classes])),
        shape=alt.Shape("class:N", title="Ward compared with the benchmark", legend=legend,
                        scale=alt.Scale(domain=labels,
                                        range=[SIGNIFICANCE[c][1] for c in classes])),
        tooltip=[alt.Tooltip("title:N", title="Indicator"),
                 alt.Tooltip("figure:Q", title=ward_name, format=",.2f"),
                 alt.Tooltip("interval:N", title="95% confidence interval"),
                 alt.Tooltip("verdict:N", title="Compared"),
                 alt.Tooltip("benchmark:Q", title="Benchmark figure", format=",.2f"),
                 alt.Tooltip("district:Q", title="District", format=",.2f"),
                 alt.Tooltip("region:Q", title="Region", format=",.2f"),
                 alt.Tooltip("measure:N", title="Measure"),
                 alt.Tooltip("period:N", title="Period")])
    return (spine + middle + benchmark + district + ward).properties(
        description=f"Spine chart of {len(data)} indicators for {ward_name}: where the "
        f"ward, {district_name} and the benchmark (England, or the region where England "
        "is not covered) fall among the region's wards, and whether the ward is "
        "significantly better, similar or worse than the benchmark. The same figures are "
        "in the table 'Every indicator' below the chart.",
        height=alt.Step(14 * lines + 12),
        title=alt.TitleParams(
            f"{ward_name} against the benchmark", anchor="start", fontSize=14,
            subtitle=["Black line: the benchmark, England (or the",
                      "region where the label says so). Hollow",
                      f"circle: {district_name}. Grey: the region's",
                      "wards, darker for the middle half."],
            subtitleFontSize=12))


@drawn
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


@drawn
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


@drawn
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
    # The line at PAI 1 is a guide the description names, not a figure: hidden from
    # screen readers (axe: an unlabelled graphic otherwise).
    chance = base.mark_rule(color="#d7301f", strokeDash=[4, 3], aria=False).encode(
        x=alt.datum(1.0))
    return (median + dots + chance).properties(
        description="Dot chart: each method's Predictive Accuracy Index in every test "
        "window, its median as a bar, and a dashed line at 1 (no better than chance). The "
        "medians, ranges and wins are in the table below the chart.",
        height=34 * max(len(order), 1),
        title=alt.TitleParams("PAI in each test window (dots) and its median (bar)",
                              fontSize=12, anchor="start"))


# -- interventions ----------------------------------------------------------------------

AGENCY_COLOURS = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#a6761d",
                  "#666666", "#1f78b4"]  # ColorBrewer Dark2 (+1): 3:1 on white


@drawn
def timeline_chart(bars: pd.DataFrame, start: str, end: str) -> alt.LayerChart:
    """Which interventions are live when: one bar per record from its first month to its
    last (an open one to this month, drawn with an arrow-head), coloured by agency,
    with the months chosen shaded. The figures are in the register's table."""
    data = bars.assign(
        label=[f"{i + 1}. {t}"[:60] for i, t in enumerate(bars["title"])],
        begin=pd.to_datetime(bars["from"] + "-01"),
        finish=pd.to_datetime(bars["to"] + "-01") + pd.offsets.MonthEnd(0),
        until=[("open" if o else t) for o, t in zip(bars["open"], bars["to"], strict=True)])
    order = list(data["label"])
    y = alt.Y("label:N", sort=order, title=None, scale=alt.Scale(paddingInner=0.35),
              axis=alt.Axis(labelLimit=320, labelFontSize=12))
    window = alt.Chart(pd.DataFrame({"a": [pd.Timestamp(start + "-01")],
                                     "b": [pd.Timestamp(end + "-01") + pd.offsets.MonthEnd(0)]})
                       ).mark_rect(color="#e8e8e8").encode(x="a:T", x2="b:T")
    bar = alt.Chart(data).mark_bar(cornerRadius=2).encode(
        x=alt.X("begin:T", title=None, axis=alt.Axis(format="%b %Y")), x2="finish:T", y=y,
        color=alt.Color("agency:N", title="Agency",
                        scale=alt.Scale(range=AGENCY_COLOURS)),
        tooltip=[alt.Tooltip("title:N", title="Intervention"),
                 alt.Tooltip("agency:N", title="Agency"), alt.Tooltip("kind:N", title="Type"),
                 alt.Tooltip("from:N", title="From"), alt.Tooltip("until:N", title="To"),
                 alt.Tooltip("areas:Q", title="Areas")])
    arrow = alt.Chart(data[data["open"]]).mark_point(shape="triangle-right", size=90,
                                                     filled=True, color="#333333").encode(
        x="finish:T", y=y)
    return alt.layer(window, bar, arrow).properties(
        width="container", height=alt.Step(30),
        description=f"Timeline of {len(data)} interventions live between {start} and {end}, "
        "one bar each from its start to its end, coloured by agency; the months chosen are "
        "shaded. The same records are in the table below.")


@drawn
def evaluation_chart(paths: dict[str, pd.DataFrame], start: str, title: str) -> alt.LayerChart:
    """The treated areas' monthly total against each method's counterfactual (what it
    would have been with no effect), with the start marked."""
    frames = []
    first = next(iter(paths.values()))
    frames.append(pd.DataFrame({"month": first["month"], "value": first["observed"],
                                "series": "Treated areas, observed"}))
    names = {"did": "Counterfactual: comparison areas' trend",
             "synthetic": "Counterfactual: synthetic control"}
    for method, path in paths.items():
        frames.append(pd.DataFrame({"month": path["month"], "value": path["counterfactual"],
                                    "series": names[method]}))
    data = pd.concat(frames, ignore_index=True)
    data["date"] = pd.to_datetime(data["month"] + "-01")
    order = list(dict.fromkeys(data["series"]))
    colours = ["#08306b", "#d95f02", "#7570b3"][:len(order)]
    dashes = [[1, 0], [6, 3], [2, 2]][:len(order)]
    lines = alt.Chart(data).mark_line(strokeWidth=2.2).encode(
        x=alt.X("date:T", title=None, axis=alt.Axis(format="%b %Y")),
        y=alt.Y("value:Q", title="Count a month, treated areas"),
        color=alt.Color("series:N", title=None, sort=order,
                        scale=alt.Scale(domain=order, range=colours),
                        legend=alt.Legend(orient="bottom", direction="vertical",
                                          labelLimit=0, symbolStrokeWidth=3)),
        strokeDash=alt.StrokeDash("series:N", sort=order,
                                  scale=alt.Scale(domain=order, range=dashes), legend=None),
        tooltip=[alt.Tooltip("series:N", title=" "), alt.Tooltip("month:N", title="Month"),
                 alt.Tooltip("value:Q", title="Count", format=",.1f")])
    rule = alt.Chart(pd.DataFrame({"date": [pd.Timestamp(start + "-01")],
                                   "text": ["Start"]})).mark_rule(
        color="#333333", strokeDash=[3, 3]).encode(x="date:T")
    label = rule.mark_text(align="left", dx=4, dy=-6, color="#333333").encode(
        text="text:N", y=alt.value(0))
    return alt.layer(lines, rule, label).properties(
        width="container", height=300,
        description=f"{title}: the treated areas' monthly total against what it would have "
        "been with no effect, by each method, with the start marked. The figures are in "
        "the table below the chart.")


# -- process control (Making Data Count) -------------------------------------------------
# Special cause concern in orange, improvement in blue, common cause in grey, as NHS
# England's Making Data Count charts colour them, darkened to 4.5:1 or more with white.
SIGNAL_COLOURS = {"concern": "#b04a0b", "improvement": "#1f5fa8", "higher": "#5e3c99",
                  "lower": "#5e3c99", "common": "#6b6b6b"}
SIGNAL_WORDS = {"concern": "special cause: concern", "improvement": "special cause: "
                "improvement", "higher": "special cause: higher", "lower": "special cause: "
                "lower", "common": "common cause"}
SIGNAL_SHAPES = {"concern": "diamond", "improvement": "circle", "higher": "triangle-up",
                 "lower": "triangle-down", "common": "circle"}


def signal_style(words: str) -> str:
    """CSS for a table cell holding a signal's words (:data:`SIGNAL_WORDS`): its
    colour behind white text (4.5:1 or more)."""
    kind = next((k for k, w in SIGNAL_WORDS.items() if w == words), None)
    return f"background-color:{SIGNAL_COLOURS[kind]};color:#ffffff" if kind else ""


@drawn
def control_chart(chart: pd.DataFrame, title: str) -> alt.LayerChart:
    """A process control chart: each month's count against the count expected from the
    months before it, inside its 99 % limits (a band); each month's point coloured
    and shaped by its signal (:data:`SIGNAL_WORDS`)."""
    data = chart.assign(signal_words=chart["signal"].map(SIGNAL_WORDS),
                        why=chart["rule"].replace("", "within the limits"))
    x = alt.X("period:O", title="Month", axis=alt.Axis(labelAngle=-45))
    band = alt.Chart(data).mark_area(color="#d9d9d9", opacity=0.7).encode(
        x=x, y=alt.Y("lower_99:Q", title=title, scale=alt.Scale(zero=False)), y2="upper_99:Q")
    expected = alt.Chart(data).mark_line(color="#595959", strokeDash=[5, 3]).encode(
        x=x, y="expected:Q")
    line = alt.Chart(data).mark_line(color="#333333").encode(x=x, y="observed:Q")
    kinds = [k for k in SIGNAL_WORDS if k in set(data["signal"])]
    points = alt.Chart(data).mark_point(filled=True, size=70, opacity=1).encode(
        x=x, y="observed:Q",
        color=alt.Color("signal_words:N", title=None, legend=alt.Legend(orient="bottom"),
                        scale=alt.Scale(domain=[SIGNAL_WORDS[k] for k in kinds],
                                        range=[SIGNAL_COLOURS[k] for k in kinds])),
        shape=alt.Shape("signal_words:N", scale=alt.Scale(
            domain=[SIGNAL_WORDS[k] for k in kinds], range=[SIGNAL_SHAPES[k] for k in kinds])),
        tooltip=[alt.Tooltip("period:O", title="Month"),
                 alt.Tooltip("observed:Q", title="Count", format=",.0f"),
                 alt.Tooltip("expected:Q", title="Expected", format=",.1f"),
                 alt.Tooltip("lower_99:Q", title="99% lower limit", format=",.0f"),
                 alt.Tooltip("upper_99:Q", title="99% upper limit", format=",.0f"),
                 alt.Tooltip("signal_words:N", title="Signal"),
                 alt.Tooltip("why:N", title="Why")])
    return alt.layer(band, expected, line, points).properties(
        height=260, description=f"Process control chart: {title} by month against the "
        "count expected from the months before (dashed) and its 99 % limits (grey band); "
        "points are coloured and shaped by signal. The same figures are in the table "
        "below the chart.")


def variation_icon(signal: str, higher: bool, label: str) -> str:
    """A Making Data Count style variation icon (HTML): a ring in the signal's colour
    with H (special cause, higher than expected), L (lower) or a dash (common cause),
    and the label in words beside it."""
    letter = "–" if signal == "common" else ("H" if higher else "L")
    colour = SIGNAL_COLOURS[signal]
    return (f"<span style='display:inline-flex;align-items:center;gap:.4em'>"
            f"<span aria-hidden='true' style='display:inline-flex;align-items:center;"
            f"justify-content:center;width:1.8em;height:1.8em;border-radius:50%;"
            f"border:3px solid {colour};color:{colour};font-weight:700'>{letter}</span>"
            f"<span>{html.escape(label)}</span></span>")
