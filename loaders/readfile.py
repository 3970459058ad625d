"""Read an uploaded or named partner file into a frame of text, defensively.

Every way a file can be unreadable gets a ``LoaderError`` naming the file:
too large (checked before reading), empty, a compression bomb inside an XLSX,
bytes that are not text, or a layout with no recognisable header. Text is kept
as strings; typing and checking happen in ``loaders.partner``.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from loaders.errors import LoaderError
from loaders.safety import looks_like_formula

MAX_BYTES = 50 * 1024 * 1024  # a partner file larger than this is refused unread
MAX_COLUMNS = 250  # wide files: 20 years of months, or many indicators; more is not a table
MAX_XLSX_RATIO = 100  # uncompressed / compressed; above this an XLSX is a bomb
HEADER_SEARCH_ROWS = 20  # title rows above the header that a spreadsheet may carry
DELIMITERS = ",;\t|"


@dataclass
class RawTable:
    """A file's cells as text, where its header was found, and notes on reading it."""

    frame: pd.DataFrame  # all cells as str ("" for empty)
    header_row: int  # 1-based line/row number of the header in the file
    notes: list[str] = field(default_factory=list)
    ragged: dict[int, str] = field(default_factory=dict)  # frame index -> why unusable

    def file_row(self, index: int) -> int:
        """The 1-based row number in the file of the frame's row ``index``."""
        return self.header_row + 1 + index


def normal(column: object) -> str:
    """A column name compared without case, spaces or punctuation: ``"LSOA code"`` ->
    ``lsoa_code``; a spreadsheet's ``"Sum of IndicatorValue"`` -> ``indicatorvalue``."""
    text = re.sub(r"^sum of\s+", "", str(column).strip().lower())
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")


def display_name(name: str) -> str:
    """A file name safe to show: the last path part, printable characters only, and
    never starting like a spreadsheet formula (it is shown in tables a user can
    download)."""
    base = re.split(r"[\\/]", str(name))[-1]
    clean = "".join(ch if ch.isprintable() else "?" for ch in base).strip()
    if looks_like_formula(clean):
        clean = "_" + clean
    return clean[:120] or "(unnamed file)"


def _decode(data: bytes, name: str, notes: list[str]) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        notes.append("the file starts with a UTF-8 byte-order mark; it was ignored")
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if b"\x00" in data[:4096]:
        raise LoaderError(name, "is not a text file (it contains NUL bytes); "
                          "upload CSV, XLSX or Parquet")
    # Spreadsheets saved on Windows are usually cp1252 (a superset of Latin-1 for text).
    try:
        text = data.decode("cp1252")
        notes.append("the file is not UTF-8; it was read as Windows-1252 (Latin-1)")
        return text
    except UnicodeDecodeError:
        text = data.decode("latin-1")
        notes.append("the file is not UTF-8; it was read as Latin-1")
        return text


def _gunzip(data: bytes, name: str, max_bytes: int) -> bytes:
    """Decompress gzip, stopping (refused) once the output passes ``max_bytes``."""
    out = bytearray()
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        for start in range(0, len(data), 1 << 16):
            out += d.decompress(data[start:start + (1 << 16)], max_bytes + 1 - len(out))
            if len(out) > max_bytes or d.unconsumed_tail:
                raise LoaderError(name, f"unpacks to more than {max_bytes:,} bytes; refused "
                                  "as too large or a compression bomb")
        out += d.flush()
    except zlib.error as err:
        raise LoaderError(name, f"looks gzip-compressed but cannot be unpacked: {err}") from err
    return bytes(out)


