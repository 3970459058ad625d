"""Chart text meets WCAG AA contrast (4.5:1) in every chart the app draws.

Text on a chart is drawn on a canvas or in SVG, where axe cannot measure it, so each
chart is rendered to SVG (Vega's own renderer) and every text element's colour, with
its opacity, is measured against the chart's background. A chart-making function added
to ``dashboard.views.charts`` fails :func:`test_every_chart_is_checked` until it is checked
here too."""

import inspect
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import vl_convert

from dashboard.measures import rates
from dashboard.views import charts, contrast, report

MONTHS = [f"2022-{m:02d}" for m in range(1, 7)]


def _profile() -> pd.DataFrame:
    rows = []
    for i, (title, compared) in enumerate((("Police: Burglary", "worse"),
                                           ("Stroke admissions", "better"),
                                           ("Homelessness", "not compared"))):
        rows.append({"indicator": f"i{i}", "title": title, "partner": "police",
                     "unit": "count", "polarity": "high_is_bad", "period": "2022",
                     "measure": "rate", "value": 5.0, "rate_per_1000": 2.0, "figure": 2.0,
                     "lower_95": 1.5, "upper_95": 2.5, "rank": i + 1, "of": 10,
                     "district": 2.2, "region": 1.0, "england": np.nan,
                     "vs_district": "similar", "vs_region": compared,
                     "vs_england": "not compared", "district_name": "Bristol, City of",
                     "suppressed": "", "position": 90.0 - 30 * i, "district_position": 60.0,
                     "region_position": 50.0, "england_position": np.nan})
    return pd.DataFrame(rows)


def _shapes() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"code": ["E05000001", "E05000002"], "name": ["A", "B"]},
                            geometry=[shapely.box(-2.6, 51.4, -2.5, 51.5),
                                      shapely.box(-2.5, 51.4, -2.4, 51.5)], crs=4326)


TRENDS = pd.DataFrame({"period": MONTHS * 2, "area": ["Central"] * 6 + ["Region"] * 6,
                       "figure": np.arange(12, dtype=float), "title": "Burglary"})
CHARTS = {
    "monthly_trends": lambda: charts.monthly_trends(pd.DataFrame({
        "indicator": ["crime_all"] * 6 + ["fire"] * 6, "period_start": MONTHS * 2,
        "value": np.arange(12, dtype=float)}), {"crime_all": "Police: All crime",
                                                 "fire": "Deliberate fires"}),
    "profile_chart": lambda: charts.profile_chart(_profile(), "Central"),
    "trend_chart": lambda: charts.trend_chart(TRENDS, "Rate per 1,000 residents"),
    "contributions_chart": lambda: charts.contributions_chart(pd.DataFrame({
        "area_code": ["E1", "E2"], "area_name": ["Hill", "Vale"],
        "contrib_crime_all": [40.0, 20.0], "contrib_fire": [10.0, 5.0]}),
        {"crime_all": "All crime", "fire": "Deliberate fires"}),
    "backtest_chart": lambda: charts.backtest_chart(pd.DataFrame({
        "method": ["gi", "gi", "kde", "kde"], "pai": [2.0, 3.0, 1.2, 0.8],
        "capture_rate": [0.3, 0.4, 0.1, 0.05], "window": ["a", "b", "a", "b"],
        "area_share": [0.1, 0.1, 0.05, 0.05], "areas_flagged": [10, 10, 5, 5]}),
        {"gi": "Gi* hot spots", "kde": "Last period's counts"}),
    "timeline_chart": lambda: charts.timeline_chart(pd.DataFrame({
        "id": ["a", "b"], "title": ["Patrols", "Outreach"], "agency": ["police", "council"],
        "kind": ["patrol", "youth outreach"], "from": ["2022-01", "2022-03"],
        "to": ["2022-06", "2022-12"], "open": [False, True], "areas": [3, 5],
        "status": ["ended", "active"]}), "2022-01", "2022-12"),
    "evaluation_chart": lambda: charts.evaluation_chart({
        "did": pd.DataFrame({"month": MONTHS, "observed": np.arange(6.0),
                             "counterfactual": np.arange(6.0) + 1}),
        "synthetic": pd.DataFrame({"month": MONTHS, "observed": np.arange(6.0),
                                   "counterfactual": np.arange(6.0) + 2})}, MONTHS[3],
        "Burglary"),
    "control_chart": lambda: charts.control_chart(pd.DataFrame({
        "period": MONTHS, "observed": [10.0, 12, 30, 11, 2, 9],
        "expected": [10.0, 11, 11, 12, 11, 10], "lower_99": [3.0, 4, 4, 4, 4, 3],
        "upper_99": [19.0, 20, 20, 21, 20, 19],
        "signal": ["common", "common", "concern", "common", "improvement", "common"],
        "rule": ["", "", "outside the 99% limits", "", "outside the 99% limits", ""]}),
        "Burglary"),
    # The ward report's own charts, drawn as the report draws them.
    "report.ward_map_chart": lambda: report.ward_map_chart(_shapes(), _shapes().iloc[:1],
                                                           _shapes()),
    "report.trends_chart": lambda: report.trends_chart(TRENDS),
}


