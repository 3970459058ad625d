"""The store's one schema, written once and rendered for each backend.

Both backends hold the same tables with the same columns; only the types'
spelling differs (DuckDB's ``VARCHAR``, PostgreSQL's ``text``) and geometry,
which DuckDB keeps as WKB and PostgreSQL as PostGIS ``geometry`` with its SRID
(so QGIS opens it). ``crime_points`` gains a generated point in PostgreSQL.
"""

from __future__ import annotations

# Each table: (column, type[, default]). Types are portable names, mapped below.
TABLES: dict[str, list[tuple]] = {
    "areas": [("geography", "text"), ("level", "text"), ("detail", "text"), ("code", "text"),
              ("name", "text"), ("lad_code", "text"), ("lon", "double"), ("lat", "double"),
              ("geom", "geometry:27700"), ("map_fine", "geometry:4326"),
              ("map_coarse", "geometry:4326")],
    "lsoa_ward": [("vintage", "integer"), ("lsoa_code", "text"), ("lsoa_name", "text"),
                  ("ward_code", "text"), ("ward_name", "text"), ("lad_code", "text"),
                  ("lad_name", "text")],
    "lsoa11_lsoa21": [("lsoa11_code", "text"), ("lsoa21_code", "text"), ("fit", "text"),
                      ("change", "text")],
    "lad_codes": [("lad_code", "text"), ("lad_name", "text"), ("lad_code_active", "text"),
                  ("lad_name_active", "text")],
    "lad_pfa": [("lad_code", "text"), ("lad_name", "text"), ("pfa_code", "text"),
                ("pfa_name", "text")],
    "population": [("geography", "text"), ("code", "text"), ("population", "double"),
                   ("source", "text")],
    "catalogue": [("indicator", "text primary key"), ("title", "text"), ("partner", "text"),
                  ("unit", "text"), ("polarity", "text"), ("additive", "boolean"),
                  ("denominator", "text"), ("geography", "text"), ("vintage", "text"),
                  ("frequency", "text"), ("source", "text"), ("licence", "text"),
                  ("suppression_k", "integer"), ("description", "text"),
                  ("origin", "text", "'open'")],
    # value NULL with value_low set: a cell the partner hid ("under 5": 1 to 4);
    # breakdown NULL: not broken down (the total), else 'Sex: Female; Age: 0-15';
    # value_lower, value_upper: the 95 % confidence limits a partner published.
    "observations": [("indicator", "text"), ("geography", "text"), ("area_code", "text"),
                     ("period_start", "text"), ("period_end", "text"), ("date_start", "date"),
                     ("date_end", "date"), ("value", "double"), ("source", "text"),
                     ("agreement", "text"), ("denominator", "double"),
                     ("origin", "text", "'open'"), ("ingest_id", "text"),
                     ("value_low", "double"), ("value_high", "double"), ("breakdown", "text"),
                     ("value_lower", "double"), ("value_upper", "double")],
    # period NULL: the source covers the district in every period it has.
    "coverage": [("indicator", "text"), ("lad_code", "text"), ("period", "text"),
                 ("origin", "text", "'open'"), ("ingest_id", "text")],
    "crime_points": [("indicator", "text"), ("month", "text"), ("lon", "double"),
                     ("lat", "double"), ("lsoa_code", "text"), ("n", "integer"),
                     ("source", "text"), ("origin", "text", "'open'"), ("ingest_id", "text")],
    "quarantine": [("source", "text"), ("row", "integer"), ("column", "text"),
                   ("reason", "text"), ("record", "text"), ("origin", "text", "'open'"),
                   ("ingest_id", "text")],
    "ingest_log": [("source", "text"), ("sha256", "text"), ("rows_read", "integer"),
                   ("rows_loaded", "integer"), ("rows_quarantined", "integer"),
                   ("loaded_at", "timestamp"), ("summary", "text"), ("origin", "text", "'open'"),
                   ("ingest_id", "text"), ("partner", "text"), ("refused", "boolean", "false"),
                   ("report", "text")],
    "regions": [("name", "text"), ("title", "text"), ("spec", "text")],
    "build_info": [("key", "text primary key"), ("value", "text")],
}
# Tables that hold partner uploads beside open data (``origin = 'partner'``). Partner
# rows exist only in the store, so a rebuild carries them across.
PARTNER_TABLES = ("catalogue", "observations", "coverage", "crime_points", "quarantine",
                  "ingest_log")
# Geometry columns and their SRIDs (WKB in DuckDB, PostGIS in PostgreSQL).
GEOMETRY = {"geom": 27700, "map_fine": 4326, "map_coarse": 4326}

_TYPES = {
    "duckdb": {"text": "VARCHAR", "double": "DOUBLE", "integer": "INTEGER",
               "boolean": "BOOLEAN", "date": "DATE", "timestamp": "TIMESTAMP"},
    "postgres": {"text": "text", "double": "double precision", "integer": "integer",
                 "boolean": "boolean", "date": "date", "timestamp": "timestamp"},
}
# What PostgreSQL adds: a point for PostGIS queries on the incidents.
_PG_EXTRA = {"crime_points": ["geom geometry(Point, 4326) GENERATED ALWAYS AS "
                              "(ST_SetSRID(ST_MakePoint(lon, lat), 4326)) STORED"]}

PG_INDEXES = """
CREATE INDEX ON observations (indicator, geography, period_start);
CREATE INDEX ON observations (area_code);
CREATE INDEX ON observations (source);
CREATE INDEX ON observations (ingest_id);
CREATE INDEX ON areas (geography, detail);
CREATE INDEX ON areas USING gist (geom);
CREATE INDEX ON areas USING gist (map_fine);
CREATE INDEX ON lsoa_ward (vintage, lad_code);
CREATE INDEX ON crime_points (indicator, month);
CREATE INDEX ON crime_points USING gist (geom);
CREATE INDEX ON population (geography, code);
CREATE INDEX ON coverage (indicator);
CREATE INDEX ON ingest_log (sha256);
"""


def _column(backend: str, spec: tuple) -> str:
    name, kind, *default = spec
    key = kind.removesuffix(" primary key")
    if key.startswith("geometry:"):
        sql = "BLOB" if backend == "duckdb" else f"geometry(Geometry, {key.split(':')[1]})"
    else:
        sql = _TYPES[backend][key]
    sql += " PRIMARY KEY" if kind.endswith("primary key") else ""
    sql += f" DEFAULT {default[0]}" if default else ""
    return f'"{name}" {sql}'


def ddl(backend: str) -> str:
    """``CREATE TABLE`` statements for every table, for ``"duckdb"`` or ``"postgres"``."""
    out = []
    for table, columns in TABLES.items():
        cols = [_column(backend, c) for c in columns]
        if backend == "postgres":
            cols += _PG_EXTRA.get(table, [])
        out.append(f"CREATE TABLE {table} ({', '.join(cols)});")
    return "\n".join(out)
