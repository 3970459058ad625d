"""Parse: a file into rows on the tidy contract, whatever its layout.

A police.uk street-level file is counted by LSOA, month and crime type; an incident
list is counted by the area each incident falls in (or the ward it names); anything
else is read as a table (``loaders.reading``). Each gives :class:`Rows`: the rows,
the rows already kept aside with their reasons, the coverage the file declares and
the titles of the indicators it names.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

import store as db
from loaders import dates, policeuk, wardnames
from loaders import details as dtl
from loaders import incidents as inc
from loaders import reading as rd
from loaders.config import load_regions
from loaders.errors import LoaderError
from loaders.fields import ask
from loaders.ingest.contract import META_KEYS, Refused, Report
from loaders.readfile import RawTable, display_name
from store import loads

EMPTY_COVERAGE = ("indicator", "lad_code", "period")
EMPTY_QUARANTINE = ("row", "column", "reason", "record")


@dataclass
class Rows:
    """A file's rows as the steps after parsing see them.

    ``kind`` is ``police.uk``, ``incidents`` or ``table``; ``good`` holds the rows still
    in the running, ``quarantine`` those kept aside (``row, column, reason, record``),
    ``coverage`` the districts and months the file stands for, ``points`` an incident
    list's positions (for hexagons), ``raw`` and ``reading`` how a table was read."""

    kind: str
    good: pd.DataFrame
    quarantine: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=list(EMPTY_QUARANTINE)))
    coverage: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=list(EMPTY_COVERAGE)))
    titles: dict = field(default_factory=dict)
    points: pd.DataFrame = field(default_factory=pd.DataFrame)
    raw: RawTable | None = None
    reading: rd.Reading | None = None


def parse(con: db.Connection, path: Path, raw: RawTable | None, report: Report, *,
          partner: str | None, meta_map: dict, reading: rd.Reading | None,
          choices: dict) -> Rows:
    """The file's rows, read the way its layout asks (see the module's text).

    Raises
    ------
    Refused
        When the file cannot be read as any layout (with what to choose instead).
    """
    if raw is None or policeuk.is_policeuk_header([str(c).strip() for c in raw.frame.columns]):
        good, quarantine, report.rows_read, coverage = police_rows(path, con)
        report.reading["kind"] = "police.uk"
        report.notes.append("recognised as a police.uk street-level file: rows are counted by "
                            "LSOA, month and crime type")
        return Rows("police.uk", good.assign(geography="LSOA11"), quarantine, coverage)
    inferred, misread = reading, None
    if reading is None:  # read once: for incident detection and the table
        try:
            inferred = rd.infer(raw, **{k: v for k, v in choices.items()
                                        if k != "date_order"})
        except LoaderError as err:
            misread = err
    if reading is None and (position := incident_position(raw, choices, inferred)):
        try:
            good, quarantine, coverage, titles, points, report.rows_read = incident_rows(
                con, raw, position, choices, partner, report)
        except LoaderError as err:
            raise Refused(err) from err
        return Rows("incidents", good, quarantine, coverage, titles, points)
    return _table(con, raw, report, partner=partner, meta_map=meta_map,
                  reading=inferred, misread=misread)


def _table(con, raw: RawTable, report: Report, *, partner, meta_map, reading, misread) -> Rows:
    """A table of figures, read as ``reading`` says (ward names matched to codes)."""
    one = next(iter(meta_map.values()), {}) if len(meta_map) == 1 else {}
    try:
        if misread:
            raise misread
        tidy, titles = rd.to_tidy(raw, reading, partner=partner or one.get("partner"))
    except LoaderError as err:
        if reading and not misread:
            report.notes += reading.decisions
            report.reading.update(kind="table", **roles(reading))
        raise Refused(err) from err
    report.notes += reading.decisions
    report.reading.update(kind="table", **roles(reading))
    report.rows_read = len(tidy)
    rows = Rows("table", tidy, titles=titles, raw=raw, reading=reading)
    if reading.names:
        rows.good, rows.quarantine = match_wards(con, tidy, reading.names, report)
    if len(tidy) != len(raw.frame):
        report.notes.append(f"rows are counted after reshaping: {len(raw.frame)} file rows "
                            f"became {len(tidy)}")
    return rows


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
    problems = [p for ident, entry in meta.items() for p in meta_problems(ident, entry)]
    if problems:
        raise LoaderError(display_name(path.name), problems)
    return meta

def meta_problems(ident: str, entry: object) -> list[str]:
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

def known_codes(con: db.Connection) -> set[str]:
    """Every LSOA and ward code of both vintages."""
    return loads.area_codes(con)

def vintages(con: db.Connection, codes: pd.Series, periods: pd.Series) -> pd.Series:
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

