"""The audit trail: who signed in, looked at partner data, exported, uploaded or
changed an account or agreement, and every command-line run with its outcome
(``command``, ``refused``, ``failed``). Append-only and chained with the
deployment's key (``store.governance``): editing, forging or deleting an entry,
or cutting the log short, is found by :func:`verify`.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from dashboard.access.policy import Viewer
from store import governance

EVENTS = ("sign-in", "sign-in failed", "sign-out", "view", "export", "upload",
          "account", "agreement", "indicator", "intervention", "command", "refused", "failed")


def record(viewer: Viewer, event: str, path=None, **detail) -> int:
    """Append an event by ``viewer``; return its entry number."""
    if event not in EVENTS:
        raise ValueError(f"unknown audit event {event!r}; known: {EVENTS}")
    return governance.append_audit(viewer.name, viewer.role, event, detail, path=path)


def entries(since: dt.date | None = None, user: str | None = None, event: str | None = None,
            path=None) -> pd.DataFrame:
    """The log, oldest first, filtered by date (inclusive), user and event."""
    return governance.audit_entries(
        dt.datetime.combine(since, dt.time()) if since else None, user, event, path=path)


def verify(path=None) -> list[str]:
    """Problems with the chain (an empty list when every entry is intact)."""
    return governance.verify_chain(path)
