"""Maps: pydeck decks built from a view, lean enough for all of England and Wales
and quick where WebGL runs in software.

What keeps a map light (measured in ``benchmarks/map_payload.py`` and
``benchmarks/page_ready.py``):

* one kind of layer, ``PolygonLayer``: district outlines and names are polygons
  sized for the opening zoom, and the white lines between wards are gaps between
  the fills (:mod:`dashboard.views.linework` says why);
* areas are simplified to half a pixel at the opening zoom (national geometry is
  coverage-simplified in the store, ``loaders.boundaries.TOLERANCE``), coordinates
  rounded to a tenth of a pixel, and rings not closed twice;
* the deck's JSON is written compactly, once, and the deck object is cached, so a
  rerun does not serialise tens of thousands of polygons again.

No basemap is needed: district outlines (and, on a regional map, their names) are
drawn on the map, so it reads without a tile server.
"""

from __future__ import annotations

import html
import json
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pydeck as pdk
import shapely
from pydeck.bindings.json_tools import IGNORE_KEYS, default_serialize

from dashboard.analysis import emerging, hotspots
from dashboard.measures import disclosure, rates
from dashboard.views import linework
from dashboard.views.classify import (
    NO_DATA,
    Classification,
    LegendEntry,
    classify,
    compared_classes,
    hex_to_rgb,
)
from dashboard.views.linework import polygon_rings

AREA_LAYER = "areas"
MERGE_NO_DATA_OVER = 2000  # national maps draw more "No data" areas than this as one shape
# No basemap. pydeck marks "no provider" by keeping its default-style sentinel;
# Streamlit's map component then draws deck.gl alone: no tile or style request
# (none is reachable here) and no second WebGL map to start.
NO_BASEMAP = "__MAP_STYLE__"
AREA_OPACITY = 0.9  # of the area fills, over the page's white where there is no basemap
_LEAN_KEY = "_lean_json"
IGNORE_KEYS.append(_LEAN_KEY)  # the memo is not part of the spec


class LeanDeck(pdk.Deck):
    """A ``pydeck.Deck`` whose JSON is compact and computed once.

    ``pydeck`` writes indented JSON through Python's slow encoder path; for
    35,000 polygons that is tens of megabytes and seconds per rerun.
    """

    def to_json(self) -> str:  # noqa: D102 - same contract as pydeck.Deck.to_json
        cached = self.__dict__.get(_LEAN_KEY)
        if cached is None:
            cached = json.dumps(self, default=default_serialize, separators=(",", ":"))
            self.__dict__[_LEAN_KEY] = cached
        return cached


def shared_edges(geoms: np.ndarray, decimals: int) -> np.ndarray:
    """Each boundary between areas once, as lines (outlining every polygon draws each
    shared edge twice)."""
    grid = 10.0 ** -decimals
    edges = shapely.line_merge(shapely.union_all(shapely.boundary(geoms), grid_size=grid))
    parts = shapely.get_parts(edges)
    return parts[~shapely.is_empty(parts)]


EDGE_PX = 0.8  # lines between areas, screen pixels at the opening zoom
DISTRICT_LINE = (40, 40, 40)
NAME_COLOUR = (20, 20, 20)
NAME_BOX = (255, 255, 255, 200)


def overlay_layers(zoom: float, *, edges: np.ndarray | None, lads: gpd.GeoDataFrame,
                   names: bool, edge_colour: tuple[int, int, int] = (255, 255, 255),
                   district_px: float | None = None) -> list[pdk.Layer]:
    """What a map draws over its areas, without a basemap: lines between areas
    (``edges``, if given), district outlines and, if ``names``, district names in
    light boxes; as polygons sized for ``zoom`` (see :mod:`dashboard.views.linework`)."""
    decimals = linework.decimals_for(zoom)
    lines = []
    if edges is not None:
        lines.append((linework.line_polygons(edges, EDGE_PX, zoom), edge_colour))
    district_px = district_px or (1.4 if names else 0.8)
    lines.append((linework.line_polygons(shapely.boundary(lads.geometry.values), district_px,
                                         zoom), DISTRICT_LINE))
    layers = [linework.polygons_layer("boundaries", lines, decimals)]
    if names:
        glyphs, boxes = linework.label_polygons(list(lads["name"]), lads["lon"].values,
                                                lads["lat"].values, size_px=11, zoom=zoom)
        layers.append(linework.polygons_layer(
            "district-names", [(boxes, NAME_BOX), (glyphs, NAME_COLOUR)], decimals))
    return layers


