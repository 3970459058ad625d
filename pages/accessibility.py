"""Accessibility statement: how accessible the dashboard is, in the form UK public bodies
publish (config/accessibility.md, which an office running its own copy edits)."""

import streamlit as st

from dashboard.ui import widgets

widgets.page_setup()
st.markdown(widgets.accessibility_statement())
