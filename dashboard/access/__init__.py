"""Access: who may see what (roles, agreements), accounts, sign-in and the audit log.

``rules(store, viewer)`` gives the viewer's grants; the model's chokepoint
(``measures.indicator_view``) and every list of indicators obey them.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from dashboard.access.policy import (
    OPERATOR,
    PUBLIC,
    AccessDenied,
    Grant,
    Viewer,
    grants,
    require,
    visible_catalogue,
    why_not_finer,
)
from dashboard.access.roles import allows
from store import governance


def partner_catalogue(store, viewer: Viewer) -> pd.DataFrame:
    """``indicator, title, partner, origin`` of every indicator the viewer's scope may
    use (the store binds the read on PostgreSQL)."""
    from dashboard.measures import _read  # the door's read module (it imports access)
    return _read.catalogue_owners(store, viewer)


def rules(store, viewer: Viewer, today: dt.date | None = None) -> dict[str, Grant]:
    """The viewer's grants over the store's catalogue and the agreements register."""
    return grants(viewer, partner_catalogue(store, viewer),
                  governance.agreements(store.governance), today)


def partner_indicators(store) -> set[str]:
    """Ids of the partner (non-open) indicators, which agreements cover (for the
    administrators who write agreements)."""
    cat = partner_catalogue(store, OPERATOR)
    return set(cat.loc[cat["origin"] == "partner", "indicator"])


__all__ = ["allows", "OPERATOR", "PUBLIC", "AccessDenied", "Grant", "Viewer", "partner_indicators",
           "require", "rules", "visible_catalogue", "why_not_finer"]
