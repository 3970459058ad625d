"""Backtests: would a hot spot map have pointed to the next period's demand?

Each method flags areas from a training window; the test window after it says
how much of the indicator fell in them. Crime analysts judge hot spot maps by
the capture rate (the share of the test total in the flagged areas) and by
Chainey's Predictive Accuracy Index, PAI = capture rate / area share, where the
area share is the flagged areas' share of the region's land area. A PAI of 1 is
no better than flagging areas at random; the higher, the more demand a small
patrol area would have met.

Methods (``METHODS``):

* ``counts``: the ceil(share x areas) areas with the highest training count,
  ties broken by area code;
* ``rates``: the same on rates per 1,000 residents;
* ``gi``: Gi* hot spots at 95 % or more after false-discovery-rate control;
* ``lisa``: Local Moran's I high-high clusters;
* ``emerging``: new, intensifying, persistent and consecutive hot spots over
  the training months;
* ``forecast``: the areas with the highest expected count over the test months,
  from the count regression of :mod:`dashboard.analysis.forecast` trained on the
  training months (it needs :data:`~dashboard.analysis.forecast.MIN_MONTHS` of them,
  and a test window ending within :data:`~dashboard.analysis.forecast.MAX_HORIZON`
  months of training; otherwise it flags nothing).

Besides capture rate and PAI, each row has Hunt's PEI* (``pei``): the capture rate
over the most that as many areas could have caught in the test months, so 1 is a
perfect pick of that many areas.

Land area is measured in EPSG:27700 on the LSOA boundaries (clipped to the
coastline), a ward's as the sum of its best-fit LSOAs'.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from libpysal.graph import Graph

from dashboard import access, geography, measures
from dashboard.access import Viewer
from dashboard.analysis import emerging, forecast, hotspot_views, hotspots
from dashboard.filters import FilterError, ViewFilter
from dashboard.geography import weights
from dashboard.measures import catalogue
from loaders import Region
from store import Store

METHODS = {
    "counts": "Highest counts",
    "rates": "Highest rates per 1,000",
    "gi": "Gi* hot spots (95%, FDR)",
    "lisa": "LISA high-high clusters",
    "emerging": "Emerging hot spots",
    "forecast": "Forecast (count regression)",
}
SHARE = 0.05
COLUMNS = ["method", "share", "areas_flagged", "area_share", "captured", "test_total",
           "capture_rate", "pai", "pei"]
EMERGING_HOT = {f"{p} hot spot" for p in ("New", "Intensifying", "Persistent", "Consecutive")}
GI_HOT = {hotspots.HOT[99], hotspots.HOT[95]}


@dataclass(frozen=True)
class Window:
    """A training window and the test window after it (months, inclusive)."""

    train_start: str
    train_end: str
    test_start: str
    test_end: str

    @property
    def label(self) -> str:
        return (f"{self.train_start}:{self.train_end} -> {self.test_start}:{self.test_end}")


def land_area(store: Store, region: Region, level: str,
              lookup: pd.DataFrame | None = None) -> pd.Series:
    """Land area (m², EPSG:27700) of each of the region's areas at ``level``, from the
    LSOA boundaries; a ward's is the sum of its best-fit LSOAs'."""
    lsoas = geography.area_shapes(store, region, "lsoa", "geom")
    area = pd.Series(lsoas.geometry.area.to_numpy(), index=lsoas["code"])
    if level == "lsoa":
        return area
    lk = geography.lsoa_lookup(store, region) if lookup is None else lookup
    return lk.assign(a=lk["lsoa_code"].map(area)).groupby("ward_code")["a"].sum(min_count=1)


def top_share(figures: pd.Series, share: float) -> list[str]:
    """The ceil(share x areas) areas with the highest figure (areas with a figure);
    ties broken by area code."""
    known = figures.dropna()
    n = math.ceil(share * len(known))
    codes, f = np.asarray(known.index, dtype=object), known.to_numpy(dtype=float)
    order = np.argsort(codes, kind="stable")  # by code, then (stably) highest figure first
    order = order[np.argsort(-f[order], kind="stable")]
    return codes[order[:n]].tolist()


def score(flagged: list[str], test: pd.Series, area: pd.Series) -> dict:
    """Capture rate, area share, PAI and PEI* of ``flagged`` areas on the test figures."""
    total = float(test.sum(min_count=1)) if test.notna().any() else np.nan
    captured = float(test.reindex(flagged).sum())
    best = float(test.dropna().nlargest(len(flagged)).sum()) if flagged else 0.0
    land = float(area.sum())
    share = float(area.reindex(flagged).sum()) / land if land else np.nan
    capture = captured / total if total else np.nan
    pai = capture / share if share else np.nan
    return {"areas_flagged": len(flagged), "area_share": share, "captured": captured,
            "test_total": total, "capture_rate": capture, "pai": pai,
            "pei": captured / best if best else np.nan}


def flag(method: str, train: pd.DataFrame, graph: Graph, share: float,
         settings: hotspots.Settings, emerging_view: pd.DataFrame | None = None,
         by_code: pd.DataFrame | None = None, tested: pd.DataFrame | None = None,
         expected: pd.Series | None = None) -> list[str]:
    """The areas a method flags from the training window's view (one row per area:
    ``area_code, value, rate_per_1000, denominator``...); ``by_code`` is the view
    indexed by area code, and ``tested`` the Gi* or LISA result of the view
    (``hotspots.hotspots`` with :func:`_test_settings`), when already made;
    ``expected`` the forecast's expected test total by area (None: it could not be
    made, and the method flags nothing)."""
    by_code = train.set_index("area_code") if by_code is None else by_code
    if method == "counts":
        return top_share(by_code["value"], share)
    if method == "rates":
        return top_share(by_code["rate_per_1000"], share)
    if method in ("gi", "lisa"):
        res = hotspots.hotspots(train, graph, measure="count",
                                settings=_test_settings(method, settings)) \
            if tested is None else tested
        hot = GI_HOT if method == "gi" else {hotspots.LISA[1]}
        return sorted(res.loc[res["class"].isin(hot), "area_code"])
    if method == "emerging":
        if emerging_view is None:
            return []
        return sorted(emerging_view.loc[emerging_view["category"].isin(EMERGING_HOT),
                                        "area_code"])
    if method == "forecast":
        return [] if expected is None else top_share(expected, share)
    raise FilterError("method", f"{method!r} is not a backtest method; choose from "
                      f"{list(METHODS)}")


def _test_settings(method: str, settings: hotspots.Settings) -> hotspots.Settings:
    """The settings a Gi* or LISA backtest tests a training window with."""
    return hotspots.Settings(method=method, permutations=settings.permutations,
                             seed=settings.seed, correction=settings.correction)


def _checked(methods: list[str] | None, share: float) -> list[str]:
    """The methods asked (all by default), once they and the share are known good."""
    methods = list(METHODS) if methods is None else methods
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise FilterError("method", f"{unknown} not backtest methods; choose from "
                          f"{list(METHODS)}")
    if not 0 < share <= 1:
        raise FilterError("share", f"share was {share}; it must be above 0 and at most 1")
    return methods


def _check_window(window: Window, months: list[str], indicator: str) -> None:
    """Refuse windows the indicator does not have, or a test window not after training."""
    for label, period in (("train", (window.train_start, window.train_end)),
                          ("test", (window.test_start, window.test_end))):
        missing = [p for p in period if p not in months]
        if missing or period[0] > period[1]:
            span = f"{months[0]} to {months[-1]}" if months else "none"
            raise FilterError(label, f"{period[0]}:{period[1]} is not a period of "
                              f"{indicator} (it has {span})")
    if window.test_start <= window.train_end:
        raise FilterError("test", "the test window must start after the training window ends")


def _scores(methods: list[str], train: pd.DataFrame, test: pd.Series, graph: Graph,
            area: pd.Series, share: float, settings: hotspots.Settings,
            trend: pd.DataFrame | None, tested: dict[str, pd.DataFrame] | None = None,
            expected: pd.Series | None = None) -> pd.DataFrame:
    area = area.reindex(train["area_code"])
    by_code = train.set_index("area_code")
    rows = []
    for method in methods:
        flagged = flag(method, train, graph, share, settings, trend, by_code,
                       (tested or {}).get(method), expected)
        rows.append({"method": method, "share": share, **score(flagged, test, area)})
    return pd.DataFrame(rows, columns=COLUMNS)


def backtest(store: Store, region: Region, flt: ViewFilter, window: Window, *,
             methods: list[str] | None = None, share: float = SHARE,
             shares: list[float] | None = None,
             settings: hotspots.Settings = hotspots.DEFAULT, graph: Graph | None = None,
             area: pd.Series | None = None, viewer: Viewer) -> pd.DataFrame:
    """Each method's capture rate, PAI and PEI* for one training and test window.

    ``flt`` gives the region, level and indicator; its period is ignored. ``shares``
    scores each share in turn (instead of ``share``) on views read, and hot spots
    tested, once.

    Returns
    -------
    DataFrame
        :data:`COLUMNS`, one row per method (per share, in the order given), in the
        order asked.

    Raises
    ------
    FilterError
        For an unknown method, a share outside (0, 1], or windows the indicator
        does not have (or that overlap).
    """
    shares = [share] if shares is None else list(shares)
    for one in shares:
        methods = _checked(methods, one)
    months = catalogue.months(store, flt.indicator, viewer=viewer)
    _check_window(window, months, flt.indicator)
    grants = access.rules(store, viewer)
    base = flt.with_(measure="count")
    train = measures.indicator_view(store, region, base.with_(
        period_start=window.train_start, period_end=window.train_end), viewer=viewer,
        grants=grants)
    test = measures.indicator_view(store, region, base.with_(
        period_start=window.test_start, period_end=window.test_end), viewer=viewer,
        grants=grants).set_index("area_code")["value"]
    graph = weights.region_graph(store, region, flt.level) if graph is None else graph
    area = land_area(store, region, flt.level) if area is None else area
    trend = None
    if "emerging" in methods:
        try:
            trend = hotspot_views.emerging_view(store, region, base.with_(
                period_start=window.train_start, period_end=window.train_end), settings,
                graph, viewer=viewer)
        except FilterError:
            trend = None  # too few training months: the method flags nothing
    expected = None
    if "forecast" in methods:
        try:
            panel = forecast.read_panel(store, region, flt.indicator, flt.level,
                                        viewer=viewer, start=window.train_start,
                                        end=window.train_end, graph=graph)
        except FilterError:
            panel = None  # too few training months: the method flags nothing
        expected = _expected(panel, window) if panel is not None else None
    tested = {m: hotspots.hotspots(train, graph, measure="count",
                                   settings=_test_settings(m, settings))
              for m in ("gi", "lisa") if m in methods}
    return pd.concat([_scores(methods, train, test, graph, area, one, settings, trend,
                              tested, expected) for one in shares], ignore_index=True)


def _expected(panel: forecast.Panel, window: Window) -> pd.Series | None:
    """The forecast's expected total over the test window, by area, from ``panel``
    (the training months); None if the window ends too far ahead."""
    ahead = pd.period_range(window.train_end, window.test_end, freq="M").size - 1
    if ahead > forecast.MAX_HORIZON:
        return None
    got = forecast.predict(panel, ahead)
    test = got[got["period"] >= window.test_start]
    return test.groupby("area_code")["predicted"].sum()


def rolling_windows(months: list[str], train: int, test: int, step: int = 1) -> list[Window]:
    """Every training window of ``train`` months followed by a test window of ``test``
    months, moved on ``step`` months at a time."""
    out = []
    for i in range(0, len(months) - train - test + 1, step):
        out.append(Window(months[i], months[i + train - 1], months[i + train],
                          months[i + train + test - 1]))
    return out


def rolling(store: Store, region: Region, flt: ViewFilter, windows: list[Window], *,
            methods: list[str] | None = None, share: float = SHARE,
            settings: hotspots.Settings = hotspots.DEFAULT, graph: Graph | None = None,
            progress=None, viewer: Viewer) -> pd.DataFrame:
    """:func:`backtest` over several windows: :data:`COLUMNS` plus ``window``.

    Each window's rows are what :func:`backtest` gives for it, but what the windows
    share is read and tested once: the region's lookup and land areas, every month's
    view (``measures.indicator_views``, one read for all the months), each month's
    Gi* for emerging hot spots (``hotspots.hotspots_over_periods``: a month's result
    is the same whichever training window it falls in), and the Gi* of every
    training window (the same function: each window's result is what its own test
    gives, with the permutation draws made once for all of them). A one-month test
    window is that month's view; every training window's total (and a longer test
    window's) is a view of its own months, all read in one pass
    (``measures.span_views``, each the same as ``measures.indicator_view`` of its
    months), so its small counts are protected as that total's, not month by month.

    ``progress(done, total)`` is called after each window.
    """
    methods = _checked(methods, share)
    graph = weights.region_graph(store, region, flt.level) if graph is None else graph
    grants = access.rules(store, viewer)
    months = catalogue.months(store, flt.indicator, viewer=viewer, grants=grants)
    for w in windows:
        _check_window(w, months, flt.indicator)
    if not windows:
        return pd.DataFrame(columns=[*COLUMNS, "window", "test_start"])
    base = flt.with_(measure="count")
    lookup = geography.lsoa_lookup(store, region)
    area = land_area(store, region, flt.level, lookup)

    def within(start: str, end: str) -> list[str]:
        return [m for m in months if start <= m <= end]
    trained = {w: within(w.train_start, w.train_end) for w in windows}
    # Emerging hot spots need enough training months; fewer, and the method flags nothing.
    trends = {m for ms in trained.values() if len(ms) >= emerging.MIN_PERIODS for m in ms} \
        if "emerging" in methods else set()
    single = {w.test_start for w in windows if w.test_start == w.test_end}
    wanted = [m for m in months if m in trends | single]
    monthly = measures.indicator_views(store, region, base, wanted, viewer=viewer,
                                       grants=grants) if wanted else {}
    tested = hotspots.hotspots_over_periods(
        {m: monthly[m] for m in wanted if m in trends}, graph, measure=base.measure,
        settings=hotspot_views.gi_settings(settings)) if trends else {}
    totals = measures.span_views(
        store, region, base, [(w.train_start, w.train_end) for w in windows]
        + [(w.test_start, w.test_end) for w in windows if w.test_start != w.test_end],
        viewer=viewer, grants=grants, lookup=lookup)
    # Gi* of every training window in one pass: each result is what the window's own
    # test gives (the same draws and correction), but the draws are made once.
    gi = hotspots.hotspots_over_periods(
        {(w.train_start, w.train_end): totals[(w.train_start, w.train_end)]
         for w in windows}, graph, measure="count", settings=_test_settings("gi", settings)) \
        if "gi" in methods else {}
    panel = None
    if "forecast" in methods:
        spans = [trained[w] for w in windows if len(trained[w]) >= forecast.MIN_MONTHS]
        if spans:
            panel = forecast.read_panel(store, region, flt.indicator, flt.level,
                                        viewer=viewer, start=min(s[0] for s in spans),
                                        end=max(s[-1] for s in spans), graph=graph)
    parts = []
    for i, w in enumerate(windows):
        train = totals[(w.train_start, w.train_end)]
        expected = None
        if panel is not None and len(trained[w]) >= forecast.MIN_MONTHS:
            expected = _expected(panel.between(w.train_start, w.train_end), w)
        test = monthly[w.test_start] if w.test_start == w.test_end else \
            totals[(w.test_start, w.test_end)]
        trend = hotspot_views.emerging_classes(train, {m: tested[m] for m in trained[w]}) \
            if trends and len(trained[w]) >= emerging.MIN_PERIODS else None
        one = _scores(methods, train, test.set_index("area_code")["value"], graph, area,
                      share, settings, trend,
                      {"gi": gi[(w.train_start, w.train_end)]} if gi else None, expected)
        parts.append(one.assign(window=w.label, test_start=w.test_start))
        if progress:
            progress(i + 1, len(windows))
    return pd.concat(parts, ignore_index=True)


# The pick: the highest PAI among the methods that caught at least this share of what
# the most-catching method caught. PAI alone favours a method that flags a sliver of
# land: it can score highly while missing most of the demand a planner has to meet.
MIN_CAPTURE = 0.5


def _eligible(table: pd.DataFrame, pai: str, capture: str) -> pd.DataFrame:
    """The methods the rule compares: those with figures that caught at least
    :data:`MIN_CAPTURE` times what the most-catching method caught."""
    ok = table.dropna(subset=[pai, capture])
    return ok[ok[capture] >= MIN_CAPTURE * ok[capture].max()]


def best_by_rule(table: pd.DataFrame, pai: str = "pai", capture: str = "capture_rate"
                 ) -> str | None:
    """The method with the highest PAI among those whose capture rate is at least
    :data:`MIN_CAPTURE` times the highest capture rate; ties go to the higher capture
    rate, then to the order of the table. ``table`` has one row per method
    (``method`` and the ``pai`` and ``capture`` columns); None if none has figures."""
    eligible = _eligible(table, pai, capture)
    if eligible.empty:
        return None
    order = eligible.sort_values([pai, capture], ascending=False, kind="stable")
    return str(order["method"].iat[0])


def _best_in_window(window: pd.DataFrame) -> pd.Series:
    """The methods best by the rule in one window (all of them, where PAIs tie)."""
    eligible = _eligible(window, "pai", "capture_rate")
    return eligible.loc[eligible["pai"] == eligible["pai"].max(), "method"]


def spread(results: pd.DataFrame) -> pd.DataFrame:
    """Each method's PAI, capture rate and land share over the windows: median, lowest,
    highest, and in how many windows it did best by the rule (:func:`best_by_rule`;
    methods that tie are each counted)."""
    ok = results.dropna(subset=["pai", "capture_rate"])
    best = pd.concat([_best_in_window(w) for _, w in ok.groupby("window")] or
                     [pd.Series(dtype=object)]).value_counts()
    out = ok.groupby("method", sort=False).agg(
        windows=("pai", "size"), pai_median=("pai", "median"), pai_low=("pai", "min"),
        pai_high=("pai", "max"), capture_median=("capture_rate", "median"),
        area_share_median=("area_share", "median"),
        areas_flagged=("areas_flagged", "median"),
        **({"pei_median": ("pei", "median")} if "pei" in ok else {}))
    out["best_in"] = best.reindex(out.index).fillna(0).astype(int)
    return out.reset_index()


def _plain(text: str) -> str:
    """Text shown as typed inside Markdown (``Gi*`` keeps its star, 95% stays 95%)."""
    return re.sub(r"([\\`*_{}\[\]<>#!|~:$&])", r"\\\1", text)


def _pct(share: float) -> str:
    """A share as a percentage, to three significant figures from 10% and two below (a
    hot spot map flags a small share of the land): 28.4%, 12.5%, 0.38%."""
    return f"{100 * share:.{3 if share >= 0.1 else 2}g}%"


def verdict(results: pd.DataFrame) -> str:
    """Which method has held up best here, by a stated rule, what its figures mean, and
    how sure that is, in plain words (Markdown: a paragraph, then a two-point list)."""
    table = spread(results)
    if table.empty:
        return "No method could be scored: the test windows have no figures."
    windows = results["window"].nunique()
    stats = table.set_index("method")
    pick = best_by_rule(table, "pai_median", "capture_median")
    top, most = stats.loc[pick], stats["capture_median"].idxmax()
    line = (f"Over {windows} test window{'s' if windows != 1 else ''}, "
            f"**{_plain(METHODS[pick])}** held up best here: its areas, a median "
            f"{_pct(top['area_share_median'])} of the region's land, caught a median "
            f"{_pct(top['capture_median'])} of the demand in the test months, a median PAI "
            f"of {top['pai_median']:.1f} (from {top['pai_low']:.1f} to "
            f"{top['pai_high']:.1f}).")
    if windows < 3:
        line += " That is too few windows to be sure; choose a longer period."
    else:
        share = top["best_in"] / windows
        line += (" It did best by the rule in every window, so this is a steady finding."
                 if share == 1 else
                 f" It did best by the rule in {int(top['best_in'])} of {windows} windows, "
                 "so this is " + ("a fairly steady finding." if share >= 0.6 else
                                  "not a steady finding: the methods take turns."))
    caught = "it caught the most itself" if most == pick else (
        f"{_plain(METHODS[most])} caught the most, {_pct(stats.loc[most, 'capture_median'])}"
        f" in {_pct(stats.loc[most, 'area_share_median'])} of the land, a PAI of "
        f"{stats.loc[most, 'pai_median']:.1f}")
    return (f"{line}\n\n"
            "- **PAI**, Chainey's predictive accuracy index: the share of the demand caught "
            "divided by the share of the land flagged. 1 is what flagging land at random "
            "would do; the higher, the more demand a small patrol area meets.\n"
            f"- **The rule**: the highest median PAI among the methods that caught at least "
            f"{MIN_CAPTURE:.0%} as much as the method that caught most (here "
            f"{_pct(MIN_CAPTURE * stats['capture_median'].max())} or more; {caught}). PAI "
            "alone favours a method that flags a sliver of land while missing most of the "
            "demand.")
