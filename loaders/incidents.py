"""Incident files: one row per incident with a position, counted by LSOA and month.

A fire service's or a council's incident list has a position for each incident:
latitude and longitude columns, easting and northing (British National Grid), or
a ``"(51.38, -2.36)"`` text. :func:`find_position` recognises which, and says
why it passes over coordinates masked to the kilometre (``367***``): a masked
figure is not a position. :func:`place` puts each incident into the LSOA whose
polygon holds it (geopandas, in British National Grid); :func:`count` counts
incidents per LSOA and month, and per category when a category column splits
them. Incidents outside the dashboard's areas, without a usable position or
without a usable date, are kept aside with their reason. A list whose coordinates
are masked but which names each incident's ward (and district) is counted by ward
instead (:func:`find_names`, matched in ``loaders.wardnames``). When one position
holds an unusual share of a file's incidents, :func:`pile_up` says so: a
geocoder's fall-back is not where the incidents happened. Dates are read by
``loaders.dates``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from loaders.boundaries import ANALYSIS_CRS
from loaders.readfile import normal

LAT_NAMES = ("latitude", "lat", "y_lat")
LON_NAMES = ("longitude", "lon", "lng", "long", "x_long")
EASTING_NAMES = ("easting", "eastings", "x_coordinate", "x_coord", "x", "grid_x", "bng_x")
NORTHING_NAMES = ("northing", "northings", "y_coordinate", "y_coord", "y", "grid_y", "bng_y")
CATEGORY_NAMES = ("incident_category", "category", "incident_type", "type")
PAIR = re.compile(r"^\(?\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*\)?$")
MASKED = re.compile(r"^\d*\*+$")
ENGLAND_WALES_BNG = (0, 0, 700_000, 1_300_000)  # easting/northing bounds
MAX_CATEGORIES = 20
COVERED_SHARE = 0.5  # of a district's LSOAs with an incident, for the file to cover it
WARD_COLUMNS = ("ward", "ward_name", "wardname", "ward_nm", "wd19nm", "wd22nm", "wd23nm",
                "wd24nm", "wd25nm", "electoral_ward")
DISTRICT_COLUMNS = ("unitary_authority", "local_authority", "local_authority_name", "district",
                    "district_name", "lad", "lad_name", "la", "la_name", "authority",
                    "council", "borough", "lad19nm", "lad22nm", "lad23nm", "lad24nm",
                    "lad25nm", "ua", "ua_name")
# A pile-up: the most common exact position holds at least PILE_SHARE of the file's
# positioned incidents, at least PILE_MIN of them, and PILE_RATIO times as many as
# the next most common position. A busy real address (a hospital's alarms, a
# station) holds a few per cent and has neighbours of a similar size; a geocoder's
# fall-back (a town's centre given to every address it could not find) stands far
# above every other position. In the Avon fire file one point holds 1,761 of 10,210
# incidents, four times the next.
PILE_SHARE, PILE_MIN, PILE_RATIO = 0.01, 10, 3.0


@dataclass
class Position:
    """Where an incident file keeps its positions."""

    kind: str  # "latlon" | "bng" | "pair" | "names" (ward, district) | "none"
    columns: tuple[str, ...]
    notes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        if self.kind == "names":
            within = (f", matched within the district named in '{self.columns[1]}'"
                      if len(self.columns) > 1 else "")
            return (f"incidents are counted by the ward named in '{self.columns[0]}'{within}"
                    "; names of the wards of 2019, 2024 and 2025 are all known")
        what = {"latlon": "latitude and longitude", "bng": "easting and northing",
                "pair": "'(latitude, longitude)' text"}[self.kind]
        return f"positions are read from {what} ({', '.join(map(repr, self.columns))})"


def _cells(frame: pd.DataFrame, column: str) -> pd.Series:
    text = frame[column].astype(str).str.strip()
    return text[text != ""]


def _masked(frame: pd.DataFrame, column: str) -> bool:
    cells = _cells(frame, column)
    return bool(len(cells)) and cells.str.match(MASKED).mean() > 0.5


def _numeric(frame: pd.DataFrame, column: str) -> bool:
    cells = _cells(frame, column)
    return bool(len(cells)) and pd.to_numeric(cells, errors="coerce").notna().mean() > 0.9


def find_position(frame: pd.DataFrame) -> Position | None:
    """How the file gives positions, or None when it gives none (not an incident file)."""
    by_name = {normal(c): c for c in reversed(list(frame.columns))}
    notes = []

    def pick(names):
        return next((by_name[n] for n in names if n in by_name), None)

    lat, lon = pick(LAT_NAMES), pick(LON_NAMES)
    east, north = pick(EASTING_NAMES), pick(NORTHING_NAMES)
    if east and north and (_masked(frame, east) or _masked(frame, north)):
        notes.append(f"'{east}' and '{north}' are masked (such as "
                     f"{_cells(frame, east).iat[0]!r}) and are not used as positions")
        east = north = None
    if lat and lon and _numeric(frame, lat) and _numeric(frame, lon):
        return Position("latlon", (lat, lon), notes)
    if east and north and _numeric(frame, east) and _numeric(frame, north):
        return Position("bng", (east, north), notes)
    for column in frame.columns:
        cells = _cells(frame, column)
        if len(cells) and cells.head(200).str.match(PAIR).mean() > 0.9:
            return Position("pair", (column,), notes)
    return None if not notes else Position("none", (), notes)


def points(frame: pd.DataFrame, position: Position) -> tuple[gpd.GeoSeries, pd.Series]:
    """Each row's point in British National Grid, and why a row has none ('' if it has)."""
    if position.kind == "pair":
        parts = frame[position.columns[0]].astype(str).str.extract(PAIR)
        a, b = (pd.to_numeric(parts[i], errors="coerce") for i in (0, 1))
        x, y, crs = b, a, "EPSG:4326"
    else:
        a, b = (pd.to_numeric(frame[c].astype(str).str.strip(), errors="coerce")
                for c in position.columns)
        x, y, crs = (b, a, "EPSG:4326") if position.kind == "latlon" else (a, b, "EPSG:27700")
    why = pd.Series("", index=frame.index, dtype=object)
    raw = frame[list(position.columns)].astype(str).apply(lambda s: s.str.strip())
    why[(raw == "").any(axis=1)] = "no position"
    why[(why == "") & raw.apply(lambda s: s.str.match(MASKED)).any(axis=1)] = \
        "position is masked"
    why[(why == "") & (x.isna() | y.isna())] = "position is not a number"
    if crs == "EPSG:4326":
        bad = ~(x.between(-180, 180) & y.between(-90, 90)) | ((x == 0) & (y == 0))
    else:
        minx, miny, maxx, maxy = ENGLAND_WALES_BNG
        bad = ~(x.between(minx, maxx) & y.between(miny, maxy))
    why[(why == "") & bad] = "position is not a real place"
    ok = why == ""
    geo = gpd.GeoSeries(gpd.points_from_xy(x.where(ok), y.where(ok)), index=frame.index,
                        crs=crs)
    return geo.to_crs(ANALYSIS_CRS), why


