"""Benchmark: how far totals that include hidden small counts are from the truth, with
each hidden count (1 to k-1, k = 5) standing in as the midpoint k/2 (the baseline, in
the same run) and as the fitted stand-in the app uses (``disclosure.stand_in``: the
expected value of a hidden count given the visible ones).

The data is the real 92-month police series (``partners/`` in the data folder): each
crime type's count per LSOA and month, where the truth of every hidden cell is known.
For each type it prints the true mean of the hidden cells, the stand-in, and over the
series' LSOA totals (92 months each) the bias of the region's total and the mean
absolute error of an LSOA's total.

    python benchmarks/stand_ins.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dashboard.measures.disclosure import stand_in  # noqa: E402
from loaders import data_dir  # noqa: E402

SERIES = "policeuk_lsoa_monthly_avon_and_somerset_2018-01_2025-08.csv.gz"
K = 5


def main() -> None:
    frame = pd.read_csv(data_dir() / "partners" / SERIES)
    print(f"{SERIES}: {len(frame):,} LSOA-months, k = {K}\n")
    print(f"{'count':34} {'hidden':>7} {'true':>5} {'fitted':>6} | "
          f"{'region bias k/2':>15} {'fitted':>7} | {'LSOA |error| k/2':>16} {'fitted':>7}")
    started = time.perf_counter()
    for column in frame.columns[2:]:
        cells = frame[column]
        small = cells.between(1, K - 1)
        put = stand_in(cells[~small & (cells >= K)].astype(int).value_counts(), K)
        totals = frame.assign(true=cells, mid=cells.where(~small, K / 2),
                              fitted=cells.where(~small, put)) \
            .groupby("area_code")[["true", "mid", "fitted"]].sum()
        bias = {c: (totals[c].sum() - totals["true"].sum()) / totals["true"].sum()
                for c in ("mid", "fitted")}
        error = {c: (totals[c] - totals["true"]).abs().mean() for c in ("mid", "fitted")}
        print(f"{column:34} {int(small.sum()):7,} {cells[small].mean():5.2f} {put:6.2f} | "
              f"{bias['mid']:+15.1%} {bias['fitted']:+7.1%} | "
              f"{error['mid']:16.1f} {error['fitted']:7.1f}")
    print(f"\nfitted every stand-in in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
