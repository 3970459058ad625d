"""The audit trail: who signed in, looked at partner data, exported, uploaded or
changed an account or agreement. Append-only and hash-chained
(``store.governance``): editing or deleting an entry breaks the chain.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from dashboard.access.policy import Viewer
from store import governance

EVENTS = ("sign-in", "sign-in failed", "sign-out", "view", "export", "upload",
          "account", "agreement", "indicator", "command")


def record(viewer: Viewer, event: str, path=None, **detail) -> int:
    """Append an event by ``viewer``; return its entry number."""
    if event not in EVENTS:
        raise ValueError(f"unknown audit event {event!r}; known: {EVENTS}")
    return governance.append_audit(viewer.name, viewer.role, event, detail, path=path)


def entries(since: dt.date | None = None, user: str | None = None, event: str | None = None,
            path=None) -> pd.DataFrame:
    """The log, oldest first, filtered by date (inclusive), user and event."""
    where, params = [], []
    if since:
        where.append("logged_at >= ?")
        params.append(dt.datetime.combine(since, dt.time()))
    if user:
        where.append("actor = ?")
        params.append(user)
    if event:
        where.append("event = ?")
        params.append(event)
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    return governance.read(f"SELECT seq, logged_at, actor, role, event, detail, hash "
                           f"FROM audit_log {clause} ORDER BY seq", params, path=path)


def verify(path=None) -> list[str]:
    """Problems with the chain (an empty list when every entry is intact)."""
    return governance.verify_chain(path)
