"""Overview: headline totals per partner indicator, top areas, and how fresh each source is."""

import altair as alt
import streamlit as st

from dashboard import LoaderError
from dashboard.analysis import coordination, hotspots
from dashboard.measures.catalogue import MAPPABLE
from dashboard.ui import cached, controls, early_warning, session, state, widgets
from dashboard.ui import interventions as acting
from dashboard.views import charts

widgets.page_setup()
st.title("ODA Dashboard")
st.caption("Where demand is concentrated across the region, from police, health, "
           "council and context indicators pooled in one place.")
state.show_notices()
view = controls.region_picker()
v = session.version()
region = cached.regions()[view.region]
months = cached.months("crime_all", v)
start, end = st.select_slider("Months (for monthly indicators)", options=months,
                              value=(months[0], months[-1]), key="overview_period")
summary = cached.summary(view.region, view.vintage, start, end, v)
monthly = cached.monthly(view.region, view.vintage, start, end, v)
if summary.empty:
    st.info("No indicators are published on this region's geography yet.")
    st.stop()

st.subheader(f"{region.title}: headline figures")
for partner, group in summary.groupby("partner", sort=False):
    st.markdown(f"**{widgets.plain(partner.capitalize())}**")
    cols = st.columns(4)
    for i, row in enumerate(group.to_dict("records")):
        change, colour = charts.headline_change(row)
        cols[i % 4].metric(
            widgets.plain(charts.short_title(row["title"])), charts.headline_value(row),
            delta=change or charts.headline_rate(row), delta_color=colour,
            delta_arrow="auto" if change else "off",
            help=charts.headline_help(row) + (
                f" Against the same months a year before: rate ratio {row['rate_ratio']:.2f} "
                f"(95% CI {row['rate_ratio_lower_95']:.2f} to "
                f"{row['rate_ratio_upper_95']:.2f})." if change else ""), border=True)

st.subheader("Who is acting where")
acting_now = acting.register(view.region)
need = view.with_(indicator="crime_all", level="ward", period_start=start, period_end=end)
try:
    hot = cached.hotspot_result(need, hotspots.Settings(), v)
except LoaderError:
    hot = None
card = coordination.summary(acting_now, hot, acting.lookup(view.region, view.vintage, v),
                            "ward", start, end)
cols = st.columns(4)
cols[0].metric("Interventions live", f"{card['live']:,}", border=True,
               help=f"Shared with you and live at any time from {start} to {end}.")
cols[1].metric("Agencies acting", f"{card['agencies']:,}", border=True,
               help=f"{card['lsoas']:,} LSOAs are covered by at least one.")
if "unserved" in card:
    cols[2].metric("Crime hot spots with none", f"{card['unserved']} of {card['hot_spots']}",
                   border=True, help="Wards that are significant Gi* hot spots of all crime "
                   "in these months (95 % or more, false discovery rate controlled) with no "
                   "live intervention shared with you. The Hotspots page lists them.")
cols[3].metric("Wards with two or more agencies", f"{card['overlap_areas']:,}", border=True,
               help="Where agencies act in the same wards in the same months: the "
               "Interventions page lists them.")
if not card["live"]:
    st.caption("No intervention shared with you is live in these months. Partners record "
               "theirs on the Interventions page.")

if not monthly.empty:
    st.subheader("Month by month")
    titles = summary.set_index("indicator")["title"].to_dict()
    st.altair_chart(charts.monthly_trends(monthly, titles), width="content")
    withheld = monthly["withheld"].gt(0) if "withheld" in monthly else monthly["value"].isna()
    if withheld.any():
        st.caption(f"{int(withheld.sum())} monthly totals are left out (a gap in the chart, "
                   "blank in the table): each includes a count the partner hid before "
                   "sending, so its total is not known.")
    with st.expander("These figures as a table"):
        st.dataframe(charts.monthly_table(monthly, titles), hide_index=True,
                     width="stretch")

st.subheader("Areas with the highest rates")
cat = cached.catalogue(v)
mappable = state.catalogue_for(view.region)
rated = mappable[mappable["denominator"].notna()]
ids = rated["indicator"].tolist()
titles = rated.set_index("indicator")["title"]
c1, c2 = st.columns([3, 1])
indicator = c1.selectbox("Indicator", ids, index=ids.index("crime_all") if "crime_all" in ids
                         else 0, format_func=titles.get, key="overview_indicator")
levels = [lvl for lvl in ("ward", "lsoa")
          if lvl in state.allowed_levels(state.catalogue_for(view.region), indicator)[0]]
level = c2.segmented_control("Level", levels, default="ward",
                             format_func=state.LEVEL_LABELS.get, key="overview_level") or "ward"
flt = view.with_(indicator=indicator, level=level, measure="rate",
                 period_start=start if len(cached.months(indicator, v)) > 1 else
                 cached.months(indicator, v)[0],
                 period_end=end if len(cached.months(indicator, v)) > 1 else
                 cached.months(indicator, v)[-1])
top = cached.view(flt, v).nsmallest(10, "rank")
st.html(charts.ranking_html(top, caption=f"The {len(top)} areas with the highest rate, "
                                         "highest first."))

st.subheader("Unusual this month")
picked = early_warning.indicator_picker("overview")
if picked is None:
    st.caption(early_warning.NONE_YET)
else:
    month = early_warning.month_to(picked, end, v)
    ew = view.with_(indicator=picked, level="ward", period_start=month, period_end=month)
    every = early_warning.unusual_areas(ew, v, "wards")
    flagged = every[every["flagged"]] if every is not None else None
    if flagged is not None and not flagged.empty:
        names = dict(zip(flagged["area_code"], flagged["area_name"], strict=True))
        area = st.selectbox("Process control chart of", list(names), format_func=names.get,
                            key="overview_ew_area", help="The unusual wards, the most "
                            "significant first.")
        early_warning.control_chart(ew, area, names[area], v)

st.subheader("How fresh is each source")
st.dataframe(charts.freshness(cat[cat["geography"].isin(MAPPABLE)]), hide_index=True,
             width="stretch")
alt.data_transformers.disable_max_rows()