MAP_WIDTH = 760  # the Map page's map on a desktop screen, pixels
PHONE_WIDTH = 358  # on a 390-px phone, less Streamlit's 16-px margins each side
MAP_HEIGHT = 560


def view_state(bounds: tuple[float, float, float, float], width: int = MAP_WIDTH,
               height: int = MAP_HEIGHT) -> pdk.ViewState:
    """A view that fits ``(minx, miny, maxx, maxy)`` in WGS84 into a ``width`` x
    ``height`` map, with a margin: centred on the bounds in Web Mercator (as drawn),
    at the zoom at which both their width and their height fit."""
    minx, miny, maxx, maxy = bounds

    def merc(lat: float) -> float:
        return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))

    # deck.gl's MapView, like MapLibre, spans the world in 512 * 2**zoom pixels.
    zx = math.log2(width * 360 / (512 * max(maxx - minx, 1e-6)))
    zy = math.log2(height * 2 * math.pi / (512 * max(merc(maxy) - merc(miny), 1e-9)))
    middle = math.degrees(2 * math.atan(math.exp((merc(miny) + merc(maxy)) / 2)) - math.pi / 2)
    return pdk.ViewState(longitude=(minx + maxx) / 2, latitude=middle,
                         zoom=round(min(zx, zy) - 0.15, 2), pitch=0, bearing=0)


def screen_offset(view: dict, lon: float, lat: float) -> tuple[float, float]:
    """Where (lon, lat) is drawn, in pixels right of and below the centre of a map
    opened at ``view`` (a view state's JSON: longitude, latitude, zoom)."""
    scale = 512 * 2 ** view["zoom"]

    def merc(y: float) -> float:
        return math.log(math.tan(math.pi / 4 + math.radians(y) / 2))

    return ((lon - view["longitude"]) / 360 * scale,
            (merc(view["latitude"]) - merc(lat)) / (2 * math.pi) * scale)


def _fmt(value: float, digits: int = 0) -> str:
    if value is None or pd.isna(value):
        return "no data"
    return f"{value:,.{digits}f}"


def _tooltip_fields(view: pd.DataFrame, unit: str, ranked_of: int | None = None
                    ) -> pd.DataFrame:
    digits = 0 if unit in ("count", "rank") else 2
    n = int(view["rank"].notna().sum()) if ranked_of is None else ranked_of
    out = pd.DataFrame({
        "code": view["area_code"].values,
        "name": view["area_name"].values,
        "v": [_fmt(v, digits if not (v is not None and pd.notna(v) and v % 1) else 2)
              for v in view["value"]],
        "r": [_fmt(v, 2) for v in view["rate_per_1000"]],
        "k": [f"{int(r)} of {n}" if pd.notna(r) else "not ranked" for r in view["rank"]],
    })
    # 95 % limits beside their figure: a partner's published ones beside the value,
    # the exact Poisson ones beside a rate per 1,000.
    for field, figure, limits in (("v", "value", digits or 2), ("r", "rate_per_1000", 2)):
        low, high = ("value_lower_95", "value_upper_95") if field == "v" else \
            ("rate_lower_95", "rate_upper_95")
        if low not in view:
            continue
        lo, hi = view[low].to_numpy(), view[high].to_numpy()
        has = pd.notna(lo) & pd.notna(hi) & view[figure].notna().to_numpy()
        out.loc[has, field] = [f"{x} (95% CI {a:,.{limits}f} to {b:,.{limits}f})"
                               for x, a, b in zip(out.loc[has, field], lo[has], hi[has],
                                                  strict=True)]
    if "estimated" in view:  # a total that counts suppressed cells as stand-ins
        some = (view["estimated"] > 0).to_numpy() & view["value"].notna().to_numpy()
        out.loc[some, "v"] = [f"about {v} (includes {n:,} suppressed small "
                              f"count{'s' if n > 1 else ''})"
                              for v, n in zip(out.loc[some, "v"],
                                              view.loc[some, "estimated"], strict=True)]
    if "suppressed" in view:
        hidden = (view["suppressed"] != "").to_numpy()
        out.loc[hidden, ["v", "r"]] = "suppressed (small count)"
        partner = view["suppressed"].astype(str).str.startswith("partner").to_numpy()
        out.loc[partner, "v"] = [f"hidden by the partner{s[len('partner'):]}"
                                 for s in view["suppressed"].to_numpy()[partner]]
        other = (view["suppressed"] == disclosure.OTHER_WAY).to_numpy()
        out.loc[other, "v"] = disclosure.OTHER_WAY
    return out


