"""The ward profile's spine chart, as Fingertips draws one: every row labelled in full,
every class in the legend, each ward's dot coloured by its significance against the
benchmark (England, or the region where England is not covered), never by its rank."""

import numpy as np
import pandas as pd
import pytest

from dashboard.access import PUBLIC
from dashboard.analysis import profile
from dashboard.filters import ViewFilter
from dashboard.measures import rates
from dashboard.views import charts


def spec_parts(chart):
    """The chart's one dataset, and the layer that draws the ward's dot."""
    spec = chart.to_dict()
    (rows,) = spec["datasets"].values()
    ward = next(layer for layer in spec["layer"] if "color" in layer.get("encoding", {}))
    return spec, pd.DataFrame(rows), ward


def colour_of(ward_layer: dict, row: pd.Series) -> str:
    """The colour the spec gives a row: its colour field through the colour scale."""
    color = ward_layer["encoding"]["color"]
    scale = color["scale"]
    return dict(zip(scale["domain"], scale["range"], strict=True))[row[color["field"]]]


def one_row(title, position, region_position, lower, upper, benchmark, polarity,
            england=np.nan):
    """A profile row as ``profile.ward_profile`` gives it: the comparisons are the
    ward's interval against each comparator, judged by polarity."""
    judge = lambda figure: rates.judged(rates.compare([lower], [upper], [figure]),  # noqa
                                        polarity)[0]
    return {"indicator": title.lower().replace(" ", "_"), "title": title,
            "partner": "police", "unit": "count", "polarity": polarity, "period": "2022",
            "measure": "rate", "value": 10.0, "rate_per_1000": (lower + upper) / 2,
            "figure": (lower + upper) / 2, "lower_95": lower, "upper_95": upper,
            "rank": 1, "of": 100, "district": benchmark, "region": benchmark,
            "england": england, "vs_district": judge(benchmark), "vs_region": judge(benchmark),
            "vs_england": judge(england), "district_name": "Bristol, City of",
            "suppressed": "", "position": position, "district_position": 50.0,
            "region_position": region_position, "england_position": np.nan}


def test_a_dot_is_coloured_by_its_significance_not_by_its_rank():
    # Among the most needy wards, yet the interval holds the region's figure: similar.
    # Among the least needy, yet its interval lies above the region's: worse.
    # Higher with no judgement either way: neither better nor worse.
    table = pd.DataFrame([
        one_row("Burglary", 95.0, 50.0, 8.0, 12.0, 10.0, "high_is_bad"),
        one_row("Drugs", 10.0, 50.0, 12.0, 15.0, 10.0, "high_is_bad"),
        one_row("Library visits", 30.0, 50.0, 2.0, 3.0, 1.0, "no_judgement"),
    ])
    _, rows, ward = spec_parts(charts.profile_chart(table, "Central"))
    rows = rows.set_index("title")
    assert colour_of(ward, rows.loc["Burglary"]) == rates.COMPARISON_COLOURS["similar"]
    assert colour_of(ward, rows.loc["Drugs"]) == rates.COMPARISON_COLOURS["worse"]
    assert colour_of(ward, rows.loc["Library visits"]) == rates.COMPARISON_COLOURS["higher"]
    # Not colour alone: each class has its own shape, and the label says it in words.
    shape = ward["encoding"]["shape"]
    shapes = dict(zip(shape["scale"]["domain"], shape["scale"]["range"], strict=True))
    assert len(set(shapes.values())) == len(shapes)
    assert rows.loc["Burglary", "label"].endswith("Similar to the region")
    assert rows.loc["Drugs", "label"].endswith("Worse than the region")
    assert rows.loc["Library visits", "label"].endswith("Higher than the region")


def test_england_is_the_benchmark_where_it_is_covered():
    table = pd.DataFrame([
        # Worse than the region, similar to England: England decides.
        one_row("Burglary", 80.0, 50.0, 11.0, 14.0, 10.0, "high_is_bad", england=12.0),
        one_row("Drugs", 80.0, 50.0, 11.0, 14.0, 10.0, "high_is_bad"),
    ])
    _, rows, ward = spec_parts(charts.profile_chart(table, "Central"))
    rows = rows.set_index("title")
    assert colour_of(ward, rows.loc["Burglary"]) == rates.COMPARISON_COLOURS["similar"]
    assert rows.loc["Burglary", "label"].endswith("Similar to England")
    assert colour_of(ward, rows.loc["Drugs"]) == rates.COMPARISON_COLOURS["worse"]
    assert rows.loc["Drugs", "label"].endswith("Worse than the region")


@pytest.fixture(scope="module")
def lawrence_hill(store, regions):
    flt = ViewFilter("avon_and_somerset", "ward", "crime_all", "2022-01", "2022-11", "rate")
    return profile.ward_profile(store, regions["avon_and_somerset"], "E05010907", flt,
                                viewer=PUBLIC)


def test_every_row_is_labelled_in_full(lawrence_hill):
    chart = charts.profile_chart(lawrence_hill, "Lawrence Hill")
    spec, rows, ward = spec_parts(chart)
    shown = lawrence_hill[lawrence_hill["figure"].notna()]
    assert len(shown) >= 20 and len(rows) == len(shown)
    y = ward["encoding"]["y"]
    axis = y["axis"]
    assert axis["labelLimit"] == 0  # never cut short
    assert "split(datum.label" in axis["labelExpr"]  # wrapped onto lines
    lines = rows[y["field"]].str.split("\n")
    for title, label in zip(rows["title"], lines, strict=True):
        assert " ".join(label[:-1]) == title.replace("Police: ", "")
        assert all(len(line) <= charts.LABEL_WIDTH for line in label[:-1])
    # Each row is tall enough for its longest label: labels never overlap.
    step = spec["height"]["step"]
    assert step >= max(len(label) for label in lines) * axis["labelLineHeight"]


def test_the_legend_lists_every_class(lawrence_hill):
    _, rows, ward = spec_parts(charts.profile_chart(lawrence_hill, "Lawrence Hill"))
    for channel in ("color", "shape"):
        enc = ward["encoding"][channel]
        assert enc["scale"]["domain"] == [label for label, _ in charts.SIGNIFICANCE.values()]
        assert enc["legend"]["labelLimit"] == 0 and enc["legend"]["titleLimit"] == 0
    # Every class is listed even where no row has it (this ward has no "similar").
    assert set(rows["class"]) < set(ward["encoding"]["color"]["scale"]["domain"])


def test_the_chart_names_its_benchmark(lawrence_hill):
    spec, rows, _ = spec_parts(charts.profile_chart(lawrence_hill, "Lawrence Hill"))
    assert any("benchmark" in line for line in spec["title"]["subtitle"])
    assert "England" in " ".join(spec["title"]["subtitle"])
    # Police figures do not cover England: compared with the region, and said so.
    crime = rows.set_index("indicator").loc["crime_burglary"]
    assert crime["benchmark_name"] == "the region"
    assert crime["label"].endswith("than the region")
