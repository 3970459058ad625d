"""The only model module that caches with Streamlit.

Source data and expensive results are cached here; pages filter outside the
cache. Each function takes the store's version so a rebuilt store is never
served from a stale cache. Objects from ``cache_resource`` are shared by every
session and must not be mutated.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import (
    analysis,
    classify,
    export,
    geography,
    hexes,
    hotspots,
    maps,
    measures,
    overlap,
    profile,
    weights,
)
from dashboard import catalogue as cat
from dashboard.filters import FilterError, ViewFilter
from dashboard.regions import get_region, load_regions, view_region
from dashboard.store import Store
from loaders import store_path


@st.cache_resource(show_spinner=False)
def _store(path: str) -> Store:
    return Store(path)


def store() -> Store:
    """The store, opened once per process (queries reopen it after a rebuild or upload)."""
    return _store(str(store_path()))


def version() -> int:
    """Changes whenever the store file is rebuilt."""
    path = store_path()
    return path.stat().st_mtime_ns if path.exists() else 0


@st.cache_data(show_spinner="Checking coverage…", max_entries=8)
def catalogue_coverage(region: str, v: int) -> pd.DataFrame:
    """The catalogue with each indicator's coverage of a region."""
    return cat.coverage(store(), get_region(region))


@st.cache_data(show_spinner=False)
def regions() -> dict:
    """Region presets (config/regions.toml)."""
    return load_regions()


@st.cache_data(show_spinner="Reading the indicator catalogue…")
def catalogue(v: int) -> pd.DataFrame:
    """The indicator catalogue with period coverage."""
    return cat.catalogue(store())


@st.cache_data(show_spinner=False)
def months(indicator: str, v: int) -> list[str]:
    """The periods an indicator has."""
    return cat.months(store(), indicator)


@st.cache_data(show_spinner="Computing the figures…", max_entries=64)
def view(flt: ViewFilter, v: int) -> pd.DataFrame:
    """The figures behind a map (see ``measures.indicator_view``)."""
    return measures.indicator_view(store(), view_region(flt.region, flt.vintage), flt)


@st.cache_data(show_spinner="Summarising the region…", max_entries=32)
def summary(region: str, vintage: int | None, start: str, end: str, v: int) -> pd.DataFrame:
    """Headline figures per indicator for a region and period."""
    return measures.region_summary(store(), view_region(region, vintage), start, end,
                                   catalogue(v))


@st.cache_data(show_spinner=False, max_entries=32)
def monthly(region: str, vintage: int | None, start: str, end: str, v: int) -> pd.DataFrame:
    """Monthly regional totals of the monthly count indicators."""
    return measures.region_monthly(store(), view_region(region, vintage), start, end)


@st.cache_resource(show_spinner="Preparing boundaries…", max_entries=12)
def shapes(region: str, level: str, vintage: int | None, v: int):
    """Map geometry of a region's areas (shared; do not mutate)."""
    return geography.map_shapes(store(), view_region(region, vintage), level)


@st.cache_resource(show_spinner=False, max_entries=12)
def lad_outlines(region: str, vintage: int | None, v: int):
    """District outlines of a region (shared; do not mutate)."""
    return geography.lad_outlines(store(), view_region(region, vintage))


@st.cache_resource(show_spinner="Drawing the map…", max_entries=24)
def choropleth(flt: ViewFilter, v: int) -> tuple[maps.LeanDeck, classify.Classification]:
    """The map and its classes for a filter; its JSON is built once and reused."""
    region = view_region(flt.region, flt.vintage)
    areas = shapes(flt.region, flt.level, flt.vintage, v)
    if areas.empty:
        raise FilterError("vintage", f"no {flt.level.upper()} boundaries of the "
                          f"{region.vintage} vintage are available for {region.title}; "
                          "choose ward level or the other vintage")
    data = view(flt, v)
    meta = catalogue(v).set_index("indicator").loc[flt.indicator]
    deck, classes = maps.view_map(
        areas, lad_outlines(flt.region, flt.vintage, v), data, measure=flt.measure,
        scheme=flt.scheme, k=flt.classes, level=flt.level, unit=meta["unit"],
        polarity=meta["polarity"], detail=region.map_detail)
    deck.to_json()  # serialise once, inside the cache
    return deck, classes


@st.cache_resource(show_spinner="Preparing the statistics engine (first use only)…")
def engine() -> bool:
    """Compile esda's permutation kernels once per server process."""
    hotspots.warm_up()
    return True


