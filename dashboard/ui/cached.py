"""The app's caches: source data and expensive results, per viewer scope.

Pages filter outside the cache. Each function takes the session's
:class:`~dashboard.ui.session.Context` (``v``): the store's build, the agreements
register's state and the viewer's access scope (role and organisation). So a rebuilt
store or a changed agreement is never served from a stale cache, and users of
different scopes never share a cached figure. Shared geometry is keyed by the store's
build alone. Objects from ``cache_resource`` are shared by every session and must not
be mutated. Who is looking, and the context, come from :mod:`dashboard.ui.session`;
what they look at is recorded here (:func:`audit_view`, :func:`audited_download`),
where the catalogue that says whether an indicator is a partner's is read.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable

import pandas as pd
import streamlit as st

from dashboard import access, geography, measures
from dashboard.access import Viewer, audit
from dashboard.analysis import backtest, forecast, hotspot_views, hotspots, overlap, profile
from dashboard.filters import FilterError, ViewFilter
from dashboard.geography import weights
from dashboard.geography.regions import get_region, load_regions, view_region
from dashboard.measures import catalogue as cat
from dashboard.measures import hexes
from dashboard.ui.session import Context, store, version, viewer
from dashboard.views import classify, export, maps
from store import governance


def _fields(obj) -> str:
    """A dataclass in a cache key, as one string of every field and its value's repr
    (a nested dataclass likewise): what Streamlit hashes by default, without the deep
    copy its ``dataclasses.asdict`` makes, and hashed in one piece rather than field by
    field (a rerun looks up two dozen caches)."""
    return f"{type(obj).__qualname__}(" + ", ".join(
        f"{f.name}={_fields(v) if dataclasses.is_dataclass(v) else repr(v)}"
        for f in dataclasses.fields(obj) for v in (getattr(obj, f.name),)) + ")"


# Every field of each counts, so a context still parts every viewer scope.
KEYS = {Context: _fields, Viewer: _fields, ViewFilter: _fields, hotspots.Settings: _fields}


def audit_view(what: str, flt: ViewFilter, **detail) -> None:
    """Record, once per session, that the viewer looked at a partner indicator."""
    meta = catalogue(version()).set_index("indicator")
    if flt.indicator not in meta.index or meta.at[flt.indicator, "origin"] != "partner":
        return
    key = (what, flt, tuple(sorted(detail.items())))
    seen = st.session_state.setdefault("audited", set())
    if key in seen:
        return
    seen.add(key)
    audit.record(viewer(), "view", store().governance, page=what, indicator=flt.indicator,
                 level=flt.level, region=flt.region, period=flt.period, **detail)


def audited_download(flt: ViewFilter, indicators: tuple[str, ...], fmt: str, rows: int,
                     make: Callable[[], bytes]) -> Callable[[], bytes]:
    """A download button's data that is made, and recorded in the audit log, when the
    user clicks: Streamlit calls it then (deferred data), outside the page's run, so
    the viewer and the register are taken now."""
    who, gov = viewer(), store().governance

    def build() -> bytes:
        data = make()
        audit.record(who, "export", gov, format=fmt, rows=rows, indicators=list(indicators),
                     filters=flt.to_params(), via="app",
                     sha256=hashlib.sha256(data).hexdigest())
        return data
    return build


@st.cache_data(show_spinner="Checking coverage…", max_entries=8, hash_funcs=KEYS)
def catalogue_coverage(region: str, v: Context) -> pd.DataFrame:
    """The catalogue, as the viewer may see it, with each indicator's coverage of a region."""
    cov = cat.coverage(store(), get_region(region), viewer=v.viewer)
    return access.visible_catalogue(cov, access.rules(store(), v.viewer),
                                    governance.agreements(store().governance))


@st.cache_data(show_spinner=False, hash_funcs=KEYS)
def regions() -> dict:
    """Region presets (config/regions.toml)."""
    return load_regions()


@st.cache_data(show_spinner="Reading the indicator catalogue…", max_entries=32, hash_funcs=KEYS)
def catalogue(v: Context) -> pd.DataFrame:
    """The indicator catalogue as the viewer may see it, with each indicator's
    ``finest_level`` and ``agreement_id`` (``access.visible_catalogue``)."""
    grants = access.rules(store(), v.viewer)  # read once for both
    return access.visible_catalogue(cat.catalogue(store(), viewer=v.viewer, grants=grants),
                                    grants)