def _default_tooltip(view: pd.DataFrame, unit: str, *, fine: bool, measure_label: str,
                     ranked: str) -> tuple[pd.DataFrame, str]:
    """The tooltip fields and template of a map of figures.

    A regional map's tooltip gives value, rate per 1,000 and rank, leaving out the
    rate where no area has one. A national map's gives only the figure its colours
    show: its tens of thousands of areas would otherwise send megabytes of repeated
    words, and a click on an area shows all its figures beside the map.
    """
    fields = _tooltip_fields(view, unit)
    head = "<b>{name}</b> <span style='opacity:.7'>{code}</span><br/>"
    if not fine:
        shown = "r" if measure_label == "rate" and "rate_per_1000" in view else "v"
        what = "Rate per 1,000" if shown == "r" else "Value"
        return (fields[["code", "name", shown]],
                head + f"{what}: {{{shown}}}<br/><i>Click the area for all its figures</i>")
    lines = ["Value: {v}"]
    if (fields["r"] == "no data").all():
        fields = fields.drop(columns="r")
    else:
        lines.append("Rate per 1,000: {r}")
    lines.append(f"Rank ({measure_label}, {ranked}): " + "{k}")
    return fields, head + "<br/>".join(lines)


def area_figures(view: pd.DataFrame, code: str, unit: str) -> dict | None:
    """The tooltip figures of one area (``name, code, v, r, k``), or None if absent."""
    # Only the clicked area is formatted (a national view has 35,000), ranked among all.
    row = view[view["area_code"] == code]
    if row.empty:
        return None
    return _tooltip_fields(row, unit, int(view["rank"].notna().sum())).iloc[0].to_dict()


