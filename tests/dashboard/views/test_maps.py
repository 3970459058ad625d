"""Maps: a readable deck with no basemap request, lean JSON, and correct polygons."""

import json
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from dashboard import geography, measures
from dashboard.access import OPERATOR
from dashboard.filters import ViewFilter
from dashboard.views import classify, linework, maps


def test_polygon_rings_keep_holes_and_split_multipolygons():
    square = shapely.box(0, 0, 4, 4).difference(shapely.box(1, 1, 2, 2))
    multi = shapely.MultiPolygon([shapely.box(10, 0, 11, 1), shapely.box(12, 0, 13, 1)])
    rings, part_of = maps.polygon_rings(np.array([square, multi]), 5)
    assert list(part_of) == [0, 1, 1]
    assert len(rings[0]) == 2  # outer ring and hole
    assert len(rings[0][0]) == 4  # closing point dropped
    assert rings[1] == [[[10.0, 0.0], [11.0, 0.0], [11.0, 1.0], [10.0, 1.0]]] or \
        sorted(map(tuple, rings[1][0])) == [(10, 0), (10, 1), (11, 0), (11, 1)]


def test_view_state_fits_bounds():
    vs = maps.view_state((-3.84, 50.82, -2.24, 51.68), 760, 560)
    visible_degrees = 760 * 360 / (512 * 2 ** vs.zoom)  # MapView: 512 * 2**zoom px/world
    assert 1.6 < visible_degrees < 1.6 * 1.6
    assert vs.longitude == pytest.approx(-3.04)


def inside(view: dict, width: int, height: int, points) -> list:
    """The (lon, lat) points outside a ``width`` x ``height`` map opened at ``view``,
    by Web Mercator as deck.gl draws it (512 * 2**zoom pixels span the world)."""
    return [(lon, lat) for lon, lat in points
            if not (abs(maps.screen_offset(view, lon, lat)[0]) <= width / 2
                    and abs(maps.screen_offset(view, lon, lat)[1]) <= height / 2)]


def test_the_map_opens_on_the_whole_region_on_a_phone(store, regions):
    region = regions["avon_and_somerset"]
    bounds = geography.lad_outlines(store, region).total_bounds
    minx, miny, maxx, maxy = bounds
    corners = [(minx, miny), (minx, maxy), (maxx, miny), (maxx, maxy)]
    bristol = (-2.5930, 51.4540)  # Central ward, Bristol
    # The Map page's deck, built for a phone: 390 px wide less the page margins, 600 high.
    flt = ViewFilter(region.name, "ward", "crime_all", "2022-01", "2022-11", "rate")
    deck, _ = maps.view_map(
        geography.map_shapes(store, region, "ward"), geography.lad_outlines(store, region),
        measures.indicator_view(store, region, flt, viewer=OPERATOR), measure="rate",
        scheme="quantiles", k=5, level="ward", unit="count", polarity="high_is_bad",
        detail=region.map_detail, width=maps.PHONE_WIDTH)
    phone = json.loads(deck.to_json())["initialViewState"]
    assert inside(phone, 358, 600, [*corners, bristol]) == []
    assert inside(phone, 390, 600, [*corners, bristol]) == []
    # Not needlessly far out: the region spans most of the phone's width.
    left = maps.screen_offset(phone, minx, miny)[0]
    assert -358 / 2 < left < -0.8 * 358 / 2
    # The desktop view fits a desktop map, and would cut the region off on a phone.
    desk = json.loads(maps.view_state(tuple(bounds)).to_json())
    assert inside(desk, maps.MAP_WIDTH, 560, corners) == []
    assert inside(desk, 390, 600, corners) != []


def map_of(store, region, flt):
    """The deck, view and classes the map page draws for a filter."""
    view = measures.indicator_view(store, region, flt, viewer=OPERATOR)
    deck, classes = maps.view_map(
        geography.map_shapes(store, region, flt.level), geography.lad_outlines(store, region),
        view, measure=flt.measure, scheme=flt.scheme, k=flt.classes, level=flt.level,
        unit="count", polarity="high_is_bad", detail=region.map_detail)
    return deck, view, classes


@pytest.fixture(scope="module")
def deck(store, regions):
    return map_of(store, regions["avon_and_somerset"], ViewFilter(
        "avon_and_somerset", "ward", "crime_all", "2022-01", "2022-11", "rate"))


def test_deck_has_areas_districts_and_labels_and_needs_no_tile_server(deck):
    d, view, _ = deck
    spec = json.loads(d.to_json())
    ids = [layer["id"] for layer in spec["layers"]]
    assert ids == ["areas", "boundaries", "district-names"]
    # One kind of layer: each further kind is a shader to compile in software WebGL.
    assert {layer["@@type"] for layer in spec["layers"]} == {"PolygonLayer"}
    assert spec["mapStyle"] == "__MAP_STYLE__"  # pydeck's "no basemap" marker
    assert "mapProvider" not in spec
    areas = spec["layers"][0]
    assert {o["code"] for o in areas["data"]} == set(view["area_code"])
    assert areas["pickable"] is True
    assert not spec["layers"][1]["pickable"] and not spec["layers"][2]["pickable"]


