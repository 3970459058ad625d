"""Shared widgets and the one place session state is initialised.

The current view lives in ``st.session_state["view"]`` (a ``ViewFilter``) and
in the URL, so a link reproduces it. On a session's first run the URL is read;
a malformed parameter falls back to its default with a visible notice.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from pathlib import Path

import streamlit as st
from streamlit.errors import StreamlitAPIException

from dashboard import access, filters
from dashboard.analysis import hotspots
from dashboard.filters import ViewFilter
from dashboard.geography.regions import default_region
from dashboard.measures import hexes
from dashboard.measures.catalogue import MAPPABLE, WARD_GEOGRAPHIES
from dashboard.partners import DATE_ORDERS
from dashboard.ui import cached
from dashboard.views import export, maps
from dashboard.views.classify import SCHEME_LABELS

LEVEL_LABELS = {"lsoa": "LSOA", "ward": "Ward"}
VINTAGE_LABELS = {2011: "2011: LSOA 2011, wards Dec 2019", 2021: "2021: LSOA 2021, wards May 2025"}
MEASURE_LABELS = {"count": "Count", "rate": "Rate per 1,000 residents"}
BY_WARD = ("This indicator is published by ward, so it is shown by ward: its figures are "
           "never spread over LSOAs.")
TOTAL = "All (not broken down)"


def catalogue_for(region_name: str):
    """Indicators the viewer may map: by LSOA (either vintage; the other is converted)
    or by ward, at ward level or finer."""
    del region_name  # every region can show both LSOA vintages
    cat = cached.catalogue(cached.version())
    mappable = cat["geography"].isin(MAPPABLE) & \
        cat["finest_level"].map(lambda f: access.allows(f, "ward"))
    return cat[mappable].reset_index(drop=True)


def allowed_levels(cat, indicator: str) -> tuple[list[str], str]:
    """The map levels (finest first) the viewer may see of an indicator, and why no finer.

    ``cat`` is :func:`catalogue_for`'s frame.
    """
    row = cat.set_index("indicator").loc[indicator]
    if row["geography"] in WARD_GEOGRAPHIES:
        return ["ward"], BY_WARD
    levels = [lvl for lvl in LEVEL_LABELS if access.allows(row["finest_level"], lvl)]
    grant = access.Grant(indicator, row["finest_level"], row["agreement_id"], "")
    return levels, access.why_not_finer(cached.viewer(), grant, row["title"])


def _default_view() -> ViewFilter:
    region = default_region(cached.regions())
    months = cached.months("crime_all", cached.version())
    return ViewFilter(region=region.name, level="ward", indicator="crime_all",
                      period_start=months[0], period_end=months[-1], measure="rate")


def full_link(path: str, query: str) -> str:
    """A link to a page of this app on these choices, as a colleague can open it: the
    address the browser used (scheme and host), the page's path and the query; the
    path alone where the address is not known."""
    from urllib.parse import urlsplit, urlunsplit
    here = urlsplit(st.context.url or "")
    if not (here.scheme and here.netloc):
        return f"{path}?{query}"
    base = here.path.rsplit("/", 1)[0]  # the app may be served under a path
    return urlunsplit((here.scheme, here.netloc, f"{base}{path}", query, ""))


def plain(text: object) -> str:
    """Text from a partner, a URL or an account, safe to put inside Markdown: every
    Markdown and HTML character is escaped, so it shows as typed (no links, images
    or tags)."""
    return re.sub(r"([\\`*_{}\[\]<>#!|~:$&])", r"\\\1", str(text))


def page_menu(pages: list) -> None:
    """The app's menu: a link to each page, in the sidebar.

    Streamlit's own sidebar menu is switched off (``client.showSidebarNavigation``
    in ``.streamlit/config.toml``): on a server's first request it would list every
    file in ``pages/``, the administration page included, before the app's
    navigation replaced it. The app draws its menu here instead, from the pages
    ``st.navigation`` was given, so it lists only the pages this viewer may open.
    """
    menu = st.sidebar.container(key="page_menu")
    for page in pages:
        menu.page_link(page, label=page.title)


def map_width() -> int:
    """The width, in pixels, a map opens fitted to: a phone's (its browser says "Mobi"
    in its user agent, as MDN advises testing) or a desktop's. pydeck cannot fit bounds
    in the browser, so the opening zoom is chosen here, from the device."""
    agent = st.context.headers.get("User-Agent", "") or ""
    return maps.PHONE_WIDTH if "Mobi" in agent else maps.MAP_WIDTH


def account_status() -> None:
    """The sidebar line saying who is signed in, with a link to sign in or out."""
    who = cached.viewer()
    if who.signed_in:
        st.sidebar.caption(f"Signed in as **{plain(who.name)}** ({who.rules.title}"
                           + (f", {plain(who.org)}" if who.org else "") + ")")
        label = "Account and sign out"
    else:
        st.sidebar.caption("Public view: open data, ward level and above.")
        label = "Sign in"
    # A page run on its own (as in a page test) has no navigation to link into.
    with contextlib.suppress(StreamlitAPIException):
        st.sidebar.page_link("pages/signin.py", label=label, icon=":material/login:")


def accessibility_statement() -> str:
    """The accessibility statement, as Markdown (``config/accessibility.md``)."""
    return (Path(__file__).resolve().parents[2] / "config" / "accessibility.md") \
        .read_text(encoding="utf-8")


def page_setup() -> None:
    """Run first on every page: work out who is looking (``cached.refresh``), and
    make a deep link open inside the app's navigation.

    The app keeps its pages in ``pages/``. On a server's very first request,
    Streamlit treats that folder as an old-style multipage app and runs a
    deep-linked page (``/map``) on its own, without ``streamlit_app.py``'s
    navigation and page config, until the entrypoint has run once. Clearing
    that flag and rerunning sends the request through the entrypoint instead.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()
    cached.refresh()  # who is looking, and the context, read once for this run


