"""Ingest one partner file into the store, with a report that names every problem.

``python -m loaders ingest FILE [--partner NAME] [--meta META] [--store PATH]
[--report PATH.json]`` and the Data page both call :func:`ingest`. A file is
either refused whole (with one reason) or loaded: its good rows go into the
store and every other row into the quarantine with its row, column and reason.
Loading the same bytes twice changes nothing; a corrected version of a source
(same file name and partner) replaces that source's earlier rows, and the
ingest log keeps both events.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import tomllib
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from loaders import partner as pt
from loaders import policeuk
from loaders.config import store_path
from loaders.errors import LoaderError
from loaders.readfile import MAX_BYTES, display_name, peek_header, read_partner_table

REQUIRED = ("area_code",)
POLICE_HEADER = ("month", "lsoa code", "crime type")
META_KEYS = {"title", "partner", "unit", "polarity", "denominator", "suppression_k", "licence",
             "source", "description", "agreement"}
DEFAULTS = {"unit": "count", "polarity": "high_is_bad", "denominator": "population",
            "suppression_k": 5, "licence": "partner data, not for onward publication"}
NEGATIVE_UNITS = {"score", "change"}


@dataclass
class Report:
    """What happened to one file: the CLI's JSON report and the Data page's summary."""

    file: str
    sha256: str = ""
    partner: str = ""
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    refused: bool = False
    reason: str = ""
    already_loaded: bool = False
    replaced_rows: int = 0
    indicators: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    quarantine: list[dict] = field(default_factory=list)

    def to_json(self) -> str:
        """The report as JSON (``rows_read``, ``rows_loaded``, ``quarantine``...)."""
        return json.dumps(asdict(self), indent=2, default=str)

    def summary(self) -> str:
        """One line for the command line and the ingest log."""
        if self.refused:
            return f"{self.file}: refused: {self.reason}"
        if self.already_loaded:
            return f"{self.file}: already loaded (same contents); nothing changed"
        return (f"{self.file}: {self.rows_read} rows read, {self.rows_loaded} loaded, "
                f"{self.rows_quarantined} quarantined")


def read_meta(path: Path | None) -> dict[str, dict]:
    """Read a catalogue sidecar (TOML or JSON): ``{indicator: {title: ..., ...}}``.

    A file with the keys at top level applies them to every indicator in the file.
    """
    if path is None:
        return {}
    try:
        text = path.read_text(encoding="utf-8-sig")
        meta = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (OSError, ValueError, tomllib.TOMLDecodeError) as err:
        raise LoaderError(display_name(path.name), f"cannot be read as catalogue metadata: "
                          f"{err}") from err
    if META_KEYS & set(meta):
        return {"*": meta}
    unknown = {k for v in meta.values() if isinstance(v, dict) for k in v} - META_KEYS
    if unknown:
        raise LoaderError(display_name(path.name), f"has unknown catalogue keys {sorted(unknown)}; "
                          f"allowed: {sorted(META_KEYS)}")
    return meta


def _connect(store: Path) -> duckdb.DuckDBPyConnection:
    if not store.exists():
        raise LoaderError(str(store), "the store has not been built; run `make run` or "
                          "`python -m loaders build` first")
    try:
        return duckdb.connect(str(store))
    except duckdb.IOException as err:
        raise LoaderError(str(store), "the store is in use by another program (is the app "
                          "running?); upload through its Data page, or stop it and retry") \
            from err


def _vintages(con: duckdb.DuckDBPyConnection, codes: pd.Series) -> pd.Series:
    """Each code's geography. A code valid in both vintages takes the file's majority."""
    lk = con.execute("SELECT DISTINCT vintage, lsoa_code, ward_code FROM lsoa_ward").df()
    sets = {
        "LSOA11": set(lk.loc[lk.vintage == 2011, "lsoa_code"]),
        "LSOA21": set(lk.loc[lk.vintage == 2021, "lsoa_code"]),
        "WD19": set(lk.loc[lk.vintage == 2011, "ward_code"]),
        "WD24": set(lk.loc[lk.vintage == 2021, "ward_code"]),
    }
    out = pd.Series("", index=codes.index, dtype=object)
    for old, new in (("LSOA11", "LSOA21"), ("WD19", "WD24")):
        in_old, in_new = codes.isin(sets[old]), codes.isin(sets[new])
        only_old, only_new = in_old & ~in_new, in_new & ~in_old
        majority = new if only_new.sum() > only_old.sum() else old
        out[only_old] = old
        out[only_new] = new
        out[in_old & in_new] = majority
    return out


def known_codes(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Every LSOA and ward code of both vintages."""
    rows = con.execute("SELECT lsoa_code FROM lsoa_ward UNION SELECT ward_code FROM lsoa_ward "
                       "UNION SELECT code FROM areas WHERE level = 'ward'").fetchall()
    return {r[0] for r in rows}


