"""Multi-agency overlap: where partners' hot spots coincide, and a composite demand index."""

import streamlit as st

from dashboard import LoaderError
from dashboard.ui import cached, controls, links, session, state, widgets
from dashboard.views import charts, maps

widgets.page_setup()
st.title("Multi-agency overlap")
state.show_notices()
flt, indicators, titles = controls.overlap_controls("ovl")
v = session.version()
if len(indicators) < 2:
    st.info("Choose at least two indicators, ideally from different partners, to see where "
            "their hot spots coincide.", icon=":material/info:")
    st.stop()
noun = state.LEVEL_LABELS[flt.level] + "s"

coincide, index_tab = st.tabs(["Where hot spots coincide", "Composite demand index"])
with coincide:
    try:
        result = cached.overlap_result(flt, tuple(indicators), v)
        deck, legend = cached.overlap_map(flt, tuple(indicators), "overlap", v)
    except LoaderError as err:
        st.error(err.user_message)
        st.stop()
    shared = result[result["partners"] >= 2]
    st.markdown(f"**{len(shared):,} {noun.lower()} are hot spots of need for two or more "
                f"partners.**" if len(shared) else
                f"**No {noun[:-1].lower()} is a hot spot of need for two partners at once.**")
    st.caption("Gi* for each indicator (rates smoothed where there is a denominator, 999 "
               "permutations, false discovery rate control); a hot spot of need is a hot spot "
               "at 90 % or more, or a cold spot where low values mean need.")
    left, right = st.columns([5, 1])
    links.clickable_map(deck, "ovl_deck", 560, flt, left)
    right.html(maps.legend_html("Partners", legend))
    if len(shared):
        st.dataframe(shared[["area_code", "area_name", "lad_name", "partners", "which"]],
                     hide_index=True, width="stretch", column_config={
                         "partners": st.column_config.NumberColumn("partners"),
                         "which": st.column_config.TextColumn("hot spot of need for")})

with index_tab:
    weights = controls.weight_sliders(indicators, titles, "ovl")
    try:
        index = cached.composite(flt, weights, v)
        deck, legend = cached.overlap_map(flt, weights, "index", v)
    except LoaderError as err:
        st.warning(err.user_message, icon=":material/warning:")
        st.stop()
    st.caption("Each indicator becomes a need score (the area's percentile among the "
               f"{noun.lower()}: 0 least need, 100 most); the index is their weighted mean, "
               "so each indicator's contribution is plain to see. Stability: the share of "
               "200 re-weightings (each weight between half and one and a half times yours) "
               "that keep an area in the top 10.")
    left, right = st.columns([5, 1])
    links.clickable_map(deck, "ovl_index_deck", 560, flt, left)
    right.html(maps.legend_html("Demand index", legend))
    st.altair_chart(charts.contributions_chart(index, titles), width="stretch")
    top = index.head(20).rename(columns={f"contrib_{i}": titles[i] for i in indicators})
    st.dataframe(top.drop(columns=["complete"]), hide_index=True, width="stretch",
                 column_config={"index": st.column_config.NumberColumn("index", format="%.1f"),
                                "in_top": st.column_config.ProgressColumn(
                                    "stays in top 10", format="percent", min_value=0,
                                    max_value=1)} | {
                     titles[i]: st.column_config.NumberColumn(format="%.1f")
                     for i in indicators})
