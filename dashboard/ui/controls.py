"""The controls pages share: region, indicator, level, period and measure pickers,
and the hot spot, ward, trend and overlap choices. Each reads and keeps the view
through :mod:`dashboard.ui.state`."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from dashboard import filters
from dashboard.analysis import hotspots
from dashboard.filters import ViewFilter
from dashboard.measures import hexes
from dashboard.ui import cached, session
from dashboard.ui.state import (
    BY_WARD,
    LEVEL_LABELS,
    MEASURE_LABELS,
    TOTAL,
    VINTAGE_LABELS,
    allowed_levels,
    catalogue_for,
    current_view,
    forget_wards_outside,
    hotspot_state,
    set_view,
)
from dashboard.views.classify import SCHEME_LABELS


def region_picker() -> ViewFilter:
    """The region selector in the sidebar; returns the updated view."""
    view = current_view()
    before = (view.region, view.vintage)
    regions = cached.regions()
    names = list(regions)
    name = st.sidebar.selectbox(
        "Region", names, index=names.index(view.region),
        format_func=lambda n: regions[n].title, key="w_region",
        help="A region is a set of local authority districts (config/regions.toml).")
    if name != view.region:
        cat = catalogue_for(name)
        indicator = view.indicator if view.indicator in set(cat["indicator"]) \
            else cat["indicator"].iat[0]
        view = view.with_(region=name, indicator=indicator)
    own = regions[name].vintage
    chosen = st.sidebar.radio(
        "Geography vintage", [2011, 2021], index=[2011, 2021].index(view.vintage or own),
        format_func=VINTAGE_LABELS.get, key="w_vintage",
        help="Data on the other LSOA vintage is converted through the ONS lookup; split "
        "LSOAs share their counts by population.")
    view = view.with_(vintage=None if chosen == own else chosen)
    if (view.region, view.vintage) != before:
        forget_wards_outside(view)
    return set_view(view)

def period_picker(view: ViewFilter, key: str) -> ViewFilter:
    """A period-range slider, or a caption for an indicator with one period. A monthly
    indicator opens on all its months; one published by year (or any other period)
    on its latest, never an average over every year unasked."""
    months = cached.months(view.indicator, session.version())
    cat = cached.catalogue(session.version()).set_index("indicator")
    monthly = view.indicator in cat.index and cat.at[view.indicator, "frequency"] == "monthly"
    if view.period_start not in months or view.period_end not in months:
        view = view.with_(period_start=months[0] if monthly else months[-1],
                          period_end=months[-1])
    if len(months) > 1:
        start, end = st.select_slider(
            "Period", options=months, value=(view.period_start, view.period_end),
            key=f"{key}_period" if monthly else f"{key}_period_years",
            help="Months are inclusive at both ends." if monthly else
            "This indicator is published by period (a year, say); the latest is shown. "
            "A range adds counts up over its periods and averages other figures.")
        view = view.with_(period_start=start, period_end=end)
    else:
        st.caption(f"Period: {months[0]} (this indicator has a single period)")
    return view

def _level_control(where, key: str, levels: list[str], current: str,
                   help: str | None = None) -> str:
    """A level picker offering only the ``levels`` the viewer may see; a remembered
    choice that is no longer allowed (another indicator, say) is dropped."""
    if st.session_state.get(f"{key}_level", levels[0]) not in levels:
        del st.session_state[f"{key}_level"]
    fallback = current if current in levels else levels[0]
    return where.segmented_control("Level", levels, default=fallback,
                                   format_func=LEVEL_LABELS.get, key=f"{key}_level",
                                   help=help) or fallback

def view_controls(key: str, pick_indicator: bool = True, no_rate=lambda indicator: ""
                  ) -> tuple[ViewFilter, object]:
    """Region, level, indicator, period and measure; returns the view and a spare column.

    With ``pick_indicator=False`` the view keeps its indicator (a page that
    chooses several, such as Export, asks for them itself). ``no_rate(indicator)``
    gives a reason rates are not offered for it (hexagons have no population), or
    ``""``.
    """
    view = region_picker()
    frame = catalogue_for(view.region)
    cat = frame.set_index("indicator")
    c1, c2 = st.columns([1, 2])
    ids = cat.index.tolist()
    indicator = view.indicator if view.indicator in ids else ids[0]
    if pick_indicator:
        indicator = c2.selectbox(
            "Indicator", ids, index=ids.index(indicator),
            format_func=lambda i: f"{cat.at[i, 'title']} · {cat.at[i, 'partner']}",
            key=f"{key}_indicator")
    levels, why = allowed_levels(frame, indicator)
    level = _level_control(c1, key, levels, view.level,
                           "Wards sum their LSOAs' counts and populations through the ONS "
                           "best-fit lookup." + ("" if "lsoa" in levels else " " + why))
    if why == BY_WARD and view.level == "lsoa":
        st.info(BY_WARD, icon=":material/info:")
    # A page that picks several indicators (Export) keeps the view's breakdown for the
    # view's own indicator; the others are shown as totals (``measures.filter_for``).
    breakdown = breakdown_picker(c2, key, indicator, view.breakdown) if pick_indicator \
        else view.breakdown
    view = view.with_(level=level, indicator=indicator, breakdown=breakdown)
    c3, c4, c5 = st.columns([2, 2, 2])
    with c3:
        view = period_picker(view, key)
    has_rate = bool(cat.at[indicator, "additive"]) and \
        filters.has_denominator(cat.at[indicator, "denominator"])
    why = no_rate(indicator) if has_rate else ""
    has_rate = has_rate and not why
    options = list(MEASURE_LABELS) if has_rate else ["count"]
    measure = view.measure if view.measure in options else "count"
    unit = cat.at[indicator, "unit"]
    labels = {**MEASURE_LABELS, "count": "Count" if unit == "count" else f"Value ({unit})"}
    measure = c4.radio(
        "Measure", options, index=options.index(measure), format_func=labels.get,
        key=f"{key}_measure", horizontal=True,
        help=None if has_rate else why or "This indicator is already a score or rate; "
        "it is shown as published.")
    return set_view(view.with_(measure=measure)), c5

def breakdown_picker(where, key: str, indicator: str, current: str) -> str:
    """The breakdown to show (sex, age group...) for an indicator that has them; the
    total by default. Returns ``""`` for the total."""
    values = cached.breakdowns(indicator, session.version())
    if not values:
        return ""
    options = ["", *values]
    return where.selectbox(
        "Breakdown", options, index=options.index(current) if current in options else 0,
        format_func=lambda b: b or TOTAL, key=f"{key}_breakdown_{indicator}",
        help="The partner breaks these figures down. The total is the partner's own row "
        "for everyone; for a count without one, the sum of its breakdowns.")

def map_controls(key: str = "map") -> ViewFilter:
    """Level, indicator, period, measure and classification; returns the view."""
    view, c5 = view_controls(key)
    scheme = c5.selectbox("Classes", list(SCHEME_LABELS),
                          index=list(SCHEME_LABELS).index(view.scheme),
                          format_func=SCHEME_LABELS.get, key=f"{key}_scheme",
                          help="How values are grouped into colours (mapclassify). "
                          "Compared with the region colours each area by whether its 95 % "
                          "interval lies above the region's figure, around it, or below.")
    if scheme == "compared":  # three fixed classes: worse, similar, better
        return set_view(view.with_(scheme=scheme))
    classes = c5.slider("Number of classes", 3, 9, view.classes, key=f"{key}_classes")
    return set_view(view.with_(scheme=scheme, classes=classes))

PERMUTATION_CHOICES = list(filters.HOTSPOT_OPTIONS["permutations"])

@dataclass(frozen=True)
class HotspotChoice:
    """What the Hotspots page shows."""

    view: ViewFilter
    settings: hotspots.Settings
    mode: str  # "hotspots" (the whole period) or "emerging" (month by month)
    columns: bool  # 3D columns
    focus: bool  # zoom the map to the significant areas
    resolution: int | None  # H3 resolution when drawn on hexagons
    hot_only: bool = False  # draw cold spots as not significant

def hotspot_controls(key: str = "hot") -> HotspotChoice:
    """The view, the test settings, the analysis, and how the map is drawn.

    The choices are kept in the URL beside the view's, so a link reproduces them.
    """
    hotspot_state(key)

    def on_hexagons(indicator: str) -> str:
        if st.session_state.get(f"{key}_shape") == "hexagons" and \
                cached.has_points(indicator, session.version()):
            return "Hexagons have no population, so they are compared as counts."
        return ""
    view, c5 = view_controls(key, no_rate=on_hexagons)
    resolution = None
    if cached.has_points(view.indicator, session.version()):
        h1, h2 = st.columns([1, 2])
        shape = h1.radio(
            "Draw on", ["areas", "hexagons"], horizontal=True, key=f"{key}_shape",
            format_func={"areas": "LSOAs or wards", "hexagons": "H3 hexagons"}.get,
            help="This indicator has a location for each record (police.uk's snapped "
            "points, or a partner's incidents). Counted into equal-area hexagons, they "
            "avoid LSOAs' very unequal sizes.")
        if shape == "hexagons":
            resolution = h2.select_slider(
                "Hexagon size", list(hexes.RESOLUTIONS),
                format_func=lambda r: f"res {r}: {hexes.RESOLUTIONS[r]}", key=f"{key}_res",
                help="H3 resolution. Smaller hexagons show more detail but more of them "
                "hold no record at all.")
    method = c5.segmented_control(
        "Method", list(hotspots.METHODS), format_func=hotspots.METHODS.get,
        key=f"{key}_method", help="Gi*: is an area and its neighbours together high "
        "(hot) or low (cold)? Local Moran's I: is an area like its neighbours "
        "(clusters) or unlike them (outliers)?") or "gi"
    mode = c5.radio("Analysis", ["hotspots", "emerging"], horizontal=True,
                    format_func={"hotspots": "Whole period",
                                 "emerging": "Emerging (month by month)"}.get,
                    key=f"{key}_mode", help="Emerging hot spots test each month with Gi* "
                    "and class each area's trend (needs at least 10 months).")
    with st.expander("Test settings"):
        a, b, c = st.columns(3)
        perms = a.select_slider(
            "Permutations", PERMUTATION_CHOICES,
            key=f"{key}_perms", help="Local Moran's I: conditional permutations behind "
            "each pseudo p-value. With 999 no p-value is below 0.001, so more "
            "permutations can make more areas significant under FDR control, but take "
            "longer. Gi* needs none: its p is the normal p of its z-score.")
        correction = b.radio(
            "Multiple testing", list(hotspots.CORRECTIONS), format_func={
                "fdr": "False discovery rate (recommended)", "none": "Uncorrected"}.get,
            key=f"{key}_correction", help="Testing hundreds of areas at 95 % finds about "
            "1 in 20 'significant' by chance. FDR control (Benjamini-Hochberg) keeps the "
            "share of false finds among the significant areas below the level.")
        columns = c.toggle("3D columns", key=f"{key}_columns",
                           help="Raise a column on each area, as tall as its tested value.")
        focus = c.toggle("Zoom to the main hot spot", key=f"{key}_focus",
                         help="Open the map on the largest group of touching hot spots "
                         "(or high-high clusters) instead of the whole region.")
        if f"{key}_hot_only" not in st.session_state or \
                st.session_state.get(f"{key}_hot_only_for") != bool(resolution):
            st.session_state[f"{key}_hot_only"] = bool(resolution)  # hexagons: on
            st.session_state[f"{key}_hot_only_for"] = bool(resolution)
        hot_only = c.toggle("Hot spots only", key=f"{key}_hot_only",
                            help="Draw cold spots as not significant. On hexagons most "
                            "cells have no records, and their cold spots drown the hot "
                            "spots; this is on there by default.")
        st.caption(f"Random seed {hotspots.SEED}: the same choices always give the same "
                   "result.")
    if resolution and perms > filters.MAX_HEX_PERMUTATIONS:
        st.caption(f"On hexagons at most {filters.MAX_HEX_PERMUTATIONS:,} permutations are "
                   "run: there are too many hexagons for more.")
        perms = filters.MAX_HEX_PERMUTATIONS
    settings = hotspots.Settings(method=method if mode == "hotspots" else "gi",
                                 permutations=perms, correction=correction)
    st.query_params.update({"method": method, "analysis": mode, "permutations": str(perms),
                            "correction": correction, "hex": str(resolution or 0)})
    return HotspotChoice(view, settings, mode, columns, focus, resolution, hot_only)

def ward_picker(wards: dict[str, str], key: str = "pro") -> str | None:
    """A type-ahead ward picker, opening on the URL's ``ward`` on a session's first run."""
    if f"{key}_ward_opts" not in st.session_state:
        st.session_state[f"{key}_ward_opts"] = True
        asked = st.query_params.get("ward")
        if asked in wards:
            st.session_state[f"{key}_ward_pick"] = asked
        elif asked:
            st.warning(f"URL parameter 'ward' was {asked!r}, which is not a ward of this "
                       "region. Choose one below.", icon=":material/link_off:")
    preset = {} if f"{key}_ward_pick" in st.session_state else {"index": None}
    return st.selectbox("Ward", list(wards), format_func=lambda c: f"{wards[c]} ({c})",
                        key=f"{key}_ward_pick", placeholder="Type part of a ward's name",
                        help="Or look one up by postcode, or click a ward on the Map page.",
                        **preset)

def trend_indicator(key: str, profile) -> str | None:
    """A picker of the indicators of a ward's profile that have a figure there and more
    than one period (monthly or yearly): only the region's own, All crime first."""
    v = session.version()
    shown = profile[profile["figure"].notna() | (profile["suppressed"] != "")]
    ids = [i for i in shown["indicator"] if len(cached.months(i, v)) > 1]
    if not ids:
        return None
    titles = dict(zip(profile["indicator"], profile["title"], strict=True))
    return st.selectbox("Indicator over time", ids,
                        index=ids.index("crime_all") if "crime_all" in ids else 0,
                        format_func=titles.get, key=f"{key}_trend",
                        help="The indicators with figures for this ward over more than "
                        "one period: monthly ones over the chosen months, yearly ones "
                        "over every year.")

