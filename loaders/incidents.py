"""Incident files: one row per incident with a position, counted by LSOA and month.

A fire service's or a council's incident list has a position for each incident:
latitude and longitude columns, easting and northing (British National Grid), or
a ``"(51.38, -2.36)"`` text. :func:`find_position` recognises which, and says
why it passes over coordinates masked to the kilometre (``367***``): a masked
figure is not a position. :func:`place` puts each incident into the LSOA whose
polygon holds it (geopandas, in British National Grid); :func:`count` counts
incidents per LSOA and month, and per category when a category column splits
them. Incidents outside the dashboard's areas, without a usable position or
without a usable date, are kept aside with their reason.
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
DATE_NAMES = ("datetime", "date_time", "date", "incident_date", "incident_datetime",
              "call_date", "date_of_call", "time_of_call", "reported_date", "occurred",
              "timestamp")
CATEGORY_NAMES = ("incident_category", "category", "incident_type", "type")
PAIR = re.compile(r"^\(?\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*\)?$")
MASKED = re.compile(r"^\d*\*+$")
# Date layouts seen in partner exports, tried in turn; the first to read nearly
# every cell wins (US month-first with a UTC offset is the Bath: Hacked export's).
DATE_FORMATS = ("%m/%d/%Y %I:%M:%S %p %z", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M:%S",
                "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M",
                "%d/%m/%Y", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y", "%d-%m-%Y", "%d %b %Y")
ENGLAND_WALES_BNG = (0, 0, 700_000, 1_300_000)  # easting/northing bounds
MAX_CATEGORIES = 20
COVERED_SHARE = 0.5  # of a district's LSOAs with an incident, for the file to cover it


@dataclass
class Position:
    """Where an incident file keeps its positions."""

    kind: str  # "latlon" | "bng" | "pair"
    columns: tuple[str, ...]
    notes: list[str] = field(default_factory=list)

    def describe(self) -> str:
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


def find_date(frame: pd.DataFrame, named: str | None = None) -> tuple[str, str] | None:
    """The date column and the layout that reads it: ``(column, format)``."""
    by_name = {normal(c): c for c in reversed(list(frame.columns))}
    candidates = [named] if named else [by_name[n] for n in DATE_NAMES if n in by_name]
    for column in candidates:
        cells = _cells(frame, column).head(500)
        for fmt in DATE_FORMATS:
            if pd.to_datetime(cells, format=fmt, errors="coerce").notna().mean() >= 0.8:
                return column, fmt
    return None


def months(frame: pd.DataFrame, column: str, fmt: str) -> pd.Series:
    """``YYYY-MM`` of each row's date ('' where the cell cannot be read)."""
    when = pd.to_datetime(frame[column].astype(str).str.strip(), format=fmt, errors="coerce",
                          utc="%z" in fmt)
    return when.dt.strftime("%Y-%m").fillna("")


def find_category(frame: pd.DataFrame, named: str | None = None) -> str | None:
    """A column that splits incidents into a few kinds (Fire, False Alarm...)."""
    by_name = {normal(c): c for c in reversed(list(frame.columns))}
    candidates = [named] if named else [by_name[n] for n in CATEGORY_NAMES if n in by_name]
    for column in candidates:
        kinds = _cells(frame, column).nunique()
        if 1 < kinds <= MAX_CATEGORIES:
            return column
    return None


def lsoa_polygons(rows: list[tuple[str, bytes]]) -> gpd.GeoDataFrame:
    """LSOA polygons (British National Grid) from ``(code, WKB)`` rows of the store."""
    geoms = shapely.from_wkb([bytes.fromhex(g) if isinstance(g, str) else bytes(g)
                              for _, g in rows])
    return gpd.GeoDataFrame({"code": [c for c, _ in rows]}, geometry=np.asarray(geoms),
                            crs=ANALYSIS_CRS)
