"""The indicator catalogue: what each indicator is, and which periods it has, as the
viewer may see it (part of the door: every reader takes the viewer)."""

from __future__ import annotations

import pandas as pd

from dashboard import access
from dashboard.access import Viewer
from dashboard.measures import _read
from store import Store

PARTNER_ORDER = ("police", "fire", "health", "council", "context")


def catalogue(store: Store, *, viewer: Viewer, grants: dict | None = None) -> pd.DataFrame:
    """Every indicator the viewer may see, with its metadata and period coverage,
    police first (pass the viewer's ``grants`` when already worked out)."""
    grants = access.rules(store, viewer) if grants is None else grants
    frame = _read.catalogue_rows(store, viewer)
    frame = frame[frame["indicator"].isin(set(grants))]
    order = {p: i for i, p in enumerate(PARTNER_ORDER)}
    frame = frame.assign(_p=frame["partner"].map(order).fillna(len(order)),
                         _all=frame["indicator"] != "crime_all")
    return frame.sort_values(["_p", "_all", "title"]).drop(columns=["_p", "_all"]) \
        .reset_index(drop=True)


def _visible(store: Store, indicator: str, viewer: Viewer, grants: dict | None) -> None:
    grants = access.rules(store, viewer) if grants is None else grants
    if indicator not in grants:
        raise access.AccessDenied("indicator", f"{indicator!r} is not in the catalogue; "
                                  f"known: {sorted(grants)[:40]}")


def months(store: Store, indicator: str, *, viewer: Viewer, grants: dict | None = None
           ) -> list[str]:
    """The periods an indicator has, oldest first (``YYYY-MM`` for monthly data).

    A figure for several periods together (a total over 25 months) adds its first
    and its last, so a period range can take it whole.

    Raises
    ------
    AccessDenied
        If the viewer may not see the indicator (worded as an unknown one).
    """
    _visible(store, indicator, viewer, grants)
    return _read.periods(store, viewer, indicator)


def breakdowns(store: Store, indicator: str, *, viewer: Viewer, grants: dict | None = None
               ) -> list[str]:
    """The breakdown values an indicator has (``"IMD: Q1"``), in order; empty when its
    figures are not broken down.

    Raises
    ------
    AccessDenied
        If the viewer may not see the indicator (worded as an unknown one).
    """
    _visible(store, indicator, viewer, grants)
    return _read.breakdowns(store, viewer, indicator)


WARD_GEOGRAPHIES = ("WD19", "WD24")
# Geographies the app maps: LSOAs of either vintage (the other is converted), or wards.
MAPPABLE = ("LSOA11", "LSOA21", *WARD_GEOGRAPHIES)


def ward_level(meta: dict) -> bool:
    """Whether an indicator is published by ward (it has no LSOA figures)."""
    return meta.get("geography") in WARD_GEOGRAPHIES


def coverage(store: Store, region, *, viewer: Viewer) -> pd.DataFrame:
    """Every indicator the viewer may see with its share of the region's areas and when
    it was last loaded.

    Returns
    -------
    DataFrame
        The catalogue columns plus ``area_coverage`` (0-1: the share of the region's
        LSOAs, or wards for ward-level data, with at least one value, a true zero
        in a district the source covers included) and ``loaded_at``.
    """
    from dashboard import geography
    cat = catalogue(store, viewer=viewer)
    lsoas = geography.lsoa_lookup(store, region)
    areas = set(lsoas["lsoa_code"]) | set(lsoas["ward_code"])
    n_lsoa, n_ward = lsoas["lsoa_code"].nunique(), lsoas["ward_code"].nunique()
    codes = _read.area_codes(store, viewer)
    covered = _read.covered_lads(store, viewer)
    zeros = covered.merge(lsoas[["lad_code", "lsoa_code"]].drop_duplicates(), on="lad_code")
    codes = pd.concat([codes[codes["area_code"].isin(areas)], pd.DataFrame({
        "indicator": zeros["indicator"], "area_code": zeros["lsoa_code"],
        "geography": "LSOA"})], ignore_index=True)
    counted = codes.assign(ward=codes["geography"].str.startswith("WD")) \
        .groupby(["indicator", "ward"])["area_code"].nunique().unstack(fill_value=0) \
        .reindex(columns=[False, True], fill_value=0)
    share = (counted[False] / max(n_lsoa, 1)).where(counted[False] > 0,
                                                    counted[True] / max(n_ward, 1))
    built = _read.build_time(store)
    partner_loads = _read.partner_loads(store, viewer)
    out = cat.assign(area_coverage=cat["indicator"].map(share).fillna(0.0))
    built_at = pd.to_datetime(built["value"].iat[0]) if len(built) else pd.NaT
    # A merge, not Series.map: pandas cannot map through an empty datetime Series.
    out = out.merge(partner_loads, on="indicator", how="left", validate="one_to_one")
    out["loaded_at"] = pd.to_datetime(out["loaded_at"]).fillna(built_at)
    return out


def load_log(store: Store, *, viewer: Viewer) -> pd.DataFrame:
    """Rows read, loaded and kept aside per loaded file: open data for everyone, partner
    uploads (whose file names say what a partner holds) for administrators only."""
    return _read.load_log(store, viewer, partner_files=viewer.rules.administer)
