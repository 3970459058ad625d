"""Benchmark: one evaluation on a region's LSOAs over 48 months, and how often placebo
groups are called significant.

The data: the 92-month police series for Avon and Somerset (``partners/``), loaded as
partner data into a copy of the store (small counts hidden, as a partner's would be).
The intervention: the anti-social behaviour hot spot (its busiest LSOA and the eight
busiest around it), starting 2022-01; before 2020-01 to 2021-12, after 2022-01 to
2023-12 (48 months), 1,005 LSOAs.

**Timings** (warm: the second of two runs), each from the register and the store to
the verdict, as ``python -m dashboard evaluate`` makes it:

* difference-in-differences (statsmodels' Poisson with area and month effects, 500
  placebo groups), target 5 s;
* synthetic control (pysyncon, 100 placebo groups), target 30 s.

**Baseline**, in the same run: reading the 48 months of protected counts alone
(``measures.lsoa_month_panel``), which every method needs.

**Placebos** (``--placebos N``, default 100): N random contiguous patches of 10
untreated LSOAs, each evaluated as if treated; the share whose 95 % interval excludes
no change, for each method, and the share plain Poisson standard errors would call
significant. Acceptance: 2 % to 8 %.

    .venv/bin/python benchmarks/evaluation.py [--placebos 100] [--indicator ID]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from benchmarks import emerging  # noqa: E402
from dashboard import geography, measures, register  # noqa: E402
from dashboard.access import OPERATOR  # noqa: E402
from dashboard.analysis import evaluation as ev  # noqa: E402
from dashboard.geography.regions import get_region  # noqa: E402
from store import Store  # noqa: E402

BEFORE, AFTER = "2020-01:2021-12", "2022-01:2023-12"


def series_store() -> Store:
    """The emerging benchmark's copy of the store with the series loaded, with a
    register of its own."""
    loaded = emerging.series_store(Store())
    return Store(loaded.path, governance=Path(loaded.path).parent / "gov.sqlite")


def hot_patch(panel, near, size: int = 9) -> list[str]:
    level = panel.iloc[:, :24].mean(axis=1)
    patch = [level.idxmax()]
    while len(patch) < size:
        around = {n for c in patch for n in near.get(c, ())} - set(patch)
        patch.append(level.reindex(sorted(around)).idxmax())
    return sorted(patch)


def timed(fn, runs: int = 2) -> tuple[float, object]:
    out = None
    for _ in range(runs):
        t = time.perf_counter()
        out = fn()
        took = time.perf_counter() - t
    return took, out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--placebos", type=int, default=100)
    parser.add_argument("--indicator", default="anti_social_behaviour")
    args = parser.parse_args()
    store = series_store()
    region = get_region("avon_and_somerset")
    months = ev.month_range("2020-01", "2023-12")
    read, panel = timed(lambda: measures.lsoa_month_panel(store, region, args.indicator,
                                                          months, viewer=OPERATOR))
    near = ev.neighbours_of(store, region)
    patch = hot_patch(panel, near)
    register.add(store, {"id": "bench", "title": "Hot spot patrols", "agency": "police_bench",
                         "areas": ",".join(patch), "start": "2022-01",
                         "indicators": args.indicator}, viewer=OPERATOR)
    print(f"{len(panel):,} LSOAs x {len(months)} months of {args.indicator}; "
          f"treated {len(patch)} LSOAs")
    print(f"baseline: reading the protected monthly counts        {read:6.2f} s")
    for method, target in (("did", 5), ("synthetic", 30)):
        took, (result, _, meta) = timed(lambda m=method: ev.evaluate_intervention(
            store, "bench", args.indicator, viewer=OPERATOR, before=BEFORE, after=AFTER,
            methods=(m,)))
        est = result.estimates[method]
        print(f"{ev.METHOD_NAMES[method]:<28} {took:6.2f} s (target {target} s): "
              f"effect {est.effect:+.3f} [{est.lower:+.3f}, {est.upper:+.3f}], "
              f"p {est.p_value:.3f}, mde {est.mde:.3f}")
    if not args.placebos:
        return
    ward_of = geography.lsoa_lookup(store, region).set_index("lsoa_code")["ward_code"]
    before, after = ev.month_range("2020-01", "2021-12"), ev.month_range("2022-01", "2023-12")
    codes = list(panel.index)
    rng = np.random.default_rng(2026)
    hits = dict.fromkeys(ev.METHODS, 0)
    plain = 0
    t = time.perf_counter()
    for _ in range(args.placebos):
        pick = ev.placebo_groups(panel, codes[:10], codes, before, 1,
                                 seed=int(rng.integers(2**31)), neighbours=near)[0]
        treated = [codes[i] for i in pick]
        result = ev.evaluate(panel, treated, ev.ring_of(near, treated), ward_of, before,
                             after, neighbours=near)
        for m, est in result.estimates.items():
            hits[m] += est.significant
        plain += result.estimates["did"].plain_p < 0.05
    took = time.perf_counter() - t
    print(f"placebo groups: {args.placebos} random patches of 10 LSOAs ({took:.0f} s)")
    for m in ev.METHODS:
        print(f"  {ev.METHOD_NAMES[m]:<28} 95 % interval excludes no change: "
              f"{hits[m] / args.placebos:.0%} (acceptance 2 % to 8 %)")
    print(f"  plain Poisson standard errors would call {plain / args.placebos:.0%} of them "
          "significant")


if __name__ == "__main__":
    main()
