"""Ingest one partner file into the store, with a report that names every problem.

``python -m loaders ingest FILE [--partner NAME] [--meta META] [--store PATH]
[--report PATH.json]`` and the Data page both call :func:`ingest`. A file is
either refused whole (with one reason) or loaded: its good rows go into the
store and every other row into the quarantine with its row, column and reason.
Loading the same bytes twice changes nothing; a corrected version of a source
(same file name and partner) replaces that source's earlier rows, and the
ingest log keeps both events.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import tomllib
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

import store as db
from loaders import dates, policeuk, sources, wardnames
from loaders import details as dtl
from loaders import incidents as inc
from loaders import partner as pt
from loaders import reading as rd
from loaders.config import load_regions
from loaders.errors import LoaderError
from loaders.fields import ask, for_cli
from loaders.readfile import MAX_BYTES, display_name, peek_header, read_partner_table
from store import governance, loads

REQUIRED = ("area_code",)
POLICE_HEADER = ("month", "lsoa_code", "crime_type")
# Other header rows a partner table may have: police.uk's, or any area code column.
HEADERS = (POLICE_HEADER, *((name,) for name in rd.CODE_NAMES))
META_KEYS = {"title", "partner", "unit", "polarity", "denominator", "suppression_k", "licence",
             "source", "description", "agreement", "coverage"}
DEFAULTS = {"unit": "count", "polarity": dtl.UNSTATED_POLARITY, "denominator": "population",
            "suppression_k": 5, "licence": "partner data, not for onward publication"}
NEGATIVE_UNITS = dtl.NEGATIVE_UNITS
UNITS = dtl.UNITS
POLARITIES = dtl.POLARITIES
MAX_INDICATORS = 50  # per file; more is almost always a wide file read the wrong way
MAX_K = dtl.MAX_K


@dataclass
class Report:
    """What happened to one file: the CLI's JSON report and the Data page's summary."""

    file: str
    sha256: str = ""
    partner: str = ""
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_suppressed: int = 0  # loaded as cells the partner hid ("under 5")
    refused: bool = False
    reason: str = ""
    already_loaded: bool = False
    replaced_rows: int = 0
    indicators: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # What the steward should look at before trusting the figures (one position
    # holding an unusual share of an incident file's incidents).
    warnings: list[str] = field(default_factory=list)
    matches: list[dict] = field(default_factory=list)  # ward names matched to codes
    quarantine: list[dict] = field(default_factory=list)
    # How the file was read: its kind ("table", "incidents", "police.uk"), its
    # columns, and the column taken for each role, for the steward to change.
    reading: dict = field(default_factory=dict)
    dry_run: bool = False  # read and checked only; nothing was written
    # Indicators the file brings that the catalogue does not have yet, each with the
    # details it would be catalogued with and which of them were stated (the rest are
    # defaults): the preview asks for the unit and polarity of each.
    new_indicators: list[dict] = field(default_factory=list)
    # Catalogue details the load changed: {indicator: {key: [before, after]}}.
    details_changed: dict = field(default_factory=dict)

    def to_json(self) -> str:
        """The report as JSON (``rows_read``, ``rows_loaded``, ``quarantine``...), its
        messages naming choices as the command line's options (``--period COLUMN``)."""
        out = asdict(self)
        out["reason"] = for_cli(self.reason)
        for key in ("notes", "warnings"):
            out[key] = [for_cli(n) for n in out[key]]
        return json.dumps(out, indent=2, default=str)

    def summary(self) -> str:
        """One line for the command line and the ingest log."""
        if self.refused:
            return f"{self.file}: refused: {for_cli(self.reason)}"
        if self.already_loaded and self.details_changed:
            return (f"{self.file}: already loaded (same contents); catalogue details "
                    f"changed for {', '.join(sorted(self.details_changed))}")
        if self.already_loaded:
            return f"{self.file}: already loaded (same contents); nothing changed"
        if self.dry_run:
            hidden = f", {self.rows_suppressed} hidden by the partner" \
                if self.rows_suppressed else ""
            return (f"{self.file}: {self.rows_read} rows read; {self.rows_loaded} would load"
                    f"{hidden}, {self.rows_quarantined} would be quarantined")
        hidden = (f", {self.rows_suppressed} hidden by the partner" if self.rows_suppressed
                  else "")
        return (f"{self.file}: {self.rows_read} rows read, {self.rows_loaded} loaded"
                f"{hidden}, {self.rows_quarantined} quarantined")


def read_meta(path: Path | None) -> dict[str, dict]:
    """Read a catalogue sidecar (TOML or JSON): ``{indicator: {title: ..., ...}}``.

    A file with the keys at top level applies them to every indicator in the file.
    """
    if path is None:
        return {}
    try:
        text = path.read_text(encoding="utf-8-sig")
        meta = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (OSError, ValueError, tomllib.TOMLDecodeError) as err:
        raise LoaderError(display_name(path.name), f"cannot be read as catalogue metadata: "
                          f"{err}") from err
    if META_KEYS & set(meta):
        meta = {"*": meta}
    unknown = {k for v in meta.values() if isinstance(v, dict) for k in v} - META_KEYS
    if unknown:
        raise LoaderError(display_name(path.name), f"has unknown catalogue keys {sorted(unknown)}; "
                          f"allowed: {sorted(META_KEYS)}")
    problems = [p for ident, entry in meta.items() for p in _meta_problems(ident, entry)]
    if problems:
        raise LoaderError(display_name(path.name), problems)
    return meta


def _meta_problems(ident: str, entry: object) -> list[str]:
    """What is wrong with one catalogue entry of a sidecar."""
    where = "the file's entries" if ident == "*" else f"[{ident}]"
    if not isinstance(entry, dict):
        return [f"{where} must be a table of catalogue keys"]
    out = dtl.problems(entry, where, text_keys=sorted(
        META_KEYS - {"suppression_k", "coverage", "unit", "polarity"}))
    if "coverage" in entry:
        cover, regions = entry["coverage"], load_regions()
        if not ((isinstance(cover, str) and (cover == "all" or cover in regions)) or (
                isinstance(cover, list) and all(
                isinstance(c, str) and re.match(r"^[EW]0[6-9]\d{6}$", c) for c in cover))):
            out.append(f"{where} coverage was {cover!r}; it must be 'all', a region "
                       f"({', '.join(sorted(regions))}) or a list of district codes")
    return out


def _vintages(con: db.Connection, codes: pd.Series, periods: pd.Series) -> pd.Series:
    """Each code's geography, row by row. A code valid in both vintages (most LSOAs did
    not change in 2021) takes the majority of the codes its period has only in one: a
    series that moves from LSOA 2011 to LSOA 2021 codes loads each month on its own."""
    lk = loads.lsoa_ward_codes(con)
    sets = {
        "LSOA11": set(lk.loc[lk.vintage == 2011, "lsoa_code"]),
        "LSOA21": set(lk.loc[lk.vintage == 2021, "lsoa_code"]),
        "WD19": set(lk.loc[lk.vintage == 2011, "ward_code"]),
        "WD24": set(lk.loc[lk.vintage == 2021, "ward_code"]),
    }
    out = pd.Series("", index=codes.index, dtype=object)
    for old, new in (("LSOA11", "LSOA21"), ("WD19", "WD24")):
        in_old, in_new = codes.isin(sets[old]), codes.isin(sets[new])
        only_old, only_new = in_old & ~in_new, in_new & ~in_old
        newer = only_new.groupby(periods).transform("sum") > \
            only_old.groupby(periods).transform("sum")
        out[only_old] = old
        out[only_new] = new
        both = in_old & in_new
        out[both] = newer[both].map({True: new, False: old})
    return out


