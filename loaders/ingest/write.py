"""Write: checked rows into the store, in the load's one transaction.

Totals a file leaves out are made (a count's breakdowns added up, never a rate's),
the rows and their points, coverage and quarantine are written under one ingest id,
new indicators are catalogued with the details given (or defaults the report names),
and the load is logged. An exact file loaded before changes nothing but the details
it states.
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import numpy as np
import pandas as pd

import store as db
from loaders import details as dtl
from loaders import partner as pt
from loaders.errors import LoaderError
from loaders.fields import ask
from loaders.ingest.check import declared_districts
from loaders.ingest.contract import DEFAULTS, OPERATOR, Refused, Report, Uploader, count_of
from loaders.ingest.parse import Rows
from store import governance, loads


def already_loaded(con: db.Connection, report: Report, meta_map: dict,
                   uploader: Uploader) -> bool:
    """Whether these exact bytes were loaded before (open data included: a police.uk
    month the store was built with must not be added a second time). If so the report
    says what that load gave, and only the catalogue details the load states apply."""
    done = loads.earlier_load(con, report.sha256)
    if not done:
        return False
    report.rows_read, report.rows_loaded, report.rows_quarantined = done
    report.already_loaded = True
    report.indicators = loads.indicators_of_load(con, report.sha256)
    change_details(con, report.indicators, meta_map, uploader, report)
    if not report.details_changed:
        report.notes.append("this exact file was loaded before; nothing changed")
    return True


def write(con: db.Connection, rows: Rows, report: Report, *, meta_map: dict,
          agreement: str | None, uploader: Uploader, replace: bool) -> None:
    """Write the checked rows and fill in the report's counts.

    Raises
    ------
    Refused
        When a file of the same name and partner is loaded and ``replace`` is not set.
    """
    good, quarantine, coverage = rows.good, rows.quarantine, rows.coverage
    points, titles = rows.points, rows.titles
    good = pd.concat([good, totals(con, good, meta_map, report)], ignore_index=True)
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
        raise Refused(f"a file called {report.file} from {report.partner} is already loaded "
                      f"({earlier:,} rows). If this is a corrected version, load it again to "
                      f"replace the earlier version {ask('replace')}; otherwise rename it")
    report.replaced_rows = loads.remove_file(con, report.file, report.partner)
    if report.replaced_rows:
        report.notes.append(f"replaced {report.replaced_rows} rows loaded earlier from a "
                            "previous version of this file")
    con.insert("observations", obs)
    if len(points):
        con.insert("crime_points", points.assign(source=report.file, origin="partner",
                                                 ingest_id=ingest_id))
    coverage = pd.concat([coverage, declared_coverage(con, obs, meta_map)], ignore_index=True)
    if len(coverage):
        con.insert("coverage", coverage.assign(origin="partner", ingest_id=ingest_id))
        report.notes.append(
            f"coverage: {count_of(coverage['lad_code'].nunique(), 'district')} in "
            f"{coverage['period'].nunique()} month(s); an LSOA there without a row is zero")
    report.indicators = sorted(obs["indicator"].unique())
    catalogue(con, obs, good, meta_map, report, titles)
    change_details(con, sorted(set(obs["indicator"]) - {i["indicator"] for i in
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


def is_count(con, ident: str, meta_map: dict, good: pd.DataFrame) -> bool:
    """Whether an indicator's figures add up: a count in the catalogue, or a new
    indicator whose details say so (or say nothing and give no confidence limits)."""
    known = loads.is_count(con, ident)
    if known is not None:
        return known
    return unit_of(ident, meta_map, good) == "count"

def unit_of(ident: str, meta_map: dict, good: pd.DataFrame) -> str:
    """A new indicator's unit: as its details say; else a rate where the partner
    published confidence limits (a count would not have them), else a count."""
    given = {**meta_map.get("*", {}), **meta_map.get(ident, {})}.get("unit")
    if given:
        return given
    mine = good[good["indicator"] == ident]
    has_limits = "value_lower" in mine and mine["value_lower"].notna().any()
    return "rate" if has_limits else DEFAULTS["unit"]

def totals(con, good: pd.DataFrame, meta_map: dict, report: Report) -> pd.DataFrame:
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
    counts = {i for i in broken["indicator"].unique() if is_count(con, i, meta_map, good)}
    one_dim = broken.groupby(keys)["_dim"].transform(lambda d: d.notna().all() and
                                                     d.nunique() == 1)
    crossed = full_cross(broken, keys)
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

def full_cross(broken: pd.DataFrame, keys: list[str]) -> pd.Series:
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

def declared_coverage(con, obs: pd.DataFrame, meta_map: dict[str, dict]) -> pd.DataFrame:
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
        lads = declared_districts(con, ident, meta_map)
        if lads is None:
            continue
        rows += [(ident, lad, period) for period, there in reported.items()
                 for lad in sorted(lads & there)]
    return pd.DataFrame(rows, columns=["indicator", "lad_code", "period"])

def catalogue(con, obs, good, meta_map, report, titles=None) -> None:
    existing = loads.catalogued(con)
    for ident in sorted(set(obs["indicator"]) - existing):
        given = {**meta_map.get("*", {}), **meta_map.get(ident, {})}
        entry = {**DEFAULTS, **given, "unit": unit_of(ident, meta_map, good)}
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

def change_details(con, indicators: list[str], meta_map: dict, uploader: Uploader,
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