def current_view() -> ViewFilter:
    """The session's view, read from the URL on the first run of a session."""
    if "view" not in st.session_state:
        params = st.query_params.to_dict()
        default = _default_view()
        region = params.get("region") if params.get("region") in cached.regions() \
            else default.region
        cat = catalogue_for(region)
        view, notices = filters.from_params(
            params, regions=list(cached.regions()), catalogue=cat,
            periods_of=lambda i: cached.months(i, cached.version()), default=default,
            levels_of=lambda i: allowed_levels(cat, i),
            breakdowns_of=lambda i: cached.breakdowns(i, cached.version()))
        st.session_state["view"] = view
        st.session_state["notices"] = notices
    return st.session_state["view"]


def show_notices() -> None:
    """Show, once, what was wrong with the link that opened the session."""
    current_view()
    for notice in st.session_state.pop("notices", []):
        st.warning(notice, icon=":material/link_off:")


VIEW_PARAMS = ("region", "level", "indicator", "period", "measure", "scheme", "classes",
               "vintage", "breakdown")


def _set(view: ViewFilter) -> ViewFilter:
    """Keep the view in the session and in the URL; a page's own parameters (a ward,
    hotspot settings, export formats) are left in place."""
    st.session_state["view"] = view
    params = view.to_params()
    for key in VIEW_PARAMS:
        if key not in params and key in st.query_params:
            del st.query_params[key]  # e.g. the vintage, back to the preset's
    st.query_params.update(params)
    return view


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
        _forget_wards_outside(view)
    return _set(view)


def _forget_wards_outside(view: ViewFilter) -> None:
    """After a change of region or vintage, drop a chosen ward (in the URL, or picked
    on a page) that is not a ward of the new region: a link must not pair one
    region with another's ward, and a page must not open on a ward nobody chose."""
    wards = cached.ward_names(view.region, view.vintage, cached.version())
    if "ward" in st.query_params and st.query_params["ward"] not in wards:
        del st.query_params["ward"]
    for key in [k for k in st.session_state if str(k).endswith("_ward_pick")]:
        if st.session_state[key] not in wards:
            del st.session_state[key]


def switch_region(name: str) -> None:
    """Change the sidebar's region (a button's callback: it runs before the region
    selector is drawn again)."""
    st.session_state["w_region"] = name


