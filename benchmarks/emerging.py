"""Benchmark: emerging hot spots in one pass, against the month-by-month loop.

Two cases, each timed warm (the kernels compiled, the weights built once):

1. England and Wales LSOAs, crime_all over its 11 months (the whole national view
   every month; police.uk covers one force here, so most LSOAs have no data);
2. Avon and Somerset LSOAs over the 92-month partner series
   (``partners/policeuk_lsoa_monthly_avon_and_somerset_2018-01_2025-08``), loaded
   into a copy of the store.

**Before**, in the same run: the month-by-month loop the app used until now, one
``measures.indicator_view`` and one esda ``G_Local`` (999 permutations) per month,
then the same classification. **After**: ``hotspot_views.emerging_view``, which reads
every month in one pass (``measures.indicator_views``) and tests them all in one
pass over shared weights and draws (``hotspots.hotspots_over_periods``). Its two
steps are timed on their own too. The categories of the two are compared area by
area.

Targets (the evidence issue): England and Wales over 11 months in 5 s or less; a
region over 92 months in 10 s or less.

    .venv/bin/python benchmarks/emerging.py
"""

from __future__ import annotations

import contextlib
import datetime as dt
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import duckdb  # noqa: E402
import esda  # noqa: E402
import geopandas as gpd  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import shapely  # noqa: E402

from dashboard import measures  # noqa: E402
from dashboard.access import OPERATOR  # noqa: E402
from dashboard.analysis import emerging, hotspot_views, hotspots  # noqa: E402
from dashboard.filters import ViewFilter  # noqa: E402
from dashboard.geography import weights  # noqa: E402
from dashboard.geography.regions import get_region  # noqa: E402
from loaders import data_dir  # noqa: E402
from loaders.ingest import ingest  # noqa: E402
from store import PARTNER_TABLES, Store  # noqa: E402

SERIES = "policeuk_lsoa_monthly_avon_and_somerset_2018-01_2025-08.csv.gz"


def esda_gi_star(y, graph, *, permutations=hotspots.PERMUTATIONS, seed=hotspots.SEED):
    """Gi* as the app ran it before: one esda ``G_Local`` call per month."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        g = esda.G_Local(np.asarray(y, float), graph, transform="B", star=True,
                         permutations=permutations, seed=seed, n_jobs=1,
                         keep_simulations=False)
    p = np.round(np.asarray(g.p_sim, float) * (permutations + 1)) / (permutations + 1)
    return pd.DataFrame({"G": g.Gs, "z": g.Zs, "p_sim": p}, index=graph.unique_ids)


@contextlib.contextmanager
def esda_per_month():
    kept = hotspots.gi_star
    hotspots.gi_star = esda_gi_star
    try:
        yield
    finally:
        hotspots.gi_star = kept


def month_by_month(store: Store, flt: ViewFilter, graph) -> pd.Series:
    """The loop as it was: each month read and tested on its own; the categories."""
    region = get_region(flt.region)
    z, hot, cold = {}, {}, {}
    with esda_per_month():
        for month in hotspot_views.periods(store, flt, viewer=OPERATOR):
            view = measures.indicator_view(store, region, flt.with_(
                period_start=month, period_end=month), viewer=OPERATOR)
            res = hotspots.hotspots(view, graph, measure=flt.measure).set_index("area_code")
            z[month] = res["z"]
            hot[month] = res["class"].isin(set(hotspots.HOT.values()))
            cold[month] = res["class"].isin(set(hotspots.COLD.values()))
    return emerging.classify(pd.DataFrame(z), pd.DataFrame(hot),
                             pd.DataFrame(cold))["category"]


def one_pass(store: Store, flt: ViewFilter, graph) -> dict:
    region = get_region(flt.region)
    months = hotspot_views.periods(store, flt, viewer=OPERATOR)
    t = time.perf_counter()
    result = hotspot_views.emerging_view(store, region, flt, graph=graph, viewer=OPERATOR)
    whole = time.perf_counter() - t
    t = time.perf_counter()
    views = measures.indicator_views(store, region, flt, months, viewer=OPERATOR)
    read = time.perf_counter() - t
    t = time.perf_counter()
    hotspots.hotspots_over_periods(views, graph, measure=flt.measure)
    test = time.perf_counter() - t
    return {"months": len(months), "areas": len(result), "whole": whole, "read": read,
            "test": test, "categories": result.set_index("area_code")["category"]}


def series_store(store: Store, details: str = "") -> Store:
    """A copy of the store with the 92-month partner series loaded; ``details`` are
    catalogue lines added to its coverage (``suppression_k = 0`` loads raw counts)."""
    folder = Path(tempfile.mkdtemp(prefix="oda-bench-"))
    copy = folder / "store.duckdb"
    shutil.copy(store.path, copy)
    with duckdb.connect(str(copy)) as con:
        for table in PARTNER_TABLES:
            con.execute(f"DELETE FROM {table} WHERE origin = 'partner'")
    meta = folder / "meta.toml"
    meta.write_text('coverage = "avon_and_somerset"\n' + details)
    report = ingest(data_dir() / "partners" / SERIES, store=copy, partner="police_bench",
                    meta=meta, today=dt.date.today())
    assert not report.refused, report.reason
    return Store(copy)


def main() -> None:
    hotspots.warm_up()
    lattice = weights.contiguity(gpd.GeoDataFrame(
        geometry=[shapely.box(c, r, c + 1, r + 1) for r in range(4) for c in range(4)],
        index=[f"c{i}" for i in range(16)], crs=27700))
    esda_gi_star(np.arange(16.0), lattice, permutations=9)  # esda's kernels compiled
    store = Store()
    national = ViewFilter("england_and_wales", "lsoa", "crime_all", "2022-01", "2022-11",
                          "count")
    cases = [("England and Wales, 11 months", store, national, 5.0)]
    series = series_store(store)
    cases.append(("Avon and Somerset, 92 months", series, ViewFilter(
        "avon_and_somerset", "lsoa", "monthly_crime_count", "2018-01", "2025-08", "count"),
        10.0))
    print(f"{'case':<30}{'areas':>8}{'months':>7}{'before':>9}{'after':>8}{'reading':>9}"
          f"{'testing':>9}{'speed-up':>9}{'target':>8}  same category")
    for name, st, flt, target in cases:
        graph = weights.region_graph(st, get_region(flt.region), flt.level)
        one_pass(st, flt, graph)  # warm: the first pass compiles and caches the draws
        t = time.perf_counter()
        before = month_by_month(st, flt, graph)
        loop = time.perf_counter() - t
        got = one_pass(st, flt, graph)
        same = (got["categories"].reindex(before.index) == before).sum()
        print(f"{name:<30}{got['areas']:>8,}{got['months']:>7}{loop:>8.1f}s"
              f"{got['whole']:>7.1f}s{got['read']:>8.1f}s{got['test']:>8.1f}s"
              f"{loop / got['whole']:>8.1f}x{target:>7.0f}s  {same:,} of {len(before):,}",
              flush=True)


if __name__ == "__main__":
    main()