def test_district_names_are_drawn_where_the_districts_are(deck, store, regions):
    d, _, _ = deck
    names = next(layer for layer in json.loads(d.to_json())["layers"]
                 if layer["id"] == "district-names")
    ink = shapely.union_all([shapely.Polygon(o["p"][0], o["p"][1:]) for o in names["data"]
                             if o["c"] == list(maps.NAME_COLOUR)])
    lads = geography.lad_outlines(store, regions["avon_and_somerset"])
    for name in ("Bristol, City of", "Mendip"):
        row = lads[lads["name"] == name].iloc[0]
        assert ink.distance(shapely.Point(row["lon"], row["lat"])) < 0.05, name


def test_ward_maps_separate_wards_by_a_gap_not_a_line(deck, store, regions):
    d, _, _ = deck
    spec = json.loads(d.to_json())
    drawn = gpd.GeoSeries([shapely.Polygon(o["p"][0], o["p"][1:])
                           for o in spec["layers"][0]["data"]],
                          index=[o["code"] for o in spec["layers"][0]["data"]], crs=4326)
    drawn = drawn.to_crs(3857).make_valid().groupby(level=0).agg(shapely.union_all)
    shapes = geography.map_shapes(store, regions["avon_and_somerset"], "ward")
    shapes = shapes.set_index("code").geometry
    px = linework.metres_per_pixel(spec["initialViewState"]["zoom"])
    gaps = []
    for code in shapes.index[:40]:
        for other in shapes.index[shapes.touches(shapes[code])]:
            if shapes[code].intersection(shapes[other]).length > 0:  # a shared edge
                gaps.append(drawn[code].distance(drawn[other]) / px)
    assert len(gaps) > 50
    # Neighbours stand apart by the gap (the page shows through as a white line).
    assert np.median(gaps) == pytest.approx(maps.EDGE_PX, rel=0.15)


def test_lines_are_as_wide_on_screen_as_asked_at_the_opening_zoom():
    zoom = 8.0
    line = np.array([shapely.LineString([(-3.0, 51.0), (-2.0, 51.0)])])
    ribbon = linework.line_polygons(line, 2.0, zoom)[0]
    merc = gpd.GeoSeries([ribbon], crs=4326).to_crs(3857).iloc[0]
    width_px = (merc.bounds[3] - merc.bounds[1]) / linework.metres_per_pixel(zoom)
    assert width_px == pytest.approx(2.0, rel=0.02)


def test_a_name_is_traced_into_polygons_of_the_asked_height():
    glyphs, boxes = linework.label_polygons(["Mendip"], [-2.6], [51.2], size_px=11, zoom=8.0)
    merc = gpd.GeoSeries(list(glyphs), crs=4326).to_crs(3857).iloc[0]
    height_px = (merc.bounds[3] - merc.bounds[1]) / linework.metres_per_pixel(8.0)
    assert 8 < height_px < 14  # "M" to the foot of "p"
    assert len(shapely.get_parts(merc)) >= 5  # separate letters, not one blob
    assert boxes[0].contains(glyphs[0])


def test_shared_edges_are_drawn_once():
    left, right = shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)
    edges = maps.shared_edges(np.array([left, right]), 4)
    assert sum(e.length for e in edges) == pytest.approx(7.0)  # 8 sides, the shared one once


def test_deck_json_is_compact_and_memoised(deck):
    d, _, _ = deck
    first = d.to_json()
    assert "\n" not in first and ": " not in first[:200]
    assert d.to_json() is first
    assert "_lean_json" not in first


def test_tooltip_shows_name_code_value_rate_and_rank(deck):
    d, view, _ = deck
    spec = json.loads(d.to_json())
    obj = next(o for o in spec["layers"][0]["data"] if o["code"] == "E05010892")
    row = view.set_index("area_code").loc["E05010892"]
    assert obj["name"] == row["area_name"]
    assert obj["v"] == f"{row['value']:,.0f}"
    assert obj["r"] == (f"{row['rate_per_1000']:,.2f} (95% CI {row['rate_lower_95']:,.2f} to "
                        f"{row['rate_upper_95']:,.2f})")  # the rate with its interval
    assert obj["k"] == f"{int(row['rank'])} of {int(view['rank'].notna().sum())}"
    assert all(k in d._tooltip["html"] for k in ("{name}", "{code}", "{v}", "{r}", "{k}"))


def test_a_rate_no_area_has_is_left_out_of_the_tooltip(store, regions):
    imd, view, _ = map_of(store, regions["avon_and_somerset"], ViewFilter(
        "avon_and_somerset", "lsoa", "imd2019_rank", "2019", "2019", "count"))
    assert view["rate_per_1000"].isna().all() and view["value"].notna().any()
    areas = json.loads(imd.to_json())["layers"][0]
    assert "r" not in areas["data"][0] and "Rate per 1,000" not in imd._tooltip["html"]
    assert "{v}" in imd._tooltip["html"] and "{k}" in imd._tooltip["html"]


