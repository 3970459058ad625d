"""Export: exactly the data behind a view, as a file an analyst can use elsewhere.

Formats: CSV, GeoJSON, GeoPackage and XLSX. Every file carries its metadata
(filters, sources, licences and attribution, geography vintage, the
suppression rule, when it was made and by which version of the app): inside
the file where the format allows (a GeoJSON ``metadata`` member, a GeoPackage
``metadata`` table, an XLSX ``metadata`` sheet) and in a JSON sidecar for CSV.
Text that a spreadsheet would run as a formula is neutralised in CSV and XLSX.
Figures pass through the disclosure chokepoint (``measures.indicator_view``)
before they get here.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import tempfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from urllib.parse import urlencode

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from dashboard import access, measures
from dashboard.access import Viewer
from dashboard.filters import FilterError, ViewFilter
from dashboard.geography import weights
from dashboard.measures import CHANGE_COLUMNS, COLUMNS, RATE_COLUMNS, hexes
from loaders import Region
from loaders.safety import neutralise_formulae
from store import Store

FORMATS = {
    "csv": ("CSV", "text/csv", ".csv"),
    "geojson": ("GeoJSON", "application/geo+json", ".geojson"),
    "gpkg": ("GeoPackage", "application/geopackage+sqlite3", ".gpkg"),
    "xlsx": ("Excel workbook", "application/vnd.openxmlformats-officedocument."
             "spreadsheetml.sheet", ".xlsx"),
}
ATTRIBUTION = [
    "Contains public sector information licensed under the Open Government Licence v3.0.",
    "Contains OS data © Crown copyright and database right 2019-2025.",
    "Contains National Statistics data © Crown copyright and database right 2019-2025.",
    "Police data: data.police.uk, Open Government Licence v3.0.",
]
MAX_INDICATORS = 30


def app_version() -> str:
    """The app's version (pyproject), for the metadata of every file."""
    try:
        return version("oda-dashboard")
    except PackageNotFoundError:
        text = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text()
        return next((line.split('"')[1] for line in text.splitlines()
                     if line.startswith("version")), "unknown")


def columns_of(view: pd.DataFrame) -> list[str]:
    """The export columns of a view: :data:`measures.COLUMNS`, and with the rate
    measure the rate's 95 % limits and its comparison with the region."""
    rated = view.attrs.get("measure") == "rate" and all(c in view for c in RATE_COLUMNS)
    changed = rated and all(c in view for c in CHANGE_COLUMNS)
    return COLUMNS + (RATE_COLUMNS if rated else []) + (CHANGE_COLUMNS if changed else [])


def to_csv(view: pd.DataFrame, columns: list[str] | None = None) -> bytes:
    """The view's export columns as UTF-8 CSV bytes.

    ``columns`` defaults to the map view's (:func:`columns_of`). Pass a
    hotspot result's columns to export it whole.
    """
    buf = io.StringIO()
    frame = view[columns or columns_of(view)]
    neutralise_formulae(frame).to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue().encode("utf-8")


def export_frame(store: Store, region: Region, flt: ViewFilter,
                 indicators: list[str], *, viewer: Viewer) -> pd.DataFrame:
    """The view of each indicator, stacked: one row per area and indicator.

    The filter's measure applies to indicators that have a rate; the others
    are given as published (their value). An indicator without the filter's
    months (a single-period one, such as a deprivation index) is given for
    the periods it has; its rows say which.
    """
    if not indicators:
        raise FilterError("indicator", "choose at least one indicator")
    if len(indicators) > MAX_INDICATORS:
        raise FilterError("indicator", f"{len(indicators)} indicators chosen; "
                                   f"an export takes at most {MAX_INDICATORS}")
    frames = []
    grants = access.rules(store, viewer)
    for indicator in dict.fromkeys(indicators):
        one = measures.filter_for(store, flt, indicator, viewer=viewer,
                                  prefer_rate=flt.measure == "rate",
                                  grants=grants)
        view = measures.indicator_view(store, region, one, viewer=viewer, grants=grants)
        if flt.measure == "rate":  # the change on a year before, where there is one
            change = measures.change_on_year_before(store, region, one, viewer=viewer,
                                                    grants=grants, now=view)
            view = view.merge(change, on="area_code", how="left") if change is not None \
                else view.assign(**dict.fromkeys(CHANGE_COLUMNS, np.nan))
        frames.append(view)
    out = pd.concat(frames, ignore_index=True)
    if all(c in out for c in CHANGE_COLUMNS) and out["rate_ratio"].isna().all():
        out = out.drop(columns=CHANGE_COLUMNS)  # no indicator has a year before
    out.attrs = {"suppression_k": {i: f.attrs.get("suppression_k", 0)
                                   for i, f in zip(indicators, frames, strict=False)},
                 "periods": periods_of(out),
                 "conversion": " ".join(f.attrs.get("conversion", "") for f in frames).strip(),
                 "measure": flt.measure}
    return out


