"""Geography: regions, their LSOAs and wards, and the LSOA -> ward aggregation.

The package also holds the region presets (``regions``), the conversion between
LSOA vintages (``vintage``) and the spatial weights the hot spot tests use
(``weights``).

Ward figures are built from LSOA figures through the ONS best-fit lookup of the
region's vintage: counts and denominators are summed, then rates computed.
Never average rates.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from dashboard.measures import _read
from loaders import Region
from store import Store

MAP_CRS = 4326
ANALYSIS_CRS = 27700


def _from_wkb(blobs: pd.Series) -> np.ndarray:
    """Geometry as stored: WKB (DuckDB returns BLOBs as bytearray; shapely wants
    bytes) or hex EWKB text (PostGIS geometry, as psycopg returns it)."""
    return shapely.from_wkb([b if isinstance(b, str) else bytes(b) for b in blobs])


def lsoa_lookup(store: Store, region: Region) -> pd.DataFrame:
    """The region's LSOAs with their best-fit ward and LAD.

    Returns
    -------
    DataFrame
        ``lsoa_code, lsoa_name, ward_code, ward_name, lad_code, lad_name``, one
        row per LSOA.
    """
    return _read.lsoa_ward(store, region.vintage, region.lads)


def region_areas(store: Store, region: Region, level: str,
                 lookup: pd.DataFrame | None = None) -> pd.DataFrame:
    """The areas of a region at a level: ``code, name, lad_code, lad_name``.

    LSOAs are those whose best-fit LAD is in the region. Wards are those the
    best-fit lookup assigns the region's LSOAs to, plus the region's wards that
    no LSOA is best-fitted to (they have no figures of their own). Pass the
    region's ``lookup`` (from :func:`lsoa_lookup`) when it is already read.
    """
    lk = lsoa_lookup(store, region) if lookup is None else lookup
    if level == "lsoa":
        out = lk[["lsoa_code", "lsoa_name", "lad_code", "lad_name"]]
    elif level == "ward":
        out = lk.drop_duplicates("ward_code")[["ward_code", "ward_name", "lad_code", "lad_name"]]
        # Wards in the region that no LSOA is best-fitted to still belong on the
        # map (as "No data"), not as holes.
        empty = _read.ward_areas(store, region.ward_geography, region.lads)
        empty = empty[~empty["ward_code"].isin(out["ward_code"])]
        empty["lad_name"] = empty["lad_code"].map(
            lk.drop_duplicates("lad_code").set_index("lad_code")["lad_name"])
        out = pd.concat([out, empty], ignore_index=True)
    else:
        raise ValueError(f"level was {level!r} but is expected to be 'lsoa' or 'ward'")
    out.columns = ["code", "name", "lad_code", "lad_name"]
    return out.sort_values("code").reset_index(drop=True)


def area_shapes(store: Store, region: Region, level: str, column: str = "geom"
                ) -> gpd.GeoDataFrame:
    """Geometry of a region's areas, LSOAs or wards: ``code, name, lad_code, lad_name``.

    ``column`` is ``geom`` (analysis geometry, EPSG:27700) or ``map_fine`` /
    ``map_coarse`` (simplified map geometry, WGS84). Areas without geometry are
    left out.
    """
    crs = {"geom": ANALYSIS_CRS, "map_fine": MAP_CRS, "map_coarse": MAP_CRS}[column]
    areas = region_areas(store, region, level)
    geography = region.lsoa_geography if level == "lsoa" else region.ward_geography
    detail = region.lsoa_detail if level == "lsoa" else "bgc"
    geo = _read.area_geometry(store, column, geography, detail)
    merged = areas.merge(geo, on="code", how="left", validate="one_to_one")
    has = merged["wkb"].notna()
    return gpd.GeoDataFrame(merged.drop(columns="wkb")[has].reset_index(drop=True),
                            geometry=_from_wkb(merged.loc[has, "wkb"]), crs=crs)


def map_shapes(store: Store, region: Region, level: str) -> gpd.GeoDataFrame:
    """Map geometry (WGS84, simplified) of a region's areas, LSOAs or wards."""
    return area_shapes(store, region, level, f"map_{region.map_detail}")


def district_name(store: Store, code: str) -> str | None:
    """The name of a district (LAD) by its code, of either vintage; None if unknown."""
    for geography in ("LAD25", "LAD19"):
        found = _read.district_outlines(store, geography, "coarse", [code])
        if len(found):
            return str(found["name"].iat[0])
    return None


def lad_outlines(store: Store, region: Region) -> gpd.GeoDataFrame:
    """District outlines and label points for the region, in WGS84."""
    geography = "LAD19" if region.vintage == 2011 else "LAD25"
    lads = region_areas(store, region, "lsoa")["lad_code"].unique().tolist()
    frame = _read.district_outlines(store, geography, region.map_detail, lads)
    return gpd.GeoDataFrame(frame.drop(columns="wkb"),
                            geometry=_from_wkb(frame["wkb"]), crs=MAP_CRS)


def aggregate_to_ward(lsoa: pd.DataFrame, lookup: pd.DataFrame, *, additive: bool
                      ) -> pd.DataFrame:
    """Aggregate LSOA figures to wards through the best-fit lookup.

    Parameters
    ----------
    lsoa : DataFrame
        ``code, value, denominator`` per LSOA; ``value`` may be NaN (no data).
        With a ``period`` column (several periods, each LSOA in each), each
        period is aggregated on its own.
    lookup : DataFrame
        ``lsoa_code, ward_code``.
    additive : bool
        True for counts: values and denominators are summed. False for scores,
        ranks and rates: the ward takes the population-weighted mean of its
        LSOAs that have a value (MHCLG's "average score" method).

    Returns
    -------
    DataFrame
        ``code, value, denominator`` per ward (and ``period``). A ward whose
        LSOAs all lack a value has NaN, never zero.
    """
    extra = [c for c in ("hidden", "withheld", "other", "low", "high") if c in lsoa]
    keys = ["period"] if "period" in lsoa else []  # several periods: each on its own
    merged = lookup[["lsoa_code", "ward_code"]].merge(
        lsoa[[*keys, "code", "value", "denominator", *extra]], left_on="lsoa_code",
        right_on="code", how="left", validate="one_to_many" if keys else "one_to_one")
    by = [*keys, "ward_code"]
    groups = merged.groupby(by, sort=True)
    if additive:
        out = pd.DataFrame({"value": groups["value"].sum(min_count=1),
                            "denominator": groups["denominator"].sum(min_count=1)})
        for c in extra:  # suppressed cells inside each ward's total, and partner-hidden ones
            out[c] = groups[c].sum()
    else:
        has = merged["value"].notna()
        weight = merged["denominator"].where(has).fillna(0.0)
        merged = merged.assign(_wv=merged["value"].fillna(0.0) * weight, _w=weight)
        groups = merged.groupby(by, sort=True)
        w = groups["_w"].sum()
        out = pd.DataFrame({"value": (groups["_wv"].sum() / w.replace(0, np.nan)),
                            "denominator": groups["denominator"].sum(min_count=1)})
        if "withheld" in extra:
            out["withheld"] = groups["withheld"].sum()
    return out.reset_index().rename(columns={"ward_code": "code"})
