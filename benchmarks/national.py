"""National scale on PostgreSQL: police.uk for every LSOA in England and Wales.

How big does ``observations`` get when every force's street-level crime is in
the store, and does partitioning it by period keep the dashboard's queries
quick? The store holds real police.uk data for a region only, so this script:

1. measures, from the built store, how often an LSOA has a row for each crime
   type in a month (an LSOA with no crime of a type has no row);
2. makes a national table at those densities, for every LSOA 2011 area in the
   store's national boundaries and every month of the series, with values drawn
   around the region's own mean per type (synthetic: only the shape is real);
3. loads it twice into a throwaway PostgreSQL cluster: one plain table (the
   baseline, as ``loaders build`` makes it today) and one range-partitioned by
   ``period_start``, a partition a year, with the same index in each;
4. times the model's own query shapes on both (median of warm runs).

The queries filter on ``period_start``, as ``measures`` does, so partition
pruning needs no change to the model. Usage::

    .venv/bin/python benchmarks/national.py [--months 92] [--repeats 5]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import duckdb  # noqa: E402
import psycopg  # noqa: E402

from deploy.pgcluster import Cluster  # noqa: E402
from store.settings import store_path  # noqa: E402

COLUMNS = """indicator text, geography text, area_code text, period_start text,
    period_end text, date_start date, date_end date, value double precision,
    source text, agreement text, denominator double precision,
    origin text DEFAULT 'open', ingest_id text"""
INDEX = "(indicator, geography, period_start)"


def densities(store: Path) -> tuple[list[tuple[str, float, float]], int, int]:
    """Per crime type: (indicator, share of LSOA-months with a row, mean value)."""
    con = duckdb.connect(str(store), read_only=True)
    try:
        areas, months = con.execute(
            "SELECT count(DISTINCT area_code), count(DISTINCT period_start) FROM observations "
            "WHERE source LIKE 'data.police.uk%' AND geography = 'LSOA11'").fetchone()
        rows = con.execute(
            "SELECT indicator, count(*), avg(value) FROM observations "
            "WHERE source LIKE 'data.police.uk%' AND geography = 'LSOA11' "
            "GROUP BY indicator ORDER BY indicator").fetchall()
        national = con.execute("SELECT count(DISTINCT code) FROM areas "
                               "WHERE geography = 'LSOA11'").fetchone()[0]
    finally:
        con.close()
    if not rows:
        raise SystemExit(f"{store} has no police.uk LSOA rows: run `make store` first")
    return [(ind, n / (areas * months), mean) for ind, n, mean in rows], national, areas


def fill(con: psycopg.Connection, table: str, kinds, months: int) -> float:
    """Insert the synthetic national rows into ``table``; returns seconds."""
    start = time.perf_counter()
    con.execute("SELECT setseed(0.42)")
    con.execute(
        f"""INSERT INTO {table} (indicator, geography, area_code, period_start, period_end,
                date_start, date_end, value, source)
        SELECT s.indicator, 'LSOA11', s.code, to_char(s.d, 'YYYY-MM'), to_char(s.d, 'YYYY-MM'),
               s.d, (s.d + interval '1 month - 1 day')::date,
               greatest(1, round(s.mean * -ln(1 - random() * 0.999))), 'synthetic national'
        FROM (SELECT l.code, m.d::date, k.indicator, k.mean, k.density, random()
              FROM lsoa l CROSS JOIN kinds k
              CROSS JOIN generate_series(date '2016-01-01', date '2016-01-01'
                  + (%s - 1) * interval '1 month', interval '1 month') AS m(d)
              OFFSET 0) AS s(code, d, indicator, mean, density, draw)
        WHERE s.draw < s.density""", (months,))
    return time.perf_counter() - start


def timed(con: psycopg.Connection, sql: str, params, repeats: int) -> float:
    con.execute(sql, params).fetchall()  # warm
    runs = []
    for _ in range(repeats):
        t = time.perf_counter()
        con.execute(sql, params).fetchall()
        runs.append(time.perf_counter() - t)
    return statistics.median(runs)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--months", type=int, default=92, help="months of series (default 92)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--store", default=str(store_path()))
    args = ap.parse_args(argv)

    kinds, national, regional = densities(Path(args.store))
    expected = sum(d for _, d, _ in kinds) * national * args.months
    print(f"measured in the store: {regional:,} LSOAs with police.uk rows, "
          f"{len(kinds)} crime indicators; row density per LSOA-month "
          + ", ".join(f"{i} {d:.2f}" for i, d, _ in kinds))
    print(f"national: {national:,} LSOA 2011 areas x {args.months} months "
          f"-> about {expected:,.0f} rows expected")

    lsoa_codes = duckdb.connect(args.store, read_only=True).execute(
        "SELECT DISTINCT code FROM areas WHERE geography = 'LSOA11'").fetchall()
    last = args.months - 1
    first_year, last_year = 2016, 2016 + last // 12
    mid = f"{2016 + last // 24:04d}-06"
    year = f"{2016 + last // 24:04d}"
    span = "period_start >= %s AND period_end <= %s AND period_start <= %s"  # as measures
    lsoa_view = ("SELECT area_code, sum(value) FROM {t} WHERE indicator = %s "
                 "AND geography = %s AND " + span + " GROUP BY area_code")
    queries = {
        "map, one month (LSOA view)": (lsoa_view, ("crime_all", "LSOA11", mid, mid, mid)),
        "map, one month, no upper bound": (
            lsoa_view.replace(" AND period_start <= %s", ""), ("crime_all", "LSOA11", mid, mid)),
        "map, one year (LSOA view)": (
            lsoa_view, ("crime_all", "LSOA11", f"{year}-01", f"{year}-12", f"{year}-12")),
        "trend, every month, one type": (
            "SELECT period_start, sum(value) FROM {t} WHERE indicator = %s AND geography = %s "
            "AND " + span + " GROUP BY period_start",
            ("crime_burglary", "LSOA11", "2016-01", "2099-12", "2099-12")),
        "months in range (catalogue)": (
            "SELECT count(DISTINCT period_start) FROM {t} WHERE indicator = %s AND " + span,
            ("crime_all", f"{year}-01", f"{year}-12", f"{year}-12")),
    }

    with Cluster() as cluster, psycopg.connect(cluster.url(), autocommit=True) as con:
        con.execute("SET max_parallel_workers_per_gather = 2")
        con.execute("CREATE TEMP TABLE lsoa (code text)")
        with con.cursor().copy("COPY lsoa FROM STDIN") as cp:
            for (code,) in lsoa_codes:
                cp.write_row((code,))
        con.execute("CREATE TEMP TABLE kinds (indicator text, density float8, mean float8)")
        con.cursor().executemany("INSERT INTO kinds VALUES (%s, %s, %s)", kinds)

        con.execute(f"CREATE TABLE plain ({COLUMNS})")
        con.execute(f"CREATE TABLE parted ({COLUMNS}) PARTITION BY RANGE (period_start)")
        for y in range(first_year, last_year + 1):
            con.execute(f"CREATE TABLE parted_{y} PARTITION OF parted "
                        f"FOR VALUES FROM ('{y}') TO ('{y + 1}')")
        con.execute("CREATE TABLE parted_other PARTITION OF parted DEFAULT")

        print("\nloading (synthetic rows at the measured densities)")
        secs = fill(con, "plain", kinds, args.months)
        rows = con.execute("SELECT count(*) FROM plain").fetchone()[0]
        print(f"  plain table:       {rows:>12,} rows in {secs:6.1f} s")
        t = time.perf_counter()
        con.execute("INSERT INTO parted SELECT * FROM plain")
        print(f"  partitioned table: {rows:>12,} rows in {time.perf_counter() - t:6.1f} s "
              f"({last_year - first_year + 1} yearly partitions)")
        for table in ("plain", "parted"):
            t = time.perf_counter()
            con.execute(f"CREATE INDEX ON {table} {INDEX}")
            con.execute(f"CREATE INDEX ON {table} (area_code)")
            con.execute(f"VACUUM ANALYZE {table}")
            print(f"  {table}: indexes and ANALYZE in {time.perf_counter() - t:6.1f} s")
        sizes = {"plain": con.execute("SELECT pg_total_relation_size('plain')").fetchone()[0],
                 "parted": con.execute("SELECT sum(pg_total_relation_size(relid)) "
                                       "FROM pg_partition_tree('parted')").fetchone()[0]}
        per_year = con.execute(
            "SELECT min(n), max(n) FROM (SELECT count(*) n FROM parted "
            "GROUP BY left(period_start, 4)) y").fetchone()
        print(f"  size with indexes: plain {sizes['plain'] / 2**30:.2f} GiB, "
              f"partitioned {sizes['parted'] / 2**30:.2f} GiB; "
              f"{per_year[0]:,}-{per_year[1]:,} rows a year")

        print(f"\nquery (median of {args.repeats} warm runs)   plain (baseline)   partitioned"
              "   partitions read")
        for name, (sql, params) in queries.items():
            plain = timed(con, sql.format(t="plain"), params, args.repeats)
            parted = timed(con, sql.format(t="parted"), params, args.repeats)
            plan = con.execute("EXPLAIN " + sql.format(t="parted"), params).fetchall()
            read = {m for (line,) in plan
                    for m in re.findall(r"Scan on (parted_(?:\d{4}|other))\s", line)}
            print(f"  {name:<36} {plain * 1000:9.0f} ms {parted * 1000:12.0f} ms"
                  f"   {len(read)} of {last_year - first_year + 2}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
