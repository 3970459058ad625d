"""The information-sharing agreements register.

An agreement, as the Information Sharing Gateway records one: id, title,
parties (organisations), purpose, lawful basis, the indicators it covers, the
roles and organisations that may see them, the finest level allowed, and its
start, review date, expiry and status (active, suspended or expired).

Rules: every partner indicator belongs to at most one agreement (so exactly one
once assigned); only partner indicators can be covered (open data needs none);
every change is audited.

An agreement is signed before data flows, so it may name indicators that have not
been loaded yet: they are *awaiting data* (:func:`awaiting`), and when a file of one
arrives the agreement applies to it with no further step (the upload's audit entry
records the binding). An id that is not loaded but close to one that is draws a
warning (a typo would otherwise wait for data that never comes), not a refusal.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import re

import pandas as pd

from dashboard.access import audit
from dashboard.access.policy import Viewer
from dashboard.access.roles import load_roles
from dashboard.filters import FilterError
from loaders.ingest import reserved
from loaders.partner import INDICATOR
from store import governance

ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
STATUSES = ("active", "suspended", "expired")
AGREEMENT_LEVELS = ("point", "lsoa", "ward", "district")  # point: incidents on hexagons
WARN_DAYS = 30
FIELDS = governance.AGREEMENT_FIELDS


def register(path=None) -> pd.DataFrame:
    """Every agreement, list columns as lists."""
    return governance.agreements(path)


def _date(value, name: str, problems: list[str]) -> dt.date | None:
    if value is None or value == "" or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        problems.append(f"{name} {value!r} is not a date (YYYY-MM-DD)")
        return None


def _check(spec: dict, partner_indicators: set[str], others: pd.DataFrame) -> dict:
    """Validate and normalise an agreement; raise naming every problem."""
    problems: list[str] = []
    out = dict(spec)
    if not ID.match(str(out.get("id", ""))):
        problems.append(f"id {out.get('id')!r} must be letters, digits, '.', '_' or '-'")
    if not str(out.get("title", "")).strip():
        problems.append("a title is required")
    for key in ("parties", "indicators", "roles", "orgs"):
        value = out.get(key) or []
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",")]
        out[key] = sorted({str(v).strip() for v in value if str(v).strip()})
    if not out["parties"]:
        problems.append("at least one party (organisation) is required")
    unknown_roles = [r for r in out["roles"] if r not in load_roles()]
    if unknown_roles:
        problems.append(f"roles {unknown_roles} are not roles; known: {list(load_roles())}")
    coming = [i for i in out["indicators"] if i not in partner_indicators]
    malformed = [i for i in coming if not re.match(INDICATOR, i)]
    if malformed:
        problems.append(f"indicators {malformed} are not indicator ids (lower_snake_case: "
                        "letters, digits, underscores)")
    open_data = [i for i in coming if i not in malformed and reserved(i)]
    if open_data:
        problems.append(f"indicators {open_data} are open data, which needs no agreement")
    for other in others.to_dict("records"):
        taken = sorted(set(other["indicators"]) & set(out["indicators"]))
        if taken:
            problems.append(f"indicators {taken} already belong to the agreement {other['id']}; "
                            "each indicator belongs to exactly one agreement")
    if out.get("level") not in AGREEMENT_LEVELS:
        problems.append(f"level {out.get('level')!r} must be one of {AGREEMENT_LEVELS}")
    for key in ("start_date", "review_date", "expires"):
        out[key] = _date(out.get(key), key, problems)
    if out["expires"] is None and not any("expires" in p for p in problems):
        problems.append("an expiry date is required (--expires YYYY-MM-DD)")
    if out["start_date"] and out["expires"] and out["start_date"] > out["expires"]:
        problems.append("the agreement starts after it expires")
    out["status"] = out.get("status") or "active"
    if out["status"] not in STATUSES:
        problems.append(f"status {out['status']!r} must be one of {STATUSES}")
    out["purpose"] = str(out.get("purpose") or "")
    out["lawful_basis"] = str(out.get("lawful_basis") or "")
    if problems:
        raise FilterError(f"agreement {out.get('id', '')}".strip(), problems)
    return out


def awaiting(frame: pd.DataFrame, partner_indicators: set[str]) -> pd.Series:
    """Each agreement's indicators that have no data yet (a list per row of the
    register ``frame``): named when it was signed, before their first upload."""
    return frame["indicators"].map(lambda ids: [i for i in ids if i not in partner_indicators])


def near_misses(indicators, known: set[str]) -> list[str]:
    """Warnings for indicator ids that are not loaded but are close to one that is
    (``fire_delibrate`` beside ``fire_deliberate``): perhaps a typo."""
    out = []
    for ident in indicators:
        if ident in known:
            continue
        close = difflib.get_close_matches(ident, sorted(known), n=1, cutoff=0.8)
        if close:
            out.append(f"{ident!r} has no data yet and is close to the loaded indicator "
                       f"{close[0]!r}; check it is not a typo (it is kept as awaiting data)")
    return out


def _row(spec: dict) -> list:
    return [spec["title"], json.dumps(spec["parties"]), spec["purpose"], spec["lawful_basis"],
            json.dumps(spec["indicators"]), json.dumps(spec["roles"]), json.dumps(spec["orgs"]),
            spec["level"], spec["start_date"], spec["review_date"], spec["expires"],
            spec["status"]]


def add(spec: dict, partner_indicators: set[str], *, by: Viewer, path=None) -> dict:
    """Register a new agreement.

    Indicators not loaded yet are accepted, as awaiting data.

    Returns
    -------
    dict
        The agreement as registered, with ``awaiting`` (its indicators with no data
        yet) and ``warnings`` (those close to a loaded id: :func:`near_misses`).

    Raises
    ------
    FilterError
        Naming every problem (unknown roles, an indicator id that is malformed or open
        data, one already in another agreement, a bad date, an existing id).
    """
    existing = register(path)
    if spec.get("id") in set(existing["id"]):
        raise FilterError("agreement", f"{spec['id']!r} already exists; edit it instead")
    clean = _check(spec, partner_indicators, existing)
    governance.add_agreement(clean["id"], _row(clean), path)
    waiting = [i for i in clean["indicators"] if i not in partner_indicators]
    audit.record(by, "agreement", path, action="add", **_loggable(clean),
                 awaiting_data=waiting)
    return {**clean, "awaiting": waiting,
            "warnings": near_misses(clean["indicators"], partner_indicators)}


def update(agreement_id: str, changes: dict, partner_indicators: set[str], *, by: Viewer,
           path=None) -> dict:
    """Change an agreement's fields (status included); the change is audited."""
    existing = register(path)
    if agreement_id not in set(existing["id"]):
        raise FilterError("agreement", f"{agreement_id!r} is not in the register")
    current = existing.set_index("id").loc[agreement_id].to_dict()
    merged = {**current, **{k: v for k, v in changes.items() if k in FIELDS}, "id": agreement_id}
    clean = _check(merged, partner_indicators | set(current["indicators"]),
                   existing[existing["id"] != agreement_id])
    governance.update_agreement(agreement_id, _row(clean), path)
    changed = {k: clean[k] for k in FIELDS if str(clean[k]) != str(_norm(current.get(k)))}
    audit.record(by, "agreement", path, action="update", id=agreement_id,
                 changed=_loggable(changed))
    return clean