def period_picker(view: ViewFilter, key: str) -> ViewFilter:
    """A period-range slider, or a caption for an indicator with one period. A monthly
    indicator opens on all its months; one published by year (or any other period)
    on its latest, never an average over every year unasked."""
    months = cached.months(view.indicator, cached.version())
    cat = cached.catalogue(cached.version()).set_index("indicator")
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
    return _set(view.with_(measure=measure)), c5


def breakdown_picker(where, key: str, indicator: str, current: str) -> str:
    """The breakdown to show (sex, age group...) for an indicator that has them; the
    total by default. Returns ``""`` for the total."""
    values = cached.breakdowns(indicator, cached.version())
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
        return _set(view.with_(scheme=scheme))
    classes = c5.slider("Number of classes", 3, 9, view.classes, key=f"{key}_classes")
    return _set(view.with_(scheme=scheme, classes=classes))


PERMUTATION_CHOICES = list(filters.HOTSPOT_OPTIONS["permutations"])


def _hotspot_state(key: str) -> None:
    """Initialise the Hotspots page's widgets once per session, from the URL."""
    if f"{key}_opts" in st.session_state:
        return
    opts, notices = filters.hotspot_options(st.query_params.to_dict())
    st.session_state[f"{key}_opts"] = True
    st.session_state[f"{key}_method"] = opts["method"]
    st.session_state[f"{key}_mode"] = opts["analysis"]
    st.session_state[f"{key}_perms"] = opts["permutations"]
    st.session_state[f"{key}_correction"] = opts["correction"]
    st.session_state[f"{key}_shape"] = "hexagons" if opts["hex"] else "areas"
    st.session_state[f"{key}_res"] = opts["hex"] or hexes.DEFAULT_RESOLUTION
    for notice in notices:
        st.warning(notice, icon=":material/link_off:")


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
    _hotspot_state(key)

    def on_hexagons(indicator: str) -> str:
        if st.session_state.get(f"{key}_shape") == "hexagons" and \
                cached.has_points(indicator, cached.version()):
            return "Hexagons have no population, so they are compared as counts."
        return ""
    view, c5 = view_controls(key, no_rate=on_hexagons)
    resolution = None
    if cached.has_points(view.indicator, cached.version()):
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


def export_state(key: str = "exp") -> None:
    """Initialise the Export page's indicators and format once per session, from the URL."""
    if f"{key}_opts" in st.session_state:
        return
    st.session_state[f"{key}_opts"] = True
    params = st.query_params.to_dict()
    known = set(catalogue_for(current_view().region)["indicator"])
    if "indicators" in params:
        asked = [i for i in params["indicators"].split(",") if i]
        bad = [i for i in asked if i not in known]
        good = [i for i in asked if i in known]
        if bad:
            st.warning(f"URL parameter 'indicators' named {bad}, which are not in the "
                       "catalogue; they are left out.", icon=":material/link_off:")
        if good:
            st.session_state[f"{key}_indicators"] = good
    if "format" in params:
        if params["format"] in export.FORMATS:
            st.session_state[f"{key}_format"] = params["format"]
        else:
            st.warning(f"URL parameter 'format' was {params['format']!r}; it must be one of "
                       f"{list(export.FORMATS)}. Showing CSV instead.",
                       icon=":material/link_off:")


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
    v = cached.version()
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
    return _set(view), chosen, titles


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


def profile_link(view: ViewFilter, ward: str) -> str:
    """Query parameters that open a ward's profile on the same region and period."""
    from urllib.parse import urlencode
    return urlencode({"region": view.region, "ward": ward, "period": view.period})


def clickable_map(deck, key: str, height: int, view: ViewFilter, container=None) -> None:
    """Draw a map whose areas can be clicked; a clicked area links to its ward's profile.

    An LSOA links to the ward the ONS best-fit lookup puts it in; a hexagon to nothing.
    """
    where = container or st
    event = where.pydeck_chart(deck, on_select="rerun", selection_mode="single-object",
                               key=key, height=height)
    # Item access works on Streamlit's selection state and on a plain dict alike.
    picked = ((event or {}).get("selection", {}).get("objects", {}).get("areas")
              or [None])[0]
    if not picked:
        return
    ward = cached.ward_of(view.region, view.vintage, cached.version()).get(picked["code"])
    names = cached.ward_names(view.region, view.vintage, cached.version())
    if ward in names:
        link_to_profile(view, ward, f"{picked['name']}: open the ward profile of "
                        f"{names[ward]}", where)