def choropleth_deck(shapes: gpd.GeoDataFrame, view: pd.DataFrame, classes: Classification,
                    lads: gpd.GeoDataFrame, *, unit: str, detail: str,
                    measure_label: str, outlines: bool = True, ranked: str = "1 = most need",
                    fields: pd.DataFrame | None = None,
                    tooltip_html: str | None = None,
                    edge_colour: tuple[int, int, int] = (255, 255, 255),
                    width: int = MAP_WIDTH) -> LeanDeck:
    """A choropleth of ``view`` on ``shapes`` with district outlines over it, opening on
    the districts fitted to a map ``width`` pixels wide.

    Parameters
    ----------
    shapes : GeoDataFrame
        ``code`` and WGS84 geometry of the areas (from ``geography.map_shapes``).
    view : DataFrame
        The figures (from ``measures.indicator_view``), one row per area.
    classes : Classification
        Colours per row of ``view``.
    lads : GeoDataFrame
        District outlines with ``name``, ``lon``, ``lat``.
    unit : str
        The indicator's unit (sets the decimals in tooltips).
    detail : {"fine", "coarse"}
        ``coarse`` (a national map) drops area outlines and district labels.
    outlines : bool
        Draw thin white boundaries between areas (ward maps). Outlines of a
        thousand LSOAs cost the browser more than their fills, and the colour
        classes already separate neighbours, so LSOA maps go without.
    measure_label : str
        What the colours show, for the tooltip.
    fields, tooltip_html : optional
        Tooltip figures per area (``code`` and short text columns, in the order
        of ``view``) and the tooltip's HTML template, instead of the default
        value, rate and rank.
    edge_colour : (r, g, b)
        Colour of the lines between areas: white between a scale's colours,
        grey where most areas are pale (a class map).
    """
    if shapes.crs is None or shapes.crs.to_epsg() != 4326:
        raise ValueError("shapes must be in EPSG:4326; reproject in geography.map_shapes")
    fine = detail == "fine"
    html = tooltip_html
    if fields is None:
        fields, html = _default_tooltip(view, unit, fine=fine, measure_label=measure_label,
                                        ranked=ranked)
    else:
        fields = fields.copy()
    fields["c"] = [hex_to_rgb(c) for c in classes.colours]
    merged = shapes[["code", "geometry"]].merge(fields, on="code", how="inner",
                                                validate="one_to_one")
    view = view_state(tuple(lads.total_bounds), width=width)
    decimals = linework.decimals_for(view.zoom)  # a tenth of a pixel: 4 for a region, 3 nationally
    layers = []
    no_data = merged["v" if "v" in merged else "r"] == "no data"
    if not fine and no_data.sum() > MERGE_NO_DATA_OVER:
        # On a national map most areas may have no data (a partner covers one region).
        # Drawn as one merged shape they cost a few thousand vertices, not a quarter
        # of a million; they carry no figures to show in a tooltip anyway.
        blank = shapely.union_all(merged.geometry.values[no_data.values],
                                  grid_size=10.0 ** -decimals)
        blank_rings, _ = polygon_rings(np.array([blank]), decimals)
        layers.append(pdk.Layer(
            "PolygonLayer", data=[{"p": r} for r in blank_rings], id="no-data",
            get_polygon="p", get_fill_color=hex_to_rgb(NO_DATA), filled=True,
            stroked=False, pickable=False, opacity=0.9))
        merged = merged[~no_data.values]
    geoms = merged.geometry.values
    # White lines between areas are gaps between the fills; other colours are drawn.
    gaps = fine and outlines and tuple(edge_colour) == (255, 255, 255)
    if fine:  # national shapes are simplified in the store already
        geoms = linework.screen_areas(geoms, view.zoom, gap_px=EDGE_PX if gaps else 0.0)
    rings, part_of = polygon_rings(geoms, decimals)
    records = merged.drop(columns="geometry").to_dict("records")
    data = [{**records[i], "p": ring} for ring, i in zip(rings, part_of, strict=True)]
    layers.append(pdk.Layer(
        "PolygonLayer", data=data, id=AREA_LAYER, get_polygon="p", get_fill_color="c",
        stroked=False,
        # Highlighting redraws the whole layer on every hover: cheap for a region,
        # not for 35,000 national polygons on a machine without a GPU.
        filled=True, pickable=True, auto_highlight=fine, highlight_color=[30, 30, 30, 90],
        opacity=AREA_OPACITY))
    layers.extend(overlay_layers(
        view.zoom, edges=shared_edges(geoms, decimals) if fine and outlines and not gaps
        else None, edge_colour=edge_colour, lads=lads, names=fine))
    tooltip = {"html": html,
               "style": {"backgroundColor": "#222", "color": "white", "fontSize": "13px"}}
    return LeanDeck(layers=layers, initial_view_state=view,
                    map_style=NO_BASEMAP, map_provider=None, tooltip=tooltip, height=600)


def legend_html(title: str, entries: list[LegendEntry]) -> str:
    """An HTML legend: one swatch, class bounds and area count per row, as a list a
    screen reader announces ("list, 7 items"). Titles and labels can come from
    partners' catalogue entries, so they are escaped."""
    rows = "".join(
        f"<li style='display:flex;align-items:center;gap:.5em;margin:2px 0'>"
        f"<span aria-hidden='true' style='display:inline-block;width:22px;height:14px;"
        f"flex:none;background:{html.escape(e.colour)};border:1px solid #595959'></span>"
        f"<span style='flex:1'>{html.escape(e.label)}</span>"
        f"<span>{e.count:,}<span class='oda-sr-only'> areas</span></span></li>"
        for e in entries)
    return (f"<div style='font-size:.9em'>"
            f"<p style='font-weight:600;margin:0 0 .3em'>"
            f"{html.escape(title)}</p>"
            f"<ul aria-label='Map legend: {html.escape(title, quote=True)}' "
            f"style='list-style:none;margin:0;padding:0'>{rows}</ul>{SR_ONLY}</div>")


# Text for screen readers only (the usual visually-hidden pattern).
SR_ONLY = ("<style>.oda-sr-only{position:absolute;width:1px;height:1px;padding:0;"
           "margin:-1px;overflow:hidden;clip:rect(0,0,0,0);white-space:nowrap;border:0}"
           "</style>")


