"""Benchmark: partner ingest speed in rows per second, against a bare pandas read.

Ingests every Avon and Somerset police.uk street-level file (one force's year,
2022-01 to 2022-11) through ``loaders.ingest.ingest``, the path the Data page and
``python -m loaders ingest`` use (read, recognise, count, validate, quarantine,
write), into a private copy of the store with its police.uk counts removed, so
every file is new to it. The baseline, in the same run, is a bare
``pandas.read_csv`` of the same files.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import duckdb  # noqa: E402
import pandas as pd  # noqa: E402

from loaders.config import data_dir  # noqa: E402
from loaders.ingest import ingest  # noqa: E402
from store.settings import store_path  # noqa: E402


def main() -> int:
    os.environ.setdefault("ODA_DATA_DIR", str((REPO.parent / "shared" / "data").resolve()))
    files = sorted((data_dir() / "policeuk" / "avon-and-somerset").glob("*-street.csv*"))
    if not files:
        print("no Avon and Somerset police.uk files found", file=sys.stderr)
        return 2
    t = time.perf_counter()
    rows = sum(len(pd.read_csv(f)) for f in files)
    bare = time.perf_counter() - t
    with tempfile.TemporaryDirectory(prefix="oda-bench-ingest-") as tmp:
        store = Path(tmp) / "store.duckdb"
        shutil.copy(store_path(), store)
        with duckdb.connect(str(store)) as con:  # make every file new to this store
            con.execute("DELETE FROM ingest_log WHERE source LIKE 'policeuk/avon-and-somerset/%'")
            con.execute("DELETE FROM observations WHERE indicator LIKE 'crime_%'")
        t = time.perf_counter()
        reports = [ingest(f, store=store) for f in files]
        took = time.perf_counter() - t
    refused = [r.file for r in reports if r.refused]
    read = sum(r.rows_read for r in reports)
    print(f"ingest_speed: {len(files)} police.uk files (Avon and Somerset, one force-year), "
          f"{rows:,} rows")
    print(f"{'what':<40} {'seconds':>8} {'rows/s':>10}")
    print(f"{'baseline: pandas.read_csv':<40} {bare:>8.2f} {rows / bare:>10,.0f}")
    print(f"{'loaders.ingest (read+validate+write)':<40} {took:>8.2f} {read / took:>10,.0f}")
    print(f"ratio ingest / bare read: {took / bare:.1f}x; loaded "
          f"{sum(r.rows_loaded for r in reports):,}, quarantined "
          f"{sum(r.rows_quarantined for r in reports):,}")
    if refused:
        print(f"refused: {refused}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
