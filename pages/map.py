"""Map: an indicator by LSOA or ward, classed and coloured, with a legend."""

import streamlit as st

from dashboard import LoaderError, measures
from dashboard.filters import search_areas
from dashboard.measures import rates
from dashboard.ui import cached, controls, links, session, state, widgets
from dashboard.ui import interventions as acting
from dashboard.views import charts, export, maps

FIND_LIMIT = 5000

widgets.page_setup()
st.title("Map")
state.show_notices()
view = controls.map_controls("map")
v = session.version()
meta = cached.catalogue(v).set_index("indicator").loc[view.indicator]
try:
    data = cached.view(view, v)
    deck, classes = cached.choropleth(view, v, widgets.map_width())
except LoaderError as err:
    st.error(err.user_message)
    st.stop()

measure = "rate per 1,000 residents" if view.measure == "rate" else meta["unit"]
period = view.period_start if view.period_start == view.period_end else \
    f"{view.period_start} to {view.period_end}"
st.subheader(f"{widgets.plain(meta['title'])}, {period}")
for note in ("conversion", "partial"):
    if data.attrs.get(note):
        st.caption(data.attrs[note])
if data["value"].notna().sum() == 0:
    st.info("No area in this region has data for this indicator and period. "
            "Try another period or indicator.", icon=":material/info:")
covers = measures.coverage_note(data, "LSOAs" if view.level == "lsoa" else "wards",
                                widgets.plain(cached.regions()[view.region].title))
if covers:
    st.caption(covers)

noun = "LSOAs" if view.level == "lsoa" else "wards"
live, covered = acting.live_in(view, v)
show_acting, zoom_acting = acting.toggles(live, "map")
if show_acting:
    deck = acting.overlay(deck, view, v, covered, zoom_acting)


@st.fragment
def map_and_selection() -> None:
    """The map, its legend and the area picked on it or found by name. A click on the
    map or a pick in the finder reruns only this part of the page: the view, its deck
    and its figures are the ones the page's last full run drew, for the viewer it was
    drawn for (checked again first)."""
    session.recheck(v)
    left, right = st.columns([5, 1])
    with left:
        event = st.pydeck_chart(deck, on_select="rerun", selection_mode="single-object",
                                key="map_deck", height=600)
    with right:
        st.html(maps.legend_html(measure.capitalize(), classes.legend))
        if view.scheme == "compared":
            region_figure = data.attrs.get("region_figure")
            st.caption(f"{len(data):,} {noun} · each {noun[:-1]}'s 95% confidence interval "
                       "against the region's figure"
                       + (f" ({region_figure:,.2f})" if region_figure == region_figure
                          and region_figure is not None else "")
                       + ": significantly higher or lower when the region's figure is "
                       "outside it; worse or better as the indicator's polarity says. Rates "
                       "take exact Poisson limits; published rates their own. Counts are "
                       "not compared: choose the rate.")
        else:
            st.caption(f"{len(data):,} {noun} · {measure} · " + (
                f"darker is more need ({'low' if meta['polarity'] == 'low_is_bad' else 'high'} "
                "values). " if meta["polarity"] in rates.JUDGED else
                "darker is higher; this indicator has no better or worse. ")
                + "Black lines are district boundaries.")
        if show_acting:
            st.html(maps.FOOTPRINT_LEGEND)

    clicked = (event.selection.objects.get(maps.AREA_LAYER) or [None])[0] if event else None
    national = len(data) > FIND_LIMIT
    if national:  # a national list is too long to send: search it first
        words = st.text_input("Find an area", key=f"map_search_{view.region}_{view.level}",
                              placeholder="Type part of a name or code, then pick it below")
        options = search_areas(data, words) if len(words.strip()) >= 3 else []
        listed = data[data["area_code"].isin(options)]
    else:
        listed = data
    # Names of the listed areas only: a national map has 35,000, and a Python dict of
    # them all cost a fifth of a second on every rerun.
    names = dict(zip(listed["area_code"].tolist(), listed["area_name"].tolist(), strict=True))
    options = options if national else list(names)
    found = st.selectbox(
        "Matching areas" if national else "Find an area", options,
        index=None, key=f"map_find_{view.region}_{view.level}",
        format_func=lambda c: f"{names[c]} ({c})",
        placeholder="Click the map, or type a name",
        help="Choose an area here or click it on the map to see its figures.")
    code = clicked["code"] if clicked else found
    figures = maps.area_figures(data, code, meta["unit"]) if code else None
    if figures:
        row = data[data["area_code"] == code].iloc[0]
        st.subheader(f"Selected: {figures['name']}")
        c = st.columns(4)
        c[0].metric("Value", figures["v"])
        rate, _, interval = figures["r"].partition(" (")
        c[1].metric("Rate per 1,000", rate, help=f"({interval}" if interval else None)
        c[2].metric("Rank in region", figures["k"],
                    help=rates.rank_meaning(meta["polarity"]).replace("1 =", "1 is the")
                    + ".")
        c[3].metric("Population",
                    f"{row['denominator']:,.0f}" if row["denominator"] > 0 else "n/a")
        st.caption(f"{code} · {row['lad_name']}")
        if view.level == "ward":
            links.link_to_profile(view, code, f"Open the ward profile of {figures['name']}")


map_and_selection()

if show_acting:
    st.subheader("Interventions on the map")
    st.dataframe(acting.numbered_table(live), hide_index=True, width="stretch")

st.subheader("Ranking")
top = measures.most_need(data, 15)
if top.empty:
    st.caption("No area has a figure to rank.")
else:
    st.html(charts.ranking_html(
        top, measures.measure_column(view), measure.capitalize(),
        digits=0 if view.measure == "count" and meta["unit"] == "count" else 2,
        caption=(f"The {len(top)} {noun} of most need on this measure, "
                 f"{'lowest' if meta['polarity'] == 'low_is_bad' else 'highest'} first."
                 if meta["polarity"] in rates.JUDGED else
                 f"The {len(top)} {noun} with the highest figures: this indicator has no "
                 "better or worse, so no rank says need.")))

# The table is sent only when asked for: for England and Wales it is 5 MB.
if st.toggle("Show the figures behind the map as a table", key="map_table",
             help="The same figures as the map, for screen readers and for checking."):
    st.dataframe(data.drop(columns=["lad_code"]), hide_index=True, width="stretch")
st.download_button("Download these figures (CSV)",
                   cached.audited_download(view, (view.indicator,), "csv", len(data),
                                           lambda: export.to_csv(data)),
                   file_name=f"{view.indicator}_{view.level}_{view.period}.csv".replace(":", "_"),
                   mime="text/csv", key="map_download", on_click="ignore")
