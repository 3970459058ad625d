"""Partner uploads from the Data page: the same ingest as ``python -m loaders ingest``."""

from __future__ import annotations

import tempfile
from pathlib import Path

from dashboard.store import Store
from loaders.ingest import Report, ingest, quarantine_csv
from loaders.readfile import display_name


def ingest_upload(store: Store, data: bytes, name: str, *, partner: str | None = None,
                  meta: bytes | None = None, meta_name: str = "meta.toml") -> Report:
    """Validate an uploaded file and load its good rows into the store.

    The upload is written to a private temporary folder under a fixed name, so
    nothing the browser sends as a file name is used as a path.
    """
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
                          meta=meta_path, store=store_file)


__all__ = ["Report", "ingest_upload", "quarantine_csv"]
