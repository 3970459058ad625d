"""Check: which parsed rows may load, and whether the file may load at all.

Rows are checked against the contract (``loaders.partner``), the areas of both LSOA
vintages, the rows the partner's file is allowed to touch (an id reserved for open
data, another partner's indicator, or an area and period another file already gave
are kept aside), the coverage the details declare, and the uploader's organisation.
A police.uk month already in the store, or an incident list that would add to
someone else's figures, refuses the file whole.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

import store as db
from loaders import partner as pt
from loaders import policeuk, sources
from loaders.config import load_regions
from loaders.fields import ask
from loaders.ingest.contract import DEFAULTS, MAX_INDICATORS, NEGATIVE_UNITS, Refused, Report
from loaders.ingest.parse import Rows, known_codes, vintages
from store import loads


def check(con: db.Connection, rows: Rows, report: Report, *, meta_map: dict,
          first_year: int, today: dt.date | None, uploader) -> Rows:
    """The rows that may load (``good``) and every other row kept aside with its reason.

    Raises
    ------
    Refused
        When the file may not load at all, or no row may.
    """
    if rows.kind == "police.uk":
        overlap = months_already_loaded(con, rows.good, report.file)
        if overlap:
            raise Refused(f"police.uk month(s) {', '.join(overlap)} are already in the store "
                          "for these areas (from another file); loading them again would "
                          "count the same crimes twice")
    elif rows.kind == "incidents":
        found = foreign(con, rows.good, report.file)
        if len(found):  # counts of many rows: the file is refused whole, never half-added
            raise Refused(found["reason"].iat[0])
    else:
        _table(con, rows, report, meta_map=meta_map, first_year=first_year, today=today,
               uploader=uploader)
    good = rows.good
    if good.empty:
        report.rows_quarantined = len(rows.quarantine)
        report.quarantine = rows.quarantine[["row", "column", "reason"]].to_dict("records")
        raise Refused(f"no valid rows: all {report.rows_read} rows have problems"
                      if report.rows_read else "the file has a header but no rows")
    if (good["partner"] == "").any():
        report.notes.append(f"no partner column and no partner given {ask('partner')}: "
                            "recorded as 'unknown'")
        good.loc[good["partner"] == "", "partner"] = "unknown"
    report.partner = ", ".join(sorted(good["partner"].unique()))
    return rows


def _keep_aside(rows: Rows, aside: pd.DataFrame) -> None:
    """Move the rows ``aside`` names (by file row) from ``good`` to the quarantine."""
    if len(aside):
        rows.good = rows.good[~rows.good["row"].isin(set(aside["row"]))]
        rows.quarantine = pd.concat([rows.quarantine, aside], ignore_index=True) \
            .sort_values("row", kind="stable")


def _table(con, rows: Rows, report: Report, *, meta_map, first_year, today, uploader) -> None:
    """A table's rows against the contract, the areas, the uploader and other files."""
    raw, tidy = rows.raw, rows.good
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
    rows.quarantine = pd.concat(
        [checked.quarantine[~checked.quarantine["row"].isin(ragged_rows)], ragged,
         rows.quarantine], ignore_index=True).astype({"row": int}) \
        .sort_values("row", kind="stable")
    good = good.assign(geography=vintages(con, good["area_code"], good["period"]))
    if uploader.org:
        other = good["partner"].ne(uploader.org) & good["partner"].ne("")
        if other.any():
            bad = good[other]
            rows.quarantine = pd.concat([rows.quarantine, pd.DataFrame({
                "row": bad["row"].astype(int), "column": "partner",
                "reason": f"names another partner; you upload for {uploader.org} only",
                "record": bad["partner"]})], ignore_index=True)
            good = good[~other]
        good = good.assign(partner=uploader.org)
    rows.good = good
    new = sorted(set(good["indicator"]))
    if len(new) > MAX_INDICATORS:
        raise Refused(f"the file holds {len(new)} indicators; one file may hold at most "
                      f"{MAX_INDICATORS}. Is it a wide file whose columns are areas or dates?")
    _keep_aside(rows, foreign(con, rows.good, report.file))
    _keep_aside(rows, beyond_declared(con, rows.good, meta_map))


def months_already_loaded(con: db.Connection, counts: pd.DataFrame,
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

def foreign(con, good: pd.DataFrame, source: str) -> pd.DataFrame:
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

def declared_districts(con, ident: str, meta_map: dict[str, dict]) -> set[str] | None:
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

def beyond_declared(con, good: pd.DataFrame, meta_map: dict[str, dict]) -> pd.DataFrame:
    """Rows of an area outside the coverage its indicator's details declare: the
    source does not cover that area, so a figure there would be partial. Kept aside
    with the reason, never loaded."""
    out = []
    active, home = None, None
    for ident in sorted(good["indicator"].unique()):
        lads = declared_districts(con, ident, meta_map)
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