def known_codes(con: db.Connection) -> set[str]:
    """Every LSOA and ward code of both vintages."""
    return loads.area_codes(con)


def _police(raw_path: Path, con: db.Connection
            ) -> tuple[pd.DataFrame, pd.DataFrame, int, pd.DataFrame]:
    """A police.uk street-level file as tidy rows, its rows kept aside, the rows read,
    and its coverage: the force's districts in each month of the file, for every
    police.uk indicator (an LSOA there without a row had no crime of that type)."""
    known = loads.lsoa11_codes(con)
    force, months = policeuk.file_force_months(raw_path)
    cover = policeuk.Coverage.of_forces({force: months}, loads.district_forces(con),
                                        dict(loads.lsoa11_districts(con)[
                                            ["lsoa_code", "lad_code"]].to_numpy()),
                                        loads.active_districts(con))
    for lad, month in loads.police_coverage(con).itertuples(index=False):
        cover.districts.setdefault(month, set()).add(lad)
    pf = policeuk.read_policeuk_file(raw_path, known, cover)
    counts = pf.counts.assign(indicator=pf.counts["crime_type"].map(policeuk.crime_indicator))
    total = counts.groupby(["lsoa_code", "month"], as_index=False)["count"].sum() \
        .assign(indicator=policeuk.ALL_CRIME)
    both = pd.concat([counts, total], ignore_index=True)
    tidy = pd.DataFrame({"area_code": both["lsoa_code"], "period": both["month"],
                         "period_end": both["month"], "indicator": both["indicator"],
                         "value": both["count"].astype(float),
                         "denominator": float("nan"), "partner": "police", "row": 0})
    fields = pf.kept_aside.drop(columns=["row", "column", "reason"]).astype(str)
    quarantine = pf.kept_aside[["row", "column", "reason"]].assign(
        record=[",".join(r) for r in fields.itertuples(index=False)])
    districts = policeuk.force_districts(
        loads.district_forces(con), pf.force)["lad_code"].unique()
    indicators = sorted(set(tidy["indicator"]) | loads.police_indicators(con))
    coverage = pd.DataFrame(
        [(i, lad, month) for i in indicators for lad in districts
         for month in sorted(pf.counts["month"].unique())],
        columns=["indicator", "lad_code", "period"])
    return tidy, quarantine, pf.rows_read, coverage


def _match_wards(con, tidy: pd.DataFrame, column: str, report
                 ) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """Ward names to ward codes: the rows with a code, the unmatched rows' quarantine,
    and a refusal when a name is ambiguous (with its candidates)."""
    wards = loads.wards(con)
    found = wardnames.match(tidy["ward_name"], wards)
    if not found.codes:
        examples = ", ".join(repr(n) for n in found.unmatched[:3])
        return tidy, pd.DataFrame(), (
            f"no column of area codes was found, and no name in '{column}' is a ward "
            f"({examples}...); choose the column of area codes {ask('code')}")
    if found.ambiguous:
        return tidy, pd.DataFrame(), "ward names match more than one ward in " + \
            ", ".join(found.districts) + ": " + "; ".join(
                f"{name!r} could be {' or '.join(c)}" for name, c in found.ambiguous.items()) \
            + ". Give codes for these rows, or send each district's wards in its own file"
    report.notes.append(found.describe())
    names = wards.drop_duplicates("ward_code").set_index("ward_code")["ward_name"]
    report.matches = [{"name": n, "ward_code": c, "ward_name": names.get(c, "")}
                      for n, c in sorted(found.codes.items())]
    tidy = tidy.assign(area_code=tidy["ward_name"].str.strip().map(found.codes).fillna(""))
    lost = tidy[tidy["area_code"] == ""]
    where = ", ".join(found.districts) or "any district"
    unmatched = pd.DataFrame({
        "row": lost["row"].astype(int), "column": column,
        "reason": [f"ward name {n!r} matches no ward in {where}" for n in lost["ward_name"]],
        "record": [",".join(map(str, r)) for r in lost[
            ["ward_name", "period", "indicator", "value"]].itertuples(index=False)]})
    return tidy[tidy["area_code"] != ""], unmatched, ""


def _incident_position(raw, choices: dict, inferred: rd.Reading | None
                       ) -> inc.Position | None:
    """How an incident file gives positions; None for a file of area figures.

    A file with coordinates and no column of area codes (``inferred`` found none,
    or could not be made) lists incidents. So does one whose coordinates are masked
    but which names each incident's ward, and one that names wards, has a date
    column and no column of figures: those are counted by the wards they name.
    """
    if choices.get("code") or (inferred is not None and inferred.code):
        return None
    position = inc.find_position(raw.frame)
    if position is not None and position.kind != "none":
        return position
    names = inc.find_names(raw.frame)
    if names is None:
        return position
    listed = position is not None or (
        not choices.get("value") and inferred is not None and not inferred.values
        and not inferred.wide_periods and dates.find_date(raw.frame) is not None)
    if not listed:
        return None
    return inc.Position("names", names, position.notes if position else [])


