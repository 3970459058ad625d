"""What loading a partner file asks of the store, one statement a function.

The loaders read files and decide; every query and write they make of the store is
here, so SQL lives in the store package alone (the architecture test keeps it so).
Each function takes a writing connection (:func:`store.connect`) and works inside the
load's one transaction.
"""

from __future__ import annotations

import pandas as pd

from store import Connection, first

# -- the geography a file is checked against -------------------------------------------


def lsoa_ward_codes(con: Connection) -> pd.DataFrame:
    """``vintage, lsoa_code, ward_code`` of both vintages."""
    return con.frame("SELECT DISTINCT vintage, lsoa_code, ward_code FROM lsoa_ward")


def area_codes(con: Connection) -> set[str]:
    """Every LSOA and ward code of both vintages."""
    return {r[0] for r in con.rows("SELECT lsoa_code FROM lsoa_ward UNION SELECT ward_code "
                                   "FROM lsoa_ward UNION SELECT code FROM areas "
                                   "WHERE level = 'ward'")}


def lsoa11_codes(con: Connection) -> set[str]:
    """Every LSOA 2011 code."""
    return {r[0] for r in con.rows("SELECT lsoa_code FROM lsoa_ward WHERE vintage = 2011")}


def district_forces(con: Connection) -> pd.DataFrame:
    """``lad_code, pfa_name``: each district's police force area."""
    return con.frame("SELECT lad_code, pfa_name FROM lad_pfa")


def wards(con: Connection) -> pd.DataFrame:
    """``vintage, ward_code, ward_name, lad_code, lad_name`` of every ward."""
    return con.frame("SELECT DISTINCT vintage, ward_code, ward_name, lad_code, lad_name "
                     "FROM lsoa_ward")


def ward_names(con: Connection) -> pd.DataFrame:
    """``geography, ward_code, ward_name, lad_code, lad_name`` of every ward of every
    vintage the store names (the lookups' WD19 and WD24, the boundaries' WD19 and WD25):
    a ward renamed between vintages is found under each of its names."""
    return con.frame(
        "SELECT DISTINCT CASE vintage WHEN 2011 THEN 'WD19' ELSE 'WD24' END AS geography, "
        "ward_code, ward_name, lad_code, lad_name FROM lsoa_ward UNION "
        "SELECT a.geography, a.code, a.name, a.lad_code, d.lad_name FROM areas a JOIN "
        "(SELECT DISTINCT lad_code, lad_name FROM lsoa_ward) d USING (lad_code) "
        "WHERE a.level = 'ward'")


def lsoa11_boundaries(con: Connection) -> list[tuple]:
    """``(code, geom)`` of every LSOA 2011 at full resolution (WKB)."""
    return con.rows("SELECT code, geom FROM areas WHERE geography = 'LSOA11' AND "
                    "detail = 'bgc'")


def lsoa11_districts(con: Connection) -> pd.DataFrame:
    """``lsoa_code, lad_code, lad_name`` of every LSOA 2011."""
    return pd.DataFrame(con.rows("SELECT DISTINCT lsoa_code, lad_code, lad_name FROM "
                                 "lsoa_ward WHERE vintage = 2011"),
                        columns=["lsoa_code", "lad_code", "lad_name"])


def active_districts(con: Connection) -> dict[str, str]:
    """Each district code (of every vintage) to its active code."""
    return dict(con.rows("SELECT lad_code, lad_code_active FROM lad_codes"))


def home_districts(con: Connection) -> dict[str, str]:
    """Each LSOA and ward code to its district."""
    return dict(con.rows("SELECT lsoa_code, lad_code FROM lsoa_ward UNION "
                         "SELECT ward_code, lad_code FROM lsoa_ward"))


# -- what is there already -------------------------------------------------------------


def police_coverage(con: Connection) -> pd.DataFrame:
    """``lad_code, period``: the districts police.uk figures cover in each month."""
    return con.frame("SELECT DISTINCT lad_code, period FROM coverage "
                     "WHERE indicator = 'crime_all' AND period IS NOT NULL")


def police_indicators(con: Connection) -> set[str]:
    """The police.uk indicators of the catalogue."""
    return {r[0] for r in con.rows("SELECT indicator FROM catalogue WHERE partner = 'police' "
                                   "AND indicator LIKE 'crime%'")}


def catalogue_owners(con: Connection) -> pd.DataFrame:
    """``partner, origin`` of every indicator, by indicator."""
    return con.frame("SELECT indicator, partner, origin FROM catalogue").set_index("indicator")


def catalogued(con: Connection) -> set[str]:
    """Every indicator id of the catalogue."""
    return {r[0] for r in con.rows("SELECT indicator FROM catalogue")}


def is_count(con: Connection, indicator: str) -> bool | None:
    """Whether a catalogued indicator adds up (None when it is not catalogued)."""
    row = first(con, "SELECT additive FROM catalogue WHERE indicator = ?", [indicator])
    return None if row is None else bool(row[0])


def origin_of(con: Connection, indicator: str) -> str | None:
    """An indicator's origin (``open`` or ``partner``), None when it is not catalogued."""
    row = first(con, "SELECT origin FROM catalogue WHERE indicator = ?", [indicator])
    return None if row is None else row[0]