OVERLAP_DEFAULTS = ["crime_all", "acute_morbidity", "homelessness", "fire_deliberate"]

def overlap_controls(key: str = "ovl") -> tuple[ViewFilter, list[str], dict[str, str]]:
    """Region, level, period and the partners' indicators to compare."""
    view = region_picker()
    cat = catalogue_for(view.region)
    ids = cat["indicator"].tolist()
    titles = {i: f"{t} · {p}" for i, t, p in zip(cat["indicator"], cat["title"],
                                                   cat["partner"], strict=True)}
    if f"{key}_indicators" not in st.session_state:
        st.session_state[f"{key}_indicators"] = [i for i in OVERLAP_DEFAULTS if i in ids]
    c1, c2 = st.columns([1, 3])
    chosen = c2.multiselect(
        "Indicators to compare", ids, key=f"{key}_indicators", format_func=titles.get,
        max_selections=6, help="One or more per partner. Each is tested on its own.")
    # Only the levels every chosen indicator may be seen at.
    levels = [lvl for lvl in LEVEL_LABELS
              if all(lvl in allowed_levels(cat, i)[0] for i in chosen)] or ["ward"]
    level = _level_control(c1, key, levels, view.level)
    view = period_picker(view.with_(level=level), key)
    return set_view(view), chosen, titles

def weight_sliders(indicators: list[str], titles: dict[str, str], key: str
                   ) -> tuple[tuple[str, float], ...]:
    """A weight per indicator (0 to 5, default 1) for the composite index."""
    cols = st.columns(min(len(indicators), 3))
    out = []
    for n, indicator in enumerate(indicators):
        out.append((indicator, float(cols[n % len(cols)].slider(
            titles[indicator], 0.0, 5.0, 1.0, 0.5, key=f"{key}_w_{indicator}",
            help="How much this indicator counts in the index, relative to the others."))))
    return tuple(out)