def view_map(shapes: gpd.GeoDataFrame, lads: gpd.GeoDataFrame, view: pd.DataFrame, *,
             measure: str, scheme: str, k: int, level: str, unit: str, polarity: str,
             detail: str, width: int = MAP_WIDTH) -> tuple[LeanDeck, Classification]:
    """The map page's deck and classes for a view: what the app draws, in one place,
    opening on the region fitted to a map ``width`` pixels wide."""
    column = "rate_per_1000" if measure == "rate" else "value"
    hidden = view["suppressed"] != "" if "suppressed" in view else None
    label = disclosure.label(view.attrs.get("suppression_k", 5))
    if scheme == "compared":
        classes = compared_classes(view["compared_with_region"], polarity, suppressed=hidden,
                                   suppressed_label=label)
    else:
        classes = classify(view[column], scheme, k, polarity, suppressed=hidden,
                           suppressed_label=label)
    deck = choropleth_deck(shapes, view, classes, lads, unit=unit, detail=detail,
                           measure_label="rate" if measure == "rate" else "value",
                           outlines=level == "ward", ranked=rates.rank_meaning(polarity),
                           width=width)
    return deck, classes


def hot_spots_only(result: pd.DataFrame, mode: str) -> pd.DataFrame:
    """The result with every cold spot (and low cluster or outlier, or cold-spot
    pattern) shown as not significant: on zero-heavy maps such as hexagons, the many
    cold spots of areas with no records drown the hot spots."""
    out = result.copy()
    if mode == "emerging":
        cold = out["category"].astype(str).str.endswith("cold spot")
        out.loc[cold, "category"] = emerging.NO_PATTERN
        return out
    low = set(hotspots.COLD.values()) | {hotspots.LISA[2], hotspots.LISA[3]}
    out.loc[out["class"].isin(low), "class"] = hotspots.NOT_SIGNIFICANT
    return out


def class_legend(result: pd.DataFrame, mode: str, method: str) -> list[LegendEntry]:
    """Legend rows of a class map: every class that occurs (and "Not significant"),
    with its colour and how many areas have it."""
    if mode == "emerging":
        entries = emerging.category_counts(result)
        keep = [True] * len(entries)
    else:
        entries = hotspots.class_counts(result, method)
        keep = (entries["areas"] > 0) | (entries["class"] == hotspots.NOT_SIGNIFICANT)
    return [LegendEntry(c, n, a) for (n, c, a), k in
            zip(entries.itertuples(index=False), keep, strict=True) if k]


def class_map(shapes: gpd.GeoDataFrame, lads: gpd.GeoDataFrame, result: pd.DataFrame, *,
              mode: str, method: str, detail: str, level: str,
              columns: bool = False, focus: bool = False, hot_only: bool = False
              ) -> LeanDeck:
    """A map of hotspot classes (``mode="hotspots"``) or emerging categories.

    Parameters
    ----------
    result : DataFrame
        From ``hotspot_views.hotspot_view`` (``class``, ``z``, its p and ``q_fdr``) or
        ``hotspot_views.emerging_view`` (``category``, ``trend``).
    columns : bool
        Add 3D columns, as tall as each area's tested value, coloured by class,
        and tilt the view.
    focus : bool
        Open the view on the largest group of touching hot spots (high-high
        clusters, or areas with a hot spot pattern) rather than the whole
        region, when there is one.
    hot_only : bool
        Draw cold spots as not significant (:func:`hot_spots_only`).
    """
    if hot_only:
        result = hot_spots_only(result, mode)
    if mode == "emerging":
        label = result["category"]
        colours = [emerging.COLOURS[c] for c in label]
        extra = [f"Hot in {h} of {n} months, cold in {c}; trend {t}"
                 for h, c, t, n in zip(result["periods_hot"].fillna(0).astype(int),
                                       result["periods_cold"].fillna(0).astype(int),
                                       result["trend"].fillna("not tested"),
                                       [len(result.attrs.get("periods", []))] * len(result),
                                       strict=True)]
    else:
        label = result["class"]
        colours = [hotspots.COLOURS[c] for c in label]
        extra = [_significance(z, p, q) for z, p, q in
                 zip(result["z"], result[hotspots.p_column(result)],
                     result[hotspots.Q_COLUMN], strict=True)]
    digits = 0 if (result["value"].dropna() % 1 == 0).all() else 2
    fields = pd.DataFrame({"code": result["area_code"].values,
                           "name": result["area_name"].values,
                           "cls": label.values, "x": extra,
                           "v": [_fmt(v, digits) for v in result["value"]],
                           "r": [_fmt(v, 2) for v in result["rate_per_1000"]]})
    html = ("<b>{name}</b> <span style='opacity:.7'>{code}</span><br/><b>{cls}</b><br/>"
            "{x}<br/>Value: {v} · rate per 1,000: {r}")
    classes = Classification(colours=colours, legend=class_legend(result, mode, method),
                             bins=[])
    deck = choropleth_deck(shapes, result, classes, lads, unit="count", detail=detail,
                           measure_label="", outlines=level == "ward", fields=fields,
                           tooltip_html=html, edge_colour=(150, 150, 150))
    if level == "hex" and len(shapes):
        # Hexagons cover only the districts where the source has data: open on those.
        deck.initial_view_state = view_state(tuple(shapes.total_bounds))
    if focus:
        inside = shapes[shapes["code"].isin(_hot_codes(result, mode))]
        if len(inside):
            # Touching hot areas form groups; open on the group with the most areas.
            near = shapely.buffer(inside.geometry.values, 0.0005)  # ~50 m: touching
            groups = shapely.get_parts(shapely.union_all(near))
            points = inside.geometry.representative_point().values
            members = [int(shapely.contains(g, points).sum()) for g in groups]
            minx, miny, maxx, maxy = groups[int(np.argmax(members))].bounds
            pad = max(maxx - minx, maxy - miny, 0.01) * 0.8  # some context around it
            deck.initial_view_state = view_state((minx - pad, miny - pad, maxx + pad,
                                                  maxy + pad))
    if columns and mode == "hotspots":
        deck = _with_columns(deck, shapes, result, colours)
    return deck