def _blend(colour: str, opacity: float, background: str) -> str:
    """The colour a reader sees: ``colour`` at ``opacity`` over the background."""
    fg = [int(colour.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4)]
    bg = [int(background.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4)]
    return "#" + "".join(f"{round(opacity * f + (1 - opacity) * b):02x}"
                         for f, b in zip(fg, bg, strict=True))


def text_colours(svg: str) -> tuple[str, list[tuple[str, str]]]:
    """The chart's background and each text element's (text, colour seen)."""
    background = re.search(r'<rect width="[\d.]+" height="[\d.]+" fill="(#[0-9a-fA-F]{6})"',
                           svg).group(1)
    out = []
    for attrs, text in re.findall(r"<text([^>]*)>(.*?)</text>", svg, re.S):
        fill = re.search(r'fill="(#[0-9a-fA-F]{6})"', attrs)
        opacity = re.search(r'(?<!-)opacity="([\d.]+)"', attrs)
        colour = fill.group(1) if fill else "#000000"
        alpha = float(opacity.group(1)) if opacity else 1.0
        if alpha == 0:
            continue  # a label Vega hid (it would overlap another): not drawn
        seen = _blend(colour, alpha, background)
        out.append((re.sub(r"<[^>]+>", "", text), seen))
    return background, out


@pytest.mark.parametrize("name", list(CHARTS))
def test_chart_text_has_aa_contrast(name):
    chart = CHARTS[name]()
    # The report draws its charts through the same configuration as the pages.
    chart = chart if not name.startswith("report.") else charts.readable(chart)
    spec = chart.to_dict()
    assert spec["config"]["axis"]["labelColor"] == charts.CHART_TEXT  # beats Streamlit's
    background, texts = text_colours(vl_convert.vegalite_to_svg(chart.to_json()))
    assert texts, "the chart drew no text"
    poor = [(t, c, round(contrast.ratio(c, background), 2)) for t, c in texts
            if contrast.ratio(c, background) < contrast.AA_TEXT]
    assert not poor, poor


def test_the_shared_text_colours_pass_on_the_background():
    for part in ("axis", "legend", "header", "title", "text"):
        for key, colour in charts.TEXT_CONFIG[part].items():
            ratio = contrast.ratio(colour, charts.TEXT_CONFIG["background"])
            assert ratio >= contrast.AA_TEXT, (part, key, colour, ratio)
    # Streamlit's own faded label grey fails: the reason the charts carry their own.
    assert contrast.ratio("#808495", "#ffffff") < contrast.AA_TEXT


def test_every_chart_is_checked():
    made = {name for name, f in inspect.getmembers(charts, inspect.isfunction)
            if "alt." in str(inspect.signature(f).return_annotation)
            or "Chart" in str(inspect.signature(f).return_annotation)}
    made.discard("readable")
    assert made == {n for n in CHARTS if "." not in n}
    assert all(hasattr(getattr(charts, n), "__wrapped__") for n in made)  # all @drawn


def test_contrast_ratios_match_wcag():
    assert contrast.ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast.ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    assert contrast.text_on(rates.COMPARISON_COLOURS["better"]) == "#000000"
    with pytest.raises(ValueError, match="#rrggbb"):
        contrast.luminance("red")


def test_signal_colours_carry_white_text():
    """The unusual areas' table writes each signal in white on its colour."""
    for kind, colour in charts.SIGNAL_COLOURS.items():
        assert contrast.ratio("#ffffff", colour) >= contrast.AA_TEXT, kind
        assert charts.signal_style(charts.SIGNAL_WORDS[kind]).startswith(
            f"background-color:{colour}")
    assert charts.signal_style("") == ""