def periods_of(frame: pd.DataFrame) -> dict[str, str]:
    """Each indicator's own period in an export (``2022-01:2022-11``, ``2019``), as its
    rows give it: an indicator without the chosen months is exported for its own."""
    out = {}
    for indicator, rows in frame.groupby("indicator", sort=False):
        start, end = rows["period_start"].min(), rows["period_end"].max()
        out[str(indicator)] = start if start == end else f"{start}:{end}"
    return out


def period_label(periods: dict[str, str]) -> str:
    """The period of an export in words: one period, or each indicator's."""
    if len(set(periods.values())) == 1:
        return next(iter(periods.values()), "")
    return "; ".join(f"{i} {p}" for i, p in periods.items())


MAX_NAME = 150


def file_name(region: Region, level: str, periods: dict[str, str]) -> str:
    """An export's file name, without suffix, naming each indicator's own period
    (``oda_avon_and_somerset_lsoa_crime_all_2022-01_2022-11``); with many indicators,
    how many and the span of their periods."""
    if len(set(periods.values())) == 1 and len(periods) > 1:
        parts = [f"{len(periods)}-indicators", next(iter(periods.values()))]
    else:
        parts = [f"{i}_{p}" for i, p in periods.items()]
    name = "_".join([f"oda_{region.name}_{level}", *parts])
    if len(name) > MAX_NAME:
        ends = sorted(v for p in periods.values() for v in p.split(":"))
        name = f"oda_{region.name}_{level}_{len(periods)}-indicators_{ends[0]}-{ends[-1]}"
    return name.replace(":", "_").replace(" ", "_")


def share_params(flt: ViewFilter, indicators: list[str], fmt: str) -> dict[str, str]:
    """The query of a link that opens the Export page on the same choices."""
    return {**flt.to_params(), "indicators": ",".join(indicators), "format": fmt}