def _police(raw_path: Path, con: duckdb.DuckDBPyConnection
            ) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    known = {r[0] for r in con.execute(
        "SELECT lsoa_code FROM lsoa_ward WHERE vintage = 2011").fetchall()}
    pf = policeuk.read_policeuk_file(raw_path, known)
    counts = pf.counts.assign(indicator=pf.counts["crime_type"].map(policeuk.crime_indicator))
    total = counts.groupby(["lsoa_code", "month"], as_index=False)["count"].sum() \
        .assign(indicator=policeuk.ALL_CRIME)
    both = pd.concat([counts, total], ignore_index=True)
    tidy = pd.DataFrame({"area_code": both["lsoa_code"], "period": both["month"],
                         "indicator": both["indicator"], "value": both["count"].astype(float),
                         "denominator": float("nan"), "partner": "police", "row": 0})
    fields = pf.kept_aside.drop(columns=["row", "column", "reason"]).astype(str)
    quarantine = pf.kept_aside[["row", "column", "reason"]].assign(
        record=[",".join(r) for r in fields.itertuples(index=False)])
    return tidy, quarantine, pf.rows_read


def _months_already_loaded(con: duckdb.DuckDBPyConnection, counts: pd.DataFrame,
                           name: str) -> list[str]:
    """Months of a police.uk file whose areas already have crime counts from another file.

    A police.uk month downloaded again is different bytes but the same crimes; most of
    its LSOAs already having counts for that month (from the open-data build or an
    earlier upload) means it is a repeat, not new data.
    """
    totals = counts[counts["indicator"] == policeuk.ALL_CRIME][["area_code", "period"]]
    con.register("_new", totals)
    seen = con.execute(
        "SELECT n.period, count(*) AS n, count(o.area_code) AS seen FROM _new n "
        "LEFT JOIN observations o ON o.indicator = ? AND o.area_code = n.area_code "
        "AND o.period_start = n.period AND o.source <> ? GROUP BY n.period ORDER BY 1",
        [policeuk.ALL_CRIME, name]).df()
    con.unregister("_new")
    return seen.loc[seen["seen"] > 0.5 * seen["n"], "period"].tolist()


