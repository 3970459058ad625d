"""Point data on H3 hexagons: records counted by hexagon, for Gi*.

police.uk gives each record a snapped (anonymised) map point; a partner's incident
file keeps each incident's position. Counting points into equal-area hexagons
avoids LSOAs' very unequal sizes. Every hexagon of the districts the source covers
is kept, with zero where nothing was recorded, so quiet places count in the test
as they should.

*All crime* is police.uk's points only, chosen by their origin (open data), never
by an indicator's name: a partner's incidents are never added to it.

A partner's points are the finest figures there are, so they are shown only to a
viewer allowed the ``point`` level (``hotspot_views.hex_hotspot_view`` asks), and they
are protected as every count is (``dashboard.measures.disclosure``): small counts are hidden
where they are finest, in a resolution-9 hexagon (about 0.1 km²) in one month, and
stand in as their expected value (``disclosure.stand_in``) there before anything
is added up. A hexagon of any size is the
sum of its resolution-9 children (H3's hierarchy), so no two views (sizes, month
ranges) differ by a hidden value; a hexagon whose total is still a small count is
hidden in turn, with a second cell in its district where it is the only one.
"""

from __future__ import annotations

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely
from libpysal.graph import Graph

from dashboard import access, geography, measures
from dashboard.access import Viewer
from dashboard.filters import FilterError, ViewFilter
from dashboard.measures import _read, disclosure
from loaders import Region
from store import Store

RESOLUTIONS = {6: "about 36 km² each", 7: "about 5 km² each", 8: "about 0.7 km² each",
               9: "about 0.1 km² each"}
DEFAULT_RESOLUTION = 7


# The finest hexagons: a partner's small counts are hidden in these, month by month.
FINEST = 9
ALL_CRIME = "crime_all"


def has_points(store: Store, indicator: str, *, viewer: Viewer,
               grants: dict | None = None) -> bool:
    """True when the indicator has point locations (police.uk crime types, or a
    partner's incidents) and the viewer may see them."""
    grants = access.rules(store, viewer) if grants is None else grants
    if indicator not in grants or not access.allows(grants[indicator].finest_level, "point"):
        return False
    return _read.any_points(store, viewer, indicator, ALL_CRIME)


def _covered_districts(store: Store, who: Viewer, grants: dict, region: Region,
                       flt: ViewFilter) -> gpd.GeoDataFrame:
    """The region's district outlines (WGS84) where the source reports in the period."""
    lads = geography.lad_outlines(store, region)
    covered = measures.covered_districts(store, flt.indicator, flt.period_start,
                                         flt.period_end, viewer=who,
                                         grants=grants)["lad_code"]
    return lads[lads["code"].isin(set(covered))].reset_index(drop=True)


def hex_view(store: Store, region: Region, flt: ViewFilter, resolution: int, *,
             viewer: Viewer, grants: dict | None = None
             ) -> tuple[pd.DataFrame, gpd.GeoDataFrame]:
    """Point counts per hexagon over the filter's period, and the hexagons' shapes.

    The viewer must be allowed the indicator at the ``point`` level (its role's and
    its agreement's finest). The indicator's suppression threshold k (0 for open
    data) hides counts from 1 to k-1 as the module says, and ``suppressed`` says
    where.

    Returns
    -------
    (DataFrame, GeoDataFrame)
        The view (``area_code`` = H3 cell, ``area_name``, ``value``,
        ``denominator`` (NaN: hexagons have no population), ``rate_per_1000``,
        ``rank``, ``estimated``, ``suppressed``, ``lad_code``, ``lad_name``) and
        WGS84 hexagons with ``code``. ``attrs["stand_in"]`` holds the hidden
        hexagons' stand-ins for a hot spot test (never shown).

    Raises
    ------
    FilterError
        If the resolution is not offered, or the indicator has no points in the region.
    AccessDenied
        If the viewer may not see the indicator's points.
    """
    grants = access.rules(store, viewer) if grants is None else grants
    meta = measures.indicator_meta(store, flt.indicator, viewer=viewer, grants=grants)
    access.require(viewer, grants, flt.indicator, "point", meta["title"])
    return _counts(store, viewer, grants, region, flt, resolution,
                   int(meta.get("suppression_k") or 0), meta["polarity"])