def metadata(store: Store, region: Region, flt: ViewFilter, indicators: list[str],
             rows: int, now: dt.datetime | None = None, *, viewer: Viewer,
             periods: dict[str, str] | None = None, fmt: str = "csv") -> dict:
    """Everything an analyst needs to know about an exported file (of indicators the
    viewer may see): each indicator's catalogue entry, not the whole catalogue's
    period coverage."""
    grants = access.rules(store, viewer)
    cat = pd.DataFrame([measures.indicator_meta(store, i, viewer=viewer, grants=grants)
                        for i in dict.fromkeys(indicators)]).set_index("indicator")
    vintage = flt.vintage or region.vintage
    periods = periods or dict.fromkeys(indicators, flt.period)
    return {
        "title": (f"ODA Dashboard export: {region.title}, {flt.level.upper()}, "
                  f"{period_label(periods)}"),
        "filters": {"region": region.name, "level": flt.level, "indicators": indicators,
                    "period": flt.period, "measure": flt.measure},
        "periods": periods,
        "geography_vintage": ("LSOA 2011 with December 2019 wards" if vintage == 2011
                              else "LSOA 2021 with WD24 codes on May 2025 wards"),
        "indicators": [{"indicator": i, "title": cat.at[i, "title"],
                        "period": periods.get(i, flt.period),
                        "partner": cat.at[i, "partner"], "unit": cat.at[i, "unit"],
                        "source": cat.at[i, "source"], "licence": cat.at[i, "licence"],
                        "suppression_k": int(cat.at[i, "suppression_k"] or 0)}
                       for i in indicators],
        "suppression": ("Counts from 1 to k-1 are suppressed (k per indicator above; 0 means "
                        "none), with secondary suppression within each district and the "
                        "rates and ranks of suppressed cells hidden. Suppressed cells are "
                        "empty, and the 'suppressed' column says why; never zero. Small "
                        "counts are hidden where they are stored (an LSOA in one month) and "
                        "every total over months or areas counts each of them as one "
                        "stand-in, the expected value of a hidden count given the "
                        "indicator's visible counts (never its true value), so no two "
                        "exports can be subtracted to recover one; such totals are "
                        "estimates, and 'estimated' says how many stand-ins each holds."),
        "attribution": ATTRIBUTION,
        "rows": rows,
        "generated_at": (now or dt.datetime.now(dt.UTC)).replace(microsecond=0).isoformat(),
        "app_version": app_version(),
        "share_link": "/export?" + urlencode(share_params(flt, indicators, fmt)),
    }


def _geo(store: Store, region: Region, frame: pd.DataFrame, level: str) -> gpd.GeoDataFrame:
    shapes = weights.area_geometry(store, region, level)
    geometry = shapes.geometry.reindex(frame["area_code"]).values
    return gpd.GeoDataFrame(frame[columns_of(frame)].reset_index(drop=True), geometry=geometry,
                            crs=weights.ANALYSIS_CRS)


def write(store: Store, region: Region, flt: ViewFilter, indicators: list[str], fmt: str,
          now: dt.datetime | None = None, frame: pd.DataFrame | None = None, *,
          viewer: Viewer) -> dict[str, bytes]:
    """The export as files: ``{suffix: bytes}``, the data file first, then any sidecar.

    Pass ``frame`` (:func:`export_frame` of the same filter and indicators) when it
    is already built.

    Raises
    ------
    FilterError
        If the format or an indicator is unknown, or the filter is wrong.
    """
    if fmt not in FORMATS:
        raise FilterError("format", f"{fmt!r} is not one of {list(FORMATS)}")
    if frame is None:
        frame = export_frame(store, region, flt, indicators, viewer=viewer)
    meta = metadata(store, region, flt, list(dict.fromkeys(indicators)), len(frame), now,
                    viewer=viewer, periods=frame.attrs.get("periods") or periods_of(frame),
                    fmt=fmt)
    suffix = FORMATS[fmt][2]
    if fmt == "csv":
        return {suffix: to_csv(frame),
                ".metadata.json": json.dumps(meta, indent=2, ensure_ascii=False).encode()}
    if fmt == "xlsx":
        return {suffix: to_xlsx(frame, meta)}
    return _geo_file(_geo(store, region, frame, flt.level), meta, fmt)


def _geo_file(geo: gpd.GeoDataFrame, meta: dict, fmt: str) -> dict[str, bytes]:
    """A GeoJSON (WGS84, the metadata as a foreign member, RFC 7946 section 6.1) or a
    GeoPackage (a ``data`` layer and a ``metadata`` table)."""
    suffix = FORMATS[fmt][2]
    if fmt == "geojson":
        doc = json.loads(geo.to_crs(4326).to_json(drop_id=True))
        doc["metadata"] = meta
        return {suffix: json.dumps(doc, ensure_ascii=False).encode()}
    with tempfile.TemporaryDirectory(prefix="oda-export-") as tmp:
        path = Path(tmp) / "export.gpkg"
        pyogrio.write_dataframe(geo, path, layer="data", driver="GPKG")
        pyogrio.write_dataframe(_flat(meta), path, layer="metadata", driver="GPKG",
                                append=True)
        return {suffix: path.read_bytes()}