def _incidents(con, raw, position: inc.Position, choices: dict, partner: str | None, report):
    """An incident file counted by area, month and category (by LSOA where it gives
    positions, by the ward it names where it gives none), and its points kept.

    Returns
    -------
    (good, quarantine, coverage, titles, points, rows read)
        ``good`` is on the tidy contract (``row`` 0: a count of many file rows).

    Raises
    ------
    LoaderError
        When the file has no usable positions, date column or indicator id.
    """
    frame = raw.frame
    by_name = position.kind == "names"
    report.notes.append(
        "recognised as an incident file (one row per incident, naming its ward): incidents "
        "are counted by ward and month" if by_name else
        "recognised as an incident file (one row per incident, with a position): incidents "
        "are counted by LSOA and month")
    report.notes += position.notes
    report.reading.update(kind="incidents", position=list(position.columns),
                          indicator=choices.get("indicator"), names=by_name)
    if position.kind == "none":
        raise LoaderError("the file", "its coordinates are masked and it has no other "
                          "position and no ward names; incidents cannot be placed")
    report.notes.append(position.describe())
    base = choices.get("indicator")
    problems = []
    if not base or not rd.INDICATOR_ID.match(base):
        problems.append("name the indicator its incidents are counted as, in "
                        f"lower_snake_case {ask('incident_indicator')}")
    date_column, order = choices.get("period"), choices.get("date_order")
    if date_column and date_column not in frame.columns:
        problems.append(f"the date column {date_column!r} is not in the file; choose it "
                        f"{ask('date')}")
    if order and order not in dates.ORDERS:
        problems.append(f"the date order {order!r} is not one of {sorted(dates.ORDERS)} "
                        f"{ask('date_order')}")
    dated = dates.find_date(frame, date_column, order) if not problems else None
    if not problems and dated is None:
        problems.append(("the date column could not be read as dates; choose another "
                         if date_column else "no date column could be read; choose it ")
                        + ask("date"))
    if problems:
        raise LoaderError("the file", problems)
    report.notes.append(dated.describe())
    if dated.how:
        report.notes.append(dated.how)
    category = inc.find_category(frame, choices.get("value"))
    report.reading.update(kind="incidents", position=list(position.columns),
                          period=dated.columns[0] if dated.fmt else None,
                          date_parts=[] if dated.fmt else list(dated.columns),
                          date_order=dated.order, value=category, indicator=base)
    month = dates.months(frame, dated)
    blame = dates.unreadable(frame, dated, month)
    why = pd.Series("", index=frame.index, dtype=object)
    column = pd.Series(position.columns[0], index=frame.index, dtype=object)
    code = pd.Series("", index=frame.index, dtype=object)
    if by_name:
        names = frame[position.columns[0]].astype(str)
        districts = frame[position.columns[1]].astype(str) if len(position.columns) > 1 \
            else None
        found = wardnames.match_rows(names, districts, loads.ward_names(con),
                                     set(loads.wards(con)["ward_code"]),
                                     name_column=position.columns[0],
                                     district_column=districts is not None
                                     and position.columns[1] or None)
        why, column, code = found.reason.copy(), found.column.copy(), found.codes.copy()
        report.matches = found.matches
        report.notes += found.notes
        column[why == ""] = position.columns[0]
    else:
        pts, why = inc.points(frame, position)
    dateless = (why == "") & (month == "")
    why[dateless], column[dateless] = "date cannot be read", blame[dateless]
    swapped = dateless & dates.other_way(frame, dated)
    if swapped.any():
        why[swapped] = (f"date reads only {'month' if dated.order == 'day-first' else 'day'} "
                        f"first, but the column is read {dated.order.replace('-', ' ')}")
    if not by_name:
        polygons = inc.lsoa_polygons(loads.lsoa11_boundaries(con))
        code[why == ""] = inc.place(pts[why == ""], polygons)
        why[(why == "") & (code == "")] = "outside the dashboard's areas"
        if warning := inc.pile_up(pts, code):
            report.warnings.append(warning)
    ok = why == ""
    kinds = frame[category].astype(str).str.strip() if category else None
    titles = {}
    counted = pd.DataFrame({"area_code": code[ok], "period": month[ok]})
    parts = [counted.assign(indicator=base)]
    if category:
        report.notes.append(f"'{category}' splits the counts: one indicator per kind, and "
                            f"{base} for them all")
        ids = kinds.map(lambda k: f"{base}_{rd.indicator_id(k)}"[:64] if k else "")
        titles = {i: f"{base.replace('_', ' ').capitalize()}: {k}"
                  for i, k in zip(ids[ok], kinds[ok], strict=True) if i}
        parts.append(counted.assign(indicator=ids[ok])[ids[ok] != ""])
    tidy = pd.concat(parts, ignore_index=True).groupby(
        ["area_code", "period", "indicator"], as_index=False).size() \
        .rename(columns={"size": "value"})
    good = tidy.assign(period_end=tidy["period"], value=tidy["value"].astype(float),
                       denominator=float("nan"), partner=partner or "", row=0,
                       geography="LSOA11")
    bad = frame.index[~ok]
    shown = list(dict.fromkeys([*dated.columns, *position.columns]))
    quarantine = pd.DataFrame({
        "row": [raw.file_row(i) for i in bad], "column": column[bad].values,
        "reason": why[bad].values,
        "record": [",".join(r) for r in frame.loc[bad, shown].astype(str)
                   .itertuples(index=False)]})
    if by_name:
        good["geography"] = _vintages(con, good["area_code"], good["period"])
        report.notes.append(f"{int(ok.sum()):,} incidents counted in "
                            f"{counted['area_code'].nunique():,} wards; {int((~ok).sum()):,} "
                            "kept aside; a ward without an incident is No data, not zero "
                            "(declare coverage in the catalogue details to say otherwise)")
        return good, quarantine, pd.DataFrame(columns=["indicator", "lad_code", "period"]), \
            titles, pd.DataFrame(), len(frame)
    here = pts[ok].to_crs(4326)
    points = pd.DataFrame({"lon": here.x.round(6), "lat": here.y.round(6),
                           "lsoa_code": code[ok], "month": month[ok]})
    point_parts = [points.assign(indicator=base)]
    if category:
        point_parts.append(points.assign(indicator=ids[ok])[ids[ok] != ""])
    points = pd.concat(point_parts, ignore_index=True).groupby(
        ["indicator", "month", "lon", "lat", "lsoa_code"], as_index=False).size() \
        .rename(columns={"size": "n"})
    # The service covers a district where its incidents reach at least half the LSOAs
    # (a crew sent over the border now and then does not make the next district
    # covered); there, a month with incidents is a month it reported, and an LSOA
    # without one had none (zero). Other months and districts are No data.
    lookup = loads.lsoa11_districts(con)
    reached = lookup.assign(hit=lookup["lsoa_code"].isin(set(counted["area_code"]))) \
        .groupby(["lad_code", "lad_name"])["hit"].agg(["sum", "mean"]).reset_index()
    reached = reached[reached["sum"] > 0]
    covers = reached[reached["mean"] >= inc.COVERED_SHARE]
    if len(covers) < len(reached):
        others = reached[reached["mean"] < inc.COVERED_SHARE]
        report.notes.append(
            "incidents in " + ", ".join(f"{n} ({s:.0%} of its LSOAs)" for n, s in zip(
                others["lad_name"], others["mean"], strict=True))
            + " are counted, but those districts are not taken as covered: there, an LSOA "
            "without an incident is No data, not zero (declare coverage in the catalogue "
            "details to say otherwise)")
    home = lookup.set_index("lsoa_code")["lad_code"]
    reported = counted.assign(lad_code=counted["area_code"].map(home)) \
        .drop_duplicates(["lad_code", "period"])
    reported = reported[reported["lad_code"].isin(set(covers["lad_code"]))]
    coverage = pd.concat([reported[["lad_code", "period"]].assign(indicator=i)
                          for i in sorted(good["indicator"].unique())], ignore_index=True)
    report.notes.append(f"{int(ok.sum()):,} incidents placed in "
                        f"{counted['area_code'].nunique():,} LSOAs; {int((~ok).sum()):,} "
                        "kept aside")
    return good, quarantine, coverage, titles, points, len(frame)


