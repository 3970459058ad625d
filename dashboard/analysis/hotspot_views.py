"""Hotspot analyses of a view: the one path used by the Hotspots page and the CLI.

Joins the figures (``dashboard.measures``), the weights (``dashboard.geography.weights``)
and the statistics (``dashboard.analysis.hotspots``, ``dashboard.analysis.emerging``).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from libpysal.graph import Graph

from dashboard import access, measures
from dashboard.access import Viewer
from dashboard.analysis import emerging, hotspots
from dashboard.filters import FilterError, ViewFilter
from dashboard.geography import weights
from dashboard.measures import catalogue, hexes
from loaders import Region
from store import Store


def hotspot_view(store: Store, region: Region, flt: ViewFilter,
                 settings: hotspots.Settings = hotspots.DEFAULT,
                 graph: Graph | None = None, *, viewer: Viewer) -> pd.DataFrame:
    """Hot spots of a filter's view: :data:`hotspots.COLUMNS`, one row per area.

    ``attrs["summary"]`` holds the plain-English line, ``attrs["conversion"]``
    any vintage conversion. Pass ``graph`` when the region's weights are
    already built (the app shares one per geography).
    """
    view = measures.indicator_view(store, region, flt, viewer=viewer)
    meta = measures.indicator_meta(store, flt.indicator, viewer=viewer)
    graph = weights.region_graph(store, region, flt.level) if graph is None else graph
    result = hotspots.hotspots(view, graph, measure=flt.measure, settings=settings)
    result.attrs["summary"] = hotspots.summary(result, graph, level=flt.level,
                                               method=settings.method,
                                               polarity=meta["polarity"])
    result.attrs["conversion"] = view.attrs.get("conversion", "")
    result.attrs["partial"] = view.attrs.get("partial", "")
    return result


def periods(store: Store, flt: ViewFilter, *, viewer: Viewer) -> list[str]:
    """The indicator's periods within the filter's period, oldest first."""
    return [m for m in catalogue.months(store, flt.indicator, viewer=viewer)
            if flt.period_start <= m <= flt.period_end]


def emerging_view(store: Store, region: Region, flt: ViewFilter,
                  settings: hotspots.Settings = hotspots.DEFAULT,
                  graph: Graph | None = None, *, viewer: Viewer
                  ) -> pd.DataFrame:
    """Emerging hot spot category of every area over the filter's months.

    Gi* is run on each month on its own (same weights, seed and correction), all
    the months read together (``measures.indicator_views``) and tested in one
    pass (``hotspots.hotspots_over_periods``); then each area's series is classed
    (``dashboard.analysis.emerging``).

    Returns
    -------
    DataFrame
        ``area_code, area_name, value, rate_per_1000, category, periods_hot,
        periods_cold, final_class, trend, trend_z, trend_p, lad_code,
        lad_name``; ``value`` and ``rate_per_1000`` are over the whole period.
        ``attrs["periods"]`` lists the months.

    Raises
    ------
    FilterError
        If the period holds fewer than ``emerging.MIN_PERIODS`` months.
    """
    grants = access.rules(store, viewer)
    # checks access before any month is read
    whole = measures.indicator_view(store, region, flt, viewer=viewer, grants=grants)
    months = periods(store, flt, viewer=viewer)
    if len(months) < emerging.MIN_PERIODS:
        raise FilterError("period", f"emerging hot spots need at least {emerging.MIN_PERIODS} "
                          f"periods; {flt.indicator} has {len(months)} in {flt.period}. "
                          "Choose a longer period.")
    graph = weights.region_graph(store, region, flt.level) if graph is None else graph
    views = measures.indicator_views(store, region, flt, months, viewer=viewer, grants=grants)
    results = hotspots.hotspots_over_periods(views, graph, measure=flt.measure,
                                             settings=gi_settings(settings))
    return emerging_classes(whole, results)


def gi_settings(settings: hotspots.Settings) -> hotspots.Settings:
    """The settings of each month's Gi* in an emerging hot spot analysis."""
    return hotspots.Settings(method="gi", permutations=settings.permutations,
                             seed=settings.seed, correction=settings.correction,
                             alpha=settings.alpha)


def emerging_classes(whole: pd.DataFrame, results: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The body of :func:`emerging_view`, once the figures are read and tested: the
    view of the whole period (``measures.indicator_view``) and each month's Gi*
    result (``hotspots.hotspots_over_periods`` with :func:`gi_settings`), oldest first.
    A month's result does not depend on the other months tested with it, so one pass
    over many months can serve several periods (a backtest's training windows)."""
    whole = whole.set_index("area_code")
    months = list(results)
    z, hot, cold = {}, {}, {}
    for month, res in results.items():
        res = res.set_index("area_code")
        z[month] = res["z"]
        hot[month] = res["class"].isin(set(hotspots.HOT.values()))
        cold[month] = res["class"].isin(set(hotspots.COLD.values()))
        last = res["class"]
    classes = emerging.classify(pd.DataFrame(z), pd.DataFrame(hot), pd.DataFrame(cold))
    out = whole[["area_name", "value", "rate_per_1000"]].join(classes, how="left")
    out["final_class"] = last.reindex(out.index)
    out = out.join(whole[["lad_code", "lad_name"]]).reset_index()
    out["category"] = out["category"].fillna(emerging.NO_PATTERN)
    order = {c: i for i, c in enumerate(emerging.CATEGORIES)}
    out = out.sort_values(["category", "trend_z"], key=lambda s: s.map(order)
                          if s.name == "category" else -s.fillna(-np.inf), kind="stable")
    out = out.reset_index(drop=True)
    out.attrs["periods"] = months
    return out


def hex_hotspot_view(store: Store, region: Region, flt: ViewFilter, resolution: int,
                     settings: hotspots.Settings = hotspots.DEFAULT, *, viewer: Viewer
                     ) -> tuple[pd.DataFrame, gpd.GeoDataFrame]:
    """Gi* (or Local Moran) on H3 hexagons of the indicator's point records.

    Hexagons have no population, so counts are tested whatever the filter's
    measure. Returns the result (as :func:`hotspot_view`) and the hexagons.
    Points are the finest level there is: the viewer must be allowed them, and a
    partner's small counts are hidden (``hexes.hex_view``).
    """
    grants = access.rules(store, viewer)
    meta = measures.indicator_meta(store, flt.indicator, viewer=viewer, grants=grants)
    view, shapes = hexes.hex_view(store, region, flt, resolution, viewer=viewer,
                                  grants=grants)
    graph = hexes.hex_graph(view["area_code"].tolist())
    result = hotspots.hotspots(view, graph, measure="count", settings=settings)
    result.attrs["summary"] = hotspots.summary(result, graph, level="hex",
                                               method=settings.method,
                                               polarity=meta["polarity"])
    result.attrs["points_outside"] = view.attrs["points_outside"]
    return result, shapes
