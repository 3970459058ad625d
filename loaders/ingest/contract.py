"""What a load promises, and to whom: the file's report, who loads it, the one way a
file is refused, and the contract's fixed rules (required columns, catalogue keys and
their defaults, limits)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

import pandas as pd

from loaders import details as dtl
from loaders import reading as rd
from loaders.errors import LoaderError
from loaders.fields import for_cli

REQUIRED = ("area_code",)

POLICE_HEADER = ("month", "lsoa_code", "crime_type")

# Other header rows a partner table may have: police.uk's, or any area code column.
HEADERS = (POLICE_HEADER, *((name,) for name in rd.CODE_NAMES))

META_KEYS = {"title", "partner", "unit", "polarity", "denominator", "suppression_k", "licence",
             "source", "description", "agreement", "coverage"}

DEFAULTS = {"unit": "count", "polarity": dtl.UNSTATED_POLARITY, "denominator": "population",
            "suppression_k": 5, "licence": "partner data, not for onward publication"}

NEGATIVE_UNITS = dtl.NEGATIVE_UNITS

UNITS = dtl.UNITS

POLARITIES = dtl.POLARITIES

MAX_INDICATORS = 50  # per file; more is almost always a wide file read the wrong way

MAX_K = dtl.MAX_K


@dataclass
class Report:
    """What happened to one file: the CLI's JSON report and the Data page's summary."""

    file: str
    sha256: str = ""
    partner: str = ""
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_suppressed: int = 0  # loaded as cells the partner hid ("under 5")
    refused: bool = False
    reason: str = ""
    already_loaded: bool = False
    replaced_rows: int = 0
    indicators: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # What the steward should look at before trusting the figures (one position
    # holding an unusual share of an incident file's incidents).
    warnings: list[str] = field(default_factory=list)
    matches: list[dict] = field(default_factory=list)  # ward names matched to codes
    quarantine: list[dict] = field(default_factory=list)
    # How the file was read: its kind ("table", "incidents", "police.uk"), its
    # columns, and the column taken for each role, for the steward to change.
    reading: dict = field(default_factory=dict)
    dry_run: bool = False  # read and checked only; nothing was written
    # Indicators the file brings that the catalogue does not have yet, each with the
    # details it would be catalogued with and which of them were stated (the rest are
    # defaults): the preview asks for the unit and polarity of each.
    new_indicators: list[dict] = field(default_factory=list)
    # Catalogue details the load changed: {indicator: {key: [before, after]}}.
    details_changed: dict = field(default_factory=dict)

    def to_json(self) -> str:
        """The report as JSON (``rows_read``, ``rows_loaded``, ``quarantine``...), its
        messages naming choices as the command line's options (``--period COLUMN``)."""
        out = asdict(self)
        out["reason"] = for_cli(self.reason)
        for key in ("notes", "warnings"):
            out[key] = [for_cli(n) for n in out[key]]
        return json.dumps(out, indent=2, default=str)

    def summary(self) -> str:
        """One line for the command line and the ingest log."""
        if self.refused:
            return f"{self.file}: refused: {for_cli(self.reason)}"
        if self.already_loaded and self.details_changed:
            return (f"{self.file}: already loaded (same contents); catalogue details "
                    f"changed for {', '.join(sorted(self.details_changed))}")
        if self.already_loaded:
            return f"{self.file}: already loaded (same contents); nothing changed"
        if self.dry_run:
            hidden = f", {self.rows_suppressed} hidden by the partner" \
                if self.rows_suppressed else ""
            return (f"{self.file}: {self.rows_read} rows read; {self.rows_loaded} would load"
                    f"{hidden}, {self.rows_quarantined} would be quarantined")
        hidden = (f", {self.rows_suppressed} hidden by the partner" if self.rows_suppressed
                  else "")
        return (f"{self.file}: {self.rows_read} rows read, {self.rows_loaded} loaded"
                f"{hidden}, {self.rows_quarantined} quarantined")

@dataclass(frozen=True)
class Uploader:
    """Who loads a file: their name and role for the audit log, the organisation a
    data steward uploads for (forced as the partner), and whether they may set
    catalogue entries' suppression threshold (administrators only)."""

    name: str = "operator"
    role: str = "administrator"
    org: str | None = None
    may_set_k: bool = True

OPERATOR = Uploader()

class Refused(Exception):  # noqa: N818 - a refusal is an answer, not a fault
    """A file refused whole, with the one reason its report gives. Any step (parse,
    check, write) raises it; :func:`loaders.ingest.ingest` alone turns it into the
    report's ``refused`` and ``reason``, so nothing written before it stays."""

    def __init__(self, reason: str | LoaderError | Refused):
        if isinstance(reason, Refused):
            reason = reason.reason
        elif isinstance(reason, LoaderError):
            reason = "; ".join(reason.problems)
        super().__init__(reason)
        self.reason = reason


def count_of(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")

def quarantine_csv(report: Report) -> bytes:
    """The report's quarantine as CSV (formula-like text neutralised)."""
    from loaders.safety import neutralise_formulae
    frame = pd.DataFrame(report.quarantine, columns=["row", "column", "reason"])
    return neutralise_formulae(frame).to_csv(index=False).encode("utf-8")
