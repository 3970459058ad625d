"""Ingest one partner file into the store, with a report that names every problem.

``python -m loaders ingest FILE [--partner NAME] [--meta META] [--store PATH]
[--report PATH.json]`` and the Data page both call :func:`ingest`. A file is
either refused whole (with one reason) or loaded: its good rows go into the
store and every other row into the quarantine with its row, column and reason.
Loading the same bytes twice changes nothing; a corrected version of a source
(same file name and partner) replaces that source's earlier rows, and the
ingest log keeps both events.

A load is three steps in one transaction: :mod:`~loaders.ingest.parse` (the file's
layout into tidy rows), :mod:`~loaders.ingest.check` (which rows may load) and
:mod:`~loaders.ingest.write` (into the store). Any step refuses a file by raising
:class:`~loaders.ingest.contract.Refused`, and :func:`ingest` alone turns that into the
report, so a refusal is recorded and audited the same way wherever it arises.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import store as db
from loaders import partner as pt
from loaders import policeuk
from loaders import reading as rd
from loaders.errors import LoaderError
from loaders.fields import for_cli
from loaders.ingest.check import RESERVED_PREFIXES, check, reserved
from loaders.ingest.contract import (
    DEFAULTS,
    HEADERS,
    MAX_INDICATORS,
    MAX_K,
    META_KEYS,
    NEGATIVE_UNITS,
    OPERATOR,
    POLARITIES,
    POLICE_HEADER,
    REQUIRED,
    UNITS,
    Refused,
    Report,
    Uploader,
    quarantine_csv,
)
from loaders.ingest.parse import known_codes, meta_problems, parse, read_meta, roles
from loaders.ingest.write import already_loaded, delete_indicator, write
from loaders.readfile import MAX_BYTES, RawTable, display_name, peek_header, read_partner_table
from store import governance, loads

__all__ = ["DEFAULTS", "HEADERS", "MAX_INDICATORS", "MAX_K", "META_KEYS", "NEGATIVE_UNITS",
           "OPERATOR", "POLARITIES", "POLICE_HEADER", "REQUIRED", "RESERVED_PREFIXES",
           "UNITS", "Refused", "Report", "Uploader", "delete_indicator", "ingest",
           "known_codes", "quarantine_csv", "read_meta", "reserved", "roles"]


def ingest(path: str | Path, *, name: str | None = None, partner: str | None = None,
           meta: str | Path | None = None, store: str | Path | None = None,
           max_bytes: int = MAX_BYTES, first_year: int = pt.FIRST_YEAR,
           today: dt.date | None = None, agreement: str | None = None,
           uploader: Uploader = OPERATOR, replace: bool = False,
           governance_file: str | Path | None = None, code: str | None = None,
           period: str | None = None, indicator: str | None = None,
           value: str | None = None, breakdown: str | None = None,
           date_order: str | None = None, reading: rd.Reading | None = None,
           dry_run: bool = False, details: dict[str, dict] | None = None) -> Report:
    """Validate one partner file and load its good rows into the store.

    Parameters
    ----------
    path : path-like
        The file (CSV, XLSX, Parquet, or a police.uk street-level CSV).
    name : str, optional
        The name to record (an upload's original file name).
    partner : str, optional
        The partner, where the file has no ``partner`` column.
    meta : path-like, optional
        A catalogue sidecar for new indicators (TOML or JSON).
    store : path-like, optional
        The store file.
    agreement : str, optional
        The information-sharing agreement the file's indicators belong to; it must
        be in the register, and the indicators are assigned to it.
    uploader : Uploader
        Who loads the file (the operator by default). A steward's organisation is
        the partner of every row; rows naming another partner are quarantined.
    replace : bool
        Allow a file with the same name and partner as an earlier one to replace
        that file's rows. Without it such a file is refused.
    governance_file : path-like, optional
        The governance register (agreements, audit); beside the store by default.
    code, period, indicator, value, breakdown : str, optional
        How to read the file where it does not say (``loaders.reading.infer``): the
        area code column, a period column or the period of the whole file
        (``2024-04:2026-04``), an indicator column or id, the value column(s), the
        breakdown columns (or ``none``).
    date_order : {"day-first", "month-first"}, optional
        In an incident list, the order of day and month in dates written as numbers
        (``11/03/2019``); read from the dates themselves when None.
    reading : Reading, optional
        A reading already settled; overrides the five above.
    dry_run : bool
        Read, check and report as a load would, then roll back: nothing is written
        and nothing is audited (the Partner data page's "see before you load").
    details : dict, optional
        Catalogue details by indicator, ``{id: {"unit": ..., "polarity": ...}}``, as
        the upload preview asks them; they take precedence over ``meta``. Details of
        an indicator already catalogued change its entry (audited with the upload),
        even when the file itself was loaded before.

    Returns
    -------
    Report
        ``refused`` is set, with ``reason``, when nothing could be loaded.
    """
    path = Path(path)
    report = Report(file=display_name(name or path.name))
    gov = db.governance_path(governance_file, store=store)
    catalogued: set[str] = set()
    try:
        meta_map = read_meta(Path(meta) if meta else None)
        for ident, given in (details or {}).items():
            given = {k: v for k, v in given.items() if v not in (None, "")}
            found = meta_problems(ident, given)
            if found:
                raise LoaderError("details", found)
            meta_map[ident] = {**meta_map.get(ident, {}), **given}
        size = path.stat().st_size if path.exists() else -1
        if size < 0:
            raise LoaderError(report.file, "does not exist")
        if size <= max_bytes:
            report.sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
        # A police.uk file goes straight to its adapter, which reads it faster than the
        # general reader; anything else is read (and checked) as a partner table.
        raw = None if size <= max_bytes and policeuk.is_policeuk_header(peek_header(path)) \
            else read_partner_table(path, report.file, REQUIRED, HEADERS, max_bytes)
        if agreement is not None and agreement not in governance.agreement_ids(gov):
            raise LoaderError("--agreement", f"{agreement!r} is not in the agreements register")
        if raw is not None:
            report.reading["columns"] = [str(c) for c in raw.frame.columns]
        if uploader.org:
            if partner and partner != uploader.org:
                raise LoaderError("partner", f"you upload for {uploader.org}, not {partner}; "
                                  "a data steward loads their own organisation's files only")
            partner = uploader.org
        if not uploader.may_set_k and any("suppression_k" in m for m in meta_map.values()):
            meta_map = {i: {k: v for k, v in m.items() if k != "suppression_k"}
                        for i, m in meta_map.items()}
            report.notes.append("suppression_k in the catalogue details was ignored: only an "
                                "administrator sets a suppression threshold (new indicators "
                                f"get k = {DEFAULTS['suppression_k']})")
        report.notes += raw.notes if raw else []
        catalogued = _load(path, raw, report, store=store, partner=partner,
                           meta_map=meta_map, first_year=first_year, today=today,
                           agreement=agreement, uploader=uploader, replace=replace,
                           reading=reading, dry_run=dry_run,
                           choices={"code": code, "period": period, "indicator": indicator,
                                    "value": value, "breakdown": breakdown,
                                    "date_order": date_order})
    except (LoaderError, Refused) as err:  # the one refusal path: nothing was written
        report.refused, report.reason = True, Refused(err).reason
    report.dry_run = dry_run
    if dry_run:  # read and checked only: nothing written, nothing audited
        return report
    if not report.refused and not report.already_loaded:
        if agreement:
            try:
                governance.assign(agreement, report.indicators, gov)
            except LoaderError as err:
                report.notes.append(f"not assigned to {agreement}: {err.problems[0]}")
        _bind_awaiting(gov, uploader, report, set(report.indicators) - catalogued)
    _audit_upload(gov, uploader, report, agreement)
    return report


def _load(path: Path, raw: RawTable | None, report: Report, *, store, meta_map: dict,
          dry_run: bool, **how) -> set[str]:
    """Parse, check and write the file in one transaction, so two loads at once (the
    same file, or files of one indicator) take turns and never both pass; a dry run
    rolls back. Returns the indicators catalogued before, to tell a first arrival."""
    con = db.connect(db.store_target(store), purpose=f"loading {report.file}")
    try:
        with con.transaction():
            catalogued = loads.catalogued(con)
            if not already_loaded(con, report, meta_map, how["uploader"]):
                rows = parse(con, path, raw, report, partner=how["partner"],
                             meta_map=meta_map, reading=how["reading"],
                             choices=how["choices"])
                rows = check(con, rows, report, meta_map=meta_map,
                             first_year=how["first_year"], today=how["today"],
                             uploader=how["uploader"])
                write(con, rows, report, meta_map=meta_map, agreement=how["agreement"],
                      uploader=how["uploader"], replace=how["replace"])
            if dry_run:
                raise _RollBack
    except _RollBack:
        pass
    finally:
        con.close()
    return catalogued


class _RollBack(Exception):  # noqa: N818 - not an error: a dry run's way out
    """Leaves a dry run's transaction without writing."""

def _bind_awaiting(gov, uploader: Uploader, report: Report, arrived: set[str]) -> None:
    """Indicators arriving for the first time that an agreement already names (signed
    before the data flowed): the agreement applies to them from now on, with no further
    step; the report says so and the audit log records the binding."""
    if not arrived:
        return
    for ag in governance.agreements(gov).to_dict("records"):
        bound = sorted(arrived & set(ag["indicators"]))
        if not bound:
            continue
        report.notes.append(f"{', '.join(bound)} arrived under the agreement {ag['id']} "
                            "(registered before the data): it applies to them now")
        governance.append_audit(uploader.name, uploader.role, "agreement", {
            "action": "bind", "id": ag["id"], "indicators": bound, "file": report.file},
            path=gov)

def _audit_upload(gov, uploader: Uploader, report: Report, agreement: str | None) -> None:
    """Record an upload (or its refusal) in the audit log."""
    governance.append_audit(uploader.name, uploader.role, "upload", {
        "file": report.file, "sha256": report.sha256, "partner": report.partner,
        "rows_read": report.rows_read, "rows_loaded": report.rows_loaded,
        "rows_quarantined": report.rows_quarantined, "refused": report.refused,
        "reason": for_cli(report.reason), "replaced_rows": report.replaced_rows,
        "already_loaded": report.already_loaded, "indicators": report.indicators,
        "agreement": agreement, "details_changed": report.details_changed}, path=gov)
