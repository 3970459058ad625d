"""Command line: the same model the pages use, without a browser.

``python -m dashboard export --region R --level lsoa|ward --indicator ID[,ID...]
--period START:END --measure count|rate --format csv|geojson|gpkg|xlsx --out PATH``

``python -m dashboard hotspots ... --method gi|lisa [--permutations N]
[--seed S] [--correction fdr|none]`` writes one row per area with its
z-score, pseudo p-value, significance and class.

``python -m dashboard emerging ...`` writes each area's emerging hot spot
category over the months of the period.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from dashboard import analysis, catalogue, export, hotspots, measures
from dashboard.filters import LEVELS, MEASURES, ViewFilter, parse_period
from dashboard.regions import get_region
from dashboard.store import Store
from loaders import LoaderError


def _filter(store: Store, args: argparse.Namespace, indicator: str | None = None
            ) -> ViewFilter:
    region = get_region(args.region)
    indicator = indicator or args.indicator
    measures.indicator_meta(store, indicator)
    start, end = parse_period(args.period, catalogue.months(store, indicator))
    return ViewFilter(region=region.name, level=args.level, indicator=indicator,
                      period_start=start, period_end=end, measure=args.measure)


def _settings(args: argparse.Namespace) -> hotspots.Settings:
    try:
        return hotspots.Settings(method=getattr(args, "method", "gi"),
                                 permutations=args.permutations, seed=args.seed,
                                 correction=args.correction)
    except ValueError as err:
        raise LoaderError("options", str(err)) from err


def _write(frame: pd.DataFrame, data: bytes, out: str) -> None:
    if out == "-":
        sys.stdout.write(data.decode("utf-8"))
    else:
        Path(out).write_bytes(data)
        print(f"wrote {len(frame)} areas to {out}", file=sys.stderr)


def _export(store: Store, args: argparse.Namespace) -> int:
    indicators = [i.strip() for i in args.indicator.split(",") if i.strip()]
    flt = _filter(store, args, indicators[0] if indicators else "")
    files = export.write(store, get_region(flt.region), flt, indicators, args.format)
    (suffix, data), *sidecars = files.items()
    if args.out == "-":
        if args.format not in ("csv", "geojson"):
            raise LoaderError("--out", f"a {args.format} file cannot go to standard output")
        sys.stdout.write(data.decode("utf-8"))
        return 0
    out = Path(args.out)
    out.write_bytes(data)
    for extra, more in sidecars:
        out.with_name(out.stem + extra).write_bytes(more)
    names = ", ".join([str(out)] + [out.stem + extra for extra, _ in sidecars])
    print(f"wrote {names}", file=sys.stderr)
    return 0


def _hotspots(store: Store, args: argparse.Namespace) -> int:
    flt = _filter(store, args)
    result = analysis.hotspot_view(store, get_region(flt.region), flt, _settings(args))
    _write(result, export.to_csv(result, list(result.columns)), args.out)
    print(result.attrs["summary"], file=sys.stderr)
    return 0


def _emerging(store: Store, args: argparse.Namespace) -> int:
    flt = _filter(store, args)
    result = analysis.emerging_view(store, get_region(flt.region), flt, _settings(args))
    _write(result, export.to_csv(result, list(result.columns)), args.out)
    return 0


def _view_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--region", required=True, help="region preset (config/regions.toml)")
    p.add_argument("--level", choices=LEVELS, default="lsoa")
    p.add_argument("--indicator", required=True, help="indicator id, e.g. crime_all")
    p.add_argument("--period", required=True, help="START:END inclusive, e.g. 2022-03:2022-05")
    p.add_argument("--measure", choices=MEASURES, default="count")
    p.add_argument("--out", required=True, help="output file, or - for standard output")
    p.add_argument("--store", help="store file (default geodata/oda.duckdb, or $ODA_STORE)")


def _test_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--permutations", type=int, default=hotspots.PERMUTATIONS,
                   help="conditional permutations for the pseudo p-values (default 999)")
    p.add_argument("--seed", type=int, default=hotspots.SEED,
                   help="random seed, so a run can be repeated exactly")
    p.add_argument("--correction", choices=list(hotspots.CORRECTIONS), default="fdr",
                   help="multiple-testing correction (default: false discovery rate)")


def main(argv: list[str] | None = None) -> int:
    """Run the dashboard command line; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m dashboard",
                                     description="ODA Dashboard, head-less.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("export", help="write the data behind a map")
    _view_options(p)
    p.add_argument("--format", choices=list(export.FORMATS), default="csv",
                   help="csv (with a .metadata.json sidecar), geojson, gpkg or xlsx")
    p.set_defaults(run=_export)
    p = sub.add_parser("hotspots", help="Gi* or Local Moran hot spots, one row per area")
    _view_options(p)
    p.add_argument("--method", choices=list(hotspots.METHODS), default="gi",
                   help="gi: Getis-Ord Gi*; lisa: Local Moran's I")
    _test_options(p)
    p.set_defaults(run=_hotspots)
    p = sub.add_parser("emerging", help="emerging hot spot category per area over the months")
    _view_options(p)
    _test_options(p)
    p.set_defaults(run=_emerging)
    args = parser.parse_args(argv)
    try:
        return args.run(Store(args.store), args)
    except LoaderError as err:
        print(f"error: {err.user_message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
