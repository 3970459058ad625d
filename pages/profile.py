"""Ward profile: one ward on one page, for its councillor."""

import streamlit as st

from dashboard import LoaderError
from dashboard.analysis import coordination, profile
from dashboard.ui import cached, controls, early_warning, session, state, widgets
from dashboard.ui import interventions as acting
from dashboard.views import charts

widgets.page_setup()
st.title("Ward profile")
state.show_notices()
view = controls.region_picker()
v = session.version()
wards = cached.ward_names(view.region, view.vintage, v)
c1, c2 = st.columns([2, 1])
with c1:
    chosen = controls.ward_picker(wards)
postcode = c2.text_input("…or a postcode", key="pro_postcode", placeholder="e.g. BS1 5LU",
                         help="ONS postcode grid references; the ward whose boundary "
                         "contains the postcode is shown.")
if postcode.strip():
    try:
        found = cached.ward_for_postcode(view.region, view.vintage, postcode, v)
        if found != chosen:
            st.caption(f"{profile.normalise_postcode(postcode)} is in {wards[found]}.")
        chosen = found
    except profile.PostcodeElsewhere as err:
        st.warning(f"{err.problems[0]}.", icon=":material/location_off:")
        if err.regions:  # the region that lists its district, else one of every district
            there = cached.regions()[err.regions[0]]
            st.button(f"Switch to {there.title}", key="pro_switch_region",
                      icon=":material/swap_horiz:", on_click=state.switch_region,
                      args=(there.name,),
                      help=f"Show the wards of {there.title}, with this postcode's ward.")
    except LoaderError as err:
        st.warning(err.user_message, icon=":material/location_off:")
if chosen is None:
    st.info("Choose a ward by name or postcode to see every indicator for it, ranked "
            "against the region's other wards.", icon=":material/info:")
    st.stop()
st.query_params["ward"] = chosen

flt = controls.period_picker(view.with_(level="ward"), "pro")
try:
    table = cached.ward_profile(flt, chosen, v)
except LoaderError as err:
    st.error(err.user_message)
    st.stop()

region = cached.regions()[view.region]
name = wards[chosen]
st.header(name)
st.caption(f"{chosen} · {profile.district_of(table)} · {region.title}")
st.download_button(
    "Download the ward report (PDF)", cached.ward_report(flt, chosen, table, v),
    file_name=f"ward-report-{chosen}-{flt.period_start}-{flt.period_end}.pdf",
    mime="application/pdf", icon=":material/picture_as_pdf:", key="pro_report",
    on_click="ignore",
    help="A printable report for a surgery: the ward's map, every indicator with its rank "
    "and comparisons, the trends, a summary in plain words, and the sources. It takes "
    "about half a minute to make.")
st.markdown(profile.summary(table, name, region.title))

left, right = st.columns([2, 3])
with left:
    st.pydeck_chart(cached.ward_map(view.region, view.vintage, chosen, v), height=380,
                    key="pro_map")
    st.caption("The ward (dark outline) and its LSOAs, with district boundaries.")
with right:
    st.altair_chart(charts.profile_chart(table, name, profile.district_of(table)),
                    width="stretch")

st.subheader("What is live in this ward")
acting_here = coordination.in_ward(
    coordination.live(acting.register(view.region), flt.period_start, flt.period_end),
    chosen, acting.lookup(view.region, view.vintage, v))
if acting_here.empty:
    st.caption(f"No intervention shared with you was live in {name} between "
               f"{flt.period_start} and {flt.period_end}. Partners record theirs on the "
               "Interventions page.")
else:
    st.dataframe(acting_here.assign(
        covers=[f"{n} of {w} LSOAs" for n, w in zip(acting_here["lsoas"],
                                                    acting_here["ward_lsoas"], strict=True)],
        to=acting_here["end_month"].fillna("open"))[
        ["title", "agency", "kind", "start_month", "to", "covers", "contact"]],
        hide_index=True, width="stretch", column_config={
            "start_month": "from", "kind": "type"})

st.subheader("Every indicator")
shown = profile.display_table(table)
compared = [c for c in shown.columns if c.startswith("vs ")]
# The comparisons come straight after the ward's figure, so they are in view on a wide
# screen without scrolling the table sideways; the indicator stays pinned.
first = ["Indicator", "Ward", *reversed(compared)]
st.dataframe(shown.style.map(profile.comparison_colours, subset=compared), hide_index=True,
             width="stretch", column_order=first + [c for c in shown.columns if c not in first],
             column_config={"Indicator": st.column_config.TextColumn(pinned=True)})
st.caption("vs England, region and district: the comparator's figure against the ward's 95% "
           "confidence interval (exact Poisson for a rate per 1,000; the partner's own "
           "limits for a published rate). Worse or better as the indicator's polarity says "
           "(higher or lower where it makes no judgement); similar when the comparator is "
           "inside the interval. Green is better, yellow similar, red worse, the words say "
           "the same. England is given where an indicator covers it.")

st.subheader("Over time")
picked = controls.trend_indicator("pro", table)
trend = cached.ward_trend(flt.with_(indicator=picked), chosen, v) if picked else None
if trend is None or trend.empty:
    st.info("No indicator has figures for this ward over more than one period in the "
            "chosen months.", icon=":material/info:")
else:
    label = profile.figure_label(table, picked)
    st.altair_chart(charts.trend_chart(trend, label), width="stretch")
    with st.expander("The figures by period, as a table"):
        st.dataframe(charts.trend_table(trend), hide_index=True, width="stretch")

st.subheader("Is this month unusual?")
picked = early_warning.indicator_picker("pro", among=table["indicator"].tolist())
if picked is None:
    st.caption(early_warning.NONE_YET)
else:
    month = early_warning.month_to(picked, flt.period_end, v)
    early_warning.control_chart(flt.with_(indicator=picked, period_start=month,
                                          period_end=month), chosen, name, v)