def police_rows(raw_path: Path, con: db.Connection
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

def match_wards(con, tidy: pd.DataFrame, column: str, report
                ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Ward names to ward codes: the rows with a code and the unmatched rows'
    quarantine; refused when no name is a ward, or a name is ambiguous (with its
    candidates)."""
    wards = loads.wards(con)
    found = wardnames.match(tidy["ward_name"], wards)
    if not found.codes:
        examples = ", ".join(repr(n) for n in found.unmatched[:3])
        raise Refused(
            f"no column of area codes was found, and no name in '{column}' is a ward "
            f"({examples}...); choose the column of area codes {ask('code')}")
    if found.ambiguous:
        raise Refused("ward names match more than one ward in " + \
            ", ".join(found.districts) + ": " + "; ".join(
                f"{name!r} could be {' or '.join(c)}" for name, c in found.ambiguous.items()) \
            + ". Give codes for these rows, or send each district's wards in its own file")
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
    return tidy[tidy["area_code"] != ""], unmatched

def incident_position(raw, choices: dict, inferred: rd.Reading | None
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

def incident_rows(con, raw, position: inc.Position, choices: dict, partner: str | None, report):
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
    dated = _incident_dates(frame, base, choices)
    report.notes.append(dated.describe())
    if dated.how:
        report.notes.append(dated.how)
    category = inc.find_category(frame, choices.get("value"))
    report.reading.update(kind="incidents", position=list(position.columns),
                          period=dated.columns[0] if dated.fmt else None,
                          date_parts=[] if dated.fmt else list(dated.columns),
                          date_order=dated.order, value=category, indicator=base)
    month = dates.months(frame, dated)
    why, column, code, pts = _place_incidents(con, frame, position, dated, month, report)
    ok = why == ""
    counted = pd.DataFrame({"area_code": code[ok], "period": month[ok]})
    ids = _category_ids(frame, category, base)
    titles = {} if ids is None else {
        i: f"{base.replace('_', ' ').capitalize()}: {k}"
        for i, k in zip(ids[ok], frame.loc[ok, category].astype(str).str.strip(), strict=True)
        if i}
    if category:
        report.notes.append(f"'{category}' splits the counts: one indicator per kind, and "
                            f"{base} for them all")
    parts = [counted.assign(indicator=base)]
    if ids is not None:
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
        good["geography"] = vintages(con, good["area_code"], good["period"])
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
    if ids is not None:
        point_parts.append(points.assign(indicator=ids[ok])[ids[ok] != ""])
    points = pd.concat(point_parts, ignore_index=True).groupby(
        ["indicator", "month", "lon", "lat", "lsoa_code"], as_index=False).size() \
        .rename(columns={"size": "n"})
    coverage = _incident_coverage(con, counted, sorted(good["indicator"].unique()), report)
    report.notes.append(f"{int(ok.sum()):,} incidents placed in "
                        f"{counted['area_code'].nunique():,} LSOAs; {int((~ok).sum()):,} "
                        "kept aside")
    return good, quarantine, coverage, titles, points, len(frame)


def _incident_dates(frame: pd.DataFrame, base: str | None, choices: dict) -> dates.Dates:
    """How an incident list gives each incident's date, after checking the indicator id
    and the date choices it was given.

    Raises
    ------
    LoaderError
        With every problem at once: no indicator id, a date column or order that is not
        there, or no column that reads as dates.
    """
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
    return dated


def _place_incidents(con, frame: pd.DataFrame, position: inc.Position, dated, month,
                     report) -> tuple[pd.Series, pd.Series, pd.Series, object]:
    """Each incident's area: ``why`` it cannot be placed ("" when it can), the column to
    blame, its area code, and its points (None when the file names wards)."""
    why = pd.Series("", index=frame.index, dtype=object)
    column = pd.Series(position.columns[0], index=frame.index, dtype=object)
    code = pd.Series("", index=frame.index, dtype=object)
    pts = None
    by_name = position.kind == "names"
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
    blame = dates.unreadable(frame, dated, month)
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
    return why, column, code, pts


def _category_ids(frame: pd.DataFrame, category: str | None, base: str) -> pd.Series | None:
    """Each incident's own indicator id where a column splits them into kinds
    (``{base}_{kind}``; "" for a blank kind), or None."""
    if not category:
        return None
    kinds = frame[category].astype(str).str.strip()
    return kinds.map(lambda k: f"{base}_{rd.indicator_id(k)}"[:64] if k else "")


def _incident_coverage(con, counted: pd.DataFrame, indicators: list[str],
                       report) -> pd.DataFrame:
    """The districts and months an incident list stands for.

    The service covers a district where its incidents reach at least half the LSOAs
    (a crew sent over the border now and then does not make the next district
    covered); there, a month with incidents is a month it reported, and an LSOA
    without one had none (zero). Other months and districts are No data.
    """
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
    return pd.concat([reported[["lad_code", "period"]].assign(indicator=i)
                      for i in indicators], ignore_index=True)


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
