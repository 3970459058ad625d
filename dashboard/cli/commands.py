"""Command line: the same model the pages use, without a browser.

``python -m dashboard export --region R --level lsoa|ward --indicator ID[,ID...]
--period START:END --measure count|rate --format csv|geojson|gpkg|xlsx --out PATH``

``--level hex [--resolution N]`` gives an indicator's points on H3 hexagons instead
(``export`` and ``hotspots``), for a viewer allowed points.

``python -m dashboard hotspots ... --method gi|lisa [--permutations N]
[--seed S] [--correction fdr|none]`` writes one row per area with its
z-score, pseudo p-value, significance and class.

``python -m dashboard emerging ...`` writes each area's emerging hot spot
category over the months of the period.

``python -m dashboard report --region R --ward CODE [--period START:END] --out
FILE.pdf`` writes a ward's printable report, as the Ward profile page gives it.

Administration: ``users add NAME --role ROLE [--org ORG]`` (password on
standard input), ``users list``, ``users disable NAME``; ``agreements add
--id ID ...``, ``agreements list``, ``agreements expire ID``; ``audit [--since
DATE] [--user NAME] --out FILE.csv`` and ``audit verify``.

Every command takes ``--as NAME``: it then applies exactly that account's
rules and is audited under that name. Without it, a command runs as the
operator, with administrator rights, and is audited as such. Every run is one
audit entry with its outcome: ``command`` when it ran, ``refused`` when access
was refused (an unknown or disabled ``--as`` name included, recorded under the
name given), ``failed`` when an option or file was wrong.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

# Only what every command needs is imported here; each command imports its own model
# (statistics, geometry, charts) when it runs, so an account or agreement is changed
# without loading them.
from dashboard import access
from dashboard.access import OPERATOR, Viewer, accounts, agreements, audit
from dashboard.access.roles import load_roles
from dashboard.filters import LEVELS, MEASURES, FilterError, ViewFilter, parse_period
from loaders import LoaderError
from store import Store

if TYPE_CHECKING:
    from dashboard.analysis import hotspots


def _filter(store: Store, args: argparse.Namespace, indicator: str | None = None
            ) -> ViewFilter:
    from dashboard import measures
    from dashboard.geography.regions import get_region
    from dashboard.measures import catalogue

    region = get_region(args.region)
    indicator = indicator or args.indicator
    grants = access.rules(store, args.viewer)
    measures.indicator_meta(store, indicator, viewer=args.viewer, grants=grants)
    start, end = parse_period(args.period, catalogue.months(store, indicator,
                                                            viewer=args.viewer, grants=grants))
    breakdown = getattr(args, "breakdown", None) or ""
    if breakdown:
        known = catalogue.breakdowns(store, indicator, viewer=args.viewer, grants=grants)
        if breakdown not in known:
            raise FilterError("breakdown", f"{breakdown!r} is not a breakdown of {indicator}; "
                              f"it has {known or 'none'}")
    return ViewFilter(region=region.name, level="lsoa" if args.level == "hex" else args.level,
                      indicator=indicator,
                      period_start=start, period_end=end, measure=args.measure,
                      breakdown=breakdown)


def _settings(args: argparse.Namespace) -> hotspots.Settings:
    from dashboard.analysis import hotspots

    try:
        return hotspots.Settings(method=getattr(args, "method", "gi"),
                                 permutations=args.permutations, seed=args.seed,
                                 correction=args.correction)
    except ValueError as err:
        raise LoaderError("options", str(err)) from err


def _out_path(out: str) -> Path:
    path = Path(out)
    if not path.parent.is_dir():
        raise FilterError("--out", f"the folder {str(path.parent)!r} does not exist")
    return path


def _write(frame: pd.DataFrame, data: bytes, out: str, noun: str = "areas") -> None:
    if out == "-":
        sys.stdout.write(data.decode("utf-8"))
    else:
        _out_path(out).write_bytes(data)
        print(f"wrote {len(frame)} {noun} to {out}", file=sys.stderr)


def _resolution(args: argparse.Namespace) -> int:
    """The hexagon size of ``--level hex`` (``--resolution`` is for hexagons only)."""
    from dashboard.measures import hexes

    if args.level != "hex":
        if args.resolution is not None:
            raise FilterError("--resolution", "is for --level hex only")
        return 0
    resolution = hexes.DEFAULT_RESOLUTION if args.resolution is None else args.resolution
    if resolution not in hexes.RESOLUTIONS:
        raise FilterError("--resolution", f"{resolution} is not one of "
                          f"{list(hexes.RESOLUTIONS)}")
    return resolution


def _export(store: Store, args: argparse.Namespace) -> int:
    from dashboard.geography.regions import get_region
    from dashboard.views import export

    indicators = [i.strip() for i in args.indicator.split(",") if i.strip()]
    flt = _filter(store, args, indicators[0] if indicators else "")
    if args.out == "-" and args.format not in ("csv", "geojson"):
        raise LoaderError("--out", f"a {args.format} file cannot go to standard output")
    out = None if args.out == "-" else _out_path(args.out)
    resolution = _resolution(args)
    if resolution:
        if len(indicators) != 1:
            raise FilterError("--indicator", "hexagons are exported one indicator at a time")
        frame, files = export.hex_files(store, get_region(flt.region), flt, resolution,
                                        args.format, viewer=args.viewer)
    else:
        frame = export.export_frame(store, get_region(flt.region), flt, indicators,
                                    viewer=args.viewer)
        files = export.write(store, get_region(flt.region), flt, indicators, args.format,
                             frame=frame, viewer=args.viewer)
    (suffix, data), *sidecars = files.items()
    audit.record(args.viewer, "export", store.governance, format=args.format, rows=len(frame),
                 indicators=indicators, via="command line",
                 filters={**flt.to_params(), **({"level": "hex", "resolution": resolution}
                                                if resolution else {})},
                 sha256=hashlib.sha256(data).hexdigest())
    if out is None:
        sys.stdout.write(data.decode("utf-8"))
        return 0
    out.write_bytes(data)
    for extra, more in sidecars:
        out.with_name(out.stem + extra).write_bytes(more)
    names = ", ".join([str(out)] + [out.stem + extra for extra, _ in sidecars])
    print(f"wrote {names}", file=sys.stderr)
    return 0


def _hotspots(store: Store, args: argparse.Namespace) -> int:
    from dashboard.analysis import hotspot_views
    from dashboard.geography.regions import get_region
    from dashboard.views import export

    flt = _filter(store, args)
    resolution = _resolution(args)
    if resolution:
        result, _ = hotspot_views.hex_hotspot_view(store, get_region(flt.region), flt, resolution,
                                              _settings(args), viewer=args.viewer)
    else:
        result = hotspot_views.hotspot_view(store, get_region(flt.region), flt, _settings(args),
                                       viewer=args.viewer)
    _write(result, export.to_csv(result, list(result.columns)), args.out)
    print(result.attrs["summary"], file=sys.stderr)
    return 0


def _emerging(store: Store, args: argparse.Namespace) -> int:
    from dashboard.analysis import hotspot_views
    from dashboard.geography.regions import get_region
    from dashboard.views import export

    flt = _filter(store, args)
    result = hotspot_views.emerging_view(store, get_region(flt.region), flt, _settings(args),
                                    viewer=args.viewer)
    _write(result, export.to_csv(result, list(result.columns)), args.out)
    return 0


def _backtest(store: Store, args: argparse.Namespace) -> int:
    from dashboard.analysis import backtest, hotspots
    from dashboard.geography.regions import get_region
    from dashboard.measures import catalogue
    from dashboard.views import export

    region = get_region(args.region)
    months = catalogue.months(store, args.indicator, viewer=args.viewer)
    train, test = parse_period(args.train, months), parse_period(args.test, months)
    flt = ViewFilter(region=region.name, level=args.level, indicator=args.indicator,
                     period_start=train[0], period_end=train[1])
    methods = [m.strip() for m in args.method.split(",") if m.strip()]
    settings = hotspots.Settings(permutations=args.permutations, seed=args.seed,
                                 correction=args.correction)
    shares = _shares(args.share)
    result = backtest.backtest(store, region, flt, backtest.Window(*train, *test),
                               methods=methods, shares=shares, settings=settings,
                               viewer=args.viewer)
    _write(result, export.to_csv(result, list(result.columns)), args.out, "rows")
    return 0


def _months_arg(store: Store, args: argparse.Namespace, text: str, name: str
                ) -> tuple[str, str]:
    from dashboard.measures import catalogue
    months = catalogue.months(store, args.indicator, viewer=args.viewer)
    try:
        return parse_period(text, months)
    except FilterError as err:
        raise FilterError(name, err.user_message.split(": ", 1)[-1]) from err


def _forecast(store: Store, args: argparse.Namespace) -> int:
    from dashboard.analysis import forecast
    from dashboard.geography.regions import get_region
    from dashboard.views import export

    train = _months_arg(store, args, args.train, "--train") if args.train else None
    result = forecast.forecast_areas(store, get_region(args.region), args.indicator,
                                     args.level, viewer=args.viewer, train=train,
                                     horizon=args.horizon)
    _write(result, export.to_csv(result, forecast.COLUMNS), args.out, "area-months")
    print(f"trained on {result.attrs['trained']}; {forecast.METHOD}; spread "
          + ", ".join(f"{h} month{'s' if h > 1 else ''} ahead: variance mu + "
                      f"{a:.3g} mu^{p:.2f}" for h, (a, p) in result.attrs["spread"].items()),
          file=sys.stderr)
    return 0


def _exceptions(store: Store, args: argparse.Namespace) -> int:
    from dashboard.analysis import forecast
    from dashboard.geography.regions import get_region
    from dashboard.views import export

    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", str(args.period)):
        raise FilterError("--period", f"{args.period!r} is not one month, such as 2022-11")
    from dashboard.measures import catalogue
    months = catalogue.months(store, args.indicator, viewer=args.viewer)
    period = str(args.period)
    if period not in months:
        raise FilterError("--period", f"{period} is not a month of {args.indicator} (it has "
                          f"{months[0] + ' to ' + months[-1] if months else 'none'})")
    result = forecast.exceptions(store, get_region(args.region), args.indicator, args.level,
                                 period, viewer=args.viewer, every=args.all)
    _write(result, export.to_csv(result, list(result.columns)), args.out, "areas")
    a = result.attrs
    flagged = result[result["flagged"]] if args.all else result
    print(f"{len(flagged)} of {a['tested']} areas unusual in {period}: outside the "
          f"{a['level']:.0%} interval of the forecast from the months before (about "
          f"{(1 - a['level']) * a['tested']:.0f} would be by chance); "
          f"{int((flagged['q_value'] <= a['fdr']).sum())} also pass false discovery rate "
          f"control at {a['fdr']:.0%} (q_value); {a['untested']} not tested (hidden, or "
          "small counts)", file=sys.stderr)
    return 0


def _shares(text: str) -> list[float]:
    """``--share``: one share or several, comma-separated (0.05, or 0.01,0.02,0.05,0.1)."""
    try:
        shares = [float(part) for part in str(text).split(",") if part.strip()]
    except ValueError:
        shares = []
    if not shares:
        raise FilterError("--share", f"{text!r} is not a share or a comma-separated list of "
                          "them, such as 0.05 or 0.01,0.02,0.05,0.1")
    return shares


def _report(store: Store, args: argparse.Namespace) -> int:
    from dashboard.geography.regions import get_region
    from dashboard.measures import catalogue
    from dashboard.views import report  # Chromium and Vega's converter: only for this command
    region = get_region(args.region)
    months = catalogue.months(store, "crime_all", viewer=args.viewer)
    start, end = parse_period(args.period, months) if args.period else (months[0], months[-1])
    flt = ViewFilter(region=region.name, level="ward", indicator="crime_all",
                     period_start=start, period_end=end, measure="rate")
    pdf = report.ward_report_pdf(store, region, args.ward, flt, viewer=args.viewer)
    if args.out == "-":
        sys.stdout.buffer.write(pdf)
    else:
        Path(args.out).write_bytes(pdf)
        print(f"wrote the ward report for {args.ward} to {args.out} ({len(pdf):,} bytes)",
              file=sys.stderr)
    audit.record(args.viewer, "export", store.governance, kind="ward report",
                 ward=args.ward, region=region.name, period=f"{start}:{end}",
                 sha256=hashlib.sha256(pdf).hexdigest())
    return 0


def _admin(args: argparse.Namespace) -> None:
    if not args.viewer.rules.administer:
        raise access.AccessDenied("--as", f"{args.viewer.name} is a {args.viewer.rules.title}; "
                                  "only an administrator may do this")


def _users(store: Store, args: argparse.Namespace) -> int:
    _admin(args)
    if args.action == "list":
        sys.stdout.write(accounts.users(store.governance).to_csv(index=False))
        return 0
    if not args.name:
        raise FilterError("users", f"'users {args.action}' needs a NAME")
    if args.action == "disable":
        accounts.set_active(args.name, False, by=args.viewer, path=store.governance)
        print(f"disabled {args.name}", file=sys.stderr)
        return 0
    if args.action == "enable":
        accounts.set_active(args.name, True, by=args.viewer, path=store.governance)
        print(f"enabled {args.name}", file=sys.stderr)
        return 0
    if args.action == "sql-login":
        return _sql_login(store, args)
    if not args.role:
        raise FilterError("--role", f"'users add' needs --role, one of {list(load_roles())}")
    password = None if args.no_password else sys.stdin.readline().rstrip("\r\n")
    if password == "" and not args.no_password:
        raise FilterError("password", "give the password on standard input (or "
                          "--no-password for an account that signs in through OIDC)")
    accounts.add_user(args.name, args.role, args.org or "", password, by=args.viewer,
                      path=store.governance)
    print(f"added {args.name} ({args.role}{', ' + args.org if args.org else ''})",
          file=sys.stderr)
    return 0


def _sql_login(store: Store, args: argparse.Namespace) -> int:
    """A PostgreSQL login for an account (QGIS, psql), bound by row-level security."""
    if store.backend != "postgres":
        raise FilterError("users", "SQL logins exist only on the PostgreSQL store "
                          "(ODA_DATABASE_URL); the DuckDB file is read through the app")
    who = accounts.viewer_of(args.name, store.governance)
    if who is None:
        raise FilterError("users", f"{args.name!r} is not an active account; add it first")
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise FilterError("password", "give the SQL login's password on standard input")
    from store.security import add_sql_login
    add_sql_login(str(store.target), args.name, who.role, password)
    audit.record(args.viewer, "account", store.governance, action="sql-login",
                 account=args.name, role=who.role)
    print(f"{args.name} may now connect to the database as a {who.rules.title}; the "
          "row-level security policies show only what their role and agreements allow",
          file=sys.stderr)
    return 0


def _agreements(store: Store, args: argparse.Namespace) -> int:
    _admin(args)
    if args.action == "list":
        frame = agreements.register(store.governance)
        frame["awaiting_data"] = agreements.awaiting(frame, access.partner_indicators(store))
        for col in ("parties", "indicators", "roles", "orgs", "awaiting_data"):
            frame[col] = frame[col].map(",".join)
        sys.stdout.write(frame.to_csv(index=False))
        for line in agreements.warnings(path=store.governance):
            print(f"warning: {line}", file=sys.stderr)
        return 0
    if args.action in ("expire", "suspend", "activate"):
        if not args.agreement_id:
            raise FilterError("agreements", f"'agreements {args.action}' needs an ID")
        status = {"expire": "expired", "suspend": "suspended", "activate": "active"}
        agreements.set_status(args.agreement_id, status[args.action], by=args.viewer,
                              path=store.governance)
        print(f"{args.agreement_id}: {status[args.action]}", file=sys.stderr)
        return 0
    missing = [f"--{k}" for k in ("id", "title", "parties", "indicators", "roles", "level",
                                  "expires") if not getattr(args, k.replace("-", "_"))]
    if missing:
        raise FilterError("agreements add", f"missing {', '.join(missing)}")
    spec = {"id": args.id, "title": args.title, "parties": args.parties,
            "indicators": args.indicators, "roles": args.roles, "orgs": args.orgs or "",
            "level": args.level, "expires": args.expires, "start_date": args.start,
            "review_date": args.review, "purpose": args.purpose,
            "lawful_basis": args.lawful_basis}
    added = agreements.add(spec, access.partner_indicators(store), by=args.viewer,
                           path=store.governance)
    print(f"added agreement {args.id}", file=sys.stderr)
    if added["awaiting"]:
        print(f"awaiting data: {', '.join(added['awaiting'])} (the agreement applies to "
              "them when they are loaded)", file=sys.stderr)
    for line in added["warnings"]:
        print(f"warning: {line}", file=sys.stderr)
    return 0


def _audit(store: Store, args: argparse.Namespace) -> int:
    from dashboard.views import export

    _admin(args)
    if args.action == "verify":
        problems = audit.verify(store.governance)
        if problems:
            for line in problems:
                print(f"broken: {line}", file=sys.stderr)
            return 1
        n = len(audit.entries(path=store.governance))
        print(f"the audit log's chain is intact ({n} entries)", file=sys.stderr)
        return 0
    if not args.out:
        raise FilterError("--out", "'audit' needs --out FILE.csv (or - for standard output)")
    since = None
    if args.since:
        try:
            since = dt.date.fromisoformat(args.since)
        except ValueError as err:
            raise FilterError("--since", f"{args.since!r} is not a date (YYYY-MM-DD)") from err
    log = audit.entries(since=since, user=args.user, path=store.governance)
    _write(log, export.to_csv(log, list(log.columns)), args.out, "audit entries")
    return 0


def _read_file(path: str, noun: str) -> tuple[bytes, str]:
    file = Path(path)
    if not file.is_file():
        raise FilterError(noun, f"{path!r} is not a file")
    from dashboard.register import MAX_FILE_BYTES
    if file.stat().st_size > MAX_FILE_BYTES:
        raise FilterError(noun, f"{path!r} is larger than {MAX_FILE_BYTES // 2**20} MB")
    return file.read_bytes(), file.name


def _interventions(store: Store, args: argparse.Namespace) -> int:
    from dashboard import register
    from dashboard.measures import interventions as door
    who = args.viewer
    if args.action == "list":
        frame = door.register(store, viewer=who, region=args.region).copy()
        frame["areas"] = frame["areas"].map(",".join)
        frame["indicators"] = frame["indicators"].map(",".join)
        from dashboard.views import export
        frame = frame.drop(columns=["created_by", "updated_by"])
        _write(frame, export.to_csv(frame, list(frame.columns)), args.out or "-",
               "interventions")
        return 0
    if args.action == "end":
        if not args.target:
            raise FilterError("interventions end", "give the ID: interventions end ID "
                              "[--end YYYY-MM]")
        rec = register.end(store, args.target, args.end, viewer=who)
        print(f"{rec['id']}: ended {rec['end_month']}", file=sys.stderr)
        return 0
    if args.action == "import":
        if not args.target:
            raise FilterError("interventions import", "give the CSV file: interventions "
                              "import FILE.csv")
        data, name = _read_file(args.target, "interventions import")
        added, refused = register.import_csv(store, data, name, viewer=who)
        print(f"added {len(added)} interventions from {name}; refused {len(refused)} rows",
              file=sys.stderr)
        for row in refused.to_dict("records"):
            print(f"  {name} row {row['row']} ({row['id'] or 'no id'}): {row['reason']}",
                  file=sys.stderr)
        if refused.attrs.get("ignored_columns"):
            print(f"  ignored columns: {refused.attrs['ignored_columns']}", file=sys.stderr)
        return 1 if len(refused) else 0
    spec = {k: getattr(args, k) for k in ("id", "title", "agency", "areas", "start", "end",
                                          "indicators", "description", "dose", "dose_unit",
                                          "problem", "cost", "contact", "status",
                                          "visibility", "agreement", "region")}
    spec["kind"] = args.type
    areas_file = _read_file(args.areas_file, "--areas-file") if args.areas_file else None
    rec = register.add(store, {k: v for k, v in spec.items() if v is not None}, viewer=who,
                       areas_file=areas_file)
    print(f"added {rec['id']}: {len(rec['areas'])} areas, from {rec['start_month']}"
          f"{' to ' + rec['end_month'] if rec['end_month'] else ''}; seen by "
          f"{rec['visibility']}", file=sys.stderr)
    return 0


def _evaluate(store: Store, args: argparse.Namespace) -> int:
    from dashboard.analysis import evaluation
    methods = (args.method,) if args.method else evaluation.METHODS
    ev, rec, meta = evaluation.evaluate_intervention(
        store, args.intervention, args.indicator, viewer=args.viewer, before=args.before,
        after=args.after, methods=methods, comparison=args.comparison)
    frame = evaluation.table(ev, args.indicator)
    _write(frame, frame.to_csv(index=False).encode("utf-8"), args.out, "methods")
    if args.out != "-":  # which areas were treated, compared and in the ring, beside it
        areas = evaluation.areas_table(ev)
        side = _out_path(args.out).with_suffix(".areas.csv")
        side.write_text(areas.to_csv(index=False), encoding="utf-8")
        print(f"wrote the {len(areas)} areas (treated, comparison, ring) to {side}",
              file=sys.stderr)
    print(evaluation.verdict(ev, meta["title"], meta["polarity"]), file=sys.stderr)
    for method, why in ev.skipped.items():
        print(f"{method}: not estimated: {why}", file=sys.stderr)
    return 0


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--store", help="store file or PostgreSQL URL (default $ODA_DATABASE_URL, "
                   "else $ODA_STORE, else geodata/oda.duckdb)")
    p.add_argument("--as", dest="as_user", metavar="NAME",
                   help="apply this account's rules (and audit the run under its name); "
                   "without it the command runs as the operator, an administrator")


def _view_options(p: argparse.ArgumentParser, hexagons: bool = False) -> None:
    p.add_argument("--region", required=True, help="region preset (config/regions.toml)")
    p.add_argument("--level", choices=(*LEVELS, "hex") if hexagons else LEVELS,
                   default="lsoa", help="hex: H3 hexagons of the indicator's points"
                   if hexagons else None)
    if hexagons:
        from dashboard.measures import hexes
        p.add_argument("--resolution", type=int, help="H3 resolution of --level hex: " +
                       "; ".join(f"{r}: {w}" for r, w in hexes.RESOLUTIONS.items()) +
                       f" (default {hexes.DEFAULT_RESOLUTION})")
    p.add_argument("--indicator", required=True, help="indicator id, e.g. crime_all")
    p.add_argument("--period", required=True, help="START:END inclusive, e.g. 2022-03:2022-05")
    p.add_argument("--measure", choices=MEASURES, default="count")
    p.add_argument("--breakdown", help="one breakdown value, e.g. 'IMD: Q1' (default: the "
                   "total)")
    p.add_argument("--out", required=True, help="output file, or - for standard output")
    _common(p)


def _test_options(p: argparse.ArgumentParser) -> None:
    from dashboard.analysis import hotspots
    p.add_argument("--permutations", type=int, default=hotspots.PERMUTATIONS,
                   help="conditional permutations for Local Moran's pseudo p-values "
                   "(default 999); Gi*'s p is the normal p of its z-score")
    p.add_argument("--seed", type=int, default=hotspots.SEED,
                   help="random seed, so a run can be repeated exactly")
    p.add_argument("--correction", choices=list(hotspots.CORRECTIONS), default="fdr",
                   help="multiple-testing correction (default: false discovery rate)")


def _export_options(p: argparse.ArgumentParser) -> None:
    from dashboard.views import export
    _view_options(p, hexagons=True)
    p.add_argument("--format", choices=list(export.FORMATS), default="csv",
                   help="csv (with a .metadata.json sidecar), geojson, gpkg or xlsx")
    p.set_defaults(run=_export)


def _hotspots_options(p: argparse.ArgumentParser) -> None:
    from dashboard.analysis import hotspots
    _view_options(p, hexagons=True)
    p.add_argument("--method", choices=list(hotspots.METHODS), default="gi",
                   help="gi: Getis-Ord Gi*; lisa: Local Moran's I")
    _test_options(p)
    p.set_defaults(run=_hotspots)


def _emerging_options(p: argparse.ArgumentParser) -> None:
    _view_options(p)
    _test_options(p)
    p.set_defaults(run=_emerging)


def _area_options(p: argparse.ArgumentParser, indicator: str) -> None:
    """``--region``, ``--level`` (LSOA or ward) and ``--indicator`` (``indicator``: its
    help) of a command on one indicator over its months."""
    p.add_argument("--region", required=True, help="region preset (config/regions.toml)")
    p.add_argument("--level", choices=LEVELS, default="lsoa")
    p.add_argument("--indicator", required=True, help=indicator)


def _backtest_options(p: argparse.ArgumentParser) -> None:
    from dashboard.analysis import backtest
    _area_options(p, "indicator id, e.g. crime_all")
    p.add_argument("--train", required=True, help="training months START:END")
    p.add_argument("--test", required=True, help="test months START:END, after --train")
    p.add_argument("--method", default=",".join(backtest.METHODS),
                   help=f"comma-separated, from {','.join(backtest.METHODS)} (default: all)")
    p.add_argument("--share", default=str(backtest.SHARE),
                   help="share of areas the counts, rates and forecast methods flag, or "
                   "several, comma-separated, e.g. 0.01,0.02,0.05,0.1 (default 0.05)")
    p.add_argument("--out", required=True, help="output CSV, or - for standard output")
    _test_options(p)
    _common(p)
    p.set_defaults(run=_backtest)


def _forecast_options(p: argparse.ArgumentParser) -> None:
    from dashboard.analysis import forecast
    _area_options(p, f"a count indicator with at least {forecast.MIN_MONTHS} months, e.g. "
                  "monthly_crime_count")
    p.add_argument("--train", help="training months START:END (default: all); the forecast "
                   "is for the months after END")
    p.add_argument("--horizon", type=int, default=forecast.HORIZON,
                   help=f"months ahead, 1 to {forecast.MAX_HORIZON} (default "
                   f"{forecast.HORIZON})")
    p.add_argument("--out", required=True, help="output CSV, or - for standard output")
    _common(p)
    p.set_defaults(run=_forecast)


def _exceptions_options(p: argparse.ArgumentParser) -> None:
    _area_options(p, "a count indicator, e.g. burglary")
    p.add_argument("--period", required=True, help="the month to test, e.g. 2022-11; the "
                   "forecast is made from the months before it")
    p.add_argument("--all", action="store_true", help="every tested area, flagged or not")
    p.add_argument("--out", required=True, help="output CSV, or - for standard output")
    _common(p)
    p.set_defaults(run=_exceptions)


def _report_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--region", required=True, help="region preset (config/regions.toml)")
    p.add_argument("--ward", required=True, help="ward code, e.g. E05010892")
    p.add_argument("--period", help="months START:END for monthly indicators (default: all)")
    p.add_argument("--out", required=True, help="output PDF, or - for standard output")
    _common(p)
    p.set_defaults(run=_report)


def _users_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=["add", "list", "disable", "enable", "sql-login"])
    p.add_argument("name", nargs="?", help="the account name (an e-mail address for OIDC)")
    p.add_argument("--role", help=f"one of {list(load_roles())}")
    p.add_argument("--org", help="the organisation (partner) the account belongs to")
    p.add_argument("--no-password", action="store_true",
                   help="an account that signs in through OIDC only")
    _common(p)
    p.set_defaults(run=_users)


def _agreements_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=["add", "list", "expire", "suspend", "activate"])
    p.add_argument("agreement_id", nargs="?", help="the agreement (expire, suspend, activate)")
    p.add_argument("--id")
    p.add_argument("--title")
    p.add_argument("--parties", help="organisations party to it, comma-separated")
    p.add_argument("--indicators", help="partner indicators it covers, comma-separated "
                   "(ids not loaded yet are kept as awaiting data)")
    p.add_argument("--roles", help="roles that may see them, comma-separated")
    p.add_argument("--orgs", help="organisations that may see them, comma-separated")
    p.add_argument("--level", choices=list(agreements.AGREEMENT_LEVELS),
                   help="the finest level allowed (point: a partner's incidents on hexagons)")
    p.add_argument("--expires", help="YYYY-MM-DD")
    p.add_argument("--start", help="YYYY-MM-DD (default: now)")
    p.add_argument("--review", help="review date, YYYY-MM-DD")
    p.add_argument("--purpose")
    p.add_argument("--lawful-basis")
    _common(p)
    p.set_defaults(run=_agreements)


def _audit_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", nargs="?", choices=["verify"], help="check the hash chain")
    p.add_argument("--since", help="entries from this date (YYYY-MM-DD)")
    p.add_argument("--user", help="entries by this account")
    p.add_argument("--out", help="CSV file, or - for standard output")
    _common(p)
    p.set_defaults(run=_audit)


def _interventions_options(p: argparse.ArgumentParser) -> None:
    from dashboard import register
    from dashboard.access.policy import VISIBILITY
    p.add_argument("action", choices=["add", "list", "import", "end"])
    p.add_argument("target", nargs="?", help="the CSV file (import) or the ID (end)")
    p.add_argument("--id")
    p.add_argument("--title")
    p.add_argument("--agency", help="the organisation acting (default: your own)")
    p.add_argument("--areas", help="LSOA or ward codes it covers, comma-separated")
    p.add_argument("--areas-file", help="a GeoJSON file of polygons or points: the LSOAs "
                   "they cover")
    p.add_argument("--start", help="first month, YYYY-MM")
    p.add_argument("--end", help="last month, YYYY-MM (open when not given; for end: "
                   "default this month)")
    p.add_argument("--indicators", help="the indicators it aims to change, comma-separated")
    p.add_argument("--type", help=f"what it is, e.g. {', '.join(register.KINDS[:5])}")
    p.add_argument("--description")
    p.add_argument("--dose", help="how much, a number (with --dose-unit)")
    p.add_argument("--dose-unit", help="e.g. 'hours a week'")
    p.add_argument("--problem", help="the problem or project it serves")
    p.add_argument("--cost", help="in pounds")
    p.add_argument("--contact")
    p.add_argument("--status", choices=list(register.STATUSES))
    p.add_argument("--visibility", choices=list(VISIBILITY),
                   help="partners (default: staff of partner organisations), restricted "
                   "(the roles and organisations of --agreement), or public")
    p.add_argument("--agreement", help="the agreement whose roles and organisations may see "
                   "a restricted record")
    p.add_argument("--region", help="region preset (default: the default region)")
    p.add_argument("--out", help="list: CSV file, or - for standard output (default)")
    _common(p)
    p.set_defaults(run=_interventions)


def _evaluate_options(p: argparse.ArgumentParser) -> None:
    from dashboard.analysis import evaluation
    p.add_argument("--intervention", required=True, help="the intervention's id")
    p.add_argument("--indicator", required=True, help="a monthly count, e.g. burglary")
    p.add_argument("--before", help="START:END months (default: the 24 months before the "
                   "start)")
    p.add_argument("--after", help="START:END months (default: every month since the start)")
    p.add_argument("--method", choices=list(evaluation.METHODS),
                   help="one method (default: both)")
    p.add_argument("--comparison", choices=list(evaluation.COMPARISONS), default="region",
                   help="region: the rest of the region; matched: the areas most like the "
                   "treated ones before the start")
    p.add_argument("--out", required=True, help="CSV file, or - for standard output")
    _common(p)
    p.set_defaults(run=_evaluate)


# Each command, its help and its options (filled in for the command that runs).
COMMANDS = {
    "export": ("write the data behind a map", _export_options),
    "hotspots": ("Gi* or Local Moran hot spots, one row per area", _hotspots_options),
    "emerging": ("emerging hot spot category per area over the months", _emerging_options),
    "backtest": ("how well each hot spot method's areas from a training window caught the "
                 "test window's demand (capture rate, PAI, PEI*)", _backtest_options),
    "forecast": ("each area's forecast for the next months with 80% and 95% prediction "
                 "intervals (negative binomial regression)", _forecast_options),
    "exceptions": ("the areas whose month was unusual against their forecast (outside the "
                   "99% interval), with p- and q-values", _exceptions_options),
    "report": ("a ward's printable report (PDF): map, every indicator with its rank and "
               "comparison, trends, summary and sources", _report_options),
    "users": ("accounts: add (password on standard input), list, disable, enable; "
              "sql-login gives an account a PostgreSQL login (password on standard input) "
              "for QGIS or psql", _users_options),
    "agreements": ("information-sharing agreements: add, list, expire, suspend, activate",
                   _agreements_options),
    "audit": ("write the audit log as CSV, or verify its chain", _audit_options),
    "interventions": ("the register of who is doing what where: add, list, import a CSV, "
                      "end", _interventions_options),
    "evaluate": ("did an intervention work? difference-in-differences and synthetic control "
                 "against comparison areas, one row per method", _evaluate_options),
}


def parser_for(argv: list[str]) -> argparse.ArgumentParser:
    """The command line's parser. Only the command named in ``argv`` gets its options
    (and imports what they name); every command is listed, and all get theirs when
    none is named, so ``--help`` and a mistyped command read as before."""
    parser = argparse.ArgumentParser(prog="python -m dashboard",
                                     description="ODA Dashboard, head-less.")
    sub = parser.add_subparsers(dest="command", required=True)
    named = next((a for a in argv if not a.startswith("-")), None)
    for name, (text, options) in COMMANDS.items():
        p = sub.add_parser(name, help=text)
        if named not in COMMANDS or named == name:
            options(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the dashboard command line; return the exit status."""
    parser = parser_for(list(sys.argv[1:] if argv is None else argv))
    args = parser.parse_args(argv)
    given = {"command": args.command,
             "argv": list(argv if argv is not None else sys.argv[1:])[:40]}
    try:
        store = Store(args.store)
    except LoaderError as err:
        print(f"error: {err.user_message}", file=sys.stderr)
        return 2
    try:
        args.viewer = _viewer(store, args.as_user)
    except LoaderError as err:  # an unknown or disabled --as: refused, and on the record
        audit.record(Viewer(str(args.as_user)[:64], "unknown"), "refused", store.governance,
                     **given, outcome=err.user_message)
        print(f"error: {err.user_message}", file=sys.stderr)
        return 2
    # Every run is one entry with its outcome, written when it ends; a refusal reads as one.
    event, outcome, status = "command", "done", 1
    try:
        status = args.run(store, args)
        outcome = "done" if status == 0 else f"exit status {status}"
        return status
    except access.AccessDenied as err:
        event, outcome, status = "refused", err.user_message, 2
        print(f"error: {err.user_message}", file=sys.stderr)
        return 2
    except LoaderError as err:
        event, outcome, status = "failed", err.user_message, 2
        print(f"error: {err.user_message}", file=sys.stderr)
        return 2
    finally:
        audit.record(args.viewer, event, store.governance, **given, outcome=outcome,
                     status=status)


def _viewer(store: Store, name: str | None) -> Viewer:
    """The operator, or the active account named by ``--as``."""
    if name is None:
        return OPERATOR
    found = accounts.viewer_of(name, store.governance)
    if found is None:
        raise access.AccessDenied("--as", f"{name!r} is not an active account")
    return found


if __name__ == "__main__":
    sys.exit(main())
