"""Who may see what: the one rule every view, list and export obeys.

A viewer sees an indicator at some finest level, or not at all:

* **Open data** (origin ``open``): every role, down to the role's finest level.
* **Partner data** belongs to at most one information-sharing agreement.
  While the agreement is live (active, started, not past its expiry), the
  roles and organisations it names see the data down to the coarser of the
  role's and the agreement's finest levels.
* An upload with **no agreement** is seen only by its own organisation's
  stewards (roles with ``partner_data = "own"``) until one is assigned.
* **Expired or suspended** agreements hide their data from everyone but
  administrators (``partner_data = "all"``).

``measures.indicator_view`` calls :func:`require` before it computes a figure;
the catalogue shown to a user is :func:`visible_catalogue`. A user never sees
the title of an indicator they may not see: a refusal reads like an unknown id.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

import pandas as pd

from dashboard.access.roles import LEVELS, Role, allows, coarser, get_role
from dashboard.filters import FilterError

LEVEL_WORDS = {"point": "points and hexagons", "lsoa": "LSOA", "ward": "ward",
               "district": "district", "region": "region"}


class AccessDenied(FilterError):
    """The viewer may not see what was asked for (an indicator, or a finer level)."""


@dataclass(frozen=True)
class Viewer:
    """Who is looking: an account name, its role and its organisation."""

    name: str
    role: str
    org: str = ""

    @property
    def rules(self) -> Role:
        """The viewer's role."""
        return get_role(self.role)

    @property
    def signed_in(self) -> bool:
        """False for the public (no account)."""
        return self.role != "public"

    def scope(self) -> Viewer:
        """The viewer without the name: everything access depends on (a cache key)."""
        return replace(self, name="")


PUBLIC = Viewer("public", "public")
OPERATOR = Viewer("operator", "administrator")


@dataclass(frozen=True)
class Grant:
    """What a viewer may see of one indicator."""

    indicator: str
    finest_level: str
    agreement: str | None
    reason: str  # "open", "agreement", "own organisation", "administrator"


def live(agreement: dict, today: dt.date) -> bool:
    """Whether an agreement lets its data be seen today."""
    start = agreement.get("start_date")
    if agreement["status"] != "active":
        return False
    if start is not None and not pd.isna(start) and pd.Timestamp(start).date() > today:
        return False
    return pd.Timestamp(agreement["expires"]).date() >= today


def standing(agreement: dict | None, origin: str, today: dt.date) -> str:
    """An indicator's standing in plain words: open data, no agreement yet, live until
    its expiry, or expired or suspended (flagged on the Partner data page)."""
    if origin != "partner":
        return "open data"
    if agreement is None:
        return "no agreement yet"
    if live(agreement, today):
        return f"live until {pd.Timestamp(agreement['expires']):%Y-%m-%d}"
    if agreement["status"] == "active":
        expires = pd.Timestamp(agreement["expires"]).date()
        return "expired" if expires < today else "not started"
    return agreement["status"]


def agreement_of(agreements: pd.DataFrame) -> dict[str, dict]:
    """Each indicator's agreement (the register keeps it to one)."""
    out = {}
    for ag in agreements.to_dict("records"):
        for indicator in ag["indicators"]:
            out[indicator] = ag
    return out


def grants(viewer: Viewer, catalogue: pd.DataFrame, agreements: pd.DataFrame,
           today: dt.date | None = None) -> dict[str, Grant]:
    """Every indicator the viewer may see, with the finest level allowed.

    Parameters
    ----------
    catalogue : DataFrame
        ``indicator, partner, origin`` per indicator.
    agreements : DataFrame
        The register (``store.governance.agreements``).
    """
    today = today or dt.date.today()
    role = viewer.rules
    by_indicator = agreement_of(agreements)
    out = {}
    for row in catalogue[["indicator", "partner", "origin"]].itertuples(index=False):
        ag = by_indicator.get(row.indicator)
        ag_id = ag["id"] if ag else None
        if row.origin != "partner":
            out[row.indicator] = Grant(row.indicator, role.finest_level, ag_id, "open")
        elif role.partner_data == "all":
            out[row.indicator] = Grant(row.indicator, role.finest_level, ag_id, "administrator")
        elif role.partner_data == "own" and viewer.org and viewer.org == row.partner \
                and (ag is None or live(ag, today)):  # expiry binds its own stewards too
            out[row.indicator] = Grant(row.indicator, role.finest_level, ag_id,
                                       "own organisation")
        elif ag is not None and role.partner_data in ("agreements", "own") and live(ag, today) \
                and (viewer.role in ag["roles"] or (viewer.org and viewer.org in ag["orgs"])):
            out[row.indicator] = Grant(row.indicator, coarser(role.finest_level, ag["level"]),
                                       ag_id, "agreement")
    return out