def _norm(value):
    if isinstance(value, pd.Timestamp):
        return value.date()
    return None if value is None or (not isinstance(value, list) and pd.isna(value)) else value


def _loggable(spec: dict) -> dict:
    return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in spec.items()}


def set_status(agreement_id: str, status: str, *, by: Viewer, path=None) -> dict:
    """Suspend, expire or re-activate an agreement."""
    return update(agreement_id, {"status": status}, set(), by=by, path=path)


def warnings(today: dt.date | None = None, path=None, frame: pd.DataFrame | None = None
             ) -> list[str]:
    """Agreements expired, or due for review or expiry within :data:`WARN_DAYS` days."""
    today = today or dt.date.today()
    out = []
    for ag in (register(path) if frame is None else frame).to_dict("records"):
        expires = pd.Timestamp(ag["expires"]).date()
        review = _norm(ag.get("review_date"))
        review = pd.Timestamp(review).date() if review is not None else None
        if ag["status"] != "active" or expires < today:
            state = ag["status"] if ag["status"] != "active" else "expired"
            out.append(f"{ag['id']} ({ag['title']}) is {state}: its data is hidden from "
                       "everyone but administrators.")
        elif (expires - today).days <= WARN_DAYS:
            out.append(f"{ag['id']} ({ag['title']}) expires on {expires:%d %B %Y}, in "
                       f"{(expires - today).days} days.")
        if review and ag["status"] == "active" and 0 <= (review - today).days <= WARN_DAYS:
            out.append(f"{ag['id']} ({ag['title']}) is due for review on {review:%d %B %Y}.")
        elif review and ag["status"] == "active" and review < today <= expires:
            out.append(f"{ag['id']} ({ag['title']}) was due for review on {review:%d %B %Y}.")
    return out