def _sniff_delimiter(text: str) -> str:
    sample = "\n".join(text.splitlines()[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        return ","


def _find_header(rows: pd.DataFrame, required: tuple[str, ...]) -> int | None:
    """Index of the first row that holds every required column name, or None."""
    wanted = {normal(c) for c in required}
    for i in range(min(HEADER_SEARCH_ROWS, len(rows))):
        if wanted <= {normal(c) for c in rows.iloc[i].tolist()}:
            return i
    return None


def _table(rows: pd.DataFrame, name: str, required: tuple[str, ...], notes: list[str],
           alternatives: tuple[tuple[str, ...], ...] = ()) -> RawTable:
    if rows.empty:
        raise LoaderError(name, "is empty: it has no header and no rows")
    if rows.shape[1] > MAX_COLUMNS:
        raise LoaderError(name, f"has {rows.shape[1]:,} columns; a partner file may have at "
                          f"most {MAX_COLUMNS} (one per month or per indicator). Split it, "
                          "or send it as one row per area, period and indicator")
    at = None
    for needed in (required, *alternatives):
        at = _find_header(rows, needed)
        if at is not None:
            break
    if at is None:
        # No known column name anywhere near the top: the first row is the header, and
        # how its columns are read is decided (and explained) by ``loaders.reading``.
        at = 0
    if at:
        notes.append(f"{at} title row(s) above the header were skipped")
    header = [str(c).strip() for c in rows.iloc[at].tolist()]
    # Names that differ only in case ("ward" and "Ward") are two columns; the reading
    # refuses such a pair only if it would have to choose between them.
    named = [c for c in header if c != "" and c.lower() != "nan"]
    repeated = sorted({c for c in named if named.count(c) > 1})
    if repeated:
        raise LoaderError(name, f"the header (row {at + 1}) repeats the columns {repeated}; "
                          "each column must appear once")
    width = sum(1 for c in header if c != "" and c.lower() != "nan")
    body = rows.iloc[at + 1:].reset_index(drop=True)
    body.columns = header
    keep = [c != "" and c.lower() != "nan" for c in header]
    extra = body.loc[:, [not k for k in keep]]
    body = body.loc[:, keep]
    # Rows that are entirely empty (trailing lines, spacer rows) are not data.
    blank = (body == "").all(axis=1) & (extra == "").all(axis=1)
    ragged = {int(i): f"has more cells than the header's {width} columns"
              for i in body.index[(extra != "").any(axis=1) & ~blank]}
    body = body[~blank]
    return RawTable(frame=body, header_row=at + 1, notes=notes, ragged=ragged)


def _xlsx(data: bytes, name: str, required: tuple[str, ...], notes: list[str],
          alternatives: tuple[tuple[str, ...], ...]) -> RawTable:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            unpacked = sum(i.file_size for i in z.infolist())
    except zipfile.BadZipFile as err:
        raise LoaderError(name, f"looks like an XLSX file but cannot be opened: {err}") from err
    if unpacked > MAX_BYTES or unpacked > MAX_XLSX_RATIO * max(len(data), 1):
        raise LoaderError(name, f"unpacks to {unpacked:,} bytes from {len(data):,}; refused as "
                          "a possible compression bomb")
    try:
        sheets = pd.read_excel(io.BytesIO(data), sheet_name=None, header=None, dtype=str,
                               engine="openpyxl")
    except Exception as err:  # openpyxl raises many types for damaged workbooks
        raise LoaderError(name, f"cannot be read as a workbook: {err}") from err
    for sheet, rows in sheets.items():
        rows = rows.fillna("")
        if _find_header(rows, required) is not None or any(
                _find_header(rows, alt) is not None for alt in alternatives):
            if len(sheets) > 1:
                notes.append(f"read the sheet '{sheet}'")
            return _table(rows, name, required, notes, alternatives)
    first = next(iter(sheets.values())).fillna("") if sheets else pd.DataFrame()
    return _table(first, name, required, notes, alternatives)


def peek_header(path: Path) -> list[str]:
    """The first line's column names of a (possibly gzipped) text file; [] if not text."""
    with path.open("rb") as f:
        head = f.read(8192)
    if head[:2] == b"\x1f\x8b":
        try:
            head = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, 8192)
        except zlib.error:
            return []
    try:
        line = head.decode("utf-8-sig").splitlines()[0]
    except (UnicodeDecodeError, IndexError):
        return []
    return [c.strip().strip('"') for c in next(csv.reader([line]))]


def read_partner_table(path: Path, name: str | None = None,
                       required: tuple[str, ...] = ("area_code",),
                       alternatives: tuple[tuple[str, ...], ...] = (),
                       max_bytes: int = MAX_BYTES) -> RawTable:
    """Read CSV, XLSX or Parquet into text cells, finding the header row.

    Parameters
    ----------
    path : Path
        The file.
    name : str, optional
        The name to report (an upload's original name); ``path.name`` by default.
    required : tuple of str
        Lower-case column names the header row must contain.
    alternatives : tuple of tuple of str
        Other header signatures that also identify a usable file (police.uk).
    max_bytes : int
        Files larger than this are refused before being read.

    Raises
    ------
    LoaderError
        Naming the file and why it cannot be read.
    """
    name = display_name(name or path.name)
    size = path.stat().st_size
    if size > max_bytes:
        raise LoaderError(name, f"is {size:,} bytes, over the {max_bytes:,}-byte limit; "
                          "split it or ask an administrator to raise the limit")
    if size == 0:
        raise LoaderError(name, "is empty (0 bytes)")
    data = path.read_bytes()
    notes: list[str] = []
    if data[:2] == b"\x1f\x8b":
        data = _gunzip(data, name, max_bytes)
        notes.append("the file was gzip-compressed")
    if data[:4] == b"PK\x03\x04":
        return _xlsx(data, name, required, notes, alternatives)
    if data[:4] == b"PAR1":
        try:
            frame = pd.read_parquet(io.BytesIO(data))
        except Exception as err:  # pyarrow raises several error types
            raise LoaderError(name, f"cannot be read as Parquet: {err}") from err
        frame = frame.astype(str).replace({"None": "", "nan": "", "<NA>": ""})
        rows = pd.concat([pd.DataFrame([frame.columns.tolist()]),
                          pd.DataFrame(frame.values)], ignore_index=True)
        return _table(rows, name, required, notes, alternatives)
    text = _decode(data, name, notes)
    if not text.strip():
        raise LoaderError(name, "is empty: it holds only white space")
    delimiter = _sniff_delimiter(text)
    if delimiter != ",":
        notes.append(f"columns are separated by {delimiter!r}, not commas")
    try:
        lines = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as err:
        raise LoaderError(name, f"cannot be read as CSV: {err}") from err
    width = max((len(r) for r in lines), default=0)
    rows = pd.DataFrame([r + [""] * (width - len(r)) for r in lines], dtype=str)
    return _table(rows, name, required, notes, alternatives)