def _significance(z: float, p: float, q: float) -> str:
    """z, p and (under FDR control) q of one area, as its tooltip gives them: the
    figures its class follows from."""
    if pd.isna(z):
        return "not tested"
    text = f"z = {z:.2f}, p = {_p(p)}"
    return text + (f", q = {_p(q)}" if pd.notna(q) else "")


def _p(p: float) -> str:
    """A p- or q-value to two significant figures, in plain decimals down to 0.001."""
    return "n/a" if pd.isna(p) else f"{p:.2g}" if p >= 0.001 else f"{p:.1e}"


def _hot_codes(result: pd.DataFrame, mode: str) -> set[str]:
    if mode == "emerging":
        keep = {c for c in emerging.CATEGORIES if c.endswith("hot spot")}
        return set(result.loc[result["category"].isin(keep), "area_code"])
    keep = set(hotspots.HOT.values()) | {hotspots.LISA[1]}
    return set(result.loc[result["class"].isin(keep), "area_code"])


def _with_columns(deck: LeanDeck, shapes: gpd.GeoDataFrame, result: pd.DataFrame,
                  colours: list[str]) -> LeanDeck:
    """Add 3D columns (height: tested value) at each tested area's inner point."""
    data = result[["area_code", "tested"]].assign(c=[hex_to_rgb(c) for c in colours])
    data = data[data["tested"].notna()]
    points = shapes.set_index("code").geometry.representative_point()
    data = data[data["area_code"].isin(points.index)]
    pts = points.loc[data["area_code"]]
    top = float(data["tested"].max()) or 1.0
    records = [{"p": [round(p.x, 4), round(p.y, 4)], "h": round(float(t) / top, 4), "c": c}
               for p, t, c in zip(pts, data["tested"], data["c"], strict=True)]
    span = max(shapes.total_bounds[2] - shapes.total_bounds[0], 1e-3)
    layer = pdk.Layer("ColumnLayer", data=records, id="columns", get_position="p",
                      get_elevation="h", elevation_scale=span * 111_000 / 4,
                      radius=max(span * 111_000 / 400, 60), get_fill_color="c",
                      disk_resolution=6, extruded=True, pickable=False)
    view = deck.initial_view_state
    tilted = pdk.ViewState(longitude=view.longitude, latitude=view.latitude,
                           zoom=view.zoom, pitch=45, bearing=-15)
    return LeanDeck(layers=[*deck.layers, layer], initial_view_state=tilted,
                    map_style=NO_BASEMAP, map_provider=None, tooltip=deck._tooltip,
                    height=600)


