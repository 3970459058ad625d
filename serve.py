"""ODA Dashboard served with its own routes: ``streamlit run serve.py`` (``make run``).

The app itself is ``streamlit_app.py``; this adds the routes that keep a local sign-in
across a reload in an HttpOnly cookie (``dashboard.ui.routes``), which a Streamlit
script cannot set. ``streamlit run streamlit_app.py`` still serves the app, without
them (a sign-in then lasts as long as the browser tab).
"""

import os

import streamlit as st

from dashboard.ui.routes import ROUTES

os.environ["ODA_SESSION_ROUTES"] = "1"  # the sign-in page offers to keep the sign-in
app = st.App("streamlit_app.py", routes=ROUTES)
