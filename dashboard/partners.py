"""Partner uploads from the Data page: the same ingest as ``python -m loaders ingest``."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd

from dashboard.access import AccessDenied, Viewer
from loaders import details as catalogue_details
from loaders.fields import for_form
from loaders.ingest import Report, Uploader, delete_indicator, ingest, quarantine_csv
from loaders.readfile import display_name
from store import Store


def may_upload(viewer: Viewer) -> bool:
    """Whether the viewer may load partner files (see :func:`uploader`)."""
    return viewer.rules.upload and (viewer.rules.administer or bool(viewer.org))


def uploader(viewer: Viewer) -> Uploader:
    """The viewer as an uploader: a steward for their own organisation only.

    Raises
    ------
    AccessDenied
        If the viewer's role may not upload, or a steward has no organisation.
    """
    role = viewer.rules
    if not role.upload:
        raise AccessDenied("upload", f"a {role.title} cannot load partner files; data "
                           "stewards load their own organisation's files")
    if not may_upload(viewer):
        raise AccessDenied("upload", "your account has no organisation; ask an "
                           "administrator to set one")
    return Uploader(name=viewer.name, role=viewer.role,
                    org=None if role.administer else viewer.org, may_set_k=role.administer)


CHOICES = ("code", "period", "indicator", "value", "breakdown", "date_order")
DATE_ORDERS = {"day-first": "day first (UK: 11/03/2019 is 11 March)",
               "month-first": "month first (US: 11/03/2019 is 3 November)"}


def on_page(message: str) -> str:
    """A loader message as the upload form says it: a choice is named by its field
    ('Date column'), not by a command-line option."""
    return for_form(message)


def ingest_upload(store: Store, data: bytes, name: str, *, viewer: Viewer,
                  partner: str | None = None, meta: bytes | None = None,
                  meta_name: str = "meta.toml", replace: bool = False,
                  choices: dict | None = None, dry_run: bool = False,
                  details: dict[str, dict] | None = None) -> Report:
    """Validate an uploaded file and load its good rows into the store, as ``viewer``.

    The upload is written to a private temporary folder under a fixed name, so
    nothing the browser sends as a file name is used as a path. A steward's files
    are their organisation's, whatever the form or the file says. ``choices``
    (:data:`CHOICES`, as the command line's options) say how to read the file;
    with ``dry_run`` the file is read and checked and nothing is written.
    ``details`` are the unit and polarity the preview asked for each new indicator.
    """
    choices = {k: v for k, v in (choices or {}).items() if k in CHOICES and v}
    who = uploader(viewer)
    with tempfile.TemporaryDirectory(prefix="oda-upload-") as tmp:
        path = Path(tmp) / "upload"
        path.write_bytes(data)
        meta_path = None
        if meta:
            suffix = ".json" if meta_name.lower().endswith(".json") else ".toml"
            meta_path = Path(tmp) / f"meta{suffix}"
            meta_path.write_bytes(meta)
        with store.writing() as store_file:
            return ingest(path, name=display_name(name), partner=partner or None,
                          meta=meta_path, store=store_file, uploader=who, replace=replace,
                          governance_file=store.governance, dry_run=dry_run,
                          details=details, **choices)


def roles_table(report: Report) -> pd.DataFrame:
    """Each column of the file and how it is read, for the steward to check."""
    r = report.reading
    said: dict[str, str] = {}
    for role, label in (("code", "ward names" if r.get("names") else "area code"),
                        ("period", "date" if r.get("kind") == "incidents" else "period"),
                        ("indicator", "indicator"),
                        ("lower", "lower 95% limit"), ("upper", "upper 95% limit")):
        if r.get(role):
            said[r[role]] = label
    for col in r.get("position") or []:
        said[col] = ("ward names" if col == (r.get("position") or [None])[0] else "district") \
            if r.get("kind") == "incidents" and r.get("names") else "position"
    for col in r.get("date_parts") or []:
        said[col] = "date (year, month, day)"
    for col in r.get("value") or []:
        said[col] = ("category" if r.get("kind") == "incidents" else
                     "period (a column per period)" if r.get("wide_periods") else "value")
    for col in r.get("breakdown") or []:
        said[col] = "breakdown"
    columns = r.get("columns") or list(said)
    rows = [{"column": c, "read as": said.get(c, "not read")} for c in columns]
    fixed = [(role, r[role]) for role in ("period", "indicator")
             if r.get(role) and r[role] not in columns]
    rows += [{"column": f"(none: given for the file) {value}", "read as": role}
             for role, value in fixed]
    return pd.DataFrame(rows, columns=["column", "read as"])


def may_edit(viewer: Viewer, catalogue: pd.DataFrame) -> pd.DataFrame:
    """The partner indicators of ``catalogue`` whose details the viewer may change: an
    administrator's any, a steward's their organisation's."""
    if not may_upload(viewer):
        return catalogue.iloc[0:0]
    mine = catalogue["origin"].eq("partner")
    if not viewer.rules.administer:
        mine &= catalogue["partner"].eq(viewer.org)
    return catalogue[mine]


def edit_details(store: Store, indicator: str, wanted: dict, *, viewer: Viewer) -> dict:
    """Change an indicator's catalogue details as the viewer (audited); return what
    changed, ``{key: (before, after)}``."""
    who = uploader(viewer)
    with store.writing() as store_file:
        return catalogue_details.change(indicator, wanted, actor=who.name, role=who.role,
                                        org=who.org, may_set_k=who.may_set_k,
                                        store=store_file, governance_file=store.governance)


def delete(store: Store, indicator: str, *, viewer: Viewer) -> int:
    """Delete a partner indicator and its figures (administrators only; audited)."""
    if not viewer.rules.administer:
        raise AccessDenied("indicator", "only an administrator may delete an indicator")
    with store.writing() as store_file:
        return delete_indicator(indicator, store=store_file, uploader=uploader(viewer),
                                governance_file=store.governance)


__all__ = ["CHOICES", "DATE_ORDERS", "Report", "delete", "edit_details", "may_edit",
           "may_upload", "ingest_upload", "on_page", "quarantine_csv", "roles_table",
           "uploader"]