@st.cache_data(show_spinner=False, max_entries=256, hash_funcs=KEYS)
def months(indicator: str, v: Context) -> list[str]:
    """The periods an indicator has (none for one the viewer may not see)."""
    try:
        return cat.months(store(), indicator, viewer=v.viewer)
    except access.AccessDenied:
        return []


@st.cache_data(show_spinner=False, max_entries=256, hash_funcs=KEYS)
def breakdowns(indicator: str, v: Context) -> list[str]:
    """The breakdown values an indicator has (empty when it has none, or the viewer may
    not see it)."""
    try:
        return cat.breakdowns(store(), indicator, viewer=v.viewer)
    except access.AccessDenied:
        return []


def view(flt: ViewFilter, v: Context) -> pd.DataFrame:
    """The figures behind a map (see ``measures.indicator_view``); audited."""
    out = _view(flt, v)
    audit_view("map", flt)
    return out


@st.cache_data(show_spinner="Computing the figures…", max_entries=64, hash_funcs=KEYS)
def _view(flt: ViewFilter, v: Context) -> pd.DataFrame:
    return measures.indicator_view(store(), view_region(flt.region, flt.vintage), flt,
                                   viewer=v.viewer)


@st.cache_data(show_spinner="Summarising the region…", max_entries=32, hash_funcs=KEYS)
def summary(region: str, vintage: int | None, start: str, end: str, v: Context
            ) -> pd.DataFrame:
    """Headline figures per indicator for a region and period."""
    return measures.region_summary(store(), view_region(region, vintage), start, end,
                                   catalogue(v), viewer=v.viewer)


@st.cache_data(show_spinner=False, max_entries=32, hash_funcs=KEYS)
def monthly(region: str, vintage: int | None, start: str, end: str, v: Context
            ) -> pd.DataFrame:
    """Monthly regional totals of the monthly count indicators."""
    return measures.region_monthly(store(), view_region(region, vintage), start, end,
                                   viewer=v.viewer)


def shapes(region: str, level: str, vintage: int | None, v: Context):
    """Map geometry of a region's areas (shared; do not mutate)."""
    return _shapes(region, level, vintage, v.store)


@st.cache_resource(show_spinner="Preparing boundaries…", max_entries=12, hash_funcs=KEYS)
def _shapes(region: str, level: str, vintage: int | None, store_version: int):
    return geography.map_shapes(store(), view_region(region, vintage), level)


def lad_outlines(region: str, vintage: int | None, v: Context):
    """District outlines of a region (shared; do not mutate)."""
    return _lad_outlines(region, vintage, v.store)


@st.cache_resource(show_spinner=False, max_entries=12, hash_funcs=KEYS)
def _lad_outlines(region: str, vintage: int | None, store_version: int):
    return geography.lad_outlines(store(), view_region(region, vintage))


@st.cache_resource(show_spinner="Drawing the map…", max_entries=24, hash_funcs=KEYS)
def choropleth(flt: ViewFilter, v: Context, width: int = maps.MAP_WIDTH
               ) -> tuple[maps.LeanDeck, classify.Classification]:
    """The map and its classes for a filter, opening fitted to a map ``width`` pixels
    wide; its JSON is built once and reused."""
    region = view_region(flt.region, flt.vintage)
    areas = shapes(flt.region, flt.level, flt.vintage, v)
    if areas.empty:
        raise FilterError("vintage", f"no {flt.level.upper()} boundaries of the "
                          f"{region.vintage} vintage are available for {region.title}; "
                          "choose ward level or the other vintage")
    data = _view(flt, v)
    meta = catalogue(v).set_index("indicator").loc[flt.indicator]
    deck, classes = maps.view_map(
        areas, lad_outlines(flt.region, flt.vintage, v), data, measure=flt.measure,
        scheme=flt.scheme, k=flt.classes, level=flt.level, unit=meta["unit"],
        polarity=meta["polarity"], detail=region.map_detail, width=width)
    deck.to_json()  # serialise once, inside the cache
    return deck, classes


@st.cache_resource(show_spinner="Preparing the statistics engine (first use only)…",
                   hash_funcs=KEYS)
