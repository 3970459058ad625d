"""The PostgreSQL + PostGIS store: its schema, publishing a build into it, writing.

Everything PostgreSQL-specific is here: the schema with PostGIS geometry, the
``?``-to-``%s`` placeholder change, bulk loading with COPY, the lock writers
take in turn, the database roles and the row-level security policies that
enforce the information-sharing agreements for any SQL client.

Layout in the database:

* schema ``oda``: the store's tables, the same as the DuckDB file's, with
  ``areas.geom`` as ``geometry(…, 27700)`` and the simplified map geometry
  (``map_fine``, ``map_coarse``) as ``geometry(…, 4326)``, so QGIS opens them;
* schema ``governance``: accounts, agreements and the audit log
  (:mod:`loaders.governance`), plus ``roles`` copied from ``config/roles.toml``;
* group roles ``oda_reader`` and one per app role (``oda_public``,
  ``oda_councillor``, ``oda_analyst``, ...). A person's SQL login is a member of
  their role's group and has the same name as their dashboard account; the
  policies look the account up to know its role and organisation.

A build is published by copying the DuckDB build (open data) into a new schema
and swapping it in at the end, in one transaction; partner uploads, which exist
only in the database, are carried across under a lock that holds writers back.
"""

from __future__ import annotations

import hashlib
import io
import re
import tempfile
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pandas as pd
import psycopg

from loaders.config import roles_file
from loaders.db import PARTNER_TABLES
from loaders.errors import LoaderError

SEARCH_PATH = "oda,public"
# Writers (ingests, deletions, publishing) take this lock in turn; readers never wait.
WRITE_LOCK = int.from_bytes(hashlib.sha256(b"oda store writers").digest()[:4], "big")
GOVERNANCE_LOCK = WRITE_LOCK + 1

# The store's tables. Types follow the DuckDB build's; geometry is PostGIS.
DDL = """
CREATE TABLE areas (geography text, level text, detail text, code text, name text,
    lad_code text, lon double precision, lat double precision,
    geom geometry(Geometry, 27700), map_fine geometry(Geometry, 4326),
    map_coarse geometry(Geometry, 4326));
CREATE TABLE lsoa_ward (vintage integer, lsoa_code text, lsoa_name text, ward_code text,
    ward_name text, lad_code text, lad_name text);
CREATE TABLE lsoa11_lsoa21 (lsoa11_code text, lsoa21_code text, fit text, change text);
CREATE TABLE lad_codes (lad_code text, lad_name text, lad_code_active text,
    lad_name_active text);
CREATE TABLE lad_pfa (lad_code text, lad_name text, pfa_code text, pfa_name text);
CREATE TABLE population (geography text, code text, population double precision,
    source text);
CREATE TABLE catalogue (indicator text PRIMARY KEY, title text, partner text, unit text,
    polarity text, additive boolean, denominator text, geography text, vintage text,
    frequency text, source text, licence text, suppression_k integer, description text,
    origin text DEFAULT 'open');
CREATE TABLE observations (indicator text, geography text, area_code text,
    period_start text, period_end text, date_start date, date_end date,
    value double precision, source text, agreement text, denominator double precision,
    origin text DEFAULT 'open', ingest_id text, value_low double precision,
    value_high double precision, breakdown text, value_lower double precision,
    value_upper double precision);
CREATE TABLE coverage (indicator text, lad_code text, period text,
    origin text DEFAULT 'open', ingest_id text);
CREATE TABLE crime_points (indicator text, month text, lon double precision,
    lat double precision, lsoa_code text, n integer, source text,
    origin text DEFAULT 'open', ingest_id text,
    geom geometry(Point, 4326) GENERATED ALWAYS AS
        (ST_SetSRID(ST_MakePoint(lon, lat), 4326)) STORED);
CREATE TABLE quarantine (source text, "row" integer, "column" text, reason text,
    record text, origin text DEFAULT 'open', ingest_id text);
CREATE TABLE ingest_log (source text, sha256 text, rows_read integer, rows_loaded integer,
    rows_quarantined integer, loaded_at timestamp, summary text, origin text DEFAULT 'open',
    ingest_id text, partner text, refused boolean DEFAULT false, report text);
CREATE TABLE regions (name text, title text, spec text);
CREATE TABLE build_info (key text PRIMARY KEY, value text);
"""

