"""Point data on H3 hexagons: police.uk records counted by hexagon, for Gi*.

police.uk gives each record a snapped (anonymised) map point. Counting points
into equal-area hexagons avoids LSOAs' very unequal sizes. Every hexagon of
the districts the police data covers is kept, with zero where nothing was
recorded, so quiet places count in the test as they should.
"""

from __future__ import annotations

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely
from libpysal.graph import Graph

from dashboard import geography, measures
from dashboard.filters import FilterError, ViewFilter
from dashboard.store import Store
from loaders import Region

RESOLUTIONS = {6: "about 36 km² each", 7: "about 5 km² each", 8: "about 0.7 km² each",
               9: "about 0.1 km² each"}
DEFAULT_RESOLUTION = 7


def has_points(store: Store, indicator: str) -> bool:
    """True when the indicator has point locations (police.uk crime types)."""
    return bool(store.query("SELECT count(*) AS n FROM (SELECT 1 FROM crime_points "
                            "WHERE indicator = ? OR ? = 'crime_all' LIMIT 1) AS one",
                            [indicator, indicator])["n"].iat[0])


def _covered_districts(store: Store, region: Region, flt: ViewFilter) -> gpd.GeoDataFrame:
    """The region's district outlines (WGS84) where the source reports in the period."""
    lads = geography.lad_outlines(store, region)
    covered = measures.covered_districts(store, flt.indicator, flt.period_start,
                                         flt.period_end)["lad_code"]
    return lads[lads["code"].isin(set(covered))].reset_index(drop=True)


def hex_view(store: Store, region: Region, flt: ViewFilter, resolution: int
             ) -> tuple[pd.DataFrame, gpd.GeoDataFrame]:
    """Point counts per hexagon over the filter's period, and the hexagons' shapes.

    Returns
    -------
    (DataFrame, GeoDataFrame)
        The view (``area_code`` = H3 cell, ``area_name``, ``value``,
        ``denominator`` (NaN: hexagons have no population), ``rate_per_1000``,
        ``lad_code``, ``lad_name``) and WGS84 hexagons with ``code``.

    Raises
    ------
    FilterError
        If the resolution is not offered, or the indicator has no points in the region.
    """
    if resolution not in RESOLUTIONS:
        raise FilterError("resolution", f"{resolution} is not one of {list(RESOLUTIONS)}")
    districts = _covered_districts(store, region, flt)
    if districts.empty:
        raise FilterError("indicator", f"{flt.indicator} has no point locations in "
                          f"{region.title}; choose LSOA or ward areas")
    # All crime is every police.uk type's points, never a partner's incidents.
    where = "left(indicator, 6) = 'crime_'" if flt.indicator == "crime_all" else "indicator = ?"
    params = [] if flt.indicator == "crime_all" else [flt.indicator]
    minx, miny, maxx, maxy = districts.total_bounds
    pts = store.query(
        f"SELECT lon, lat, sum(n) AS n FROM crime_points WHERE {where} AND month >= ? "
        f"AND month <= ? AND lon BETWEEN ? AND ? AND lat BETWEEN ? AND ? GROUP BY lon, lat",
        [*params, flt.period_start, flt.period_end, minx, maxx, miny, maxy])
    cells: dict[str, str] = {}
    for code, name, geom in zip(districts["code"], districts["name"], districts.geometry,
                                strict=True):
        for cell in h3.geo_to_cells(geom, resolution):
            cells.setdefault(cell, f"{code}|{name}")
    pts["cell"] = [h3.latlng_to_cell(lat, lon, resolution)
                   for lat, lon in zip(pts["lat"], pts["lon"], strict=True)]
    counts = pts[pts["cell"].isin(cells)].groupby("cell")["n"].sum()
    ids = sorted(cells)
    lad = pd.Series([cells[c] for c in ids], index=ids).str.split("|", n=1, expand=True)
    value = counts.reindex(ids, fill_value=0).astype(float).to_numpy()
    view = pd.DataFrame({"area_code": ids, "area_name": [f"Hexagon {c}" for c in ids],
                         "value": value, "denominator": np.nan, "rate_per_1000": np.nan,
                         "lad_code": lad[0].to_numpy(), "lad_name": lad[1].to_numpy()})
    shapes = gpd.GeoDataFrame(
        {"code": ids},
        geometry=[shapely.Polygon([(lng, lat) for lat, lng in h3.cell_to_boundary(c)])
                  for c in ids], crs=geography.MAP_CRS)
    view.attrs["points_outside"] = int(pts.loc[~pts["cell"].isin(cells), "n"].sum())
    return view, shapes


def hex_graph(cells: list[str]) -> Graph:
    """Hexagons sharing an edge are neighbours (binary weights, in the order given)."""
    return Graph.build_h3(cells, order=1, weight="binary")