def ingest(path: str | Path, *, name: str | None = None, partner: str | None = None,
           meta: str | Path | None = None, store: str | Path | None = None,
           max_bytes: int = MAX_BYTES, first_year: int = pt.FIRST_YEAR,
           today: dt.date | None = None) -> Report:
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

    Returns
    -------
    Report
        ``refused`` is set, with ``reason``, when nothing could be loaded.
    """
    path = Path(path)
    report = Report(file=display_name(name or path.name))
    try:
        meta_map = read_meta(Path(meta) if meta else None)
        size = path.stat().st_size if path.exists() else -1
        if size < 0:
            raise LoaderError(report.file, "does not exist")
        if size <= max_bytes:
            report.sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
        # A police.uk file goes straight to its adapter, which reads it faster than the
        # general reader; anything else is read (and checked) as a partner table.
        raw = None if size <= max_bytes and policeuk.is_policeuk_header(peek_header(path)) \
            else read_partner_table(path, report.file, REQUIRED, (POLICE_HEADER,), max_bytes)
    except LoaderError as err:
        report.refused, report.reason = True, "; ".join(err.problems)
        return report
    report.notes += raw.notes if raw else []
    con = _connect(store_path(store))
    try:
        return _load(con, path, raw, report, partner=partner, meta_map=meta_map,
                     first_year=first_year, today=today)
    finally:
        con.close()


def _load(con, path, raw, report, *, partner, meta_map, first_year, today) -> Report:
    # Any earlier load of the same bytes counts, open data included: a police.uk
    # month the store was built with must not be added a second time.
    done = con.execute("SELECT rows_read, rows_loaded, rows_quarantined FROM ingest_log "
                       "WHERE sha256 = ? AND NOT refused "
                       "ORDER BY loaded_at DESC LIMIT 1", [report.sha256]).fetchone()
    if done:
        report.rows_read, report.rows_loaded, report.rows_quarantined = done
        report.already_loaded = True
        report.notes.append("this exact file was loaded before; nothing changed")
        return report
    if raw is None or policeuk.is_policeuk_header([str(c).strip() for c in raw.frame.columns]):
        good, quarantine, report.rows_read = _police(path, con)
        report.notes.append("recognised as a police.uk street-level file: rows are counted by "
                            "LSOA, month and crime type")
        good["geography"] = "LSOA11"
        overlap = _months_already_loaded(con, good, report.file)
        if overlap:
            report.refused = True
            report.reason = (f"police.uk month(s) {', '.join(overlap)} are already in the store "
                             "for these areas (from another file); loading them again would "
                             "count the same crimes twice")
            return report
    else:
        if "area_code" not in [str(c).strip().lower() for c in raw.frame.columns]:
            report.refused, report.reason = True, "no area_code column"
            return report
        one = next(iter(meta_map.values()), {}) if len(meta_map) == 1 else {}
        tidy, notes = pt.to_tidy(raw, indicator=one.get("indicator"),
                                 partner=partner or one.get("partner"))
        report.notes += notes
        report.rows_read = len(tidy)
        if len(tidy) != len(raw.frame):
            report.notes.append(f"rows are counted after reshaping: {len(raw.frame)} file rows "
                                f"became {len(tidy)}")
        negatives = {i for i, m in meta_map.items() if m.get("unit") in NEGATIVE_UNITS}
        checked = pt.validate(tidy, known_codes=known_codes(con), negatives=negatives,
                              first_year=first_year, today=today)
        ragged_rows = {raw.file_row(i): why for i, why in raw.ragged.items()}
        from_ragged = tidy[tidy["row"].isin(ragged_rows)]
        ragged = pd.DataFrame({
            "row": from_ragged["row"].astype(int), "column": "",
            "reason": from_ragged["row"].map(ragged_rows),
            "record": [",".join(map(str, r)) for r in from_ragged[
                ["area_code", "period", "indicator", "value"]].itertuples(index=False)]})
        good = checked.good[~checked.good["row"].isin(ragged_rows)]
        quarantine = pd.concat(
            [checked.quarantine[~checked.quarantine["row"].isin(ragged_rows)], ragged],
            ignore_index=True).sort_values("row", kind="stable")
        good = good.assign(geography=_vintages(con, good["area_code"]))
    if good.empty:
        report.refused = True
        report.reason = (f"no valid rows: all {report.rows_read} rows have problems"
                         if report.rows_read else "the file has a header but no rows")
        report.rows_quarantined = len(quarantine)
        report.quarantine = quarantine[["row", "column", "reason"]].to_dict("records")
        return report
    if (good["partner"] == "").any():
        report.notes.append("no partner column and no --partner given: recorded as 'unknown'")
        good.loc[good["partner"] == "", "partner"] = "unknown"
    report.partner = ", ".join(sorted(good["partner"].unique()))
    periods = {p: pt.parse_period(p) for p in good["period"].unique()}
    ingest_id = uuid.uuid4().hex
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    agreement = next((m["agreement"] for m in meta_map.values() if "agreement" in m),
                     "partner upload (no agreement recorded)")
    obs = pd.DataFrame({
        "indicator": good["indicator"], "geography": good["geography"],
        "area_code": good["area_code"], "period_start": good["period"].map(
            lambda p: periods[p].label), "period_end": good["period"].map(
            lambda p: periods[p].label),
        "date_start": good["period"].map(lambda p: periods[p].start),
        "date_end": good["period"].map(lambda p: periods[p].end),
        "value": good["value"].astype(float), "denominator": good["denominator"].astype(float),
        "source": report.file, "agreement": agreement, "origin": "partner",
        "ingest_id": ingest_id})
    con.execute("BEGIN TRANSACTION")
    try:
        report.replaced_rows = con.execute(
            "DELETE FROM observations WHERE origin = 'partner' AND source = ? AND ingest_id "
            "IN (SELECT ingest_id FROM ingest_log WHERE partner = ?)",
            [report.file, report.partner]).fetchone()[0]
        if report.replaced_rows:
            report.notes.append(f"replaced {report.replaced_rows} rows loaded earlier from a "
                                "previous version of this file")
        con.register("_obs", obs)
        con.execute("INSERT INTO observations BY NAME SELECT * FROM _obs")
        report.indicators = sorted(obs["indicator"].unique())
        _catalogue(con, obs, good, meta_map, report)
        if len(quarantine):
            con.register("_q", quarantine.assign(source=report.file, origin="partner",
                                                 ingest_id=ingest_id))
            con.execute('INSERT INTO quarantine BY NAME SELECT source, "row", "column", reason, '
                        "record, origin, ingest_id FROM _q")
        report.rows_loaded = int(report.rows_read - len(quarantine))
        report.rows_quarantined = len(quarantine)
        report.quarantine = quarantine[["row", "column", "reason"]].to_dict("records")
        con.execute("INSERT INTO ingest_log (source, sha256, rows_read, rows_loaded, "
                    "rows_quarantined, loaded_at, summary, origin, ingest_id, partner, refused, "
                    "report) VALUES (?, ?, ?, ?, ?, ?, ?, 'partner', ?, ?, false, ?)",
                    [report.file, report.sha256, report.rows_read, report.rows_loaded,
                     report.rows_quarantined, now, report.summary(), ingest_id, report.partner,
                     report.to_json()])
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return report


def _catalogue(con, obs, good, meta_map, report) -> None:
    existing = {r[0] for r in con.execute("SELECT indicator FROM catalogue").fetchall()}
    for ident in sorted(set(obs["indicator"]) - existing):
        given = {**meta_map.get("*", {}), **meta_map.get(ident, {})}
        entry = {**DEFAULTS, **given}
        missing = sorted(set(DEFAULTS) - set(given))
        if missing:
            report.notes.append(f"new indicator {ident}: catalogued with default "
                                f"{', '.join(missing)} (a catalogue details file sets them)")
        partner = entry.get("partner") or good.loc[good["indicator"] == ident, "partner"].iat[0]
        geography = obs.loc[obs["indicator"] == ident, "geography"].mode().iat[0]
        monthly = obs.loc[obs["indicator"] == ident, "period_start"].str.match(
            r"^\d{4}-\d{2}$").all()
        con.execute(
            "INSERT INTO catalogue (indicator, title, partner, unit, polarity, additive, "
            "denominator, geography, vintage, frequency, source, licence, suppression_k, "
            "description, origin) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'partner')",
            [ident, entry.get("title", ident.replace("_", " ").capitalize()), partner,
             entry["unit"], entry["polarity"], entry["unit"] == "count",
             entry["denominator"] or None, geography, f"partner upload {dt.date.today()}",
             "monthly" if monthly else "single period", entry.get("source", report.file),
             entry["licence"], int(entry["suppression_k"]), entry.get("description", "")])


def quarantine_csv(report: Report) -> bytes:
    """The report's quarantine as CSV (formula-like text neutralised)."""
    from loaders.safety import neutralise_formulae
    frame = pd.DataFrame(report.quarantine, columns=["row", "column", "reason"])
    return neutralise_formulae(frame).to_csv(index=False).encode("utf-8")
