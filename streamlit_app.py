"""ODA Dashboard entrypoint: page config, navigation and who is signed in; nothing else."""

import streamlit as st

from dashboard.ui import session, widgets


def run() -> None:
    """Route to the pages (a function so a browser test can start the app)."""
    st.set_page_config(page_title="ODA Dashboard", layout="wide")
    session.refresh(for_page=True)  # who is looking: read once, for the menu and the page
    pages = [
        st.Page("pages/overview.py", title="Overview", default=True),
        st.Page("pages/map.py", title="Map"),
        st.Page("pages/hotspots.py", title="Hotspots"),
        st.Page("pages/profile.py", title="Ward profile"),
        st.Page("pages/overlap.py", title="Multi-agency overlap"),
        st.Page("pages/interventions.py", title="Interventions"),
        st.Page("pages/export.py", title="Export"),
        st.Page("pages/data.py", title="Partner data"),
        st.Page("pages/about.py", title="About the data"),
        st.Page("pages/accessibility.py", title="Accessibility"),
        st.Page("pages/signin.py", title="Sign in"),
    ]
    if session.viewer().rules.administer:  # others never see the page listed
        pages.append(st.Page("pages/admin.py", title="Administration"))
    # Hidden: Streamlit's menu is off in .streamlit/config.toml; the app draws its own.
    page = st.navigation(pages, position="hidden")
    widgets.page_menu(pages)
    widgets.account_status()
    st.sidebar.caption("Contains public sector information licensed under the "
                       "Open Government Licence v3.0.")
    page.run()


run()
