"""Command line: ``python -m loaders build [--region NAME|all] [--store PATH] [--force]``."""

from __future__ import annotations

import argparse
import sys

from loaders.build import build
from loaders.errors import LoaderError


def main(argv: list[str] | None = None) -> int:
    """Run the loaders command line; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m loaders",
                                     description="Build and load the ODA Dashboard store.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("build", help="build the embedded store if it is missing or out of date")
    p.add_argument("--region", default="all",
                   help="a region preset from config/regions.toml, or 'all' (default)")
    p.add_argument("--store", help="store file (default geodata/oda.duckdb, or $ODA_STORE)")
    p.add_argument("--force", action="store_true", help="rebuild even if up to date")
    args = parser.parse_args(argv)
    try:
        regions = None if args.region == "all" else [args.region]
        build(args.store, regions=regions, force=args.force)
    except LoaderError as err:
        print(f"error: {err.user_message}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