def ward_map(lsoas: gpd.GeoDataFrame, ward: gpd.GeoDataFrame, lads: gpd.GeoDataFrame
             ) -> LeanDeck:
    """One ward (dark outline) and its LSOAs (light fills with white edges, named in
    tooltips), with district outlines around it."""
    bounds = tuple(ward.total_bounds) if len(ward) else tuple(lads.total_bounds)
    minx, miny, maxx, maxy = bounds
    pad = max(maxx - minx, maxy - miny) * 0.15
    view = view_state((minx - pad, miny - pad, maxx + pad, maxy + pad), width=480, height=380)
    decimals = linework.decimals_for(view.zoom)
    layers = []
    lines = []
    if len(lsoas):
        rings, part_of = polygon_rings(lsoas.geometry.values, decimals)
        names = lsoas[["code", "name"]].to_dict("records")
        layers.append(pdk.Layer(
            "PolygonLayer", data=[{**names[i], "p": r} for r, i in
                                  zip(rings, part_of, strict=True)], id="lsoas",
            get_polygon="p", get_fill_color=[253, 204, 138], stroked=False, filled=True,
            pickable=True))
        lines.append((linework.line_polygons(shared_edges(lsoas.geometry.values, decimals),
                                             1.0, view.zoom), (255, 255, 255)))
    lines.append((linework.line_polygons(shapely.boundary(lads.geometry.values), 1.0,
                                         view.zoom), (120, 120, 120)))
    lines.append((linework.line_polygons(shapely.boundary(ward.geometry.values), 3.0,
                                         view.zoom), (20, 20, 20)))
    layers.append(linework.polygons_layer("boundaries", lines, decimals))
    return LeanDeck(layers=layers, initial_view_state=view, map_style=NO_BASEMAP,
                    map_provider=None, height=380, tooltip={"html": "<b>{name}</b> {code}"})


OVERLAP_COLOURS = ["#f2f0eb", "#dadaeb", "#9e9ac8", "#6a51a3", "#3f007d", "#1f0040"]


def overlap_map(shapes: gpd.GeoDataFrame, lads: gpd.GeoDataFrame, frame: pd.DataFrame, *,
                kind: str, detail: str, level: str) -> tuple[LeanDeck, list[LegendEntry]]:
    """A map of multi-agency overlap (``kind="overlap"``: how many partners' hot spots
    of need coincide) or of the composite demand index (``kind="index"``)."""
    if kind == "overlap":
        n = frame["partners"].astype(int)
        colours = [OVERLAP_COLOURS[min(i, len(OVERLAP_COLOURS) - 1)] for i in n]
        legend = [LegendEntry(OVERLAP_COLOURS[min(i, 5)],
                              "no partner's hot spot" if i == 0 else
                              f"hot spot for {i} partner{'s' if i > 1 else ''}",
                              int((n == i).sum())) for i in range(int(n.max()) + 1)]
        text = [w or "none" for w in frame["which"]]
        value = [f"{i} partner{'s' if i != 1 else ''}" for i in n]
    else:
        classes = classify(frame["index"], "quantiles", 5, "high_is_bad")
        colours, legend = classes.colours, classes.legend
        text = [f"rank {int(r)} of {frame['rank'].notna().sum()}" if pd.notna(r) else
                "not ranked" for r in frame["rank"]]
        value = [_fmt(v, 1) for v in frame["index"]]
    fields = pd.DataFrame({"code": frame["area_code"].values, "name": frame["area_name"].values,
                           "v": value, "x": text})
    what = "Hot spot of need for" if kind == "overlap" else "Demand index"
    html = ("<b>{name}</b> <span style='opacity:.7'>{code}</span><br/>" + what +
            ": {v}<br/>{x}")
    deck = choropleth_deck(shapes, frame, Classification(colours=colours, legend=legend,
                                                         bins=[]),
                           lads, unit="count", detail=detail, measure_label="",
                           outlines=level == "ward", fields=fields, tooltip_html=html,
                           edge_colour=(150, 150, 150))
    return deck, legend


