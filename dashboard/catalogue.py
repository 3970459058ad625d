"""The indicator catalogue: what each indicator is, and which periods it has."""

from __future__ import annotations

import pandas as pd

from dashboard.store import Store

PARTNER_ORDER = ("police", "fire", "health", "council", "context")


def catalogue(store: Store) -> pd.DataFrame:
    """Every indicator with its metadata and period coverage, police first."""
    frame = store.query("""
        SELECT c.*, min(o.period_start) AS first_period, max(o.period_end) AS last_period,
               count(DISTINCT o.period_start) AS n_periods,
               count(DISTINCT o.area_code) AS n_areas
        FROM catalogue c LEFT JOIN observations o USING (indicator)
        GROUP BY ALL""")
    order = {p: i for i, p in enumerate(PARTNER_ORDER)}
    frame["_p"] = frame["partner"].map(order).fillna(len(order))
    frame["_all"] = frame["indicator"] != "crime_all"
    return frame.sort_values(["_p", "_all", "title"]).drop(columns=["_p", "_all"]) \
        .reset_index(drop=True)


def months(store: Store, indicator: str) -> list[str]:
    """The periods an indicator has, oldest first (``YYYY-MM`` for monthly data)."""
    frame = store.query("SELECT DISTINCT period_start FROM observations WHERE indicator = ? "
                        "ORDER BY 1", [indicator])
    return frame["period_start"].tolist()