def _months_already_loaded(con: db.Connection, counts: pd.DataFrame,
                           name: str) -> list[str]:
    """Months of a police.uk file whose areas already have crime counts from another file.

    A police.uk month downloaded again is different bytes but the same crimes; most of
    its LSOAs already having counts for that month (from the open-data build or an
    earlier upload) means it is a repeat, not new data.
    """
    totals = counts[counts["indicator"] == policeuk.ALL_CRIME][["area_code", "period"]]
    months = sorted(totals["period"].unique())
    have = loads.areas_loaded_from_others(con, policeuk.ALL_CRIME, name, months)
    seen = totals.merge(have.assign(seen=1), on=["area_code", "period"], how="left") \
        .groupby("period").agg(n=("area_code", "size"), seen=("seen", "count"))
    return sorted(seen.index[seen["seen"] > 0.5 * seen["n"]])


@dataclass(frozen=True)
class Uploader:
    """Who loads a file: their name and role for the audit log, the organisation a
    data steward uploads for (forced as the partner), and whether they may set
    catalogue entries' suppression threshold (administrators only)."""

    name: str = "operator"
    role: str = "administrator"
    org: str | None = None
    may_set_k: bool = True


OPERATOR = Uploader()


def ingest(path: str | Path, *, name: str | None = None, partner: str | None = None,
           meta: str | Path | None = None, store: str | Path | None = None,
           max_bytes: int = MAX_BYTES, first_year: int = pt.FIRST_YEAR,
           today: dt.date | None = None, agreement: str | None = None,
           uploader: Uploader = OPERATOR, replace: bool = False,
           governance_file: str | Path | None = None, code: str | None = None,
           period: str | None = None, indicator: str | None = None,
           value: str | None = None, breakdown: str | None = None,
           date_order: str | None = None, reading: rd.Reading | None = None,
           dry_run: bool = False, details: dict[str, dict] | None = None) -> Report:
    """Validate one partner file and load its good rows into the store.

    Parameters
    ----------
    path : path-like
        The file (CSV, XLSX, Parquet, or a police.uk street-level CSV).
    name : str, optional
        The name to record (an upload's original file name).
    partner : str, optional
        The partner, where the file has no ``partner`` column.
    meta : path-like, optional
        A catalogue sidecar for new indicators (TOML or JSON).
    store : path-like, optional
        The store file.
    agreement : str, optional
        The information-sharing agreement the file's indicators belong to; it must
        be in the register, and the indicators are assigned to it.
    uploader : Uploader
        Who loads the file (the operator by default). A steward's organisation is
        the partner of every row; rows naming another partner are quarantined.
    replace : bool
        Allow a file with the same name and partner as an earlier one to replace
        that file's rows. Without it such a file is refused.
    governance_file : path-like, optional
        The governance register (agreements, audit); beside the store by default.
    code, period, indicator, value, breakdown : str, optional
        How to read the file where it does not say (``loaders.reading.infer``): the
        area code column, a period column or the period of the whole file
        (``2024-04:2026-04``), an indicator column or id, the value column(s), the
        breakdown columns (or ``none``).
    date_order : {"day-first", "month-first"}, optional
        In an incident list, the order of day and month in dates written as numbers
        (``11/03/2019``); read from the dates themselves when None.
    reading : Reading, optional
        A reading already settled; overrides the five above.
    dry_run : bool
        Read, check and report as a load would, then roll back: nothing is written
        and nothing is audited (the Partner data page's "see before you load").
    details : dict, optional
        Catalogue details by indicator, ``{id: {"unit": ..., "polarity": ...}}``, as
        the upload preview asks them; they take precedence over ``meta``. Details of
        an indicator already catalogued change its entry (audited with the upload),
        even when the file itself was loaded before.

    Returns
    -------
    Report
        ``refused`` is set, with ``reason``, when nothing could be loaded.
    """
    path = Path(path)
    report = Report(file=display_name(name or path.name))
    gov = db.governance_path(governance_file, store=store)
    try:
        meta_map = read_meta(Path(meta) if meta else None)
        for ident, given in (details or {}).items():
            given = {k: v for k, v in given.items() if v not in (None, "")}
            found = _meta_problems(ident, given)
            if found:
                raise LoaderError("details", found)
            meta_map[ident] = {**meta_map.get(ident, {}), **given}
        size = path.stat().st_size if path.exists() else -1
        if size < 0:
            raise LoaderError(report.file, "does not exist")
        if size <= max_bytes:
            report.sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
        # A police.uk file goes straight to its adapter, which reads it faster than the
        # general reader; anything else is read (and checked) as a partner table.
        raw = None if size <= max_bytes and policeuk.is_policeuk_header(peek_header(path)) \
            else read_partner_table(path, report.file, REQUIRED, HEADERS, max_bytes)
        if agreement is not None and agreement not in governance.agreement_ids(gov):
            raise LoaderError("--agreement", f"{agreement!r} is not in the agreements register")
        if raw is not None:
            report.reading["columns"] = [str(c) for c in raw.frame.columns]
        if uploader.org:
            if partner and partner != uploader.org:
                raise LoaderError("partner", f"you upload for {uploader.org}, not {partner}; "
                                  "a data steward loads their own organisation's files only")
            partner = uploader.org
        if not uploader.may_set_k and any("suppression_k" in m for m in meta_map.values()):
            meta_map = {i: {k: v for k, v in m.items() if k != "suppression_k"}
                        for i, m in meta_map.items()}
            report.notes.append("suppression_k in the catalogue details was ignored: only an "
                                "administrator sets a suppression threshold (new indicators "
                                f"get k = {DEFAULTS['suppression_k']})")
    except LoaderError as err:
        report.refused, report.reason = True, "; ".join(err.problems)
        report.dry_run = dry_run
        if not dry_run:
            _audit_upload(gov, uploader, report, agreement)
        return report
    report.notes += raw.notes if raw else []
    con = db.connect(db.store_target(store), purpose=f"loading {report.file}")
    try:
        # One transaction a file: checks and writes together, so two loads at once
        # (the same file, or files of one indicator) take turns and never both pass.
        with con.transaction():
            catalogued = loads.catalogued(con)  # to tell an indicator's first arrival
            report = _load(con, path, raw, report, partner=partner, meta_map=meta_map,
                           first_year=first_year, today=today, agreement=agreement,
                           uploader=uploader, replace=replace, reading=reading,
                           choices={"code": code, "period": period, "indicator": indicator,
                                    "value": value, "breakdown": breakdown,
                                    "date_order": date_order})
            if dry_run:
                raise _RollBack
    except _RollBack:
        report.dry_run = True
        return report
    finally:
        con.close()
    if agreement and not report.refused and not report.already_loaded:
        try:
            governance.assign(agreement, report.indicators, gov)
        except LoaderError as err:
            report.notes.append(f"not assigned to {agreement}: {err.problems[0]}")
    if not report.refused and not report.already_loaded:
        _bind_awaiting(gov, uploader, report, set(report.indicators) - catalogued)
    _audit_upload(gov, uploader, report, agreement)
    return report


def _bind_awaiting(gov, uploader: Uploader, report: Report, arrived: set[str]) -> None:
    """Indicators arriving for the first time that an agreement already names (signed
    before the data flowed): the agreement applies to them from now on, with no further
    step; the report says so and the audit log records the binding."""
    if not arrived:
        return
    for ag in governance.agreements(gov).to_dict("records"):
        bound = sorted(arrived & set(ag["indicators"]))
        if not bound:
            continue
        report.notes.append(f"{', '.join(bound)} arrived under the agreement {ag['id']} "
                            "(registered before the data): it applies to them now")
        governance.append_audit(uploader.name, uploader.role, "agreement", {
            "action": "bind", "id": ag["id"], "indicators": bound, "file": report.file},
            path=gov)


