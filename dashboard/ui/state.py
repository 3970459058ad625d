"""The view a session is looking at, and the one place session state is initialised.

The current view lives in ``st.session_state["view"]`` (a ``ViewFilter``) and
in the URL, so a link reproduces it. On a session's first run the URL is read;
a malformed parameter falls back to its default with a visible notice.
"""

from __future__ import annotations

import streamlit as st

from dashboard import access, filters
from dashboard.filters import ViewFilter
from dashboard.geography.regions import default_region
from dashboard.measures import hexes
from dashboard.measures.catalogue import MAPPABLE, WARD_GEOGRAPHIES
from dashboard.ui import cached, session
from dashboard.views import export

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
    cat = cached.catalogue(session.version())
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
    return levels, access.why_not_finer(session.viewer(), grant, row["title"])

def _default_view() -> ViewFilter:
    region = default_region(cached.regions())
    months = cached.months("crime_all", session.version())
    return ViewFilter(region=region.name, level="ward", indicator="crime_all",
                      period_start=months[0], period_end=months[-1], measure="rate")

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
            periods_of=lambda i: cached.months(i, session.version()), default=default,
            levels_of=lambda i: allowed_levels(cat, i),
            breakdowns_of=lambda i: cached.breakdowns(i, session.version()))
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

def set_view(view: ViewFilter) -> ViewFilter:
    """Keep the view in the session and in the URL; a page's own parameters (a ward,
    hotspot settings, export formats) are left in place."""
    st.session_state["view"] = view
    params = view.to_params()
    for key in VIEW_PARAMS:
        if key not in params and key in st.query_params:
            del st.query_params[key]  # e.g. the vintage, back to the preset's
    st.query_params.update(params)
    return view

def forget_wards_outside(view: ViewFilter) -> None:
    """After a change of region or vintage, drop a chosen ward (in the URL, or picked
    on a page) that is not a ward of the new region: a link must not pair one
    region with another's ward, and a page must not open on a ward nobody chose."""
    wards = cached.ward_names(view.region, view.vintage, session.version())
    if "ward" in st.query_params and st.query_params["ward"] not in wards:
        del st.query_params["ward"]
    for key in [k for k in st.session_state if str(k).endswith("_ward_pick")]:
        if st.session_state[key] not in wards:
            del st.session_state[key]

def switch_region(name: str) -> None:
    """Change the sidebar's region (a button's callback: it runs before the region
    selector is drawn again)."""
    st.session_state["w_region"] = name

def hotspot_state(key: str) -> None:
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
