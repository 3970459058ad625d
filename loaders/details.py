"""An indicator's catalogue details: its unit and polarity above all, since they decide
what a reader is told (which ward "fares best", which colour is worse).

One place says which units and polarities there are, checks a set of details, and
changes a catalogued indicator's details, audited: the upload preview, the catalogue
details file of ``python -m loaders ingest --meta``, ``python -m loaders details`` and
the Partner data page's editor all come here.
"""

from __future__ import annotations

import store as db
from loaders.errors import LoaderError
from loaders.safety import looks_like_formula
from store import governance, loads

# The kinds of figure partners publish. Only a count adds up; a unit that can be
# below zero says so (a score, a change).
UNITS = ("count", "rate", "rate per 1,000", "rate per 100,000", "proportion", "percent",
         "score", "rank", "ratio", "change", "years", "days", "minutes", "hours", "pounds",
         "index")
NEGATIVE_UNITS = {"score", "change", "index"}
UNIT_HELP = ("a count adds up across areas and months; every other unit is averaged or "
             "shown as published")
# Which way is need: higher figures worse (crime, admissions), lower figures worse
# (life expectancy, a deprivation rank where 1 is most deprived), or neither (a
# figure with no better or worse, such as a population share): shown as higher or
# lower, never as better or worse.
POLARITIES = ("high_is_bad", "low_is_bad", "no_judgement")
POLARITY_LABELS = {"high_is_bad": "Higher is worse", "low_is_bad": "Lower is worse",
                   "no_judgement": "Neither: no better or worse"}
# What a new indicator gets when nobody says: never a judgement nobody made.
UNSTATED_POLARITY = "no_judgement"
# What a catalogue entry's editor may change (the suppression threshold only as an
# administrator).
EDITABLE = ("title", "unit", "polarity", "description", "source", "licence",
            "suppression_k")
TEXT_KEYS = ("title", "description", "source", "licence")
MAX_K = 100


def problems(entry: dict, where: str = "details", text_keys=TEXT_KEYS) -> list[str]:
    """What is wrong with a set of details (``unit``, ``polarity``, ``suppression_k``
    and the ``text_keys``); an empty list when nothing is."""
    out = []
    if "unit" in entry and entry["unit"] not in UNITS:
        out.append(f"{where} unit was {entry['unit']!r}; it must be one of {list(UNITS)}")
    if "polarity" in entry and entry["polarity"] not in POLARITIES:
        out.append(f"{where} polarity was {entry['polarity']!r}; it must be one of "
                   f"{list(POLARITIES)}")
    if "suppression_k" in entry:
        k = entry["suppression_k"]
        if isinstance(k, bool) or not isinstance(k, int) or not 0 <= k <= MAX_K:
            out.append(f"{where} suppression_k was {k!r}; it must be a whole number from 0 "
                       f"to {MAX_K}")
    for key in text_keys:
        if key in entry and not isinstance(entry[key], str):
            out.append(f"{where} {key} must be text, not {type(entry[key]).__name__}")
        elif key in entry and looks_like_formula(entry[key].strip()):
            # Catalogue text reaches tables whose own download a spreadsheet opens.
            out.append(f"{where} {key} starts like a spreadsheet formula "
                       f"({entry[key][:20]!r}); remove the leading =, +, - or @")
    if "title" in entry and isinstance(entry["title"], str) and not entry["title"].strip():
        out.append(f"{where} title is empty")
    return out


def differences(current: dict, wanted: dict) -> dict[str, tuple]:
    """``{key: (before, after)}`` for each editable key ``wanted`` changes."""
    return {k: (current.get(k), v) for k, v in wanted.items()
            if k in EDITABLE and v is not None and current.get(k) != v}


def apply(con: db.Connection, indicator: str, wanted: dict) -> dict[str, tuple]:
    """Change a catalogued partner indicator's details inside a load's transaction;
    return what changed. A change of unit to or from a count changes whether the
    indicator adds up.

    Raises
    ------
    LoaderError
        If the indicator is not a partner indicator of the catalogue, or a detail is
        wrong.
    """
    found = problems(wanted, f"[{indicator}]")
    if found:
        raise LoaderError("details", found)
    current = loads.catalogue_entry(con, indicator)
    if current is None:
        raise LoaderError("indicator", f"{indicator!r} is not in the catalogue")
    if current["origin"] != "partner":
        raise LoaderError("indicator", f"{indicator} is open data; its details come from "
                          "config/catalogue.toml and are rebuilt with it")
    changed = differences(current, wanted)
    if changed:
        values = {k: after for k, (_, after) in changed.items()}
        if "unit" in values:
            values["additive"] = values["unit"] == "count"
        loads.update_catalogue(con, indicator, values)
    return changed


def describe(changed: dict[str, tuple]) -> str:
    """``unit: rate → years; polarity: higher is worse → lower is worse``."""
    def said(key: str, value) -> str:
        return POLARITY_LABELS.get(value, value).lower() if key == "polarity" else str(value)
    return "; ".join(f"{k}: {said(k, before)} → {said(k, after)}"
                     for k, (before, after) in changed.items())


def change(indicator: str, wanted: dict, *, actor: str, role: str, org: str | None = None,
           may_set_k: bool = True, store: str | None = None,
           governance_file: str | None = None) -> dict[str, tuple]:
    """Change a catalogued partner indicator's details, without a new upload; the
    change, before and after, goes to the audit log. A data steward (``org``) changes
    their own organisation's indicators only.

    Raises
    ------
    LoaderError
        If the indicator is unknown, open data or another organisation's, a detail is
        wrong, or a steward sets the suppression threshold.
    """
    wanted = {k: v for k, v in wanted.items() if v is not None}
    unknown = sorted(set(wanted) - set(EDITABLE))
    if unknown:
        raise LoaderError("details", f"cannot change {unknown}; the details that can be "
                          f"changed are {list(EDITABLE)}")
    if "suppression_k" in wanted and not may_set_k:
        raise LoaderError("suppression_k", "only an administrator sets a suppression "
                          "threshold")
    con = db.connect(db.store_target(store), purpose=f"changing {indicator}'s details")
    try:
        with con.transaction():
            current = loads.catalogue_entry(con, indicator)
            if current is not None and org and current["partner"] != org:
                raise LoaderError("indicator", f"{indicator} is {current['partner']}'s; a "
                                  "data steward changes their own organisation's "
                                  "indicators only")
            changed = apply(con, indicator, wanted)
    finally:
        con.close()
    if changed:
        governance.append_audit(actor, role, "catalogue", {
            "action": "change details", "indicator": indicator,
            "changes": {k: {"before": b, "after": a} for k, (b, a) in changed.items()}},
            path=db.governance_path(governance_file, store=store))
    return changed
