"""Links between pages: the full address of a view, and a map whose wards open
their profile when clicked."""

from __future__ import annotations

import streamlit as st
from streamlit.errors import StreamlitAPIException

from dashboard.filters import ViewFilter
from dashboard.ui import cached, session


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
    ward = cached.ward_of(view.region, view.vintage, session.version()).get(picked["code"])
    names = cached.ward_names(view.region, view.vintage, session.version())
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
