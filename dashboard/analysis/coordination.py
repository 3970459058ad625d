"""Who is acting where: the register set against need.

Three questions, each answered from the records the viewer may see (the register
as ``measures.interventions.register`` gives it) and the region's LSOA to ward lookup:

* **Unserved need.** Which significant hot spots have no live intervention?
* **Overlap.** Where are two or more agencies acting in the same areas at once?
* **What is live in this ward?**

A record is *live* in a month from its start to its end (open: to this day), unless
it was cancelled. Every record is taken to its LSOAs (a ward's LSOAs, where it names
wards), so records at either level meet hot spots at either level.
"""

from __future__ import annotations

import pandas as pd

from dashboard.analysis.hotspots import HOT as GI_HOT
from dashboard.analysis.hotspots import LISA

# Significant hot spots: Gi* at 95 % or more, or a Local Moran high-high cluster.
HOT = (GI_HOT[99], GI_HOT[95], LISA[1])


def live(register: pd.DataFrame, start: str, end: str) -> pd.DataFrame:
    """The records live at any time from ``start`` to ``end`` (months, inclusive)."""
    if register.empty:
        return register
    ends = register["end_month"].fillna("9999-12")
    keep = (register["status"] != "cancelled") & (register["start_month"] <= end) & \
        (ends >= start)
    return register[keep].reset_index(drop=True)


def covered_lsoas(register: pd.DataFrame, lookup: pd.DataFrame) -> pd.DataFrame:
    """``id, agency, title, lsoa_code, ward_code``: each record's LSOAs, one row each."""
    cols = ["id", "agency", "title", "lsoa_code", "ward_code"]
    if register.empty:
        return pd.DataFrame(columns=cols)
    rows = register[["id", "agency", "title", "level", "areas"]].explode("areas").dropna(
        subset=["areas"])
    lsoa = rows[rows["level"] != "ward"].merge(
        lookup[["lsoa_code", "ward_code"]], left_on="areas", right_on="lsoa_code")
    ward = rows[rows["level"] == "ward"].merge(
        lookup[["lsoa_code", "ward_code"]], left_on="areas", right_on="ward_code")
    return pd.concat([lsoa, ward], ignore_index=True)[cols].drop_duplicates(
        ["id", "lsoa_code"]).reset_index(drop=True)


def timeline(register: pd.DataFrame, start: str, end: str, today: str | None = None
             ) -> pd.DataFrame:
    """One bar per record live in the months: ``id, title, agency, kind, from, to,
    open`` (``to`` is the last month, or this month for an open one)."""
    now = today or pd.Timestamp.today().strftime("%Y-%m")
    rows = live(register, start, end)
    out = pd.DataFrame({
        "id": rows["id"], "title": rows["title"], "agency": rows["agency"],
        "kind": rows["kind"].fillna(""), "from": rows["start_month"],
        "to": rows["end_month"].fillna(max(now, end) if len(rows) else now),
        "open": rows["end_month"].isna(), "areas": rows["areas"].map(len),
        "status": rows["status"]})
    return out.sort_values(["from", "id"]).reset_index(drop=True)


def unserved(hot: pd.DataFrame, register: pd.DataFrame, lookup: pd.DataFrame, level: str
             ) -> pd.DataFrame:
    """The significant hot spots of a hot spot result (``area_code, area_name, class``)
    that no live record covers any part of (see :func:`served`)."""
    marked = served(hot, register, lookup, level)
    return marked[marked["served_by"] == ""].reset_index(drop=True)


def served(hot: pd.DataFrame, register: pd.DataFrame, lookup: pd.DataFrame, level: str
           ) -> pd.DataFrame:
    """The significant hot spots, each with the live records covering it
    (``served_by``: ids, comma-separated; empty when none)."""
    spots = hot[hot["class"].isin(HOT)][
        ["area_code", "area_name", "class"]].copy()
    cover = covered_lsoas(register, lookup)
    key = "lsoa_code" if level == "lsoa" else "ward_code"
    by_area = cover.groupby(key)["id"].agg(lambda ids: ", ".join(sorted(set(ids))))
    spots["served_by"] = spots["area_code"].map(by_area).fillna("")
    return spots.reset_index(drop=True)


def overlaps(register: pd.DataFrame, lookup: pd.DataFrame, level: str = "ward"
             ) -> pd.DataFrame:
    """Areas where two or more agencies have live records: ``area_code, agencies,
    interventions`` (names comma-separated) and ``n_agencies``, most first."""
    cover = covered_lsoas(register, lookup)
    key = "lsoa_code" if level == "lsoa" else "ward_code"
    if cover.empty:
        return pd.DataFrame(columns=["area_code", "n_agencies", "agencies", "interventions"])
    grouped = cover.groupby(key).agg(
        n_agencies=("agency", "nunique"),
        agencies=("agency", lambda a: ", ".join(sorted(set(a)))),
        interventions=("id", lambda i: ", ".join(sorted(set(i)))))
    out = grouped[grouped["n_agencies"] >= 2].reset_index().rename(columns={key: "area_code"})
    return out.sort_values(["n_agencies", "area_code"], ascending=[False, True]) \
        .reset_index(drop=True)


def in_ward(register: pd.DataFrame, ward_code: str, lookup: pd.DataFrame) -> pd.DataFrame:
    """The records covering any part of a ward: the register's rows, with ``lsoas``
    (how many of the ward's LSOAs each covers) and ``ward_lsoas``."""
    cover = covered_lsoas(register, lookup)
    mine = cover[cover["ward_code"] == ward_code]
    n = mine.groupby("id")["lsoa_code"].nunique()
    out = register[register["id"].isin(n.index)].copy()
    out["lsoas"] = out["id"].map(n).astype(int)
    out["ward_lsoas"] = int((lookup["ward_code"] == ward_code).sum())
    return out.reset_index(drop=True)


def summary(register: pd.DataFrame, hot: pd.DataFrame | None, lookup: pd.DataFrame,
            level: str, start: str, end: str) -> dict:
    """The Overview's card: live records, agencies, areas covered, unserved hot spots
    and areas with two or more agencies."""
    now = live(register, start, end)
    cover = covered_lsoas(now, lookup)
    out = {"live": len(now), "agencies": now["agency"].nunique() if len(now) else 0,
           "lsoas": cover["lsoa_code"].nunique(),
           "overlap_areas": len(overlaps(now, lookup, level))}
    if hot is not None:
        marked = served(hot, now, lookup, level)
        out["hot_spots"] = len(marked)
        out["unserved"] = int((marked["served_by"] == "").sum())
    return out