def place(pts: gpd.GeoSeries, lsoas: gpd.GeoDataFrame) -> pd.Series:
    """The LSOA code each point falls in ('' outside every LSOA given).

    A point on a shared boundary goes to the first polygon that holds it, so it
    is counted once.
    """
    found = gpd.sjoin(gpd.GeoDataFrame(geometry=pts.dropna()), lsoas[["code", "geometry"]],
                      how="left", predicate="intersects")
    found = found[~found.index.duplicated(keep="first")]
    return found["code"].reindex(pts.index).fillna("").astype(str)


def find_category(frame: pd.DataFrame, named: str | None = None) -> str | None:
    """A column that splits incidents into a few kinds (Fire, False Alarm...)."""
    by_name = {normal(c): c for c in reversed(list(frame.columns))}
    candidates = [named] if named else [by_name[n] for n in CATEGORY_NAMES if n in by_name]
    for column in candidates:
        kinds = _cells(frame, column).nunique()
        if 1 < kinds <= MAX_CATEGORIES:
            return column
    return None


def find_names(frame: pd.DataFrame) -> tuple[str, ...] | None:
    """The column naming each incident's ward, and the one naming its district (when
    the file has one): ``(ward, district)``; None when no column holds ward names."""
    def text_column(names: tuple[str, ...]) -> str | None:
        # Columns differing only in case ("ward" and "Ward") are both tried: the one
        # holding names, not numbers, is taken.
        for n in names:
            for c in frame.columns:
                cells = _cells(frame, c)
                if normal(c) == n and len(cells) and \
                        pd.to_numeric(cells, errors="coerce").isna().mean() > 0.9:
                    return c
        return None

    ward = text_column(WARD_COLUMNS)
    if ward is None:
        return None
    district = text_column(DISTRICT_COLUMNS)
    return (ward, district) if district else (ward,)


def pile_up(pts: gpd.GeoSeries, lsoa: pd.Series) -> str:
    """A warning when one exact position holds an unusual share of the incidents
    (the rule is :data:`PILE_SHARE`, :data:`PILE_MIN`, :data:`PILE_RATIO`), naming
    the position and its count; '' when none does.

    Parameters
    ----------
    pts : GeoSeries
        The incidents' points (any CRS; missing ones are left out).
    lsoa : Series
        The LSOA each point was placed in ('' outside the dashboard's areas).
    """
    have = pts.dropna()
    have = have[~have.is_empty]
    if len(have) < PILE_MIN:
        return ""
    spots = pd.DataFrame({"x": have.x, "y": have.y}).value_counts()
    top = int(spots.iat[0])
    following = int(spots.iat[1]) if len(spots) > 1 else 0
    if top < max(PILE_MIN, PILE_SHARE * len(have)) or top < PILE_RATIO * following:
        return ""
    x, y = spots.index[0]
    at = have[(have.x == x) & (have.y == y)]
    where = gpd.GeoSeries([at.iat[0]], crs=have.crs).to_crs(4326).iat[0]
    placed = lsoa.reindex(at.index).fillna("")
    inside = f" in LSOA {placed.iat[0]}" if placed.iat[0] else ""
    return (f"{top:,} of {len(have):,} incidents with a position ({top / len(have):.0%}) "
            f"sit at one point, ({where.y:.6f}, {where.x:.6f}){inside}; the next most "
            f"common position holds {following:,}. So many at one point is usually a "
            "geocoder's fall-back (a town centre given to addresses it could not find), "
            "not where they happened: they are counted there, so check them with the "
            f"partner (rule: one position with at least {PILE_SHARE:.0%} of the incidents "
            f"and {PILE_RATIO:g} times the next)")


def lsoa_polygons(rows: list[tuple[str, bytes]]) -> gpd.GeoDataFrame:
    """LSOA polygons (British National Grid) from ``(code, WKB)`` rows of the store."""
    geoms = shapely.from_wkb([bytes.fromhex(g) if isinstance(g, str) else bytes(g)
                              for _, g in rows])
    return gpd.GeoDataFrame({"code": [c for c, _ in rows]}, geometry=np.asarray(geoms),
                            crs=ANALYSIS_CRS)