@st.cache_resource(show_spinner="Finding each area's neighbours…", max_entries=12)
def graph(region: str, level: str, vintage: int | None, v: int):
    """Queen contiguity of a region's areas, built once and shared (do not mutate)."""
    return weights.region_graph(store(), view_region(region, vintage), level)


@st.cache_data(show_spinner="Testing every area against its neighbours…", max_entries=64)
def hotspot_result(flt: ViewFilter, settings: hotspots.Settings, v: int) -> pd.DataFrame:
    """Hot spots of a view (see ``analysis.hotspot_view``)."""
    engine()
    return analysis.hotspot_view(store(), view_region(flt.region, flt.vintage), flt, settings,
                                 graph=graph(flt.region, flt.level, flt.vintage, v))


@st.cache_data(show_spinner="Testing every month (Gi* per month, then the trend)…",
               max_entries=16)
def emerging_result(flt: ViewFilter, settings: hotspots.Settings, v: int) -> pd.DataFrame:
    """Emerging hot spot categories of a view (see ``analysis.emerging_view``)."""
    engine()
    return analysis.emerging_view(store(), view_region(flt.region, flt.vintage), flt, settings,
                                  graph=graph(flt.region, flt.level, flt.vintage, v))


@st.cache_resource(show_spinner="Drawing the map…", max_entries=24)
def hotspot_map(flt: ViewFilter, settings: hotspots.Settings, mode: str,
                draw: tuple[bool, bool], v: int) -> maps.LeanDeck:
    """The class map of a hotspot (``mode="hotspots"``) or emerging analysis;
    ``draw`` is (3D columns, zoom to the hot spots)."""
    region = view_region(flt.region, flt.vintage)
    areas = shapes(flt.region, flt.level, flt.vintage, v)
    if mode == "emerging":
        result = emerging_result(flt, settings, v)
    else:
        result = hotspot_result(flt, settings, v)
    deck = maps.class_map(areas, lad_outlines(flt.region, flt.vintage, v), result,
                          mode=mode, method=settings.method, detail=region.map_detail,
                          level=flt.level, columns=draw[0], focus=draw[1])
    deck.to_json()
    return deck


@st.cache_data(show_spinner=False, max_entries=64)
def has_points(indicator: str, v: int) -> bool:
    """Whether an indicator has point locations (police.uk) for a hexagon view."""
    return hexes.has_points(store(), indicator)


@st.cache_data(show_spinner="Counting records into hexagons and testing them…",
               max_entries=32)
def hex_result(flt: ViewFilter, settings: hotspots.Settings, resolution: int, v: int):
    """Hot spots on H3 hexagons (see ``analysis.hex_hotspot_view``)."""
    engine()
    return analysis.hex_hotspot_view(store(), view_region(flt.region, flt.vintage), flt,
                                     resolution, settings)


@st.cache_resource(show_spinner="Drawing the hexagons…", max_entries=16)
def hex_map(flt: ViewFilter, settings: hotspots.Settings, resolution: int,
            draw: tuple[bool, bool], v: int) -> maps.LeanDeck:
    """The class map of a hexagon analysis."""
    result, cells = hex_result(flt, settings, resolution, v)
    deck = maps.class_map(cells, lad_outlines(flt.region, flt.vintage, v), result,
                          mode="hotspots", method=settings.method,
                          detail=view_region(flt.region, flt.vintage).map_detail,
                          level="hex", columns=draw[0], focus=draw[1])
    deck.to_json()
    return deck


@st.cache_data(show_spinner="Preparing the file…", max_entries=16)
def export_files(flt: ViewFilter, indicators: tuple[str, ...], fmt: str, v: int
                 ) -> dict[str, bytes]:
    """An export's files (see ``export.write``), from the cached stacked view."""
    return export.write(store(), view_region(flt.region, flt.vintage), flt, list(indicators),
                        fmt, frame=export_frame(flt, indicators, v))


@st.cache_data(show_spinner=False, max_entries=16)
def export_frame(flt: ViewFilter, indicators: tuple[str, ...], v: int) -> pd.DataFrame:
    """The stacked view behind an export, built once for every format and the preview."""
    return export.export_frame(store(), view_region(flt.region, flt.vintage), flt,
                               list(indicators))


@st.cache_data(show_spinner=False, max_entries=16)
def export_preview(flt: ViewFilter, indicators: tuple[str, ...], v: int,
                   rows: int = 20) -> pd.DataFrame:
    """The first rows of an export, as the file will hold them."""
    return export_frame(flt, indicators, v)[measures.COLUMNS].head(rows)