def engine() -> bool:
    """Compile esda's permutation kernels once per server process."""
    hotspots.warm_up()
    return True


def graph(region: str, level: str, vintage: int | None, v: Context):
    """Queen contiguity of a region's areas, built once and shared (do not mutate)."""
    return _graph(region, level, vintage, v.store)


@st.cache_resource(show_spinner="Finding each area's neighbours…", max_entries=12, hash_funcs=KEYS)
def _graph(region: str, level: str, vintage: int | None, store_version: int):
    return weights.region_graph(store(), view_region(region, vintage), level)


def hotspot_result(flt: ViewFilter, settings: hotspots.Settings, v: Context) -> pd.DataFrame:
    """Hot spots of a view (see ``hotspot_views.hotspot_view``); audited."""
    out = _hotspot_result(flt, settings, v)
    audit_view("hotspots", flt, method=settings.method)
    return out


@st.cache_data(show_spinner="Testing every area against its neighbours…", max_entries=64,
               hash_funcs=KEYS)
def _hotspot_result(flt: ViewFilter, settings: hotspots.Settings, v: Context
                    ) -> pd.DataFrame:
    engine()
    return hotspot_views.hotspot_view(store(), view_region(flt.region, flt.vintage), flt, settings,
                                 graph=graph(flt.region, flt.level, flt.vintage, v),
                                 viewer=v.viewer)


def emerging_result(flt: ViewFilter, settings: hotspots.Settings, v: Context
                    ) -> pd.DataFrame:
    """Emerging hot spot categories of a view (see ``hotspot_views.emerging_view``); audited."""
    out = _emerging_result(flt, settings, v)
    audit_view("emerging", flt)
    return out


@st.cache_data(show_spinner="Testing every month (Gi* per month, then the trend)…",
               max_entries=16, hash_funcs=KEYS)
def _emerging_result(flt: ViewFilter, settings: hotspots.Settings, v: Context
                     ) -> pd.DataFrame:
    engine()
    return hotspot_views.emerging_view(store(), view_region(flt.region, flt.vintage), flt, settings,
                                  graph=graph(flt.region, flt.level, flt.vintage, v),
                                  viewer=v.viewer)


def backtest_result(flt: ViewFilter, settings: hotspots.Settings, train: int, test: int,
                    share: float, methods: tuple[str, ...], v: Context) -> pd.DataFrame:
    """Rolling backtests over the filter's months (``backtest.rolling``); audited."""
    out = _backtest_result(flt, settings, train, test, share, methods, v)
    audit_view("backtest", flt)
    return out


@st.cache_data(show_spinner="Backtesting every window (each method flags areas, then the "
               "next months are counted)…", max_entries=16, hash_funcs=KEYS)
def _backtest_result(flt: ViewFilter, settings: hotspots.Settings, train: int, test: int,
                     share: float, methods: tuple[str, ...], v: Context) -> pd.DataFrame:
    engine()
    windows = backtest.rolling_windows(hotspot_views.periods(store(), flt, viewer=v.viewer), train,
                                       test)
    return backtest.rolling(store(), view_region(flt.region, flt.vintage), flt, windows,
                            methods=list(methods), share=share, settings=settings,
                            graph=graph(flt.region, flt.level, flt.vintage, v),
                            viewer=v.viewer)


@st.cache_resource(show_spinner="Drawing the map…", max_entries=24, hash_funcs=KEYS)
def hotspot_map(flt: ViewFilter, settings: hotspots.Settings, mode: str,
                draw: tuple[bool, bool, bool], v: Context) -> maps.LeanDeck:
    """The class map of a hotspot (``mode="hotspots"``) or emerging analysis;
    ``draw`` is (3D columns, zoom to the hot spots, hot spots only)."""
    region = view_region(flt.region, flt.vintage)
    areas = shapes(flt.region, flt.level, flt.vintage, v)
    if mode == "emerging":
        result = _emerging_result(flt, settings, v)
    else:
        result = _hotspot_result(flt, settings, v)
    deck = maps.class_map(areas, lad_outlines(flt.region, flt.vintage, v), result,
                          mode=mode, method=settings.method, detail=region.map_detail,
                          level=flt.level, columns=draw[0], focus=draw[1],
                          hot_only=draw[2])
    deck.to_json()
    return deck


