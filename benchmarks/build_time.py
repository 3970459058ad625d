"""Benchmark: how long a from-scratch store build takes, against the raw read cost.

Measured
    ``python -m loaders build --force --store <temporary file>`` run as a
    subprocess (all regions, so the national LSOA layer is included). The wall
    time includes interpreter start-up and imports. The real store under
    ``geodata/`` is never touched: the build writes to a temporary folder that is
    removed afterwards. The build's own figure (``store built in N s``) is shown
    too.

Baseline (same run, measured first, in this process)
    The bare cost of reading the same raw files without any of the build's
    work: ``pandas.read_csv`` of every ``$ODA_DATA_DIR/policeuk/*/*.csv.gz`` and
    ``pyogrio.read_dataframe`` of every file under ``$ODA_DATA_DIR/boundaries``
    (gzipped files through GDAL's ``/vsigzip/`` prefix). The baseline runs before
    the build, so both see a warm file cache.

Target
    The build finishes in under 180 s.

Run from the repository root: ``.venv/bin/python benchmarks/build_time.py``.
``ODA_DATA_DIR`` defaults to ``../shared/data`` beside the repository.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

TARGET_S = 180.0
TIMEOUT_S = 330.0  # give up (and say so) before the ~6 minute budget runs out


def data_dir() -> Path:
    path = Path(os.environ.get("ODA_DATA_DIR") or REPO.parent / "shared" / "data").resolve()
    if not path.is_dir():
        sys.exit(f"error: open data folder {path} does not exist; set ODA_DATA_DIR")
    return path


def raw_read(data: Path) -> dict[str, tuple[int, float]]:
    """Seconds to read the raw police.uk CSVs and boundary files, per group."""
    import pandas as pd
    import pyogrio

    police = sorted(data.glob("policeuk/*/*.csv.gz"))
    bounds = sorted(p for p in (data / "boundaries").iterdir() if p.is_file())
    out = {}
    t0 = time.perf_counter()
    for p in police:
        pd.read_csv(p)
    out["police.uk CSVs (pandas.read_csv)"] = (len(police), time.perf_counter() - t0)
    t0 = time.perf_counter()
    for p in bounds:
        pyogrio.read_dataframe(f"/vsigzip/{p}" if p.suffix == ".gz" else str(p))
    out["boundaries (pyogrio.read_dataframe)"] = (len(bounds), time.perf_counter() - t0)
    return out


def timed_build(data: Path) -> tuple[float, float | None, int, str]:
    """Wall seconds, the build's own seconds, exit status and output tail."""
    tmp = Path(tempfile.mkdtemp(prefix="oda-bench-build-"))
    try:
        env = {**os.environ, "ODA_DATA_DIR": str(data)}
        env.pop("ODA_STORE", None)
        cmd = [sys.executable, "-m", "loaders", "build", "--force",
               "--store", str(tmp / "oda.duckdb")]
        t0 = time.perf_counter()
        try:
            proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True,
                                  timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired as err:
            out = (err.stdout or b"")
            out = out.decode() if isinstance(out, bytes) else out
            return time.perf_counter() - t0, None, -1, out[-2000:]
        wall = time.perf_counter() - t0
        m = re.search(r"store built in ([\d.]+) s", proc.stdout)
        own = float(m.group(1)) if m else None
        return wall, own, proc.returncode, (proc.stdout + proc.stderr)[-2000:]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> int:
    data = data_dir()
    print(f"build_time: ODA_DATA_DIR={data}, {os.cpu_count()} CPUs")
    reads = raw_read(data)
    baseline = sum(s for _, s in reads.values())
    wall, own, rc, tail = timed_build(data)

    rows = [(f"{name} [{n} files]", f"{s:8.1f}", "") for name, (n, s) in reads.items()]
    rows.append(("baseline: raw read, total", f"{baseline:8.1f}", "1.0x"))
    if rc == -1:
        rows.append((f"loaders build --force (timed out at {TIMEOUT_S:.0f} s)",
                     f"{wall:8.1f}+", "-"))
    else:
        rows.append(("loaders build --force, wall (subprocess)", f"{wall:8.1f}",
                     f"{wall / baseline:.1f}x"))
        if own is not None:
            rows.append(("  of which the build's own timer", f"{own:8.1f}",
                         f"{own / baseline:.1f}x"))
    width = max(len(r[0]) for r in rows)
    print(f"\n{'what':<{width}}  {'seconds':>8}  vs baseline")
    print("-" * (width + 23))
    for name, secs, ratio in rows:
        print(f"{name:<{width}}  {secs:>8}  {ratio}")
    print("-" * (width + 23))
    ok = rc == 0 and wall < TARGET_S
    print(f"target: build under {TARGET_S:.0f} s -> "
          f"{'MET' if ok else 'MISSED'} ({wall:.1f} s)")
    if rc != 0:
        print(f"\nbuild failed (exit status {rc}); last output:\n{tail}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
