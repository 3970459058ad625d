"""Boundaries and place names drawn as filled polygons, sized for the map's opening zoom.

Why polygons
    Council and police desktops often run WebGL in software (SwiftShader, no
    graphics card). There, deck.gl's line and text layers are the slow part of a
    map: they draw one instance per line segment or character, and each layer
    type is one more shader program to compile on the processor. Measured on a
    region's ward map (``benchmarks/page_ready.py``), ward edges and district
    outlines as ``PathLayer`` cost about 3.5 s of drawing and the district names
    as ``TextLayer`` about 1.5 s, while the 272 filled wards cost 0.4 s.
    Drawn as polygons, boundaries and names go through the same program as the
    area fills, in one draw call, and cost about as much as the fills.

What it costs the reader
    A polygon has a width on the ground, not on the screen: lines and names are
    sized to read well at the zoom the map opens at (a line ``width_px`` wide, a
    name ``size_px`` high) and grow as the reader zooms in, as on a printed map
    held closer. Geometry is simplified to half a screen pixel at the opening
    zoom (the smallest change a reader could see), two pixels two zoom levels in.

Widths are worked out in Web Mercator metres (EPSG:3857), the projection the map
is drawn in, so a line is equally wide in every direction on the screen.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pydeck as pdk
import shapely
from PIL import Image, ImageDraw, ImageFont
from pyproj import Transformer

# deck.gl's MapView spans the world in 512 * 2**zoom pixels.
MERCATOR_M_PER_PX_AT_ZOOM_0 = 2 * math.pi * 6378137 / 512
SIMPLIFY_PX = 0.5  # areas and boundaries are simplified to this many screen pixels
_RASTER_PX = 48  # names are traced from text drawn this many pixels high
_TO_MERCATOR = Transformer.from_crs(4326, 3857, always_xy=True)
_TO_WGS84 = Transformer.from_crs(3857, 4326, always_xy=True)


def metres_per_pixel(zoom: float) -> float:
    """Web Mercator metres under one screen pixel at ``zoom``."""
    return MERCATOR_M_PER_PX_AT_ZOOM_0 / 2 ** zoom


def decimals_for(zoom: float) -> int:
    """Decimal places of a degree that keep a vertex within a tenth of a pixel."""
    degrees_per_px = 360 / (512 * 2 ** zoom)
    return int(min(6, max(3, math.ceil(math.log10(10 / degrees_per_px)))))


def _project(geoms: np.ndarray, transformer: Transformer) -> np.ndarray:
    return shapely.transform(
        geoms, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])))


def polygon_rings(geoms: np.ndarray, decimals: int) -> tuple[list, np.ndarray]:
    """Split (multi)polygons into deck.gl polygons: a list of rings per part.

    Returns
    -------
    (list, ndarray)
        One entry per polygon part (outer ring first, then holes; each ring
        a list of ``[lon, lat]`` without the closing point) and, per part,
        the index of the geometry it came from.
    """
    parts, part_of = shapely.get_parts(geoms, return_index=True)
    rings, ring_of = shapely.get_rings(parts, return_index=True)
    coords, coord_of = shapely.get_coordinates(rings, return_index=True)
    coords = coords.round(decimals)
    bounds = np.searchsorted(coord_of, np.arange(1, len(rings)))
    ring_lists = [r[:-1].tolist() for r in np.split(coords, bounds)]
    out: list[list] = [[] for _ in range(len(parts))]
    for ring, p in zip(ring_lists, ring_of, strict=True):
        out[p].append(ring)
    return out, part_of


def screen_areas(geoms: np.ndarray, zoom: float, gap_px: float = 0.0) -> np.ndarray:
    """Areas (WGS84) simplified to ``SIMPLIFY_PX`` screen pixels at ``zoom`` as one
    coverage (neighbours keep sharing their simplified edges), and, if ``gap_px``,
    each drawn that much inside its neighbours: the page shows through the gap as
    a white line between areas, which costs no geometry of its own. An area too
    thin to shrink is drawn whole."""
    if len(geoms) == 0:
        return np.asarray(geoms, dtype=object)
    px = metres_per_pixel(zoom)
    flat = _project(np.asarray(geoms, dtype=object), _TO_MERCATOR)
    flat = shapely.coverage_simplify(flat, SIMPLIFY_PX * px)
    if gap_px:
        inset = shapely.buffer(flat, -gap_px * px / 2, join_style="mitre", mitre_limit=3.0)
        flat = np.where(shapely.is_empty(inset), flat, inset)
    return _project(flat, _TO_WGS84)


def line_polygons(lines: np.ndarray, width_px: float, zoom: float) -> np.ndarray:
    """Lines (WGS84) as polygons ``width_px`` screen pixels wide at ``zoom`` (WGS84).

    Each line stays a polygon of its own (a union would be one polygon with a
    hole per area, slow for the browser to triangulate). Mitred corners take the
    fewest vertices; square ends close the joints where lines meet.
    """
    if len(lines) == 0:
        return np.array([], dtype=object)
    px = metres_per_pixel(zoom)
    flat = _project(np.asarray(lines, dtype=object), _TO_MERCATOR)
    flat = shapely.simplify(flat, SIMPLIFY_PX * px)
    ribbons = shapely.buffer(flat, width_px * px / 2, cap_style="square",
                             join_style="mitre", mitre_limit=3.0)
    ribbons = ribbons[~shapely.is_empty(ribbons)]
    return _project(ribbons, _TO_WGS84)


@functools.cache
def _font() -> ImageFont.FreeTypeFont:
    # Pillow's own bundled typeface: the same shapes on every machine, no system font.
    return ImageFont.load_default(size=_RASTER_PX)


@functools.lru_cache(maxsize=2048)
def _traced(text: str) -> shapely.Geometry:
    """``text`` traced from a raster into polygons, in raster pixels, y up, centred."""
    font = _font()
    left, top, right, bottom = font.getbbox(text)
    img = Image.new("L", (right - left + 2, bottom - top + 2), 0)
    ImageDraw.Draw(img).text((1 - left, 1 - top), text, fill=255, font=font)
    ink = np.pad(np.asarray(img) >= 128, ((0, 0), (1, 1)))
    step = np.diff(ink.astype(np.int8), axis=1)
    rows, starts = np.nonzero(step == 1)  # row-major, so starts and ends pair up
    _, ends = np.nonzero(step == -1)
    if len(rows) == 0:
        return shapely.Polygon()
    runs = shapely.box(starts, -rows - 1, ends, -rows)
    shape = shapely.simplify(shapely.union_all(runs), 0.6)
    minx, miny, maxx, maxy = shape.bounds
    return shapely.affinity.translate(shape, -(minx + maxx) / 2, -(miny + maxy) / 2)


def label_polygons(names: list[str], lons: np.ndarray, lats: np.ndarray, *, size_px: float,
                   zoom: float, pad_px: float = 3.0) -> tuple[np.ndarray, np.ndarray]:
    """Names as polygons ``size_px`` high at ``zoom``, centred on each point, and a box
    ``pad_px`` wider than each name to set it off from the colours under it (WGS84)."""
    px = metres_per_pixel(zoom)
    xs, ys = _TO_MERCATOR.transform(np.asarray(lons, float), np.asarray(lats, float))
    glyphs, boxes = [], []
    for name, x, y in zip(names, xs, ys, strict=True):
        shape = _traced(name)
        if shape.is_empty:
            continue
        scale = size_px / _RASTER_PX * px
        shape = shapely.affinity.affine_transform(shape, [scale, 0, 0, scale, x, y])
        minx, miny, maxx, maxy = shape.bounds
        pad = pad_px * px
        glyphs.append(shape)
        boxes.append(shapely.box(minx - pad, miny - pad / 2, maxx + pad, maxy + pad / 2))
    return (_project(np.array(glyphs, dtype=object), _TO_WGS84),
            _project(np.array(boxes, dtype=object), _TO_WGS84))


def polygons_layer(layer_id: str, groups: list[tuple[np.ndarray, list[int]]],
                   decimals: int) -> pdk.Layer:
    """One unpickable ``PolygonLayer`` drawing each group of polygons in its colour
    (RGB or RGBA), in order: later groups over earlier ones."""
    data = []
    for geoms, colour in groups:
        if len(geoms) == 0:
            continue
        parts, _ = polygon_rings(np.asarray(geoms, dtype=object), decimals)
        data.extend({"p": part, "c": list(colour)} for part in parts)
    return pdk.Layer("PolygonLayer", data=data, id=layer_id, get_polygon="p",
                     get_fill_color="c", filled=True, stroked=False, pickable=False)