@st.cache_data(show_spinner=False, max_entries=64, hash_funcs=KEYS)
def has_points(indicator: str, v: Context) -> bool:
    """Whether an indicator has point locations (police.uk) the viewer may see."""
    return hexes.has_points(store(), indicator, viewer=v.viewer)


def hex_result(flt: ViewFilter, settings: hotspots.Settings, resolution: int, v: Context):
    """Hot spots on H3 hexagons (see ``hotspot_views.hex_hotspot_view``); audited."""
    out = _hex_result(flt, settings, resolution, v)
    audit_view("hexagons", flt, resolution=resolution)
    return out


@st.cache_data(show_spinner="Counting records into hexagons and testing them…",
               max_entries=32, hash_funcs=KEYS)
def _hex_result(flt: ViewFilter, settings: hotspots.Settings, resolution: int, v: Context):
    engine()
    return hotspot_views.hex_hotspot_view(store(), view_region(flt.region, flt.vintage), flt,
                                     resolution, settings, viewer=v.viewer)


@st.cache_resource(show_spinner="Drawing the hexagons…", max_entries=16, hash_funcs=KEYS)
def hex_map(flt: ViewFilter, settings: hotspots.Settings, resolution: int,
            draw: tuple[bool, bool, bool], v: Context) -> maps.LeanDeck:
    """The class map of a hexagon analysis (``draw`` as :func:`hotspot_map`'s)."""
    result, cells = _hex_result(flt, settings, resolution, v)
    deck = maps.class_map(cells, lad_outlines(flt.region, flt.vintage, v), result,
                          mode="hotspots", method=settings.method,
                          detail=view_region(flt.region, flt.vintage).map_detail,
                          level="hex", columns=draw[0], focus=draw[1], hot_only=draw[2])
    deck.to_json()
    return deck


@st.cache_data(show_spinner="Preparing the file…", max_entries=16, hash_funcs=KEYS)
def export_files(flt: ViewFilter, indicators: tuple[str, ...], fmt: str, v: Context
                 ) -> dict[str, bytes]:
    """An export's files (see ``export.write``), from the cached stacked view."""
    return export.write(store(), view_region(flt.region, flt.vintage), flt, list(indicators),
                        fmt, frame=export_frame(flt, indicators, v), viewer=v.viewer)


@st.cache_data(show_spinner=False, max_entries=16, hash_funcs=KEYS)
def export_frame(flt: ViewFilter, indicators: tuple[str, ...], v: Context) -> pd.DataFrame:
    """The stacked view behind an export, built once for every format and the preview."""
    return export.export_frame(store(), view_region(flt.region, flt.vintage), flt,
                               list(indicators), viewer=v.viewer)


@st.cache_data(show_spinner=False, max_entries=16, hash_funcs=KEYS)
def export_preview(flt: ViewFilter, indicators: tuple[str, ...], v: Context,
                   rows: int = 20) -> pd.DataFrame:
    """The first rows of an export, as the file will hold them."""
    return export_frame(flt, indicators, v)[measures.COLUMNS].head(rows)


def ward_profile(flt: ViewFilter, ward: str, v: Context) -> pd.DataFrame:
    """One ward's profile (see ``profile.ward_profile``); partner indicators audited."""
    out = _ward_profile(flt, ward, v)
    for indicator in out["indicator"]:
        audit_view("profile", flt.with_(indicator=indicator, level="ward"), ward=ward)
    return out


@st.cache_data(show_spinner="Gathering every indicator for the ward…", max_entries=32,
               hash_funcs=KEYS)
def _ward_profile(flt: ViewFilter, ward: str, v: Context) -> pd.DataFrame:
    return profile.ward_profile(store(), view_region(flt.region, flt.vintage), ward, flt,
                                viewer=v.viewer)


@st.cache_data(show_spinner=False, max_entries=32, hash_funcs=KEYS)
def ward_trend(flt: ViewFilter, ward: str, v: Context) -> pd.DataFrame:
    """One ward's monthly figures beside the region's."""
    return profile.ward_trend(store(), view_region(flt.region, flt.vintage), ward, flt,
                              viewer=v.viewer)