INDEXES = """
CREATE INDEX ON observations (indicator, geography, period_start);
CREATE INDEX ON observations (area_code);
CREATE INDEX ON observations (source);
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

GEOMETRY = {"geom": 27700, "map_fine": 4326, "map_coarse": 4326}
TABLES = ("areas", "lsoa_ward", "lsoa11_lsoa21", "lad_codes", "lad_pfa", "population",
          "catalogue", "observations", "coverage", "crime_points", "quarantine", "ingest_log",
          "regions", "build_info")

_PLACEHOLDER = re.compile(r"\?")


def dialect(sql: str) -> str:
    """Portable SQL (``?`` placeholders) as psycopg takes it (``%s``; ``%`` doubled)."""
    return _PLACEHOLDER.sub("%s", sql.replace("%", "%%"))


def open_connection(url: str, *, autocommit: bool = True) -> psycopg.Connection:
    """A connection with the store's search path and no server-side prepared plans
    (a published build swaps the tables under them)."""
    try:
        return psycopg.connect(url, autocommit=autocommit, prepare_threshold=None,
                               options=f"-c search_path={SEARCH_PATH}", connect_timeout=10)
    except psycopg.OperationalError as err:
        raise LoaderError("ODA_DATABASE_URL", f"cannot connect to PostgreSQL: "
                          f"{str(err).strip().splitlines()[0]}") from err


def frame_of(cur: psycopg.Cursor) -> pd.DataFrame:
    """A cursor's result as a DataFrame with the dtypes the DuckDB store gives."""
    names = [d.name for d in cur.description or []]
    rows = cur.fetchall()
    frame = pd.DataFrame.from_records(rows, columns=names) if rows else \
        pd.DataFrame({n: pd.Series(dtype=object) for n in names})
    for d in cur.description or []:
        col = frame[d.name]
        if d.type_code in (20, 21, 23):  # int8, int2, int4
            kind = "int64" if d.type_code == 20 else "int32"
            frame[d.name] = col.astype(kind.capitalize() if col.isna().any() else kind) \
                if len(col) else col.astype(kind)
        elif d.type_code in (700, 701, 1700):  # float4, float8, numeric
            frame[d.name] = pd.to_numeric(col, errors="coerce").astype("float64")
        elif d.type_code in (1082, 1114, 1184):  # date, timestamp, timestamptz
            frame[d.name] = pd.to_datetime(col).astype("datetime64[us]")
        elif d.type_code == 16 and len(col) and not col.isna().any():
            frame[d.name] = col.astype(bool)
    return frame