def test_a_national_tooltip_sends_only_the_figure_the_colours_show(store, regions):
    region = regions["england_and_wales"]
    imd, view, _ = map_of(store, region, ViewFilter(
        "england_and_wales", "lsoa", "imd2019_rank", "2019", "2019", "count"))
    areas = next(la for la in json.loads(imd.to_json())["layers"] if la["id"] == "areas")
    assert {tuple(sorted(o)) for o in areas["data"]} == {("c", "code", "name", "p", "v")}
    assert "{v}" in imd._tooltip["html"] and "Click the area" in imd._tooltip["html"]
    row = view.dropna(subset=["value"]).iloc[0]
    obj = next(o for o in areas["data"] if o["code"] == row["area_code"])
    assert obj["v"] == f"{row['value']:,.0f}"
    # The rest is in the figures a click shows beside the map.
    figures = maps.area_figures(view, row["area_code"], "rank")
    assert figures["k"].endswith(f"of {int(view['rank'].notna().sum())}")
    rate, _, _ = map_of(store, region, ViewFilter(
        "england_and_wales", "lsoa", "crime_all", "2022-03", "2022-03", "rate"))
    areas = next(la for la in json.loads(rate.to_json())["layers"] if la["id"] == "areas")
    assert {tuple(sorted(o)) for o in areas["data"]} == {("c", "code", "name", "p", "r")}
    assert "Rate per 1,000: {r}" in rate._tooltip["html"]


def test_legend_html_lists_each_class():
    entries = [classify.LegendEntry("#ffffb2", "0 – 5", 3),
               classify.LegendEntry(classify.NO_DATA, "No data", 1)]
    html = maps.legend_html("Count", entries)
    assert "0 – 5" in html and "No data" in html and "#ffffb2" in html
    # A real list (one item per class) that a screen reader can count.
    assert html.count("<li") == 2 and "<ul aria-label='Map legend: Count'" in html


def test_choropleth_refuses_projected_shapes(deck, store, regions):
    _, view, classes = deck
    region = regions["avon_and_somerset"]
    shapes = geography.map_shapes(store, region, "ward").to_crs(27700)
    with pytest.raises(ValueError, match="EPSG:4326"):
        maps.choropleth_deck(gpd.GeoDataFrame(shapes), view, classes,
                             geography.lad_outlines(store, region), unit="count",
                             detail="fine", measure_label="rate")


def test_national_no_data_areas_are_drawn_as_one_merged_shape(store, regions):
    deck, view, _ = map_of(store, regions["england_and_wales"], ViewFilter(
        "england_and_wales", "lsoa", "crime_all", "2022-03", "2022-03", "count"))
    spec = json.loads(deck.to_json())
    layers = {layer["id"]: layer for layer in spec["layers"]}
    assert list(layers) == ["no-data", "areas", "boundaries"]
    with_data = view["value"].notna().sum()
    assert len({o["code"] for o in layers["areas"]["data"]}) == with_data
    assert layers["no-data"]["pickable"] is False
    assert len(deck.to_json()) < 2_000_000  # against ~8 MB with every area drawn


def test_partner_text_is_escaped_in_legends_and_markdown():
    from dashboard.ui.widgets import plain
    from dashboard.views.classify import LegendEntry
    legend = maps.legend_html("<img src=x onerror=alert(1)>",
                              [LegendEntry("#ffffff", "<a href='http://e'>x</a>", 3)])
    assert "<img" not in legend and "<a " not in legend and "&lt;img" in legend
    text = plain("![x](http://evil.example/x.png) [link](http://e) <b>bold</b>")
    assert not re.search(r"(?<!\\)[\[\]<>!]", text)  # every one escaped: no link, image, tag


def test_hot_spots_only_draws_cold_spots_as_not_significant():
    from dashboard.analysis import emerging, hotspots
    result = pd.DataFrame({"class": [hotspots.HOT[99], hotspots.COLD[95], hotspots.LISA[3],
                                     hotspots.LISA[4], hotspots.NOT_SIGNIFICANT]})
    shown = maps.hot_spots_only(result, "hotspots")
    assert shown["class"].tolist() == [hotspots.HOT[99], hotspots.NOT_SIGNIFICANT,
                                       hotspots.NOT_SIGNIFICANT, hotspots.LISA[4],
                                       hotspots.NOT_SIGNIFICANT]
    assert result["class"].iat[1] == hotspots.COLD[95]  # the result itself is untouched
    trend = pd.DataFrame({"category": ["New hot spot", "Persistent cold spot",
                                       emerging.NO_PATTERN]})
    assert maps.hot_spots_only(trend, "emerging")["category"].tolist() == [
        "New hot spot", emerging.NO_PATTERN, emerging.NO_PATTERN]
