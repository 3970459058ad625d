"""Command line.

``python -m loaders build [--region NAME|all] [--store PATH] [--force]``
``python -m loaders ingest FILE [--partner NAME] [--meta META] [--store PATH] [--report F]
[--agreement ID] [--replace] [--code COL] [--period COL|PERIOD] [--indicator COL|ID]
[--value COL[,COL...]] [--date-order day-first|month-first]``: run by the operator, and
audited as such.
``python -m loaders details INDICATOR [--unit U] [--polarity P] [--title T]
[--description D] [--store PATH]``: change a partner indicator's catalogue details
without loading its file again (audited).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from loaders.build import build
from loaders.errors import LoaderError
from loaders.partner import FIRST_YEAR
from loaders.readfile import MAX_BYTES


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
    q = sub.add_parser("ingest", help="validate a partner file and load its good rows")
    q.add_argument("file", help="CSV, XLSX, Parquet or police.uk street-level CSV")
    q.add_argument("--partner", help="the partner, where the file has no partner column")
    q.add_argument("--meta", help="catalogue metadata for new indicators (TOML or JSON)")
    q.add_argument("--store", help="store file (default geodata/oda.duckdb, or $ODA_STORE)")
    q.add_argument("--report", help="write the full report as JSON to this file")
    q.add_argument("--agreement", help="the information-sharing agreement (its id in the "
                   "register) the file's indicators belong to")
    q.add_argument("--replace", action="store_true",
                   help="a corrected version: replace the rows of the earlier file of the "
                   "same name and partner")
    q.add_argument("--code", help="the column of area codes, where the file's name for it "
                   "is not recognised")
    q.add_argument("--period", help="the period column, or the period every row is for: "
                   "2024, 2024-Q1, 2024/25, 2024-03, or a run of months 2024-04:2026-04")
    q.add_argument("--indicator", help="the indicator column, or the indicator id of every "
                   "row (lower_snake_case)")
    q.add_argument("--value", help="the value column (several, comma-separated: one "
                   "indicator each)")
    q.add_argument("--breakdown", help="the columns that break figures down (sex, age "
                   "group...), comma-separated, or 'none'; found by name and contents "
                   "otherwise")
    q.add_argument("--date-order", choices=["day-first", "month-first"],
                   help="in an incident list, the order of day and month in dates such as "
                   "11/03/2019; read from the dates otherwise (day first, the UK order, when "
                   "every date could be either)")
    q.add_argument("--first-year", type=int, default=FIRST_YEAR,
                   help=f"periods before this year are quarantined (default {FIRST_YEAR})")
    q.add_argument("--max-mb", type=float, default=MAX_BYTES / 2**20,
                   help=f"refuse files larger than this many MB, unread "
                   f"(default {MAX_BYTES // 2**20})")
    from loaders import details
    d = sub.add_parser("details", help="change a partner indicator's catalogue details "
                       "(unit, polarity, title...) without loading its file again")
    d.add_argument("indicator", help="the indicator id")
    d.add_argument("--unit", help=f"one of: {', '.join(details.UNITS)}")
    d.add_argument("--polarity", help="high_is_bad (a higher figure is worse), low_is_bad "
                   "(a lower figure is worse) or no_judgement")
    d.add_argument("--title", help="the indicator's title")
    d.add_argument("--description", help="what the indicator measures")
    d.add_argument("--source", help="where the figures come from")
    d.add_argument("--licence", help="the licence the partner gives")
    d.add_argument("--suppression-k", type=int, dest="suppression_k",
                   help="hide counts below this (0 to 100)")
    d.add_argument("--store", help="store file (default geodata/oda.duckdb, or $ODA_STORE)")
    args = parser.parse_args(argv)
    try:
        if args.command == "ingest":
            return _ingest(args)
        if args.command == "details":
            wanted = {k: getattr(args, k) for k in details.EDITABLE}
            if all(v is None for v in wanted.values()):
                parser.error("say what to change: --unit, --polarity, --title...")
            changed = details.change(args.indicator, wanted, actor="operator",
                                     role="administrator", store=args.store)
            print(f"{args.indicator}: " + (details.describe(changed) if changed
                                           else "nothing changed (the details were already so)"))
            return 0
        regions = None if args.region == "all" else [args.region]
        build(args.store, regions=regions, force=args.force)
    except LoaderError as err:
        print(f"error: {err.user_message}", file=sys.stderr)
        return 2
    return 0


def _ingest(args: argparse.Namespace) -> int:
    from loaders.fields import for_cli
    from loaders.ingest import ingest
    report = ingest(args.file, partner=args.partner, meta=args.meta, store=args.store,
                    first_year=args.first_year, max_bytes=int(args.max_mb * 2**20),
                    agreement=args.agreement, replace=args.replace, code=args.code,
                    period=args.period, indicator=args.indicator, value=args.value,
                    breakdown=args.breakdown, date_order=args.date_order)
    if args.report:
        Path(args.report).write_text(report.to_json(), encoding="utf-8")
    if report.refused:
        print(f"refused: {report.file}: {for_cli(report.reason)}", file=sys.stderr)
        return 2
    print(report.summary())
    for warning in report.warnings:
        print(f"  warning: {for_cli(warning)}")
    for note in report.notes:
        print(f"  note: {for_cli(note)}")
    for q in report.quarantine[:20]:
        print(f"  row {q['row']}, {q['column'] or 'row'}: {q['reason']}")
    if len(report.quarantine) > 20:
        print(f"  ... {len(report.quarantine) - 20} more in the report")
    return 0


if __name__ == "__main__":
    sys.exit(main())