def areas_loaded_from_others(con: Connection, indicator: str, source: str,
                             months: list[str]) -> pd.DataFrame:
    """``area_code, period`` of an indicator in these months from any other file."""
    if not months:
        return pd.DataFrame(columns=["area_code", "period"])
    marks = ", ".join("?" * len(months))
    return con.frame(f"SELECT DISTINCT area_code, period_start AS period FROM observations "
                     f"WHERE indicator = ? AND source <> ? AND period_start IN ({marks})",
                     [indicator, source, *months])


def figures_of_other_files(con: Connection, indicators: list[str], source: str
                           ) -> pd.DataFrame:
    """``indicator, area_code, period, source``: what other files loaded of these."""
    return con.frame(
        f"SELECT indicator, area_code, period_start AS period, min(source) AS source "
        f"FROM observations WHERE indicator IN ({', '.join('?' * len(indicators))}) "
        f"AND source <> ? GROUP BY indicator, area_code, period_start", [*indicators, source])


def earlier_load(con: Connection, sha256: str) -> tuple | None:
    """``(rows_read, rows_loaded, rows_quarantined)`` of the last load of these bytes."""
    return first(con, "SELECT rows_read, rows_loaded, rows_quarantined FROM ingest_log "
                 "WHERE sha256 = ? AND NOT refused ORDER BY loaded_at DESC LIMIT 1", [sha256])


def rows_from_file(con: Connection, source: str, partner: str) -> int:
    """How many partner rows a file of this name from this partner loaded before."""
    return con.rows("SELECT count(*) FROM observations WHERE origin = 'partner' AND "
                    "source = ? AND ingest_id IN (SELECT ingest_id FROM ingest_log WHERE "
                    "partner = ?)", [source, partner])[0][0]


# -- writes ----------------------------------------------------------------------------


def remove_file(con: Connection, source: str, partner: str) -> int:
    """Remove an earlier version of a file (its figures, coverage and points); return the
    figures removed."""
    removed = con.run("DELETE FROM observations WHERE origin = 'partner' AND source = ? AND "
                      "ingest_id IN (SELECT ingest_id FROM ingest_log WHERE partner = ?)",
                      [source, partner])
    for table in ("coverage", "crime_points"):
        con.run(f"DELETE FROM {table} WHERE origin = 'partner' AND ingest_id IN (SELECT "
                "ingest_id FROM ingest_log WHERE source = ? AND partner = ?)",
                [source, partner])
    return removed


def log_load(con: Connection, values: list) -> None:
    """Record a partner load: ``source, sha256, rows_read, rows_loaded, rows_quarantined,
    loaded_at, summary, ingest_id, partner, report``."""
    con.run("INSERT INTO ingest_log (source, sha256, rows_read, rows_loaded, "
            "rows_quarantined, loaded_at, summary, origin, ingest_id, partner, refused, "
            "report) VALUES (?, ?, ?, ?, ?, ?, ?, 'partner', ?, ?, false, ?)", values)


def add_to_catalogue(con: Connection, values: list) -> None:
    """Catalogue a partner indicator: ``indicator, title, partner, unit, polarity,
    additive, denominator, geography, vintage, frequency, source, licence,
    suppression_k, description``."""
    con.run("INSERT INTO catalogue (indicator, title, partner, unit, polarity, additive, "
            "denominator, geography, vintage, frequency, source, licence, suppression_k, "
            "description, origin) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'partner')",
            values)


CATALOGUE_EDITABLE = ("title", "unit", "polarity", "additive", "description", "source",
                      "licence", "suppression_k")


def catalogue_entry(con: Connection, indicator: str) -> dict | None:
    """One indicator's catalogue entry as a dict, None when it is not catalogued."""
    frame = con.frame("SELECT * FROM catalogue WHERE indicator = ?", [indicator])
    return None if frame.empty else frame.iloc[0].to_dict()


def update_catalogue(con: Connection, indicator: str, values: dict) -> None:
    """Change an indicator's catalogue details (only those of :data:`CATALOGUE_EDITABLE`)."""
    keys = [k for k in values if k in CATALOGUE_EDITABLE]
    if keys:
        con.run(f"UPDATE catalogue SET {', '.join(f'{k} = ?' for k in keys)} "
                "WHERE indicator = ?", [values[k] for k in keys] + [indicator])


def indicators_of_load(con: Connection, sha256: str) -> list[str]:
    """The indicators an earlier load of the same bytes brought."""
    return [r[0] for r in con.rows(
        "SELECT DISTINCT o.indicator FROM observations o JOIN ingest_log l "
        "ON o.ingest_id = l.ingest_id WHERE l.sha256 = ? ORDER BY 1", [sha256])]


def delete_indicator(con: Connection, indicator: str) -> int:
    """Delete a partner indicator everywhere; return the figures removed."""
    removed = con.run("DELETE FROM observations WHERE indicator = ?", [indicator])
    for table in ("coverage", "crime_points", "catalogue"):
        con.run(f"DELETE FROM {table} WHERE indicator = ?", [indicator])
    return removed