class _RollBack(Exception):  # noqa: N818 - not an error: a dry run's way out
    """Leaves a dry run's transaction without writing."""


def _audit_upload(gov, uploader: Uploader, report: Report, agreement: str | None) -> None:
    """Record an upload (or its refusal) in the audit log."""
    governance.append_audit(uploader.name, uploader.role, "upload", {
        "file": report.file, "sha256": report.sha256, "partner": report.partner,
        "rows_read": report.rows_read, "rows_loaded": report.rows_loaded,
        "rows_quarantined": report.rows_quarantined, "refused": report.refused,
        "reason": for_cli(report.reason), "replaced_rows": report.replaced_rows,
        "already_loaded": report.already_loaded, "indicators": report.indicators,
        "agreement": agreement, "details_changed": report.details_changed}, path=gov)


def roles(reading: rd.Reading) -> dict:
    """The column (or given value) taken for each role of a table, as the command
    line's options name them: what the Partner data page shows and lets a steward
    change (``code`` holds the ward names column where the file names wards)."""
    return {"code": reading.code or reading.names, "names": bool(reading.names),
            "period": reading.period or reading.fixed_period,
            "indicator": reading.indicator or reading.fixed_indicator,
            "value": list(reading.values or reading.wide_periods),
            "wide_periods": bool(reading.wide_periods),
            "breakdown": list(reading.breakdowns), "lower": reading.lower,
            "upper": reading.upper, "ignored": list(reading.ignored)}


# Indicator ids kept for open data: police.uk's crime types (``crime_...``), the indices
# of deprivation (``imd...``) and every indicator of the open catalogue.
RESERVED_PREFIXES = ("crime_", "imd")


def reserved(ident: str) -> str:
    """Why a partner file cannot use an indicator id ("" when it can): the open data's
    id families are reserved, so no partner figure is ever taken for open data (the
    hexagons of all crime are police.uk's points, chosen by origin, as a second guard)."""
    low = str(ident).lower()
    if low.startswith(RESERVED_PREFIXES) or low in sources.open_indicator_ids():
        return (f"indicator id {ident!r} is reserved for open data (ids starting "
                f"{' or '.join(repr(p) for p in RESERVED_PREFIXES)}, and the open catalogue's); "
                "choose another id for the partner's figures")
    return ""


def _foreign(con, good: pd.DataFrame, source: str) -> pd.DataFrame:
    """Rows that would add to someone else's figures: ``row, column, reason``.

    An indicator id reserved for open data (:func:`reserved`), and an indicator that
    is open data or another partner's, cannot take rows from this file; nor can an
    area and period already loaded from another file of the same indicator (figures
    are never summed across files).
    """
    owners = loads.catalogue_owners(con)
    reasons = pd.Series("", index=good.index, dtype=object)
    for ident, part in good.groupby("indicator"):
        if reserved(ident):
            reasons[part.index] = reserved(ident)
            continue
        if ident not in owners.index:
            continue
        origin, owner = owners.at[ident, "origin"], owners.at[ident, "partner"]
        if origin != "partner":
            reasons[part.index] = (f"indicator {ident} is {owner}'s open data; a partner file "
                                   "cannot add to it (choose another indicator id)")
        elif set(part["partner"]) != {owner}:
            wrong = part["partner"] != owner
            reasons[part.index[wrong]] = (f"indicator {ident} belongs to {owner}; it cannot "
                                          "take rows from another partner")
    keys = good[reasons == ""][["indicator", "area_code", "period"]]
    if len(keys):
        indicators = sorted(keys["indicator"].unique())
        have = loads.figures_of_other_files(con, indicators, source)
        seen = keys.reset_index().merge(have, on=["indicator", "area_code", "period"])
        for idx, other in zip(seen["index"], seen["source"], strict=True):
            reasons[idx] = (f"this area, period and indicator are already loaded from "
                            f"{other}; figures from two files are never added together")
    bad = good[reasons != ""]
    return pd.DataFrame({"row": bad["row"].astype(int), "column": "indicator",
                         "reason": reasons[bad.index],
                         "record": [",".join(map(str, r)) for r in bad[
                             ["area_code", "period", "indicator", "value"]]
                             .itertuples(index=False)]})