def forecast_map(shapes: gpd.GeoDataFrame, lads: gpd.GeoDataFrame, frame: pd.DataFrame, *,
                 polarity: str, detail: str, level: str) -> tuple[LeanDeck, list[LegendEntry]]:
    """A map of each area's expected count next month (``forecast.forecast_areas``, one
    month), in quintiles on the polarity's ramp, its intervals in the tooltip."""
    classes = classify(frame["predicted"], "quantiles", 5, polarity)
    def span(lo, hi) -> str:
        return "no forecast" if pd.isna(lo) or pd.isna(hi) else f"{int(lo):,} to {int(hi):,}"

    fields = pd.DataFrame({
        "code": frame["area_code"].values, "name": frame["area_name"].fillna("").values,
        "v": ["no forecast (no month known)" if pd.isna(v) else _fmt(v, 1)
              for v in frame["predicted"]],
        "a": [span(lo, hi) for lo, hi in zip(frame["predicted_lower_80"],
                                             frame["predicted_upper_80"], strict=True)],
        "b": [span(lo, hi) for lo, hi in zip(frame["predicted_lower_95"],
                                             frame["predicted_upper_95"], strict=True)]})
    html = ("<b>{name}</b> <span style='opacity:.7'>{code}</span><br/>Expected: {v}<br/>"
            "80% likely: {a}<br/>95% likely: {b}")
    deck = choropleth_deck(shapes, frame, classes, lads, unit="count", detail=detail,
                           measure_label="", outlines=level == "ward", fields=fields,
                           tooltip_html=html)
    return deck, classes.legend


# -- interventions over need ------------------------------------------------------------

FOOTPRINT_LINE = (0, 0, 0)  # black over a white casing: it reads on every fill colour
FOOTPRINT_CASING = (255, 255, 255)
FOOTPRINT_PX, CASING_PX = 2.2, 4.6
FOOTPRINT_LEGEND = ("<div style='font-size:.9em;margin-top:.6em;display:flex;gap:.5em;"
                    "align-items:center'><span aria-hidden='true' style='display:inline-block;"
                    "width:22px;height:14px;flex:none;border:3px solid #000;outline:2px "
                    "solid #fff;outline-offset:-5px'></span><span>An intervention's area "
                    "(numbered as in the list below the map)</span></div>")


def footprints(lsoas: gpd.GeoDataFrame, covered: pd.DataFrame) -> gpd.GeoDataFrame:
    """Each intervention's area as one shape: the union of its LSOAs (``covered``:
    ``id, lsoa_code``; ``lsoas``: ``code`` and WGS84 geometry), numbered 1, 2, ... in
    the order of ``covered``'s ids."""
    ids = list(dict.fromkeys(covered["id"]))
    merged = covered.merge(lsoas[["code", "geometry"]], left_on="lsoa_code", right_on="code")
    shapes = gpd.GeoDataFrame(merged, geometry="geometry", crs=lsoas.crs).dissolve("id")
    shapes = shapes.reindex([i for i in ids if i in shapes.index])
    shapes["number"] = [ids.index(i) + 1 for i in shapes.index]
    return shapes.reset_index()[["id", "number", "geometry"]]


OVERLAY_IDS = ("boundaries", "district-names")  # drawn for one zoom by overlay_layers


def with_footprints(deck: LeanDeck, shapes: gpd.GeoDataFrame, zoom_to: bool = False,
                    lads: gpd.GeoDataFrame | None = None) -> LeanDeck:
    """A copy of a map with intervention areas outlined over it (a white casing and a
    black line) and numbered, so the need beneath each stays in view; with ``zoom_to``,
    opening on them (with some of their surroundings), the district lines and names
    drawn again for that zoom from ``lads``."""
    if shapes.empty:
        return deck
    start, base = deck.initial_view_state, list(deck.layers)
    if zoom_to:
        minx, miny, maxx, maxy = shapes.total_bounds
        pad = max(maxx - minx, maxy - miny, 0.01) * 0.3
        start = view_state((minx - pad, miny - pad, maxx + pad, maxy + pad))
        if lads is not None:
            base = [layer for layer in base if layer.id not in OVERLAY_IDS]
            base += overlay_layers(start.zoom, edges=None, lads=lads, names=True)
    zoom = start.zoom
    decimals = linework.decimals_for(zoom)
    edges = shapely.boundary(shapes.geometry.values)
    points = shapes.geometry.representative_point()
    glyphs, boxes = linework.label_polygons([str(n) for n in shapes["number"]],
                                            points.x.values, points.y.values, size_px=12,
                                            zoom=zoom)
    layer = linework.polygons_layer("interventions", [
        (linework.line_polygons(edges, CASING_PX, zoom), FOOTPRINT_CASING),
        (linework.line_polygons(edges, FOOTPRINT_PX, zoom), FOOTPRINT_LINE),
        (boxes, (255, 255, 255, 235)), (glyphs, FOOTPRINT_LINE)], decimals)
    return LeanDeck(layers=[*base, layer], initial_view_state=start,
                    map_style=NO_BASEMAP, map_provider=None, tooltip=deck._tooltip, height=600)