def _counts(store: Store, who: Viewer, grants: dict, region: Region, flt: ViewFilter,
            resolution: int, k: int, polarity: str) -> tuple[pd.DataFrame, gpd.GeoDataFrame]:
    """The body of :func:`hex_view`, once the viewer is known to be allowed."""
    if resolution not in RESOLUTIONS:
        raise FilterError("resolution", f"{resolution} is not one of {list(RESOLUTIONS)}")
    districts = _covered_districts(store, who, grants, region, flt)
    if districts.empty:
        raise FilterError("indicator", f"{flt.indicator} has no point locations in "
                          f"{region.title}; choose LSOA or ward areas")
    protect = k > 1
    pts = _read.points(store, who, flt.indicator, ALL_CRIME, flt.period_start,
                       flt.period_end, tuple(districts.total_bounds), by_month=protect)
    cells: dict[str, str] = {}
    for code, name, geom in zip(districts["code"], districts["name"], districts.geometry,
                                strict=True):
        for cell in h3.geo_to_cells(geom, resolution):
            cells.setdefault(cell, f"{code}|{name}")
    hidden = pd.Series(dtype=float)
    if protect:  # small counts hidden in the finest hexagons, month by month, then added up
        pts["fine"] = [h3.latlng_to_cell(lat, lon, FINEST)
                       for lat, lon in zip(pts["lat"], pts["lon"], strict=True)]
        fine = pts.groupby(["fine", "month"], as_index=False)["n"].sum()
        small = disclosure.primary(fine["n"].astype(float), k)
        # A small count stands in as its expected value given the visible ones here.
        seen = fine.loc[~small, "n"].astype(int).value_counts()
        fine["n"] = fine["n"].astype(float).where(~small, disclosure.stand_in(seen, k))
        fine["small"] = small.astype(int)
        fine["cell"] = [h3.cell_to_parent(c, resolution) for c in fine["fine"]]
        pts = fine
        hidden = pts[pts["cell"].isin(cells)].groupby("cell")["small"].sum()
    else:
        pts["cell"] = [h3.latlng_to_cell(lat, lon, resolution)
                       for lat, lon in zip(pts["lat"], pts["lon"], strict=True)]
    counts = pts[pts["cell"].isin(cells)].groupby("cell")["n"].sum()
    ids = sorted(cells)
    lad = pd.Series([cells[c] for c in ids], index=ids).str.split("|", n=1, expand=True)
    value = counts.reindex(ids, fill_value=0).astype(float)
    estimated = hidden.reindex(ids, fill_value=0).astype(int).to_numpy()
    value = (disclosure.whole(value) if protect else value).to_numpy()
    view = pd.DataFrame({"area_code": ids,
                         "area_name": _hex_names(store, region, ids, lad[1].tolist()),
                         "value": value, "denominator": np.nan, "rate_per_1000": np.nan,
                         "rank": measures.rank_areas(pd.Series(value), polarity).to_numpy(),
                         "estimated": estimated,
                         "lad_code": lad[0].to_numpy(), "lad_name": lad[1].to_numpy()})
    stand_in = view["value"].copy()
    view = disclosure.protect(view, k, additive=True, polarity=polarity,
                              measure_column="value")
    small = view["suppressed"] == disclosure.PRIMARY
    view.attrs["stand_in"] = disclosure.StandIns(zip(
        view.loc[small, "area_code"], stand_in[small], strict=True))
    shapes = gpd.GeoDataFrame(
        {"code": ids},
        geometry=[shapely.Polygon([(lng, lat) for lat, lng in h3.cell_to_boundary(c)])
                  for c in ids], crs=geography.MAP_CRS)
    view.attrs["points_outside"] = int(pts.loc[~pts["cell"].isin(cells), "n"].sum())
    return view, shapes


def _hex_names(store: Store, region: Region, cells: list[str], districts: list[str]
              ) -> list[str]:
    """A name a person can read for each hexagon: the ward its centre lies in, and
    the ward's district ("Hexagon in Lawrence Hill, Bristol, City of"); the district
    (``districts``, one per cell) alone where the centre lies in no ward (on an
    estuary or the coast, whose water the districts' outlines take in)."""
    if not cells:
        return []
    wards = geography.area_shapes(store, region, "ward")
    lat, lng = zip(*(h3.cell_to_latlng(c) for c in cells), strict=True)
    centres = gpd.GeoSeries(gpd.points_from_xy(lng, lat), crs=geography.MAP_CRS) \
        .to_crs(wards.crs)
    where = gpd.sjoin(gpd.GeoDataFrame(geometry=centres), wards, how="left",
                      predicate="within")
    where = where[~where.index.duplicated()]  # a centre on a shared edge: the first ward
    names = []
    for ward, lad, district in zip(where["name"], where["lad_name"], districts,
                                   strict=True):
        names.append(f"Hexagon in {ward}, {lad}" if pd.notna(ward) else
                     f"Hexagon in {district} (outside its wards)")
    return names


def hex_graph(cells: list[str]) -> Graph:
    """Hexagons sharing an edge are neighbours (binary weights, in the order given)."""
    return Graph.build_h3(cells, order=1, weight="binary")