def _load(con, path, raw, report, *, partner, meta_map, first_year, today, agreement,
          uploader, replace, reading, choices) -> Report:
    points = pd.DataFrame()  # incident positions, for hexagons
    # Any earlier load of the same bytes counts, open data included: a police.uk
    # month the store was built with must not be added a second time.
    done = loads.earlier_load(con, report.sha256)
    if done:
        report.rows_read, report.rows_loaded, report.rows_quarantined = done
        report.already_loaded = True
        report.indicators = loads.indicators_of_load(con, report.sha256)
        _change_details(con, report.indicators, meta_map, uploader, report)
        if not report.details_changed:
            report.notes.append("this exact file was loaded before; nothing changed")
        return report
    police = raw is None or policeuk.is_policeuk_header([str(c).strip() for c in raw.frame.columns])
    inferred, misread = reading, None
    if not police and reading is None:  # read once: for incident detection and the table
        try:
            inferred = rd.infer(raw, **{k: v for k, v in choices.items()
                                        if k != "date_order"})
        except LoaderError as err:
            misread = err
    if police:
        good, quarantine, report.rows_read, coverage = _police(path, con)
        report.reading["kind"] = "police.uk"
        titles: dict[str, str] = {}
        report.notes.append("recognised as a police.uk street-level file: rows are counted by "
                            "LSOA, month and crime type")
        good["geography"] = "LSOA11"
        overlap = _months_already_loaded(con, good, report.file)
        if overlap:
            report.refused = True
            report.reason = (f"police.uk month(s) {', '.join(overlap)} are already in the store "
                             "for these areas (from another file); loading them again would "
                             "count the same crimes twice")
            return report
    elif reading is None and (position := _incident_position(raw, choices, inferred)):
        try:
            good, quarantine, coverage, titles, points, report.rows_read = _incidents(
                con, raw, position, choices, partner, report)
        except LoaderError as err:
            report.refused, report.reason = True, "; ".join(err.problems)
            return report
        foreign = _foreign(con, good, report.file)
        if len(foreign):  # counts of many rows: the file is refused whole, never half-added
            report.refused, report.reason = True, foreign["reason"].iat[0]
            return report
    else:
        coverage = pd.DataFrame(columns=["indicator", "lad_code", "period"])
        one = next(iter(meta_map.values()), {}) if len(meta_map) == 1 else {}
        try:
            if misread:
                raise misread
            reading = inferred
            tidy, titles = rd.to_tidy(raw, reading, partner=partner or one.get("partner"))
        except LoaderError as err:
            report.refused, report.reason = True, "; ".join(err.problems)
            report.notes += reading.decisions if reading else []
            if reading:
                report.reading.update(kind="table", **roles(reading))
            return report
        report.notes += reading.decisions
        report.reading.update(kind="table", **roles(reading))
        report.rows_read = len(tidy)
        unmatched = pd.DataFrame(columns=["row", "column", "reason", "record"])
        if reading.names:
            tidy, unmatched, refusal = _match_wards(con, tidy, reading.names, report)
            if refusal:
                report.refused, report.reason = True, refusal
                return report
        if len(tidy) != len(raw.frame):
            report.notes.append(f"rows are counted after reshaping: {len(raw.frame)} file rows "
                                f"became {len(tidy)}")
        negatives = {i for i, m in meta_map.items() if m.get("unit") in NEGATIVE_UNITS}
        k = int({**DEFAULTS, **meta_map.get("*", {})}["suppression_k"])
        checked = pt.validate(tidy, known_codes=known_codes(con), negatives=negatives,
                              first_year=first_year, today=today, hidden_k=k)
        ragged_rows = {raw.file_row(i): why for i, why in raw.ragged.items()}
        from_ragged = tidy[tidy["row"].isin(ragged_rows)]
        ragged = pd.DataFrame({
            "row": from_ragged["row"].astype(int), "column": "",
            "reason": from_ragged["row"].map(ragged_rows),
            "record": [",".join(map(str, r)) for r in from_ragged[
                ["area_code", "period", "indicator", "value"]].itertuples(index=False)]})
        good = checked.good[~checked.good["row"].isin(ragged_rows)]
        quarantine = pd.concat(
            [checked.quarantine[~checked.quarantine["row"].isin(ragged_rows)], ragged,
             unmatched], ignore_index=True).astype({"row": int}) \
            .sort_values("row", kind="stable")
        good = good.assign(geography=_vintages(con, good["area_code"], good["period"]))
        if uploader.org:
            other = good["partner"].ne(uploader.org) & good["partner"].ne("")
            if other.any():
                bad = good[other]
                quarantine = pd.concat([quarantine, pd.DataFrame({
                    "row": bad["row"].astype(int), "column": "partner",
                    "reason": f"names another partner; you upload for {uploader.org} only",
                    "record": bad["partner"]})], ignore_index=True)
                good = good[~other]
            good = good.assign(partner=uploader.org)
        new = sorted(set(good["indicator"]))
        if len(new) > MAX_INDICATORS:
            report.refused = True
            report.reason = (f"the file holds {len(new)} indicators; one file may hold at most "
                             f"{MAX_INDICATORS}. Is it a wide file whose columns are areas or "
                             "dates?")
            return report
        foreign = _foreign(con, good, report.file)
        if len(foreign):
            good = good[~good["row"].isin(set(foreign["row"]))]
            quarantine = pd.concat([quarantine, foreign], ignore_index=True) \
                .sort_values("row", kind="stable")
        beyond = _beyond_declared(con, good, meta_map)
        if len(beyond):
            good = good[~good["row"].isin(set(beyond["row"]))]
            quarantine = pd.concat([quarantine, beyond], ignore_index=True) \
                .sort_values("row", kind="stable")
    if good.empty:
        report.refused = True
        report.reason = (f"no valid rows: all {report.rows_read} rows have problems"
                         if report.rows_read else "the file has a header but no rows")
        report.rows_quarantined = len(quarantine)
        report.quarantine = quarantine[["row", "column", "reason"]].to_dict("records")
        return report
    if (good["partner"] == "").any():
        report.notes.append(f"no partner column and no partner given {ask('partner')}: "
                            "recorded as 'unknown'")
        good.loc[good["partner"] == "", "partner"] = "unknown"
    report.partner = ", ".join(sorted(good["partner"].unique()))
    good = pd.concat([good, _totals(con, good, meta_map, report)], ignore_index=True)
    periods = {p: pt.parse_period(p) for p in
               set(good["period"].unique()) | set(good["period_end"].unique())}
    ingest_id = uuid.uuid4().hex
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    agreement = agreement or next((m["agreement"] for m in meta_map.values()
                                   if "agreement" in m), "")
    obs = pd.DataFrame({
        "indicator": good["indicator"], "geography": good["geography"],
        "area_code": good["area_code"], "period_start": good["period"].map(
            lambda p: periods[p].label), "period_end": good["period_end"].map(
            lambda p: periods[p].label),
        "date_start": good["period"].map(lambda p: periods[p].start),
        "date_end": good["period_end"].map(lambda p: periods[p].end),
        "value": good["value"].astype(float), "denominator": good["denominator"].astype(float),
        "value_low": good.get("value_low", np.nan), "value_high": good.get("value_high", np.nan),
        "breakdown": good.get("breakdown", pd.Series("", index=good.index)).replace("", None),
        "value_lower": good.get("value_lower", np.nan),
        "value_upper": good.get("value_upper", np.nan),
        "source": report.file, "agreement": agreement, "origin": "partner",
        "ingest_id": ingest_id})
    earlier = loads.rows_from_file(con, report.file, report.partner)
    if earlier and not replace:
        report.refused = True
        report.reason = (f"a file called {report.file} from {report.partner} is already loaded "
                         f"({earlier:,} rows). If this is a corrected version, load it again "
                         f"to replace the earlier version {ask('replace')}; otherwise rename it")
        return report
    report.replaced_rows = loads.remove_file(con, report.file, report.partner)
    if report.replaced_rows:
        report.notes.append(f"replaced {report.replaced_rows} rows loaded earlier from a "
                            "previous version of this file")
    con.insert("observations", obs)
    if len(points):
        con.insert("crime_points", points.assign(source=report.file, origin="partner",
                                                 ingest_id=ingest_id))
    coverage = pd.concat([coverage, _declared_coverage(con, obs, meta_map)], ignore_index=True)
    if len(coverage):
        con.insert("coverage", coverage.assign(origin="partner", ingest_id=ingest_id))
        report.notes.append(
            f"coverage: {_count(coverage['lad_code'].nunique(), 'district')} in "
            f"{coverage['period'].nunique()} month(s); an LSOA there without a row is zero")
    report.indicators = sorted(obs["indicator"].unique())
    _catalogue(con, obs, good, meta_map, report, titles)
    _change_details(con, sorted(set(obs["indicator"]) - {i["indicator"] for i in
                                                         report.new_indicators}),
                    meta_map, uploader, report)
    if len(quarantine):
        con.insert("quarantine", quarantine[["row", "column", "reason", "record"]].assign(
            source=report.file, origin="partner", ingest_id=ingest_id))
    made = good["derived"].eq(True) if "derived" in good else pd.Series(False, good.index)
    report.rows_suppressed = int(good.loc[~made, "hidden"].fillna(False).astype(bool).sum()) \
        if "hidden" in good else 0
    report.rows_loaded = int(report.rows_read - len(quarantine) - report.rows_suppressed)
    report.rows_quarantined = len(quarantine)
    if report.rows_suppressed:
        shown = good.loc[good["hidden"].eq(True) & ~made,
                         ["value_low", "value_high"]].drop_duplicates()
        report.notes.append(
            f"{report.rows_suppressed} cells were hidden by the partner; they are kept as "
            "hidden cells of a known range (" + ", ".join(
                f"{lo:g} to {hi:g}" if lo == lo else "range not known"
                for lo, hi in shown.itertuples(index=False)) + "), never as zero")
    report.quarantine = quarantine[["row", "column", "reason"]].to_dict("records")
    loads.log_load(con, [report.file, report.sha256, report.rows_read, report.rows_loaded,
             report.rows_quarantined, now, report.summary(), ingest_id, report.partner,
             report.to_json()])
    return report


