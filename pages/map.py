"""Map: an indicator by LSOA or ward, classed and coloured, with a legend."""

import streamlit as st

from dashboard import LoaderError, cached, export, maps, widgets

widgets.page_setup()
st.title("Map")
widgets.show_notices()
view = widgets.map_controls("map")
v = cached.version()
meta = cached.catalogue(v).set_index("indicator").loc[view.indicator]
try:
    data = cached.view(view, v)
    deck, classes = cached.choropleth(view, v)
except LoaderError as err:
    st.error(err.user_message)
    st.stop()

measure = "rate per 1,000 residents" if view.measure == "rate" else meta["unit"]
period = view.period_start if view.period_start == view.period_end else \
    f"{view.period_start} to {view.period_end}"
st.subheader(f"{meta['title']}, {period}")
if data["value"].notna().sum() == 0:
    st.info("No area in this region has data for this indicator and period. "
            "Try another period or indicator.", icon=":material/info:")

left, right = st.columns([5, 1])
with left:
    event = st.pydeck_chart(deck, on_select="rerun", selection_mode="single-object",
                            key="map_deck", height=600)
with right:
    st.html(maps.legend_html(measure.capitalize(), classes.legend))
    noun = "LSOAs" if view.level == "lsoa" else "wards"
    st.caption(f"{len(data):,} {noun} · "
               f"{widgets.MEASURE_LABELS[view.measure].lower()} · darker is more need "
               f"({'low' if meta['polarity'] == 'low_is_bad' else 'high'} values). "
               "Black lines are district boundaries.")

selected = (event.selection.objects.get(maps.AREA_LAYER) or [None])[0] if event else None
if selected:
    row = data[data["area_code"] == selected["code"]]
    st.subheader(f"Selected: {selected['name']}")
    if not row.empty:
        r = row.iloc[0]
        c = st.columns(4)
        c[0].metric("Value", selected["v"])
        c[1].metric("Rate per 1,000", selected["r"])
        c[2].metric("Rank in region", selected["k"], help="1 is the area of most need.")
        c[3].metric("Population", f"{r['denominator']:,.0f}" if r["denominator"] == r["denominator"]
                    else "n/a")
        st.caption(f"{r['area_code']} · {r['lad_name']}")
else:
    st.caption("Click an area on the map to see its figures here.")

# The table is sent only when asked for: for England and Wales it is 5 MB.
if st.toggle("Show the figures behind the map as a table", key="map_table",
             help="The same figures as the map, for screen readers and for checking."):
    st.dataframe(data.drop(columns=["lad_code"]), hide_index=True, width="stretch")
st.download_button("Download these figures (CSV)", lambda: export.to_csv(data),
                   file_name=f"{view.indicator}_{view.level}_{view.period}.csv".replace(":", "_"),
                   mime="text/csv", key="map_download", on_click="ignore")