class PgConnection:
    """A writing connection to the PostgreSQL store."""

    def __init__(self, url: str) -> None:
        self.con = open_connection(url)
        if not self.con.execute("SELECT to_regclass('oda.build_info')").fetchone()[0]:
            self.con.close()
            raise LoaderError("ODA_DATABASE_URL", "the database holds no store yet; run "
                              "`python -m loaders build` with ODA_DATABASE_URL set")

    def rows(self, sql: str, params: list | tuple = ()) -> list[tuple]:
        return self.con.execute(dialect(sql), list(params)).fetchall()

    def frame(self, sql: str, params: list | tuple = ()) -> pd.DataFrame:
        return frame_of(self.con.execute(dialect(sql), list(params)))

    def run(self, sql: str, params: list | tuple = ()) -> int:
        return self.con.execute(dialect(sql), list(params)).rowcount

    def insert(self, table: str, frame: pd.DataFrame) -> None:
        copy_frame(self.con, table, frame)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One transaction; writers wait for each other here, readers never do."""
        with self.con.transaction():
            self.con.execute("SELECT pg_advisory_xact_lock(%s)", [WRITE_LOCK])
            yield
            self.con.execute("UPDATE build_info SET value = clock_timestamp()::text "
                             "WHERE key = 'changed_at'")

    def close(self) -> None:
        self.con.close()


def copy_frame(con: psycopg.Connection, table: str, frame: pd.DataFrame) -> None:
    """Append a frame to a table with COPY (columns by name; NaN and None are NULL)."""
    if frame.empty:
        return
    ints = {name for name, in con.execute(
        "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 "
        "AND atttypid IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype)",
        [table]).fetchall()}
    # pandas holds whole numbers with gaps as floats ("3.0"), which COPY refuses.
    frame = frame.assign(**{c: frame[c].astype("Int64") for c in frame.columns
                            if c in ints and frame[c].dtype.kind == "f"})
    buf = io.StringIO()
    frame.to_csv(buf, index=False, header=False, na_rep="\\N")
    cols = ", ".join(f'"{c}"' for c in frame.columns)
    with con.cursor().copy(f"COPY {table} ({cols}) FROM STDIN WITH (FORMAT csv, NULL '\\N')"
                           ) as cp:
        cp.write(buf.getvalue())


# -- publishing a build --------------------------------------------------------

def stored_fingerprint(url: str) -> str | None:
    """The fingerprint of the build the database holds, or None."""
    with open_connection(url) as con:
        if not con.execute("SELECT to_regclass('oda.build_info')").fetchone()[0]:
            return None
        row = con.execute("SELECT value FROM oda.build_info WHERE key = 'fingerprint'") \
            .fetchone()
    return row[0] if row else None


def _copy_from_duckdb(src: duckdb.DuckDBPyConnection, con: psycopg.Connection, table: str,
                      where: str = "") -> int:
    """Stream one DuckDB table into the same table in PostgreSQL (the ``oda_next`` schema)."""
    cols = [r[0] for r in src.execute(
        "SELECT column_name FROM duckdb_columns() WHERE table_name = ? ORDER BY column_index",
        [table]).fetchall()]
    select = ", ".join(f"hex({c})" if c in GEOMETRY else f'"{c}"' for c in cols)
    with tempfile.NamedTemporaryFile(suffix=".csv") as tmp:
        src.execute(f"COPY (SELECT {select} FROM {table} {where}) TO '{tmp.name}' "
                    "(FORMAT csv, HEADER false, NULLSTR '\\N')")
        geo = [c for c in cols if c in GEOMETRY]
        target = f"oda_next.{table}"
        if geo:  # WKB as hex text first, then into geometry with its SRID
            text_cols = ", ".join(f'"{c}" text' for c in cols)
            con.execute(f"CREATE TEMP TABLE _stage ({text_cols}) ON COMMIT DROP")
            target = "_stage"
        names = ", ".join(f'"{c}"' for c in cols)
        with con.cursor().copy(f"COPY {target} ({names}) FROM STDIN WITH "
                               "(FORMAT csv, NULL '\\N')") as cp, open(tmp.name, "rb") as f:
            while chunk := f.read(1 << 20):
                cp.write(chunk)
    if geo:
        types = dict(con.execute(
            "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = ('oda_next.' || %s)::regclass AND attnum > 0",
            [table]).fetchall())
        exprs = ", ".join(
            f"ST_SetSRID(ST_GeomFromWKB(decode({c}, 'hex')), {GEOMETRY[c]})" if c in GEOMETRY
            else f'"{c}"::{types[c]}' for c in cols)
        con.execute(f"INSERT INTO oda_next.{table} ({names}) SELECT {exprs} FROM _stage")
        con.execute("DROP TABLE _stage")
    return src.execute(f"SELECT count(*) FROM {table} {where}").fetchone()[0]


def roles_config() -> dict[str, dict]:
    """The app roles from ``config/roles.toml`` (or ``ODA_ROLES``)."""
    return tomllib.loads(roles_file().read_text(encoding="utf-8"))["roles"]


def publish(duck_path: Path, url: str, log: Callable[[str], None] = print) -> None:
    """Copy a DuckDB build (its open data and fingerprint) into PostgreSQL and swap it
    in, keeping the partner uploads the database holds.

    Raises
    ------
    LoaderError
        If the database cannot be reached or lacks PostGIS.
    """
    from loaders import governance
    with open_connection(url) as con:
        if not con.execute("SELECT 1 FROM pg_extension WHERE extname = 'postgis'").fetchone():
            try:
                con.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            except psycopg.Error as err:
                raise LoaderError("ODA_DATABASE_URL", "the database has no PostGIS and this "
                                  "role cannot add it; ask its administrator to run "
                                  "CREATE EXTENSION postgis") from err
        governance.ensure(url)
    src = duckdb.connect(str(duck_path), read_only=True)
    try:
        with open_connection(url, autocommit=False) as con:
            con.execute("DROP SCHEMA IF EXISTS oda_next CASCADE")
            con.execute("CREATE SCHEMA oda_next")
            con.execute("SET LOCAL search_path = oda_next, public")
            con.execute(DDL)
            for table in TABLES:
                where = "WHERE origin = 'open'" if table in PARTNER_TABLES else ""
                n = _copy_from_duckdb(src, con, table, where)
                log(f"  {table}: {n:,} rows")
            con.execute("INSERT INTO build_info VALUES ('changed_at', clock_timestamp()::text) "
                        "ON CONFLICT (key) DO NOTHING")
            con.execute(INDEXES)
            con.execute("SET LOCAL search_path = oda, public")
            # From here writers wait: partner rows are carried across, then the swap.
            con.execute("SELECT pg_advisory_xact_lock(%s)", [WRITE_LOCK])
            if con.execute("SELECT to_regclass('oda.observations')").fetchone()[0]:
                moved = 0
                for table in PARTNER_TABLES:
                    cols = ", ".join(f'"{c}"' for c, in con.execute(
                        "SELECT column_name FROM information_schema.columns WHERE "
                        "table_schema = 'oda' AND table_name = %s INTERSECT SELECT column_name "
                        "FROM information_schema.columns WHERE table_schema = 'oda_next' AND "
                        "table_name = %s AND is_generated = 'NEVER'",  # not crime_points.geom
                        [table, table]).fetchall())
                    moved += con.execute(f"INSERT INTO oda_next.{table} ({cols}) SELECT {cols} "
                                         f"FROM oda.{table} WHERE origin = 'partner'").rowcount
                if moved:
                    log(f"kept {moved} partner rows from the previous store")
                con.execute("DROP SCHEMA oda CASCADE")
            con.execute("ALTER SCHEMA oda_next RENAME TO oda")
            security(con)
            con.execute("ANALYZE")
    finally:
        src.close()


# -- roles and row-level security -------------------------------------------------

def db_role(app_role: str) -> str:
    """The database group role of an app role."""
    return f"oda_{app_role}"


POLICY_FUNCTIONS = """
CREATE OR REPLACE FUNCTION oda.level_rank(level text) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE level WHEN 'point' THEN 0 WHEN 'lsoa' THEN 1 WHEN 'ward' THEN 2
                    WHEN 'district' THEN 3 ELSE 4 END $$;

