"""Page furniture every page shares: the page set-up (sign-in check, view, menu),
the account line, the accessibility statement, the map's width, and plain text.

The view itself is kept by :mod:`dashboard.ui.state`, the controls are in
:mod:`dashboard.ui.controls`, links between pages in :mod:`dashboard.ui.links` and
the upload form in :mod:`dashboard.ui.upload_form`.
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

import streamlit as st
from streamlit.errors import StreamlitAPIException

from dashboard.ui import session
from dashboard.views import maps


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
    who = session.viewer()
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
    """Run first on every page: work out who is looking (``session.refresh``), and
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
    session.page_refresh()  # who is looking, and the context, read once for this run
