"""Publishing a build into PostgreSQL.

A build is published by copying the DuckDB build (open data) into a new schema
and swapping it in at the end, in one transaction; partner uploads, which exist
only in the database, are carried across under a lock that holds writers back.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import duckdb
import psycopg

from store import governance, security
from store.errors import SourceError
from store.postgres import WRITE_LOCK, open_connection
from store.schema import GEOMETRY, PARTNER_TABLES, PG_INDEXES, TABLES, ddl


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


def publish(duck_path: Path, url: str, log: Callable[[str], None] = print) -> None:
    """Copy a DuckDB build (its open data and fingerprint) into PostgreSQL and swap it
    in, keeping the partner uploads the database holds.

    Raises
    ------
    SourceError
        If the database cannot be reached or lacks PostGIS.
    """
    with open_connection(url) as con:
        if not con.execute("SELECT 1 FROM pg_extension WHERE extname = 'postgis'").fetchone():
            try:
                con.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            except psycopg.Error as err:
                raise SourceError("ODA_DATABASE_URL", "the database has no PostGIS and this "
                                  "role cannot add it; ask its administrator to run "
                                  "CREATE EXTENSION postgis") from err
        governance.ensure(url)
    src = duckdb.connect(str(duck_path), read_only=True)
    try:
        with open_connection(url, autocommit=False) as con:
            con.execute("DROP SCHEMA IF EXISTS oda_next CASCADE")
            con.execute("CREATE SCHEMA oda_next")
            con.execute("SET LOCAL search_path = oda_next, public")
            con.execute(ddl("postgres"))
            for table in TABLES:
                where = "WHERE origin = 'open'" if table in PARTNER_TABLES else ""
                n = _copy_from_duckdb(src, con, table, where)
                log(f"  {table}: {n:,} rows")
            con.execute("INSERT INTO build_info VALUES ('changed_at', clock_timestamp()::text) "
                        "ON CONFLICT (key) DO NOTHING")
            con.execute(PG_INDEXES)
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
            security.security(con)
            con.execute("ANALYZE")
    finally:
        src.close()