def link_to_profile(view: ViewFilter, ward: str, label: str, where=None) -> None:
    """A link to a ward's profile: in-app navigation when the app's menu is running,
    a plain link when a page runs on its own (as in a page test)."""
    where = where or st
    try:
        where.page_link("pages/profile.py", label=label,
                        query_params={"region": view.region, "ward": ward,
                                      "period": view.period})
    except StreamlitAPIException:
        where.markdown(f"[{label}](/profile?{profile_link(view, ward)})")


WHOLE_FILE = "(one for the whole file)"


def reading_choices(reading: dict, columns: list[str]) -> dict:
    """Widgets to change how a partner file is read (inside a form), prefilled with the
    current reading; returns the choices as the command line's options name them."""
    def pick(label: str, current: str | None, options: list[str], help: str) -> str | None:
        index = options.index(current) if current in options else None
        return st.selectbox(label, options, index=index, placeholder="choose a column",
                            help=help, key=f"data_pick_{label}")

    out: dict[str, str] = {}
    c1, c2, c3 = st.columns(3)
    if reading.get("kind") == "incidents":
        with c1:
            out["period"] = pick("Date column", reading.get("period"), columns,
                                 "Incidents are counted by the calendar month of this date.")
            now = DATE_ORDERS.get(reading.get("date_order") or "", "")
            found = "read from the dates" + (f" (now {now.split(' (')[0]})" if now else "")
            out["date_order"] = st.selectbox(
                "Date order", ["", *DATE_ORDERS],
                format_func=lambda o: DATE_ORDERS.get(o, found), key="data_pick_date_order",
                help="Where day and month are both numbers (11/03/2019): which comes "
                "first. Read from the dates (a part over 12 can only be a day); day first, "
                "the UK order, when every date could be either.")
        with c2:
            out["value"] = pick("Category column", reading.get("value"), columns,
                                "Splits the counts into one indicator per category.")
        out["indicator"] = c3.text_input(
            "Indicator id", value=reading.get("indicator") or "", key="data_pick_id",
            placeholder="e.g. fire_incidents",
            help="What the incidents are counted as, in lower_snake_case.")
        return {k: v for k, v in out.items() if v}
    with c1:
        out["code"] = pick("Area codes or ward names", reading.get("code"), columns,
                           "The column of LSOA or ward codes, or of ward names.")
    period = reading.get("period")
    with c2:
        chosen = pick("Period", period if period in columns else WHOLE_FILE,
                      [WHOLE_FILE, *columns], "A column of periods, or one period for "
                      "every row.")
        whole = st.text_input("Period of the whole file", value="" if period in columns
                              else period or "", placeholder="2024 or 2024-04:2026-04",
                              key="data_pick_whole_period")
        out["period"] = whole if chosen == WHOLE_FILE else chosen
    indicator = reading.get("indicator")
    with c3:
        chosen = pick("Indicator", indicator if indicator in columns else WHOLE_FILE,
                      [WHOLE_FILE, *columns], "A column of indicator ids or names, or one "
                      "id for every row.")
        whole = st.text_input("Indicator id of the whole file",
                              value="" if indicator in columns else indicator or "",
                              placeholder="e.g. falls_admissions", key="data_pick_whole_id")
        out["indicator"] = whole if chosen == WHOLE_FILE else chosen
    d1, d2 = st.columns(2)
    if not reading.get("wide_periods"):
        values = d1.multiselect("Value column(s)", columns, default=[
            v for v in reading.get("value") or [] if v in columns], key="data_pick_values",
            help="One column of figures; several make one indicator each.")
        out["value"] = ",".join(values)
    breakdowns = d2.multiselect(
        "Breakdown columns", columns, default=[b for b in reading.get("breakdown") or []
                                               if b in columns],
        key="data_pick_breakdowns", help="Columns such as sex or age group: each value is "
        "kept apart, and NULL, All or Persons mean the total.")
    out["breakdown"] = ",".join(breakdowns) or "none"
    return {k: v for k, v in out.items() if v}