def visible_catalogue(catalogue: pd.DataFrame, grant: dict[str, Grant],
                      agreements: pd.DataFrame | None = None,
                      today: dt.date | None = None) -> pd.DataFrame:
    """The catalogue rows the viewer may see, with ``finest_level`` and
    ``agreement_id`` (and, given the register, ``standing``: see :func:`standing`)."""
    out = catalogue[catalogue["indicator"].isin(grant)].copy()
    out["finest_level"] = out["indicator"].map(lambda i: grant[i].finest_level)
    out["agreement_id"] = out["indicator"].map(lambda i: grant[i].agreement)
    if agreements is not None:
        by = agreement_of(agreements)
        today = today or dt.date.today()
        out["standing"] = [standing(by.get(i), o, today)
                           for i, o in zip(out["indicator"], out["origin"], strict=True)]
    return out.reset_index(drop=True)


def require(viewer: Viewer, grant: dict[str, Grant], indicator: str, level: str,
            title: str = "") -> Grant:
    """The viewer's grant for ``indicator`` at ``level``.

    Raises
    ------
    AccessDenied
        If the indicator is not visible (worded as an unknown indicator, so its
        existence is not given away) or the level is finer than allowed.
    """
    if indicator not in grant:
        raise AccessDenied("indicator", f"{indicator!r} is not in the catalogue; known: "
                           f"{sorted(grant)[:40]}")
    g = grant[indicator]
    if level not in LEVELS:
        raise AccessDenied("level", f"{level!r} is not a level; known: {list(LEVELS)}")
    if not allows(g.finest_level, level):
        raise AccessDenied("level", f"{LEVEL_WORDS[level]} figures are not available to you. "
                           + why_not_finer(viewer, g, title or indicator))
    return g


def levels_for(grant: Grant | None, offered: tuple[str, ...]) -> list[str]:
    """Which of the ``offered`` levels a grant allows (finest first)."""
    if grant is None:
        return []
    return [lvl for lvl in offered if allows(grant.finest_level, lvl)]


def why_not_finer(viewer: Viewer, grant: Grant, title: str) -> str:
    """Plain words on why a viewer cannot see an indicator finer than its grant."""
    who = (f"the {viewer.rules.title} role" if grant.finest_level ==
           viewer.rules.finest_level else f"the agreement {grant.agreement}")
    return (f"{title} is available to you at {LEVEL_WORDS[grant.finest_level]} level and "
            f"above; {who} allows no finer.") + (
                "" if viewer.signed_in else " Sign in for finer detail.")


# -- the interventions register -------------------------------------------------------

# Who sees a record: ``public`` (everyone), ``partners`` (the default: signed-in staff
# of the partner organisations, that is accounts with an organisation), or
# ``restricted`` (a police operation, say: only the roles and organisations its
# agreement names, while the agreement is live, and the account that entered it).
# Administrators see every record; an agency's own staff see its unrestricted ones.
VISIBILITY = ("partners", "restricted", "public")


def sees_intervention(viewer: Viewer, record: dict, agreements: dict[str, dict],
                      today: dt.date | None = None) -> bool:
    """Whether ``viewer`` may know that an intervention exists (``agreements`` by id)."""
    if viewer.rules.partner_data == "all" or record["visibility"] == "public":
        return True
    if not viewer.signed_in:
        return False
    if record["visibility"] == "restricted":
        if viewer.name and viewer.name == record.get("created_by"):
            return True
        ag = agreements.get(record.get("agreement") or "")
        return ag is not None and live(ag, today or dt.date.today()) \
            and (viewer.role in ag["roles"] or (bool(viewer.org) and viewer.org in ag["orgs"]))
    return bool(viewer.org)