def _is_count(con, ident: str, meta_map: dict, good: pd.DataFrame) -> bool:
    """Whether an indicator's figures add up: a count in the catalogue, or a new
    indicator whose details say so (or say nothing and give no confidence limits)."""
    known = loads.is_count(con, ident)
    if known is not None:
        return known
    return _unit(ident, meta_map, good) == "count"


def _unit(ident: str, meta_map: dict, good: pd.DataFrame) -> str:
    """A new indicator's unit: as its details say; else a rate where the partner
    published confidence limits (a count would not have them), else a count."""
    given = {**meta_map.get("*", {}), **meta_map.get(ident, {})}.get("unit")
    if given:
        return given
    mine = good[good["indicator"] == ident]
    has_limits = "value_lower" in mine and mine["value_lower"].notna().any()
    return "rate" if has_limits else DEFAULTS["unit"]


def _totals(con, good: pd.DataFrame, meta_map: dict, report: Report) -> pd.DataFrame:
    """Totals a file leaves out: a count broken down by one column (sex, say) with no
    row for all of it gets the sum of its values, marked as made here. A count given
    as a full cross-classification (provider by age group, every combination once)
    with no total gets its total and its margins (each provider over all ages, each
    age group over all providers), made the same way. A sum with a partner-hidden part
    is hidden too, with the range it must lie in. Rates and scores are never added;
    without a total row they have none."""
    if "breakdown" not in good or good["breakdown"].eq("").all():
        return pd.DataFrame()
    keys = ["indicator", "area_code", "period", "period_end"]
    has_total = good[good["breakdown"] == ""].drop_duplicates(keys)[keys].assign(_t=True)
    broken = good[good["breakdown"] != ""].merge(has_total, on=keys, how="left")
    broken = broken[broken["_t"].isna()].drop(columns="_t")
    if broken.empty:
        return pd.DataFrame()
    broken = broken.assign(_dim=broken["breakdown"].str.split(": ").str[0].where(
        ~broken["breakdown"].str.contains("; ")))
    counts = {i for i in broken["indicator"].unique() if _is_count(con, i, meta_map, good)}
    one_dim = broken.groupby(keys)["_dim"].transform(lambda d: d.notna().all() and
                                                     d.nunique() == 1)
    crossed = _full_cross(broken, keys)
    use = broken[broken["indicator"].isin(counts) & one_dim.astype(bool)]
    cross = broken[broken["indicator"].isin(counts) & crossed]
    if len(use) + len(cross) < len(broken):
        done = set(use.index) | set(cross.index)
        left = sorted(set(broken.loc[~broken.index.isin(done), "indicator"]))
        report.notes.append(
            "no total row for some areas of " + ", ".join(left) + ": a rate or score, or "
            "one broken down more than one way but not as a full cross-classification "
            "(every combination once), is never added up, so only its breakdowns are shown "
            "there")
    pieces = cross["breakdown"].str.split("; ")
    frames = [use.assign(_target="", _by=use["_dim"]),
              cross.assign(_target=[["", *ps] for ps in pieces],
                           _by=pieces.map(lambda ps: " by ".join(
                               p.split(": ", 1)[0] for p in ps))).explode("_target")]
    use = pd.concat([f for f in frames if len(f)], ignore_index=True) \
        if len(frames[0]) + len(frames[1]) else pd.DataFrame()
    if use.empty:
        return pd.DataFrame()
    hidden = use["hidden"] if "hidden" in use else pd.Series(False, index=use.index)
    low = use["value"].fillna(use.get("value_low", np.nan))
    high = use["value"].fillna(use.get("value_high", np.nan))
    totals = use.assign(_low=low, _high=high, _hidden=hidden).groupby(
        [*keys, "_target"]).agg(
        value=("value", "sum"), value_low=("_low", "sum"), value_high=("_high", "sum"),
        hidden=("_hidden", "any"), partner=("partner", "first"),
        geography=("geography", "first"), denominator=("denominator", "first"),
        by=("_by", "first")).reset_index()
    totals["value"] = totals["value"].where(~totals["hidden"])
    totals[["value_low", "value_high"]] = totals[["value_low", "value_high"]].where(
        totals["hidden"])
    one_way = ~totals["by"].str.contains(" by ")
    made = totals[one_way]
    if len(made):
        report.notes.append(
            f"{len(made):,} totals were made by adding each count's breakdowns (by "
            + ", ".join(sorted(made["by"].unique())) + "), where the file has no total row"
            + (f" ({int(made['hidden'].sum()):,} with a partner-hidden part, hidden too)"
               if made["hidden"].any() else ""))
    made = totals[~one_way]
    if len(made):
        whole = made["_target"] == ""
        report.notes.append(
            f"{int(whole.sum()):,} totals and {int((~whole).sum()):,} margins (one "
            "breakdown over all the others) were made by adding the cells of each count "
            "given as a full cross-classification (" + ", ".join(sorted(made["by"].unique()))
            + "), where the file has no total row"
            + (f" ({int(made['hidden'].sum()):,} with a partner-hidden cell, hidden too, "
               "with the range they must lie in)" if made["hidden"].any() else ""))
    return totals.drop(columns="by").rename(columns={"_target": "breakdown"}) \
        .assign(row=0, derived=True)


def _full_cross(broken: pd.DataFrame, keys: list[str]) -> pd.Series:
    """True for the rows of each area and period whose parts are one full
    cross-classification: every part broken down by the same two or more columns, and
    every combination of their values there, each once."""
    pieces = broken["breakdown"].str.split("; ")
    dims = pieces.map(lambda ps: "; ".join(p.split(": ", 1)[0] for p in ps))
    values = pieces.map(lambda ps: tuple(p.split(": ", 1)[-1] for p in ps))
    frame = broken[keys].assign(_dims=dims, _values=values, _n=pieces.map(len))

    def full(group: pd.DataFrame) -> bool:
        if group["_dims"].nunique() != 1 or group["_n"].iat[0] < 2 or \
                group["_values"].nunique() != len(group):
            return False
        sizes = [len(set(v)) for v in zip(*group["_values"], strict=True)]
        return int(np.prod(sizes)) == len(group)

    ok = frame.groupby(keys)[["_dims", "_values", "_n"]].apply(full).rename("_ok")
    return frame.merge(ok.reset_index(), on=keys, how="left")["_ok"].fillna(False) \
        .astype(bool).set_axis(broken.index)


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def _declared_districts(con, ident: str, meta_map: dict[str, dict]) -> set[str] | None:
    """The districts (active codes) an indicator's details declare it covers; None
    when they declare nothing."""
    declared = {**meta_map.get("*", {}), **meta_map.get(ident, {})}.get("coverage")
    if not declared:
        return None
    active = loads.active_districts(con)
    if isinstance(declared, list):
        lads = set(declared)
    elif declared == "all":
        lads = set(active)
    else:
        lads = set(load_regions()[declared].lads or active)
    return {active.get(lad, lad) for lad in lads}