@st.cache_data(show_spinner="Gathering every indicator for the ward…", max_entries=32)
def ward_profile(flt: ViewFilter, ward: str, v: int) -> pd.DataFrame:
    """One ward's profile (see ``profile.ward_profile``)."""
    return profile.ward_profile(store(), view_region(flt.region, flt.vintage), ward, flt)


@st.cache_data(show_spinner=False, max_entries=32)
def ward_trend(flt: ViewFilter, ward: str, v: int) -> pd.DataFrame:
    """One ward's monthly figures beside the region's."""
    return profile.ward_trend(store(), view_region(flt.region, flt.vintage), ward, flt)


@st.cache_data(show_spinner="Looking up the postcode…", max_entries=64)
def ward_for_postcode(region: str, vintage: int | None, postcode: str, v: int) -> str:
    """The ward of a postcode in a region (see ``profile.ward_for_postcode``)."""
    return profile.ward_for_postcode(store(), view_region(region, vintage), postcode)


@st.cache_data(show_spinner=False, max_entries=16)
def ward_names(region: str, vintage: int | None, v: int) -> dict[str, str]:
    """The region's wards, code to name, in name order."""
    wards = geography.region_areas(store(), view_region(region, vintage), "ward")
    wards = wards.sort_values(["name", "code"])
    return dict(zip(wards["code"], wards["name"], strict=True))


@st.cache_resource(show_spinner=False, max_entries=32)
def ward_map(region: str, vintage: int | None, ward: str, v: int) -> maps.LeanDeck:
    """A small map of one ward and its LSOAs."""
    reg = view_region(region, vintage)
    lookup = geography.lsoa_lookup(store(), reg)
    inside = set(lookup.loc[lookup["ward_code"] == ward, "lsoa_code"])
    lsoas = shapes(region, "lsoa", vintage, v)
    wards = shapes(region, "ward", vintage, v)
    return maps.ward_map(lsoas[lsoas["code"].isin(inside)], wards[wards["code"] == ward],
                         lad_outlines(region, vintage, v))


@st.cache_data(show_spinner="Testing each partner's indicator for hot spots…", max_entries=16)
def overlap_result(flt: ViewFilter, indicators: tuple[str, ...], v: int) -> pd.DataFrame:
    """Where partners' hot spots of need coincide (see ``overlap.overlap``)."""
    engine()
    return overlap.overlap(store(), view_region(flt.region, flt.vintage), flt,
                           list(indicators), graph(flt.region, flt.level, flt.vintage, v))


@st.cache_data(show_spinner="Scoring each indicator…", max_entries=16)
def need_scores(flt: ViewFilter, indicators: tuple[str, ...], v: int) -> pd.DataFrame:
    """Need scores per area and indicator (see ``overlap.need_scores``)."""
    return overlap.need_scores(store(), view_region(flt.region, flt.vintage), flt,
                               list(indicators))


@st.cache_data(show_spinner=False, max_entries=64)
def composite(flt: ViewFilter, weights: tuple[tuple[str, float], ...], v: int) -> pd.DataFrame:
    """The composite demand index for weights (see ``overlap.composite``)."""
    scores = need_scores(flt, tuple(i for i, _ in weights), v)
    return overlap.composite(scores, dict(weights))


@st.cache_resource(show_spinner="Drawing the map…", max_entries=16)
def overlap_map(flt: ViewFilter, key: tuple, kind: str, v: int):
    """The overlap or index map; ``key`` is the indicators (overlap) or weights (index)."""
    region = view_region(flt.region, flt.vintage)
    frame = overlap_result(flt, key, v) if kind == "overlap" else composite(flt, key, v)
    return maps.overlap_map(shapes(flt.region, flt.level, flt.vintage, v),
                            lad_outlines(flt.region, flt.vintage, v), frame, kind=kind,
                            detail=region.map_detail, level=flt.level)


@st.cache_data(show_spinner=False, max_entries=16)
def ward_of(region: str, vintage: int | None, v: int) -> dict[str, str]:
    """Each LSOA of a region and its best-fit ward (ward codes map to themselves)."""
    lookup = geography.lsoa_lookup(store(), view_region(region, vintage))
    out = dict(zip(lookup["lsoa_code"], lookup["ward_code"], strict=True))
    out.update({w: w for w in lookup["ward_code"].unique()})
    return out