def ward_report(flt: ViewFilter, ward: str, table: pd.DataFrame, v: Context
                ) -> Callable[[], bytes]:
    """The ward report's PDF, made when the download button is clicked (see
    ``report.ward_report_pdf``) from the profile already on the page, and audited."""
    from dashboard.views import report  # Chromium and Vega's converter, only when asked
    st_, region = store(), view_region(flt.region, flt.vintage)
    return audited_download(
        flt.with_(level="ward"), tuple(table["indicator"]), "pdf ward report", len(table),
        lambda: report.ward_report_pdf(st_, region, ward, flt, viewer=v.viewer, table=table))


def ward_for_postcode(region: str, vintage: int | None, postcode: str, v: Context) -> str:
    """The ward of a postcode in a region (see ``profile.ward_for_postcode``)."""
    return _ward_for_postcode(region, vintage, postcode, v.store)


@st.cache_data(show_spinner="Looking up the postcode…", max_entries=64, hash_funcs=KEYS)
def _ward_for_postcode(region: str, vintage: int | None, postcode: str, store_version: int
                       ) -> str:
    return profile.ward_for_postcode(store(), view_region(region, vintage), postcode,
                                     regions())


def ward_names(region: str, vintage: int | None, v: Context) -> dict[str, str]:
    """The region's wards, code to name, in name order."""
    return _ward_names(region, vintage, v.store)


@st.cache_data(show_spinner=False, max_entries=16, hash_funcs=KEYS)
def _ward_names(region: str, vintage: int | None, store_version: int) -> dict[str, str]:
    wards = geography.region_areas(store(), view_region(region, vintage), "ward")
    wards = wards.sort_values(["name", "code"])
    return dict(zip(wards["code"], wards["name"], strict=True))


def ward_map(region: str, vintage: int | None, ward: str, v: Context) -> maps.LeanDeck:
    """A small map of one ward and its LSOAs (outlines only: no figures)."""
    return _ward_map(region, vintage, ward, v.store)


@st.cache_resource(show_spinner=False, max_entries=32, hash_funcs=KEYS)
def _ward_map(region: str, vintage: int | None, ward: str, store_version: int
              ) -> maps.LeanDeck:
    reg = view_region(region, vintage)
    lookup = geography.lsoa_lookup(store(), reg)
    inside = set(lookup.loc[lookup["ward_code"] == ward, "lsoa_code"])
    lsoas = _shapes(region, "lsoa", vintage, store_version)
    wards = _shapes(region, "ward", vintage, store_version)
    return maps.ward_map(lsoas[lsoas["code"].isin(inside)], wards[wards["code"] == ward],
                         _lad_outlines(region, vintage, store_version))


@st.cache_data(show_spinner="Testing each partner's indicator for hot spots…", max_entries=16,
               hash_funcs=KEYS)
def overlap_result(flt: ViewFilter, indicators: tuple[str, ...], v: Context) -> pd.DataFrame:
    """Where partners' hot spots of need coincide (see ``overlap.overlap``)."""
    engine()
    return overlap.overlap(store(), view_region(flt.region, flt.vintage), flt,
                           list(indicators), graph(flt.region, flt.level, flt.vintage, v),
                           viewer=v.viewer)


@st.cache_data(show_spinner="Scoring each indicator…", max_entries=16, hash_funcs=KEYS)
def need_scores(flt: ViewFilter, indicators: tuple[str, ...], v: Context) -> pd.DataFrame:
    """Need scores per area and indicator (see ``overlap.need_scores``)."""
    return overlap.need_scores(store(), view_region(flt.region, flt.vintage), flt,
                               list(indicators), viewer=v.viewer)


@st.cache_data(show_spinner=False, max_entries=64, hash_funcs=KEYS)
def composite(flt: ViewFilter, weights: tuple[tuple[str, float], ...], v: Context) -> pd.DataFrame:
    """The composite demand index for weights (see ``overlap.composite``)."""
    scores = need_scores(flt, tuple(i for i, _ in weights), v)
    return overlap.composite(scores, dict(weights))