def _beyond_declared(con, good: pd.DataFrame, meta_map: dict[str, dict]) -> pd.DataFrame:
    """Rows of an area outside the coverage its indicator's details declare: the
    source does not cover that area, so a figure there would be partial. Kept aside
    with the reason, never loaded."""
    out = []
    active, home = None, None
    for ident in sorted(good["indicator"].unique()):
        lads = _declared_districts(con, ident, meta_map)
        if lads is None:
            continue
        if home is None:
            active, home = loads.active_districts(con), loads.home_districts(con)
        mine = good[good["indicator"] == ident]
        lad = mine["area_code"].map(home)
        inside = lad.map(active).fillna(lad).isin(lads)
        beyond = mine[lad.notna() & ~inside]
        out.append(pd.DataFrame({
            "row": beyond["row"].astype(int), "column": "area_code",
            "reason": f"outside the coverage declared for {ident} (its catalogue details "
                      "name the districts it covers): a figure here would be partial",
            "record": beyond["area_code"]}))
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame()


def _declared_coverage(con, obs: pd.DataFrame, meta_map: dict[str, dict]) -> pd.DataFrame:
    """Coverage a partner declares (``coverage`` in the catalogue details).

    In a declared district, an area without a row in a period had nothing to report
    (a zero), but only in the periods the file reports that district at all: a
    month a partner did not send for a district stays No data there.
    """
    active = loads.active_districts(con)
    home = loads.home_districts(con)
    reported = obs.assign(lad=obs["area_code"].map(home).map(active)) \
        .dropna(subset=["lad"]).groupby("period_start")["lad"].agg(set)
    rows = []
    for ident in sorted(obs["indicator"].unique()):
        lads = _declared_districts(con, ident, meta_map)
        if lads is None:
            continue
        rows += [(ident, lad, period) for period, there in reported.items()
                 for lad in sorted(lads & there)]
    return pd.DataFrame(rows, columns=["indicator", "lad_code", "period"])


def _catalogue(con, obs, good, meta_map, report, titles=None) -> None:
    existing = loads.catalogued(con)
    for ident in sorted(set(obs["indicator"]) - existing):
        given = {**meta_map.get("*", {}), **meta_map.get(ident, {})}
        entry = {**DEFAULTS, **given, "unit": _unit(ident, meta_map, good)}
        missing = sorted(set(DEFAULTS) - set(given) - {"unit", "polarity"})
        if "polarity" not in given:
            report.notes.append(
                f"new indicator {ident}: no polarity was stated (is a higher figure worse, "
                "or a lower one?), so its areas are shown as higher or lower, never better "
                "or worse, until it is set (on the Partner data page, or in a catalogue "
                "details file)")
        if "unit" not in given and entry["unit"] == "rate":
            report.notes.append(f"new indicator {ident}: catalogued as a rate, since its "
                                "figures come with confidence limits; rates are averaged, "
                                "never added (a catalogue details file can set its unit)")
        elif "unit" not in given:
            missing = sorted([*missing, "unit"])
        if missing:
            report.notes.append(f"new indicator {ident}: catalogued with default "
                                f"{', '.join(missing)} (a catalogue details file sets them)")
        partner = entry.get("partner") or good.loc[good["indicator"] == ident, "partner"].iat[0]
        geography = obs.loc[obs["indicator"] == ident, "geography"].mode().iat[0]
        mine = obs[obs["indicator"] == ident]
        monthly = (mine["period_start"].str.match(r"^\d{4}-\d{2}$")
                   & (mine["period_start"] == mine["period_end"])).all()
        title = entry.get("title", (titles or {}).get(ident)
                          or ident.replace("_", " ").capitalize())
        report.new_indicators.append({
            "indicator": ident, "title": title, "unit": entry["unit"],
            "polarity": entry["polarity"],
            "stated": sorted(k for k in ("unit", "polarity") if k in given)})
        loads.add_to_catalogue(
            con, [ident, title, partner,
             entry["unit"], entry["polarity"], entry["unit"] == "count",
             entry["denominator"] or None, geography, f"partner upload {dt.date.today()}",
             "monthly" if monthly else "single period", entry.get("source", report.file),
             entry["licence"], int(entry["suppression_k"]), entry.get("description", "")])


def _change_details(con, indicators: list[str], meta_map: dict, uploader: Uploader,
                    report: Report) -> None:
    """Apply the catalogue details a load states for indicators already catalogued
    (a details file given again with a corrected polarity, say), and say what changed.
    A steward changes their own organisation's indicators only."""
    for ident in indicators:
        given = {k: v for k, v in {**meta_map.get("*", {}), **meta_map.get(ident, {})}.items()
                 if k in dtl.EDITABLE and (uploader.may_set_k or k != "suppression_k")}
        current = loads.catalogue_entry(con, ident)
        if not given or current is None or current["origin"] != "partner":
            continue
        if uploader.org and current["partner"] != uploader.org:
            report.notes.append(f"the details given for {ident} were not applied: it is "
                                f"{current['partner']}'s indicator")
            continue
        changed = dtl.apply(con, ident, given)
        if changed:
            report.details_changed[ident] = {k: list(v) for k, v in changed.items()}
            report.notes.append(f"catalogue details of {ident} changed: "
                                f"{dtl.describe(changed)}")


def quarantine_csv(report: Report) -> bytes:
    """The report's quarantine as CSV (formula-like text neutralised)."""
    from loaders.safety import neutralise_formulae
    frame = pd.DataFrame(report.quarantine, columns=["row", "column", "reason"])
    return neutralise_formulae(frame).to_csv(index=False).encode("utf-8")


def delete_indicator(indicator: str, *, store: str | Path | None = None,
                     uploader: Uploader = OPERATOR,
                     governance_file: str | Path | None = None) -> int:
    """Delete a partner indicator: its catalogue entry, observations and quarantine.

    Open data cannot be deleted (it is rebuilt from its files). The deletion is
    audited. Returns the number of observations removed.

    Raises
    ------
    LoaderError
        If the indicator is unknown or is open data.
    """
    con = db.connect(db.store_target(store), purpose=f"deleting {indicator}")
    try:
        with con.transaction():
            origin = loads.origin_of(con, indicator)
            if origin is None:
                raise LoaderError("indicator", f"{indicator!r} is not in the catalogue")
            if origin != "partner":
                raise LoaderError("indicator", f"{indicator} is open data; it is rebuilt from "
                                  "its files and cannot be deleted here")
            removed = loads.delete_indicator(con, indicator)
    finally:
        con.close()
    governance.append_audit(uploader.name, uploader.role, "indicator",
                            {"action": "delete", "indicator": indicator,
                             "observations": int(removed)},
                            path=db.governance_path(governance_file, store=store))
    return int(removed)
