"""Command line: the same model the pages use, without a browser.

``python -m dashboard export --region R --level lsoa|ward --indicator ID
--period START:END --measure count|rate --format csv --out PATH``
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dashboard import catalogue, export, measures
from dashboard.filters import LEVELS, MEASURES, ViewFilter, parse_period
from dashboard.regions import get_region
from dashboard.store import Store
from loaders import LoaderError


def _export(args: argparse.Namespace) -> int:
    store = Store(args.store)
    region = get_region(args.region)
    measures.indicator_meta(store, args.indicator)
    start, end = parse_period(args.period, catalogue.months(store, args.indicator))
    flt = ViewFilter(region=region.name, level=args.level, indicator=args.indicator,
                     period_start=start, period_end=end, measure=args.measure)
    view = measures.indicator_view(store, region, flt)
    data = export.to_csv(view)
    if args.out == "-":
        sys.stdout.write(data.decode("utf-8"))
    else:
        Path(args.out).write_bytes(data)
        print(f"wrote {len(view)} areas to {args.out}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the dashboard command line; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m dashboard",
                                     description="ODA Dashboard, head-less.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("export", help="write the data behind a map")
    p.add_argument("--region", required=True, help="region preset (config/regions.toml)")
    p.add_argument("--level", choices=LEVELS, default="lsoa")
    p.add_argument("--indicator", required=True, help="indicator id, e.g. crime_all")
    p.add_argument("--period", required=True, help="START:END inclusive, e.g. 2022-03:2022-03")
    p.add_argument("--measure", choices=MEASURES, default="count")
    p.add_argument("--format", choices=["csv"], default="csv")
    p.add_argument("--out", required=True, help="output file, or - for standard output")
    p.add_argument("--store", help="store file (default geodata/oda.duckdb, or $ODA_STORE)")
    args = parser.parse_args(argv)
    try:
        return _export(args)
    except LoaderError as err:
        print(f"error: {err.user_message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
