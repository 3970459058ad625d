"""Boundary files: read, check, reproject to British National Grid, simplify for maps.

Analysis geometry is kept in EPSG:27700. Map geometry is simplified as a
coverage (shared edges stay shared, so no slivers open between areas) and
reprojected to WGS84 only for drawing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely

from loaders.errors import LoaderError

ANALYSIS_CRS = 27700
MAP_CRS = 4326
# Simplification tolerances in metres, per map detail. "fine" keeps the published
# generalised outlines nearly as they are. "coarse" is for a national map, where a
# pixel is over a kilometre: coverage simplification keeps every junction between
# neighbours (so no gaps open) and drops what cannot be seen, which cuts the
# vertices the browser must draw by 40 % (LSOAs) to 65 % (wards).
TOLERANCE = {"fine": {"lsoa": 0.0, "ward": 10.0, "lad": 25.0},
             "coarse": {"lsoa": 1000.0, "ward": 600.0, "lad": 800.0}}


def gdal_path(path: Path) -> str:
    """GDAL reads gzipped GeoJSON only through the ``/vsigzip/`` prefix."""
    return f"/vsigzip/{path}" if path.suffix == ".gz" else str(path)


@dataclass
class Boundaries:
    """Areas of one geography: code, name, LAD code and BNG geometry."""

    geography: str  # LSOA11, LSOA21, WD19, WD25, LAD19, LAD25
    level: str  # lsoa, ward, lad
    detail: str  # bgc (generalised clipped) or bsc (super generalised)
    frame: gpd.GeoDataFrame  # code, name, lad_code, geometry (EPSG:27700)
    repaired: int = 0


def read_boundaries(path: Path, code_col: str, name_col: str) -> tuple[gpd.GeoDataFrame, int]:
    """Read a boundary file into BNG with valid geometry and unique codes.

    Returns
    -------
    (GeoDataFrame, int)
        ``code``, ``name`` and ``geometry`` in EPSG:27700, and how many
        geometries ``shapely.make_valid`` had to repair.

    Raises
    ------
    LoaderError
        If the file is unreadable, has no CRS, lacks the code or name column,
        or repeats a code.
    """
    try:
        frame = pyogrio.read_dataframe(gdal_path(path))
    except Exception as err:  # pyogrio raises several GDAL error types
        raise LoaderError(str(path), f"cannot be read as a boundary file: {err}") from err
    problems = [f"expected column {c} is missing" for c in (code_col, name_col)
                if c not in frame.columns]
    if frame.crs is None:
        problems.append("has no CRS")
    if problems:
        raise LoaderError(str(path), problems)
    dupes = frame[code_col][frame[code_col].duplicated()].unique().tolist()
    if dupes:
        raise LoaderError(str(path), f"column {code_col} repeats codes: {dupes[:5]}")
    frame = frame.to_crs(ANALYSIS_CRS)
    invalid = ~frame.is_valid
    if invalid.any():
        frame.loc[invalid, "geometry"] = shapely.make_valid(frame.geometry[invalid].values)
    out = gpd.GeoDataFrame(
        {"code": frame[code_col].astype(str), "name": frame[name_col].astype(str)},
        geometry=_polygonal(frame.geometry.values), crs=ANALYSIS_CRS,
    )
    return out, int(invalid.sum())


def _polygonal(geoms):
    """Keep only the polygonal parts that ``make_valid`` may return in a collection."""
    out = []
    for g in geoms:
        if g.geom_type == "GeometryCollection":
            polys = [p for p in shapely.get_parts(g) if p.geom_type in ("Polygon", "MultiPolygon")]
            g = shapely.union_all(polys)
        out.append(g)
    return out


def dissolve_lads(wards: gpd.GeoDataFrame, names: pd.Series) -> gpd.GeoDataFrame:
    """Dissolve wards into districts by their ``lad_code``."""
    lads = wards.dissolve(by="lad_code", method="coverage").reset_index()
    lads["code"] = lads["lad_code"]
    lads["name"] = lads["lad_code"].map(names).fillna(lads["lad_code"])
    return gpd.GeoDataFrame(lads[["code", "name", "lad_code"]], geometry=lads.geometry,
                            crs=ANALYSIS_CRS)


def map_geometry(geoms: gpd.GeoSeries, tolerance: float) -> gpd.GeoSeries:
    """Simplify a coverage for drawing and reproject it to WGS84.

    Coverage simplification moves each shared edge once, so neighbours still
    meet. Where the input is not a clean coverage GEOS refuses, and each shape
    is simplified on its own instead (topology kept within the shape).
    """
    values = geoms.values
    if tolerance > 0:
        try:
            values = shapely.coverage_simplify(values, tolerance)
        except shapely.errors.GEOSException:
            values = shapely.simplify(values, tolerance, preserve_topology=True)
    return gpd.GeoSeries(values, crs=geoms.crs).to_crs(MAP_CRS)
