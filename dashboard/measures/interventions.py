"""The interventions register, read through the door: only the records the viewer may
know exist (``access.policy.sees_intervention``), the same rule on every page, map,
timeline, evaluation and command. A record the viewer may not see is reported as an
unknown id, so its existence is not given away.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from dashboard.access import AccessDenied, Viewer
from dashboard.access.policy import sees_intervention
from store import Store, governance
from store import interventions as stored

COLUMNS = ["id", *stored.FIELDS, "areas", "level", "created_at", "created_by", "updated_at",
           "updated_by"]


def _everything(store: Store) -> pd.DataFrame:
    frame = stored.records(store.governance)
    cover = stored.areas(store.governance)
    grouped = cover.groupby("intervention")
    frame["areas"] = frame["id"].map(grouped["code"].agg(list)).map(
        lambda v: v if isinstance(v, list) else [])
    frame["level"] = frame["id"].map(grouped["geography"].first()).fillna("")
    return frame.reindex(columns=COLUMNS)


def register(store: Store, *, viewer: Viewer, region: str | None = None,
             today: dt.date | None = None) -> pd.DataFrame:
    """The records ``viewer`` may see (of one ``region``, or all), oldest start first,
    with ``areas`` (the codes, a list) and ``level`` (``lsoa`` or ``ward``)."""
    frame = _everything(store)
    if region is not None:
        frame = frame[frame["region"] == region]
    agreements = {a["id"]: a for a in governance.agreements(store.governance)
                  .to_dict("records")}
    keep = [sees_intervention(viewer, r, agreements, today) for r in frame.to_dict("records")]
    return frame[keep].reset_index(drop=True) if len(frame) else frame


def record(store: Store, intervention_id: str, *, viewer: Viewer,
           today: dt.date | None = None) -> dict:
    """One record the viewer may see.

    Raises
    ------
    AccessDenied
        If there is no such record, or the viewer may not see it (worded the same).
    """
    frame = register(store, viewer=viewer, today=today)
    hit = frame[frame["id"] == intervention_id]
    if hit.empty:
        raise AccessDenied("intervention", f"{intervention_id!r} is not in the register "
                           "(or not shared with you); see `interventions list`")
    return {k: None if not isinstance(v, list) and pd.isna(v) else v
            for k, v in hit.iloc[0].to_dict().items()}

