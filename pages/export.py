"""Export: the current view, in the analyst's own format, with its metadata."""

from urllib.parse import urlencode

import streamlit as st

from dashboard import LoaderError
from dashboard.ui import cached, controls, links, session, state, widgets
from dashboard.views import export

widgets.page_setup()
st.title("Export")
state.show_notices()
state.export_state("exp")
view, _ = controls.view_controls("exp", pick_indicator=False)
v = session.version()
cat = state.catalogue_for(view.region).set_index("indicator")
ids = cat.index.tolist()
if "exp_indicators" not in st.session_state:
    st.session_state["exp_indicators"] = [view.indicator]
indicators = st.multiselect(
    "Indicators to export", ids, key="exp_indicators",
    format_func=lambda i: f"{cat.at[i, 'title']} · {cat.at[i, 'partner']}",
    help="One row per area and indicator. Indicators without the chosen months (a "
    "deprivation index, say) are given for the period they have.")
fmt = st.radio("Format", list(export.FORMATS), horizontal=True, key="exp_format",
               format_func=lambda f: export.FORMATS[f][0],
               help="CSV comes with a metadata file beside it; the other formats carry "
               "their metadata inside (a GeoJSON member, a GeoPackage table, an XLSX sheet).")
if not indicators:
    st.info("Choose at least one indicator to export.", icon=":material/info:")
    st.stop()

region = cached.regions()[view.region]
try:
    files = cached.export_files(view, tuple(indicators), fmt, v)
except LoaderError as err:
    st.error(err.user_message)
    st.stop()
frame = cached.export_frame(view, tuple(indicators), v)
periods = frame.attrs.get("periods") or {}
measure = ("rates per 1,000 where there is a denominator" if view.measure == "rate"
           else "counts and values as published")
st.markdown(f"**{region.title}**, {state.LEVEL_LABELS[view.level]}s, {measure}: "
            f"{len(indicators)} indicator{'s' if len(indicators) > 1 else ''}.")
if len(set(periods.values())) > 1:
    st.markdown("Each indicator is exported for its own period:\n" + "\n".join(
        f"- {widgets.plain(cat.at[i, 'title'])}: {p.replace(':', ' to ')}"
        for i, p in periods.items()))
elif periods:
    st.markdown(f"Period: {next(iter(periods.values())).replace(':', ' to ')}.")
name = export.file_name(region, view.level, periods)
(suffix, data), *sidecars = files.items()
c1, c2 = st.columns(2)
size = f"{len(data) / 1e6:.1f} MB" if len(data) >= 1e5 else f"{len(data) / 1e3:.0f} kB"
c1.download_button(f"Download {export.FORMATS[fmt][0]} ({size})",
                   cached.audited_download(
                       view, tuple(indicators), fmt,
                       len(frame), lambda: data),
                   file_name=name + suffix, mime=export.FORMATS[fmt][1],
                   key="exp_download", type="primary", on_click="ignore")
for extra, more in sidecars:
    c2.download_button("Download its metadata (JSON)", more, file_name=name + extra,
                       mime="application/json", key="exp_sidecar", on_click="ignore")
st.caption("Small counts are suppressed before export (a 'suppressed' column says where "
           "and why); suppressed cells are empty, never zero. Text that a spreadsheet "
           "would run as a formula is neutralised.")
params = export.share_params(view, indicators, fmt)
st.query_params.update({"indicators": params["indicators"], "format": fmt})
st.markdown("**Share link**: this view, for a colleague (copy it with the button at its "
            "right). They see what their own access allows.")
st.code(links.full_link("/export", urlencode(params)), language=None, wrap_lines=True)
with st.expander("Preview the first rows"):
    st.dataframe(cached.export_preview(view, tuple(indicators), v), hide_index=True,
                 width="stretch")
with st.expander("What the file says about itself"):
    st.json(export.describe(files))
