"""The indicator catalogue: what each indicator is, and which periods it has."""

from __future__ import annotations

import pandas as pd

from store import Store

PARTNER_ORDER = ("police", "fire", "health", "council", "context")


def catalogue(store: Store) -> pd.DataFrame:
    """Every indicator with its metadata and period coverage, police first."""
    frame = store.query("""
        SELECT c.*, o.first_period, o.last_period, coalesce(o.n_periods, 0) AS n_periods,
               coalesce(o.n_areas, 0) AS n_areas
        FROM catalogue c LEFT JOIN (
            SELECT indicator, min(period_start) AS first_period,
                   max(period_end) AS last_period, count(DISTINCT period_start) AS n_periods,
                   count(DISTINCT area_code) AS n_areas
            FROM observations GROUP BY indicator) o USING (indicator)""")
    order = {p: i for i, p in enumerate(PARTNER_ORDER)}
    frame["_p"] = frame["partner"].map(order).fillna(len(order))
    frame["_all"] = frame["indicator"] != "crime_all"
    return frame.sort_values(["_p", "_all", "title"]).drop(columns=["_p", "_all"]) \
        .reset_index(drop=True)


def months(store: Store, indicator: str) -> list[str]:
    """The periods an indicator has, oldest first (``YYYY-MM`` for monthly data).

    A figure for several periods together (a total over 25 months) adds its first
    and its last, so a period range can take it whole.
    """
    frame = store.query("SELECT period_start AS p FROM observations WHERE indicator = ? "
                        "UNION SELECT period_end FROM observations WHERE indicator = ? "
                        "ORDER BY 1", [indicator, indicator])
    return frame["p"].tolist()


def breakdowns(store: Store, indicator: str) -> list[str]:
    """The breakdown values an indicator has (``"IMD: Q1"``), in order; empty when its
    figures are not broken down."""
    frame = store.query("SELECT DISTINCT breakdown AS b FROM observations WHERE indicator = ? "
                        "AND breakdown IS NOT NULL ORDER BY 1", [indicator])
    return frame["b"].tolist()


WARD_GEOGRAPHIES = ("WD19", "WD24")
# Geographies the app maps: LSOAs of either vintage (the other is converted), or wards.
MAPPABLE = ("LSOA11", "LSOA21", *WARD_GEOGRAPHIES)


def ward_level(meta: dict) -> bool:
    """Whether an indicator is published by ward (it has no LSOA figures)."""
    return meta.get("geography") in WARD_GEOGRAPHIES


def coverage(store: Store, region) -> pd.DataFrame:
    """Every indicator with its share of the region's areas and when it was last loaded.

    Returns
    -------
    DataFrame
        The catalogue columns plus ``area_coverage`` (0-1: the share of the region's
        LSOAs, or wards for ward-level data, with at least one value, a true zero
        in a district the source covers included) and ``loaded_at``.
    """
    from dashboard import geography
    cat = catalogue(store)
    lsoas = geography.lsoa_lookup(store, region)
    areas = set(lsoas["lsoa_code"]) | set(lsoas["ward_code"])
    n_lsoa, n_ward = lsoas["lsoa_code"].nunique(), lsoas["ward_code"].nunique()
    codes = store.query("SELECT DISTINCT indicator, area_code, geography FROM observations")
    covered = store.query(
        "SELECT DISTINCT c.indicator, k.lad_code FROM coverage c JOIN lad_codes k "
        "ON c.lad_code IN (k.lad_code, k.lad_code_active)")
    zeros = covered.merge(lsoas[["lad_code", "lsoa_code"]].drop_duplicates(), on="lad_code")
    codes = pd.concat([codes[codes["area_code"].isin(areas)], pd.DataFrame({
        "indicator": zeros["indicator"], "area_code": zeros["lsoa_code"],
        "geography": "LSOA"})], ignore_index=True)
    counted = codes.assign(ward=codes["geography"].str.startswith("WD")) \
        .groupby(["indicator", "ward"])["area_code"].nunique().unstack(fill_value=0) \
        .reindex(columns=[False, True], fill_value=0)
    share = (counted[False] / max(n_lsoa, 1)).where(counted[False] > 0,
                                                    counted[True] / max(n_ward, 1))
    built = store.query("SELECT value FROM build_info WHERE key = 'built_at'")
    partner_loads = store.query(
        "SELECT o.indicator, max(l.loaded_at) AS loaded_at FROM observations o "
        "JOIN ingest_log l USING (ingest_id) WHERE o.origin = 'partner' GROUP BY 1")
    out = cat.assign(area_coverage=cat["indicator"].map(share).fillna(0.0))
    built_at = pd.to_datetime(built["value"].iat[0]) if len(built) else pd.NaT
    # A merge, not Series.map: pandas cannot map through an empty datetime Series.
    out = out.merge(partner_loads, on="indicator", how="left", validate="one_to_one")
    out["loaded_at"] = pd.to_datetime(out["loaded_at"]).fillna(built_at)
    return out


def load_log(store: Store, administer: bool) -> pd.DataFrame:
    """Rows read, loaded and kept aside per loaded file: open data for everyone, partner
    uploads (whose file names say what a partner holds) for administrators only."""
    where = "" if administer else "WHERE origin = 'open'"
    return store.query(
        "SELECT source, rows_read, rows_loaded, rows_quarantined AS rows_kept_aside, summary "
        f"FROM ingest_log {where} ORDER BY source")