CREATE OR REPLACE FUNCTION oda.geography_rank(geography text) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN geography LIKE 'LSOA%' THEN 1 WHEN geography LIKE 'WD%' THEN 2
              WHEN geography LIKE 'LAD%' THEN 3 ELSE 4 END $$;

-- Whether the SQL login ``who`` may read one stored row. The same rule as
-- dashboard.access.policy.grants, row by row: open data to every role down to its
-- finest level; partner data to its organisation's stewards (while its agreement,
-- if any, is live), to the roles and organisations a live agreement names (down to
-- the coarser of role and agreement, and never a small count from 1 to k-1), and to
-- administrators. A login with no active account reads as the public.
CREATE OR REPLACE FUNCTION oda.may_read(who text, p_indicator text, p_origin text,
                                        p_geography text, p_value double precision)
RETURNS boolean LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  me record; ag record; cat record; is_live boolean;
BEGIN
  SELECT a.role, coalesce(a.org, '') AS org, r.finest_level, r.partner_data INTO me
    FROM governance.accounts a JOIN governance.roles r ON r.name = a.role
   WHERE a.name = who AND a.active = 1;
  IF NOT FOUND THEN
    SELECT 'public' AS role, '' AS org, r.finest_level, r.partner_data INTO me
      FROM governance.roles r WHERE r.name = 'public';
  END IF;
  IF p_origin IS DISTINCT FROM 'partner' THEN
    RETURN oda.geography_rank(p_geography) >= oda.level_rank(me.finest_level);
  END IF;
  IF me.partner_data = 'all' THEN
    RETURN true;
  END IF;
  SELECT c.partner, coalesce(c.suppression_k, 0) AS k INTO cat
    FROM oda.catalogue c WHERE c.indicator = p_indicator;
  SELECT * INTO ag FROM governance.agreements g
   WHERE g.indicators::jsonb ? p_indicator LIMIT 1;
  is_live := ag.id IS NOT NULL AND ag.status = 'active'
             AND (ag.start_date IS NULL OR ag.start_date::date <= current_date)
             AND ag.expires::date >= current_date;
  IF me.partner_data = 'own' AND me.org <> '' AND me.org = cat.partner
     AND (ag.id IS NULL OR is_live) THEN
    RETURN oda.geography_rank(p_geography) >= oda.level_rank(me.finest_level);
  END IF;
  IF is_live AND me.partner_data IN ('agreements', 'own')
     AND (ag.roles::jsonb ? me.role OR (me.org <> '' AND ag.orgs::jsonb ? me.org)) THEN
    RETURN oda.geography_rank(p_geography) >=
             greatest(oda.level_rank(me.finest_level), oda.level_rank(ag.level))
           AND NOT coalesce(cat.k > 1 AND p_value > 0 AND p_value < cat.k, false);
  END IF;
  RETURN false;