HEX_COLUMNS = ["area_code", "area_name", "level", "resolution", "indicator", "period_start",
               "period_end", "value", "rank", "estimated", "suppressed", "lad_code",
               "lad_name"]


def hex_files(store: Store, region: Region, flt: ViewFilter, resolution: int, fmt: str,
              now: dt.datetime | None = None, *, viewer: Viewer
              ) -> tuple[pd.DataFrame, dict[str, bytes]]:
    """An indicator's point counts on H3 hexagons (``hexes.hex_view``: the viewer must
    be allowed points, and a partner's small counts are hidden) as an export: the
    frame (:data:`HEX_COLUMNS`) and its files, as :func:`write` gives them.

    Raises
    ------
    FilterError, AccessDenied
        As ``hexes.hex_view``, or for an unknown format.
    """
    if fmt not in FORMATS:
        raise FilterError("format", f"{fmt!r} is not one of {list(FORMATS)}")
    view, shapes = hexes.hex_view(store, region, flt, resolution, viewer=viewer)
    frame = view.assign(level="hex", resolution=resolution, indicator=flt.indicator,
                        period_start=flt.period_start, period_end=flt.period_end)[HEX_COLUMNS]
    meta = metadata(store, region, flt, [flt.indicator], len(frame), now, viewer=viewer,
                    fmt=fmt)
    meta["title"] = (f"ODA Dashboard export: {region.title}, H3 hexagons (resolution "
                     f"{resolution}, {hexes.RESOLUTIONS[resolution]}), {flt.period}")
    meta["filters"].update(level="hex", resolution=resolution)
    meta["suppression"] += (" On hexagons, small counts are hidden in the finest hexagons "
                            f"(H3 resolution {hexes.FINEST}) month by month, and a hexagon is "
                            "the sum of those.")
    suffix = FORMATS[fmt][2]
    if fmt == "csv":
        return frame, {suffix: to_csv(frame, HEX_COLUMNS), ".metadata.json": json.dumps(
            meta, indent=2, ensure_ascii=False).encode()}
    if fmt == "xlsx":
        return frame, {suffix: to_xlsx(frame, meta, HEX_COLUMNS)}
    geo = gpd.GeoDataFrame(frame.reset_index(drop=True),
                           geometry=shapes.set_index("code").geometry.reindex(
                               frame["area_code"]).values, crs=shapes.crs)
    return frame, _geo_file(geo, meta, fmt)


def to_xlsx(frame: pd.DataFrame, meta: dict, columns: list[str] | None = None) -> bytes:
    """A workbook with a ``data`` sheet and a ``metadata`` sheet, formula text neutralised."""
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xl:
        neutralise_formulae(frame[columns or columns_of(frame)]).to_excel(
            xl, sheet_name="data", index=False)
        neutralise_formulae(_flat(meta)).to_excel(xl, sheet_name="metadata", index=False)
    return buf.getvalue()


def describe(files: dict[str, bytes]) -> dict:
    """The metadata an export carries (from its sidecar, or from inside the file)."""
    if ".metadata.json" in files:
        return json.loads(files[".metadata.json"])
    if ".geojson" in files:
        return json.loads(files[".geojson"])["metadata"]
    if ".xlsx" in files:
        rows = pd.read_excel(io.BytesIO(files[".xlsx"]), sheet_name="metadata")
    else:
        with tempfile.TemporaryDirectory(prefix="oda-export-") as tmp:
            path = Path(tmp) / "export.gpkg"
            path.write_bytes(files[".gpkg"])
            rows = pyogrio.read_dataframe(path, layer="metadata")
    return {k: _unflat(v) for k, v in zip(rows["key"], rows["value"], strict=True)}


def _unflat(value: str):
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        return value


def _flat(meta: dict) -> pd.DataFrame:
    """Metadata as ``key, value`` rows (nested values as JSON)."""
    return pd.DataFrame({"key": list(meta),
                         "value": [v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)
                                   for v in meta.values()]})
