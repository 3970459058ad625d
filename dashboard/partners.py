"""Partner uploads from the Data page: the same ingest as ``python -m loaders ingest``."""

from __future__ import annotations

import tempfile
from pathlib import Path

from dashboard.access import AccessDenied, Viewer
from dashboard.store import Store
from loaders.ingest import Report, Uploader, delete_indicator, ingest, quarantine_csv
from loaders.readfile import display_name


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


def ingest_upload(store: Store, data: bytes, name: str, *, viewer: Viewer,
                  partner: str | None = None, meta: bytes | None = None,
                  meta_name: str = "meta.toml", replace: bool = False) -> Report:
    """Validate an uploaded file and load its good rows into the store, as ``viewer``.

    The upload is written to a private temporary folder under a fixed name, so
    nothing the browser sends as a file name is used as a path. A steward's files
    are their organisation's, whatever the form or the file says.
    """
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
                          governance_file=store.governance)


def delete(store: Store, indicator: str, *, viewer: Viewer) -> int:
    """Delete a partner indicator and its figures (administrators only; audited)."""
    if not viewer.rules.administer:
        raise AccessDenied("indicator", "only an administrator may delete an indicator")
    with store.writing() as store_file:
        return delete_indicator(indicator, store=store_file, uploader=uploader(viewer),
                                governance_file=store.governance)


__all__ = ["Report", "delete", "may_upload", "ingest_upload", "quarantine_csv", "uploader"]
