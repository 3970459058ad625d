"""The interventions register, written: entering, importing, changing and ending the
records of who is doing what, where and when.

A record: an id, title, agency (the organisation acting), kind (patrol, youth
outreach, CCTV, ...), description, the region and areas it covers (LSOA or ward
codes, or a GeoJSON file of polygons or points turned into the LSOAs they cover),
a start month and an end month that may be open, an optional dose (a number and its
unit, "6 hours a week"), the indicators it aims to change, the problem or project
it serves, an optional cost, a contact, a status, and who may see it
(``access.policy.VISIBILITY``; ``restricted`` needs an agreement).

Who may write: signed-in staff of a partner organisation, for their own agency,
and administrators, for any. Every change is audited. Every problem with a record
is named (the field, and for an import the row), and one bad row of an import
never stops the good ones: it is returned with its reason.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import geopandas as gpd
import pandas as pd

from dashboard import geography
from dashboard.access import Viewer, audit
from dashboard.access.policy import VISIBILITY
from dashboard.filters import MONTH, FilterError
from dashboard.measures import interventions as door
from loaders import Region, load_regions
from store import Store, governance
from store import interventions as stored

ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
STATUSES = ("planned", "active", "ended", "cancelled")
KINDS = (
    "patrol",
    "youth outreach",
    "CCTV",
    "home fire safety visits",
    "environmental works",
    "street lighting",
    "target hardening",
    "diversion scheme",
    "licensing",
    "other",
)
# An LSOA a drawn polygon touches by less than this share of its area is not covered
# (the edge of a hand-drawn footprint), unless the polygon lies inside it.
COVER_SHARE = 0.10
# Import columns: the command's options, by name. Lists are separated by ';' or ','.
IMPORT_COLUMNS = (
    "id",
    "title",
    "agency",
    "areas",
    "start",
    "end",
    "indicators",
    "kind",
    "description",
    "dose",
    "dose_unit",
    "problem",
    "cost",
    "contact",
    "status",
    "visibility",
    "agreement",
    "region",
)
REQUIRED = ("id", "title", "agency", "areas", "start", "indicators")
MAX_IMPORT_ROWS = 5000
MAX_FILE_BYTES = 20 * 2**20  # an import or a footprint file


def may_register(viewer: Viewer) -> bool:
    """Whether ``viewer`` may enter interventions (for their own agency, or any if an
    administrator)."""
    return viewer.rules.partner_data == "all" or (viewer.signed_in and bool(viewer.org))


def _list(value) -> list[str]:
    if value is None or (not isinstance(value, (str, list, tuple)) and pd.isna(value)):
        return []
    items = value if isinstance(value, (list, tuple)) else re.split(r"[;,]", str(value))
    return [str(v).strip() for v in items if str(v).strip()]


def _number(value, name: str, problems: list[str]) -> float | None:
    if value is None or value == "" or (not isinstance(value, str) and pd.isna(value)):
        return None
    try:
        number = float(str(value).replace(",", "").replace("£", "").strip())
    except ValueError:
        problems.append(f"{name} {value!r} is not a number")
        return None
    if number < 0 or number != number or number in (float("inf"), float("-inf")):
        problems.append(f"{name} {value!r} must be zero or more")
        return None
    return number


def _month(value, name: str, problems: list[str]) -> str | None:
    if value is None or value == "" or (not isinstance(value, str) and pd.isna(value)):
        return None
    text = (
        str(value).strip()[:7]
        if re.match(r"^\d{4}-\d{2}-\d{2}$", str(value).strip())
        else str(value).strip()
    )
    if not MONTH.match(text):
        problems.append(f"{name} {value!r} is not a month (YYYY-MM)")
        return None
    return text


def region_for(name: str | None) -> Region:
    """The region preset named (the default region when ``None``).

    Raises
    ------
    FilterError
        If there is no region of that name.
    """
    regions = load_regions()
    if not name:
        return next((r for r in regions.values() if r.default), next(iter(regions.values())))
    if name not in regions:
        raise FilterError("region", f"{name!r} is not a region; known: {list(regions)}")
    return regions[name]


def known_areas(store: Store, region: Region) -> pd.DataFrame:
    """``code, name, level`` of every LSOA and ward of a region (what a record may cover)."""
    lookup = geography.lsoa_lookup(store, region)
    lsoa = geography.region_areas(store, region, "lsoa", lookup).assign(level="lsoa")
    ward = geography.region_areas(store, region, "ward", lookup).assign(level="ward")
    return pd.concat([lsoa, ward], ignore_index=True)[["code", "name", "level"]]


def resolve_areas(
    store: Store,
    region: Region,
    codes: list[str],
    problems: list[str],
    known: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """``geography, code`` of the codes given: all LSOAs or all wards of the region
    (``known``: the region's :func:`known_areas`, when already read)."""
    known = known_areas(store, region) if known is None else known
    known = known.drop_duplicates("code").set_index("code")
    wanted = list(dict.fromkeys(c.upper() for c in codes))
    unknown = [c for c in wanted if c not in known.index]
    if unknown:
        problems.append(
            f"areas {unknown[:10]}{' ...' if len(unknown) > 10 else ''} are not "
            f"LSOA or ward codes of {region.title} ({region.lsoa_geography} LSOAs, "
            f"{region.ward_geography} wards)"
        )
    found = [c for c in wanted if c in known.index]
    levels = set(known.loc[found, "level"]) if found else set()
    if len(levels) > 1:
        problems.append("areas mix LSOA and ward codes: give one or the other")
    if not wanted:
        problems.append("at least one area is required (LSOA or ward codes, or a GeoJSON file)")
    return pd.DataFrame({"geography": [known.loc[c, "level"] for c in found], "code": found})


def footprint(store: Store, region: Region, data: bytes, name: str) -> list[str]:
    """The LSOAs of ``region`` a GeoJSON footprint covers: those containing one of its
    points, or that its polygons cover by at least :data:`COVER_SHARE` of their area
    (or lie across, for a polygon smaller than the LSOA).

    Raises
    ------
    FilterError
        If the file is not GeoJSON, has no usable geometry, or covers no LSOA of the
        region.
    """
    try:
        shapes = gpd.read_file(io.BytesIO(data))
    except Exception as err:  # GDAL raises its own errors for every malformed file
        raise FilterError(name, f"is not a GeoJSON file GDAL can read ({err})") from err
    shapes = shapes[shapes.geometry.notna() & ~shapes.geometry.is_empty]
    if shapes.empty:
        raise FilterError(name, "has no geometry (features without a geometry are ignored)")
    if shapes.crs is None:
        shapes = shapes.set_crs("EPSG:4326")
    shapes = shapes.to_crs(geography.ANALYSIS_CRS)
    lsoas = geography.area_shapes(store, region, "lsoa")[["code", "geometry"]]
    points = shapes[shapes.geom_type.isin(["Point", "MultiPoint"])]
    polys = shapes[shapes.geom_type.isin(["Polygon", "MultiPolygon"])]
    other = shapes[~shapes.index.isin(points.index) & ~shapes.index.isin(polys.index)]
    if not other.empty:
        raise FilterError(
            name,
            f"feature {int(other.index[0]) + 1} is a "
            f"{other.geom_type.iloc[0]}: give polygons or points",
        )
    codes: set[str] = set()
    if not points.empty:
        hit = gpd.sjoin(points.explode(index_parts=False), lsoas, predicate="within")
        codes |= set(hit["code"])
    if not polys.empty:
        union = polys.geometry.union_all()
        near = lsoas[lsoas.intersects(union)]
        share = near.intersection(union).area / near.area
        inside = near.contains(union)  # a small polygon within one LSOA covers it
        codes |= set(near.loc[(share >= COVER_SHARE) | inside, "code"])
    if not codes:
        raise FilterError(
            name,
            f"covers no LSOA of {region.title}: is it the right region, "
            "and in longitude and latitude (WGS84)?",
        )
    return sorted(codes)


def check(
    store: Store,
    spec: dict,
    *,
    viewer: Viewer,
    new: bool,
    areas_file: tuple[bytes, str] | None = None,
    known: dict | None = None,
) -> tuple[dict, pd.DataFrame, list[str]]:
    """Validate and normalise a record; return it, its areas and any warnings
    (``known``: each region's :func:`known_areas` by name, filled as they are read, so
    an import reads each region's areas once).

    Raises
    ------
    FilterError
        Naming every problem (``intervention ID``: the list).
    """
    problems: list[str] = []
    warnings: list[str] = []
    rec = {"id": str(spec.get("id") or "").strip()}
    if not ID.match(rec["id"]):
        problems.append(
            f"id {spec.get('id')!r} must be 1 to 64 letters, digits, '.', '_' "
            "or '-', starting with a letter or digit"
        )
    rec["title"] = str(spec.get("title") or "").strip()[:200]
    if not rec["title"]:
        problems.append("a title is required")
    rec["agency"] = str(spec.get("agency") or viewer.org or "").strip()
    if not rec["agency"]:
        problems.append("an agency (the organisation acting) is required")
    elif viewer.rules.partner_data != "all" and rec["agency"] != viewer.org:
        problems.append(
            f"you may enter interventions for your own organisation "
            f"({viewer.org or 'none'}) only, not {rec['agency']!r}"
        )
    try:
        region = region_for(spec.get("region"))
    except FilterError as err:
        problems.append(str(err))
        region = region_for(None)
    rec["region"] = region.name
    rec["kind"] = str(spec.get("kind") or "").strip()[:80]
    rec["description"] = str(spec.get("description") or "").strip()[:4000]
    rec["start_month"] = _month(spec.get("start"), "start", problems)
    if rec["start_month"] is None and not any(p.startswith("start") for p in problems):
        problems.append("a start month is required (YYYY-MM)")
    rec["end_month"] = _month(spec.get("end"), "end", problems)
    if rec["start_month"] and rec["end_month"] and rec["end_month"] < rec["start_month"]:
        problems.append(f"end {rec['end_month']} is before start {rec['start_month']}")
    rec["dose"] = _number(spec.get("dose"), "dose", problems)
    rec["dose_unit"] = str(spec.get("dose_unit") or "").strip()[:80] or None
    rec["cost"] = _number(spec.get("cost"), "cost", problems)
    rec["contact"] = str(spec.get("contact") or "").strip()[:200]
    rec["problem"] = str(spec.get("problem") or "").strip()[:200]
    rec["indicators"] = sorted(set(_list(spec.get("indicators"))))
    if not rec["indicators"]:
        problems.append("at least one indicator it aims to change is required")
    rec["status"] = str(spec.get("status") or "").strip().lower() or (
        "ended" if rec["end_month"] and rec["end_month"] < _this_month() else "active"
    )
    if rec["status"] not in STATUSES:
        problems.append(f"status {spec.get('status')!r} must be one of {STATUSES}")
    rec["visibility"] = str(spec.get("visibility") or "").strip().lower() or (
        "restricted" if spec.get("agreement") else "partners"
    )
    if rec["visibility"] not in VISIBILITY:
        problems.append(f"visibility {spec.get('visibility')!r} must be one of {VISIBILITY}")
    rec["agreement"] = str(spec.get("agreement") or "").strip() or None
    if rec["visibility"] == "restricted":
        if not rec["agreement"]:
            problems.append(
                "a restricted record needs --agreement: the agreement whose roles "
                "and organisations may see it"
            )
        elif rec["agreement"] not in governance.agreement_ids(store.governance):
            problems.append(f"agreement {rec['agreement']!r} is not in the register")
    codes = _list(spec.get("areas"))
    rec["areas_from"] = "codes"
    if areas_file is not None:
        data, name = areas_file
        try:
            codes += footprint(store, region, data, name)
            rec["areas_from"] = Path(name).name[:200]
        except FilterError as err:
            problems.append(str(err))
    if known is not None and region.name not in known:
        known[region.name] = known_areas(store, region)
    areas = (
        resolve_areas(store, region, codes, problems, (known or {}).get(region.name))
        if codes or areas_file is None
        else pd.DataFrame({"geography": [], "code": []})
    )
    existing = set(stored.records(store.governance)["id"])
    if new and rec["id"] in existing:
        problems.append(f"id {rec['id']!r} is taken; choose another, or change that record")
    if not new and rec["id"] not in existing:
        problems.append(f"id {rec['id']!r} is not in the register")
    if problems:
        raise FilterError(f"intervention {rec['id']}".strip(), problems)
    return rec, areas, warnings


def _this_month() -> str:
    return pd.Timestamp.today().strftime("%Y-%m")


def add(
    store: Store,
    spec: dict,
    *,
    viewer: Viewer,
    areas_file: tuple[bytes, str] | None = None,
    known: dict | None = None,
) -> dict:
    """Enter a new record (audited); return it.

    Raises
    ------
    FilterError
        If the viewer may not enter records, or the record has problems (all named).
    """
    _allowed(viewer)
    rec, areas, _ = check(
        store, spec, viewer=viewer, new=True, areas_file=areas_file, known=known
    )
    if not stored.save(rec, areas, viewer.name, new=True, path=store.governance):
        raise FilterError(f"intervention {rec['id']}", [f"id {rec['id']!r} is taken"])
    audit.record(
        viewer,
        "intervention",
        store.governance,
        action="add",
        id=rec["id"],
        agency=rec["agency"],
        areas=len(areas),
        visibility=rec["visibility"],
    )
    return {**rec, "areas": list(areas["code"])}


def _allowed(viewer: Viewer) -> None:
    if not may_register(viewer):
        raise FilterError(
            "intervention",
            "entering interventions needs an account of a "
            "partner organisation (or an administrator's); sign in",
        )


def _editable(store: Store, intervention_id: str, viewer: Viewer) -> dict:
    rec = door.record(store, intervention_id, viewer=viewer)
    if viewer.rules.partner_data != "all" and rec["agency"] != viewer.org:
        raise FilterError(
            f"intervention {intervention_id}",
            f"only {rec['agency']} staff or an administrator may change it",
        )
    return rec


def update(store: Store, intervention_id: str, changes: dict, *, viewer: Viewer) -> dict:
    """Change fields of a record the viewer's organisation owns (audited)."""
    _allowed(viewer)
    rec = _editable(store, intervention_id, viewer)
    spec = {
        **rec,
        "start": rec["start_month"],
        "end": rec["end_month"],
        **changes,
        "id": intervention_id,
    }
    if "areas" not in changes:
        spec["areas"] = rec["areas"]
    new, areas, _ = check(store, spec, viewer=viewer, new=False)
    stored.save(new, areas, viewer.name, new=False, path=store.governance)
    changed = sorted(k for k in stored.FIELDS if new.get(k) != rec.get(k)
                     and not (new.get(k) in (None, "") and rec.get(k) in (None, "")))
    audit.record(
        viewer,
        "intervention",
        store.governance,
        action="change",
        id=intervention_id,
        fields=changed,
    )
    return {**new, "areas": list(areas["code"])}


def end(store: Store, intervention_id: str, month: str | None = None, *, viewer: Viewer) -> dict:
    """End a record in ``month`` (this month by default); audited."""
    return update(
        store, intervention_id, {"end": month or _this_month(), "status": "ended"}, viewer=viewer
    )


def import_csv(
    store: Store, data: bytes, name: str, *, viewer: Viewer
) -> tuple[list[dict], pd.DataFrame]:
    """Enter every good row of a CSV of records (columns :data:`IMPORT_COLUMNS`; the
    :data:`REQUIRED` ones must be there). Returns the records added and the rows
    refused (``row, id, reason``: the row as numbered in the file, the header is 1).

    Raises
    ------
    FilterError
        If the viewer may not enter records, or the file is not a CSV with the
        required columns.
    """
    _allowed(viewer)
    try:
        frame = pd.read_csv(
            io.BytesIO(data),
            dtype=str,
            keep_default_na=False,
            encoding="utf-8-sig",
            nrows=MAX_IMPORT_ROWS + 1,
        )
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise FilterError(name, f"is not a UTF-8 CSV file: {err}") from err
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing = [c for c in REQUIRED if c not in frame]
    if missing:
        raise FilterError(
            name,
            f"has no column {missing}; required: {list(REQUIRED)}, "
            f"optional: {[c for c in IMPORT_COLUMNS if c not in REQUIRED]}",
        )
    if len(frame) > MAX_IMPORT_ROWS:
        raise FilterError(name, f"has more than {MAX_IMPORT_ROWS} rows; split it")
    unknown = [c for c in frame if c not in IMPORT_COLUMNS]
    added, refused, known = [], [], {}
    for i, row in enumerate(frame.to_dict("records"), start=2):
        spec = {k: v for k, v in row.items() if k in IMPORT_COLUMNS and v != ""}
        try:
            added.append(add(store, spec, viewer=viewer, known=known))
        except FilterError as err:
            refused.append({"row": i, "id": row.get("id", ""), "reason": "; ".join(err.problems)})
    out = pd.DataFrame(refused, columns=["row", "id", "reason"])
    out.attrs["ignored_columns"] = unknown
    audit.record(
        viewer,
        "intervention",
        store.governance,
        action="import",
        file=Path(name).name,
        added=len(added),
        refused=len(out),
    )
    return added, out


def stamp(store: Store) -> str:
    """Changes whenever a record or an agreement changes (a cache key)."""
    return stored.stamp(store.governance) + "|" + governance.agreements_stamp(store.governance)
