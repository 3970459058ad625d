"""Benchmark: the four waits a user notices, warm, each printed next to its target.

1. The backtest panel of the Hotspots page: every method on every rolling window
   (six training months, one test month, 5 % flagged, 999 permutations) over
   crime_all's months in Avon and Somerset, by ward and by LSOA, through the
   functions the page's cache calls (``hotspot_views.periods``, ``backtest.rolling``
   with the shared weights). Target 15 s.
2. A new ward profile, and a postcode lookup then its ward's profile, through
   ``profile.ward_profile`` and ``profile.ward_for_postcode`` as the page's cache
   calls them. Warm: another ward's profile and another postcode were read first in
   the same process, so only what is new to this ward is paid for. Target 3 s.
3. The ward report PDF: the profile's button (``report.ward_report_pdf`` with the
   profile already on the page) and the command line's path (profile included),
   in process after one report was made. Target 5 s.
4. ``python -m dashboard users add NAME --role councillor`` as a subprocess
   (interpreter start-up and imports are part of the wait), against a temporary
   register (``ODA_GOVERNANCE``) and deployment secret (``ODA_SECRET_FILE``).
   Target 2 s.

Each is repeated (``--repeat``, default 3) and reported as lowest, median and
highest. The machine is small and shared, so figures move between runs: compare
runs made one after the other. The viewer is the operator (every indicator, LSOA
level). ``--only backtest,profile,report,users`` picks cases.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

TARGETS = {"backtest": 15.0, "profile": 3.0, "report": 5.0, "users": 2.0}
REGION = "avon_and_somerset"
# the first warms up; the others are measured
WARDS = ["E05010892", "E05010885", "E05010887", "E05010276", "E05006760"]
POSTCODES = ["BS1 5LU", "BS6 6JA", "BS3 4HR", "BS5 0HE"]


def spread(times: list[float]) -> str:
    return (f"{min(times):6.2f} {statistics.median(times):6.2f} {max(times):6.2f}")


def line(name: str, times: list[float], target: float) -> None:
    ok = "meets" if statistics.median(times) <= target else "misses"
    print(f"{name:<52}{spread(times)}   target {target:5.1f} s  {ok}", flush=True)


def clock(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def bench_backtest(repeat: int) -> None:
    from dashboard.access import OPERATOR
    from dashboard.analysis import backtest, hotspot_views, hotspots
    from dashboard.filters import ViewFilter
    from dashboard.geography import weights
    from dashboard.geography.regions import view_region
    from dashboard.measures import catalogue
    from store import Store

    store = Store()
    hotspots.warm_up()
    months = catalogue.months(store, "crime_all", viewer=OPERATOR)
    region = view_region(REGION, None)
    for level in ("ward", "lsoa"):
        graph = weights.region_graph(store, region, level)
        flt = ViewFilter(REGION, level, "crime_all", months[0], months[-1], "count")
        windows = backtest.rolling_windows(hotspot_views.periods(store, flt, viewer=OPERATOR), 6, 1)

        def run(flt=flt, graph=graph, windows=windows):
            backtest.rolling(store, region, flt, windows, methods=list(backtest.METHODS),
                             share=0.05, settings=hotspots.DEFAULT, graph=graph,
                             viewer=OPERATOR)
        times = [clock(run) for _ in range(repeat)]
        line(f"backtest panel, {level}s, {len(windows)} windows x 5 methods", times,
             TARGETS["backtest"])


def bench_series(repeat: int, path: str) -> None:
    """The backtest panel on a partner's 92-month police series (small counts hidden),
    as loaded into a copy of the store (``--series``), by LSOA."""
    from dashboard.access import OPERATOR
    from dashboard.analysis import backtest, hotspot_views, hotspots
    from dashboard.filters import ViewFilter
    from dashboard.geography import weights
    from dashboard.geography.regions import view_region
    from dashboard.measures import catalogue
    from store import Store

    store = Store(path)
    hotspots.warm_up()
    months = catalogue.months(store, "burglary", viewer=OPERATOR)
    region = view_region(REGION, None)
    graph = weights.region_graph(store, region, "lsoa")
    flt = ViewFilter(REGION, "lsoa", "burglary", months[0], months[-1], "count")
    windows = backtest.rolling_windows(hotspot_views.periods(store, flt, viewer=OPERATOR), 6, 1)

    def run():
        backtest.rolling(store, region, flt, windows, methods=list(backtest.METHODS),
                         share=0.05, settings=hotspots.DEFAULT, graph=graph, viewer=OPERATOR)
    times = [clock(run) for _ in range(repeat)]
    line(f"backtest panel, partner series, LSOAs, {len(windows)} windows", times,
         TARGETS["backtest"])


def bench_profile(repeat: int) -> None:
    from dashboard.access import OPERATOR
    from dashboard.analysis import profile
    from dashboard.filters import ViewFilter
    from dashboard.geography.regions import view_region
    from dashboard.measures import catalogue
    from store import Store

    store = Store()
    region = view_region(REGION, None)
    months = catalogue.months(store, "crime_all", viewer=OPERATOR)
    flt = ViewFilter(REGION, "ward", "crime_all", months[0], months[-1], "rate")
    profile.ward_profile(store, region, WARDS[0], flt, viewer=OPERATOR)  # warm
    profile.ward_for_postcode(store, region, POSTCODES[0])
    times, post = [], []
    for i in range(repeat):
        ward = WARDS[1 + i % (len(WARDS) - 1)]
        times.append(clock(lambda w=ward: profile.ward_profile(store, region, w, flt,
                                                               viewer=OPERATOR)))
        code = POSTCODES[1 + i % (len(POSTCODES) - 1)]
        post.append(clock(lambda c=code: profile.ward_profile(
            store, region, profile.ward_for_postcode(store, region, c), flt,
            viewer=OPERATOR)))
    line("ward profile, a new ward", times, TARGETS["profile"])
    line("postcode lookup and its ward's profile", post, TARGETS["profile"])


def bench_report(repeat: int) -> None:
    from dashboard.access import OPERATOR
    from dashboard.analysis import profile
    from dashboard.filters import ViewFilter
    from dashboard.geography.regions import view_region
    from dashboard.measures import catalogue
    from dashboard.views import report
    from store import Store

    store = Store()
    region = view_region(REGION, None)
    months = catalogue.months(store, "crime_all", viewer=OPERATOR)
    flt = ViewFilter(REGION, "ward", "crime_all", months[0], months[-1], "rate")
    report.ward_report_pdf(store, region, WARDS[0], flt, viewer=OPERATOR)  # warm
    button, cli = [], []
    for i in range(repeat):
        ward = WARDS[1 + i % (len(WARDS) - 1)]
        table = profile.ward_profile(store, region, ward, flt, viewer=OPERATOR)
        button.append(clock(lambda w=ward, t=table: report.ward_report_pdf(
            store, region, w, flt, viewer=OPERATOR, table=t)))
        cli.append(clock(lambda w=ward: report.ward_report_pdf(store, region, w, flt,
                                                               viewer=OPERATOR)))
    line("ward report PDF, the profile's button", button, TARGETS["report"])
    line("ward report PDF, profile included (command line)", cli, TARGETS["report"])


def bench_users(repeat: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "ODA_GOVERNANCE": f"{tmp}/governance.sqlite",
               "ODA_SECRET_FILE": f"{tmp}/secret.key", "PYTHONDONTWRITEBYTECODE": "0"}
        env.pop("ODA_SECRET_KEY", None)
        env.pop("ODA_DATABASE_URL", None)

        def add(i: int) -> None:
            done = subprocess.run(
                [sys.executable, "-m", "dashboard", "users", "add", f"bench.user{i}",
                 "--role", "councillor"], input="a long enough password\n", text=True,
                capture_output=True, cwd=REPO, env=env)
            if done.returncode != 0:
                raise SystemExit(f"users add failed: {done.stderr}")
        add(0)  # warm: the register and secret exist, byte-code is compiled
        times = [clock(lambda i=i: add(i)) for i in range(1, repeat + 1)]
        # the same interpreter doing nothing, for scale
        bare = [clock(lambda: subprocess.run([sys.executable, "-c", "pass"], env=env))
                for _ in range(repeat)]
    line("python -m dashboard users add (subprocess)", times, TARGETS["users"])
    line("  for scale: python -c pass", bare, TARGETS["users"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", default="users,profile,report,backtest")
    parser.add_argument("--series", help="a copy of the store with the 92-month police "
                        "series loaded as partner data (as tests/dashboard/conftest.py "
                        "makes it): adds the backtest on it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        # audit entries of the in-process cases go to a throwaway register
        os.environ.setdefault("ODA_GOVERNANCE", f"{tmp}/governance.sqlite")
        os.environ.setdefault("ODA_SECRET_FILE", f"{tmp}/secret.key")
        print(f"{'wait (seconds: lowest, median, highest)':<52}{'low':>6} {'median':>6} "
              f"{'high':>6}", flush=True)
        for case in args.only.split(","):
            {"backtest": bench_backtest, "profile": bench_profile, "report": bench_report,
             "users": bench_users}[case.strip()](args.repeat)
        if args.series:
            bench_series(args.repeat, args.series)


if __name__ == "__main__":
    main()