@st.cache_resource(show_spinner="Drawing the map…", max_entries=16, hash_funcs=KEYS)
def overlap_map(flt: ViewFilter, key: tuple, kind: str, v: Context):
    """The overlap or index map; ``key`` is the indicators (overlap) or weights (index)."""
    region = view_region(flt.region, flt.vintage)
    frame = overlap_result(flt, key, v) if kind == "overlap" else composite(flt, key, v)
    return maps.overlap_map(shapes(flt.region, flt.level, flt.vintage, v),
                            lad_outlines(flt.region, flt.vintage, v), frame, kind=kind,
                            detail=region.map_detail, level=flt.level)


def ward_of(region: str, vintage: int | None, v: Context) -> dict[str, str]:
    """Each LSOA of a region and its best-fit ward (ward codes map to themselves)."""
    return _ward_of(region, vintage, v.store)


@st.cache_data(show_spinner=False, max_entries=16, hash_funcs=KEYS)
def _ward_of(region: str, vintage: int | None, store_version: int) -> dict[str, str]:
    lookup = geography.lsoa_lookup(store(), view_region(region, vintage))
    out = dict(zip(lookup["lsoa_code"], lookup["ward_code"], strict=True))
    out.update({w: w for w in lookup["ward_code"].unique()})
    return out


# -- forecasts and early warning -----------------------------------------------------------

@st.cache_data(show_spinner=False, max_entries=32, hash_funcs=KEYS)
def forecastable(v: Context) -> list[str]:
    """The count indicators the viewer may see with enough months for a forecast."""
    return forecast.forecastable(store(), viewer=v.viewer)


def forecast_result(flt: ViewFilter, v: Context) -> pd.DataFrame:
    """Each area's forecast for the month after the filter's last month, trained on
    the months up to it (``forecast.forecast_areas``); audited."""
    out = _forecast_result(flt, v)
    audit_view("forecast", flt)
    return out


@st.cache_data(show_spinner="Forecasting every area (a count regression over the months "
               "so far)…", max_entries=16, hash_funcs=KEYS)
def _forecast_result(flt: ViewFilter, v: Context) -> pd.DataFrame:
    return forecast.forecast_areas(store(), view_region(flt.region, flt.vintage), flt.indicator,
                                   flt.level, viewer=v.viewer, train=(None, flt.period_end),
                                   horizon=1, graph=graph(flt.region, flt.level, flt.vintage, v))


@st.cache_resource(show_spinner="Drawing the map…", max_entries=16, hash_funcs=KEYS)
def forecast_map(flt: ViewFilter, v: Context):
    """The expected-next-month map and its legend."""
    meta = catalogue(v).set_index("indicator").loc[flt.indicator]
    deck, legend = maps.forecast_map(shapes(flt.region, flt.level, flt.vintage, v),
                                     lad_outlines(flt.region, flt.vintage, v),
                                     _forecast_result(flt, v), polarity=meta["polarity"],
                                     detail=view_region(flt.region, flt.vintage).map_detail,
                                     level=flt.level)
    deck.to_json()
    return deck, legend


def exceptions_result(flt: ViewFilter, v: Context) -> pd.DataFrame:
    """Every area's month ``flt.period_end`` against its forecast, flagged or not
    (``forecast.exceptions``); audited."""
    out = _exceptions_result(flt, v)
    audit_view("exceptions", flt)
    return out


@st.cache_data(show_spinner="Setting each area's month against its forecast…", max_entries=16,
               hash_funcs=KEYS)
def _exceptions_result(flt: ViewFilter, v: Context) -> pd.DataFrame:
    return forecast.exceptions(store(), view_region(flt.region, flt.vintage), flt.indicator,
                               flt.level, flt.period_end, viewer=v.viewer, every=True,
                               graph=graph(flt.region, flt.level, flt.vintage, v))


def control_chart(flt: ViewFilter, area: str, v: Context) -> pd.DataFrame:
    """One area's process control chart to ``flt.period_end``; audited."""
    out = _control_chart(flt, area, v)
    audit_view("control chart", flt, area=area)
    return out


@st.cache_data(show_spinner="Drawing the process control chart (a forecast for each "
               "month)…", max_entries=32, hash_funcs=KEYS)
def _control_chart(flt: ViewFilter, area: str, v: Context) -> pd.DataFrame:
    return forecast.control_chart(store(), view_region(flt.region, flt.vintage), flt.indicator,
                                  flt.level, area, viewer=v.viewer, end=flt.period_end,
                                  graph=graph(flt.region, flt.level, flt.vintage, v))