END $$;

-- A catalogue entry: the same test at any level.
CREATE OR REPLACE FUNCTION oda.may_know(who text, p_indicator text, p_origin text)
RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
  SELECT p_origin IS DISTINCT FROM 'partner'
      OR oda.may_read(who, p_indicator, p_origin, 'LAD', NULL) $$;

-- A quarantined row of a partner file: its organisation's stewards and administrators.
CREATE OR REPLACE FUNCTION oda.may_see_rejects(who text, p_ingest_id text)
RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
  SELECT EXISTS (
    SELECT 1 FROM governance.accounts a JOIN governance.roles r ON r.name = a.role
     WHERE a.name = who AND a.active = 1
       AND (r.partner_data = 'all' OR (r.partner_data = 'own' AND a.org <> ''
            AND a.org = (SELECT l.partner FROM oda.ingest_log l
                          WHERE l.ingest_id = p_ingest_id LIMIT 1)))) $$;
"""


def security(con: psycopg.Connection) -> None:
    """Create the read roles and the row-level security policies (idempotent).

    Every app role gets a group role that may read the store; the policies decide
    which rows. The owner (the dashboard's own connection) is not subject to them:
    the dashboard applies the same rules itself, with disclosure control on top.
    """
    roles = roles_config()
    con.execute("DELETE FROM governance.roles")
    for name, spec in roles.items():
        con.execute("INSERT INTO governance.roles (name, finest_level, partner_data) "
                    "VALUES (%s, %s, %s)", [name, spec["finest_level"], spec["partner_data"]])
    existing = {r for r, in con.execute("SELECT rolname FROM pg_roles").fetchall()}
    for role in ["oda_reader", *(db_role(n) for n in roles)]:
        if role not in existing:
            con.execute(f"CREATE ROLE {role} NOLOGIN")
        if role != "oda_reader":
            con.execute(f"GRANT oda_reader TO {role}")
    con.execute(POLICY_FUNCTIONS)
    con.execute("GRANT USAGE ON SCHEMA oda TO oda_reader")
    con.execute("GRANT SELECT ON ALL TABLES IN SCHEMA oda TO oda_reader")
    con.execute("REVOKE SELECT ON oda.ingest_log FROM oda_reader")
    for table, using in (
            ("observations", "oda.may_read(current_user, indicator, origin, geography, value)"),
            ("catalogue", "oda.may_know(current_user, indicator, origin)"),
            ("quarantine", "origin IS DISTINCT FROM 'partner' OR "
             "oda.may_see_rejects(current_user, ingest_id)")):
        con.execute(f"ALTER TABLE oda.{table} ENABLE ROW LEVEL SECURITY")
        con.execute(f"DROP POLICY IF EXISTS agreements ON oda.{table}")
        con.execute(f"CREATE POLICY agreements ON oda.{table} FOR SELECT TO oda_reader "
                    f"USING ({using})")


def add_sql_login(url: str, name: str, role: str, password: str) -> None:
    """Create (or update) a SQL login for a dashboard account, in its role's group.

    The login has the account's name; the policies use the account's role and
    organisation, and a disabled account reads as the public.
    """
    roles = roles_config()
    if role not in roles:
        raise LoaderError("--role", f"{role!r} is not a role; known: {list(roles)}")
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
        raise LoaderError("name", f"{name!r} cannot be a SQL login: use lower-case letters, "
                          "digits and underscores")
    with open_connection(url) as con:
        exists = con.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [name]).fetchone()
        verb = "ALTER" if exists else "CREATE"
        con.execute(psycopg.sql.SQL("{} ROLE {} LOGIN PASSWORD {}").format(
            psycopg.sql.SQL(verb), psycopg.sql.Identifier(name),
            psycopg.sql.Literal(password)))
        for other in roles:
            con.execute(f"REVOKE {db_role(other)} FROM {name}")
        con.execute(f"GRANT {db_role(role)} TO {name}")

