"""Benchmark: emerging hot spots, end to end, where the time goes.

Two cases, each timed warm (esda's kernels compiled, the weights built once):

1. England and Wales LSOAs, crime_all over its 11 months (the whole national view
   every month; police.uk covers one force here, so most LSOAs have no data);
2. Avon and Somerset LSOAs over the 92-month partner series
   (``partners/policeuk_lsoa_monthly_avon_and_somerset_2018-01_2025-08``), loaded
   into a copy of the store.

For each, the month-by-month path (``analysis.emerging_view``) is split into its
parts in the same run: reading each month's view (``measures.indicator_view``),
and testing it (``hotspots.hotspots``: esda's Gi* with 999 permutations).

Targets (the evidence issue): England and Wales over 11 months in 5 s or less; a
region over 92 months in 10 s or less.

    .venv/bin/python benchmarks/emerging.py
"""

from __future__ import annotations

import datetime as dt
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import duckdb  # noqa: E402

from dashboard import analysis, hotspots, measures, weights  # noqa: E402
from dashboard.access import OPERATOR  # noqa: E402
from dashboard.filters import ViewFilter  # noqa: E402
from dashboard.regions import get_region  # noqa: E402
from dashboard.store import Store  # noqa: E402
from loaders import data_dir  # noqa: E402
from loaders.db import PARTNER_TABLES  # noqa: E402
from loaders.ingest import ingest  # noqa: E402

SERIES = "policeuk_lsoa_monthly_avon_and_somerset_2018-01_2025-08.csv.gz"


def parts(store: Store, flt: ViewFilter) -> dict[str, float]:
    """The month-by-month path, timed whole and by part."""
    region = get_region(flt.region)
    graph = weights.region_graph(store, region, flt.level)
    months = analysis.periods(store, flt)
    t = time.perf_counter()
    analysis.emerging_view(store, region, flt, graph=graph, viewer=OPERATOR)
    whole = time.perf_counter() - t
    read = test = 0.0
    for month in months:
        t = time.perf_counter()
        view = measures.indicator_view(store, region, flt.with_(period_start=month,
                                                                period_end=month),
                                       viewer=OPERATOR)
        read += time.perf_counter() - t
        t = time.perf_counter()
        hotspots.hotspots(view, graph, measure=flt.measure)
        test += time.perf_counter() - t
    return {"months": len(months), "areas": len(view), "whole": whole, "read": read,
            "test": test}


def series_store(store: Store) -> Store:
    """A copy of the store with the 92-month partner series loaded."""
    folder = Path(tempfile.mkdtemp(prefix="oda-bench-"))
    copy = folder / "store.duckdb"
    shutil.copy(store.path, copy)
    with duckdb.connect(str(copy)) as con:
        for table in PARTNER_TABLES:
            con.execute(f"DELETE FROM {table} WHERE origin = 'partner'")
    meta = folder / "meta.toml"
    meta.write_text('coverage = "avon_and_somerset"\n')
    report = ingest(data_dir() / "partners" / SERIES, store=copy, partner="police_bench",
                    meta=meta, today=dt.date.today())
    assert not report.refused, report.reason
    return Store(copy)


def main() -> None:
    hotspots.warm_up()
    store = Store()
    national = ViewFilter("england_and_wales", "lsoa", "crime_all", "2022-01", "2022-11",
                          "count")
    cases = [("England and Wales, 11 months", store, national, 5.0)]
    series = series_store(store)
    cases.append(("Avon and Somerset, 92 months", series, ViewFilter(
        "avon_and_somerset", "lsoa", "monthly_crime_count", "2018-01", "2025-08", "count"),
        10.0))
    print(f"{'case':<32}{'areas':>8}{'months':>8}{'whole':>9}{'reading':>9}{'testing':>9}"
          f"{'target':>8}")
    for name, st, flt, target in cases:
        got = parts(st, flt)
        print(f"{name:<32}{got['areas']:>8,}{got['months']:>8}{got['whole']:>8.1f}s"
              f"{got['read']:>8.1f}s{got['test']:>8.1f}s{target:>7.0f}s", flush=True)


if __name__ == "__main__":
    main()
