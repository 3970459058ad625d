"""Hotspots: where an indicator is significantly concentrated, and whether it is growing."""

import streamlit as st

from dashboard import LoaderError, measures
from dashboard.analysis import backtest, coordination, emerging, forecast, hotspots
from dashboard.measures import hexes
from dashboard.ui import cached, controls, links, session, state, widgets
from dashboard.ui import interventions as acting
from dashboard.ui.early_warning import forecast_columns
from dashboard.views import charts, export, maps

widgets.page_setup()
st.title("Hotspots")
state.show_notices()
choice = controls.hotspot_controls("hot")
view, settings, mode, resolution = choice.view, choice.settings, choice.mode, choice.resolution
draw = (choice.columns, choice.focus, choice.hot_only)
v = session.version()
meta = cached.catalogue(v).set_index("indicator").loc[view.indicator]
noun = "hexagons" if resolution else {"lsoa": "LSOAs", "ward": "wards"}[view.level]
if resolution and mode == "emerging":
    st.info("Emerging hot spots are computed on LSOAs or wards; showing the whole period "
            "on hexagons.", icon=":material/info:")
    mode = "hotspots"

try:
    if resolution:
        result, _ = cached.hex_result(view, settings, resolution, v)
        deck = cached.hex_map(view, settings, resolution, draw, v)
    elif mode == "emerging":
        result = cached.emerging_result(view, settings, v)
        deck = cached.hotspot_map(view, settings, mode, draw, v)
    else:
        result = cached.hotspot_result(view, settings, v)
        deck = cached.hotspot_map(view, settings, mode, draw, v)
except LoaderError as err:
    st.warning(err.user_message, icon=":material/warning:")
    st.stop()
shown = maps.hot_spots_only(result, mode) if choice.hot_only else result
covers = measures.coverage_note(result, noun, widgets.plain(
    cached.regions()[view.region].title)) if not resolution and "value" in result else ""
if covers:  # a test over the areas a source covers says so
    st.caption(covers)

period = view.period_start if view.period_start == view.period_end else \
    f"{view.period_start} to {view.period_end}"
measure = "EB-smoothed rate per 1,000 residents" if view.measure == "rate" else \
    ("count" if meta["unit"] == "count" else meta["unit"])
if resolution:
    measure = (f"count of {widgets.plain(meta['title'])} points per H3 hexagon "
               f"(resolution {resolution}, "
               f"{hexes.RESOLUTIONS[resolution]}); hexagons have no population, so no rates")
if mode == "emerging":
    months = result.attrs.get("periods", [])
    st.subheader(f"Emerging hot spots: {widgets.plain(meta['title'])}, {len(months)} months to "
                 f"{view.period_end}")
    found = emerging.with_pattern(result)
    st.markdown(f"**{len(found):,} of {len(result):,} {noun} show a pattern over "
                f"{len(months)} months.**" if len(found) else
                f"**No {noun[:-1]} shows a hot or cold spot pattern over these months.**")
    st.caption(f"Gi* on each month's {measure}, queen contiguity, p: "
               f"{hotspots.P_RULE['gi']}, {hotspots.CORRECTIONS[settings.correction]} "
               "within each month; a month counts when an area is a hot or cold spot at "
               "90 % or more. Trends: Mann-Kendall test on each area's monthly z-scores "
               "(increasing or decreasing when its two-sided p is below 0.05).")
    title = "Pattern over the months"
else:
    st.subheader(f"{hotspots.METHODS[settings.method]}: {widgets.plain(meta['title'])}, "
                 f"{period}")
    st.markdown(f"**{result.attrs.get('summary', '')}**")
    shared = "hexagons sharing an edge" if resolution else \
        "queen contiguity (shared edge or corner)"
    runs = f", {settings.permutations:,} conditional permutations (seed {settings.seed})" \
        if settings.method == "lisa" else ""
    st.caption(f"Tested: {measure}. Neighbours: {shared}{runs}, "
               f"{hotspots.CORRECTIONS[settings.correction]}.")
    title = "Class"
    decided = "q" if settings.correction == "fdr" else "p"
    levels = "99 % at 0.01, 95 % at 0.05, 90 % at 0.10" if settings.method == "gi" else \
        f"significant at {settings.alpha:g}"
    st.caption(f"Every area's p is the {hotspots.P_RULE[settings.method]}"
               + ("; q is its Benjamini-Hochberg q-value" if decided == "q" else "")
               + f". The class follows from {decided}: {levels}.")
    at_floor = hotspots.at_floor(result, settings)
    if at_floor:
        st.caption(f"{at_floor:,} {noun if at_floor != 1 else noun[:-1]} reached the "
                   f"permutation floor (p = 1/{settings.permutations + 1:,}): no permutation "
                   "was as extreme. More permutations lower the floor and can make more "
                   "areas significant.")
if result.attrs.get("points_outside"):
    st.caption(f"{result.attrs['points_outside']:,} records fall outside the region's "
               "hexagons (near its edge, or in a district the source does not cover) and are not "
               "counted.")
for note in ("conversion", "partial"):
    if result.attrs.get(note):
        st.caption(result.attrs[note])

live, covered = acting.live_in(view, v)
show_acting, zoom_acting = acting.toggles(live, "hot")
if show_acting:
    deck = acting.overlay(deck, view, v, covered, zoom_acting)
left, right = st.columns([5, 1])
with left:
    links.clickable_map(deck, "hot_deck", 600, view)
with right:
    st.html(maps.legend_html(title, maps.class_legend(shown, mode, settings.method)))
    if choice.hot_only:
        st.caption("Hot spots only: cold spots are drawn as not significant.")
    st.caption(f"{len(result):,} {noun}. Black lines are district boundaries. "
               "Hover an area for its figures.")
    if show_acting:
        st.html(maps.FOOTPRINT_LEGEND)

if mode == "emerging":
    table = emerging.with_pattern(shown).drop(columns=["lad_code"])
    empty = "No area shows a pattern; try a longer period, ward level or another indicator."
else:
    table = hotspots.significant_areas(shown).drop(columns=["lad_code", "tested"])
    empty = "No area is significant at 90 % or more. Try the uncorrected test, " \
        + ("more permutations, " if settings.method == "lisa" else "") \
        + "another level or a longer period."
st.subheader("Significant areas" if mode == "hotspots" else "Areas with a pattern")
if table.empty:
    st.info(empty, icon=":material/info:")
else:
    if mode == "hotspots":
        st.html(charts.ranking_html(table.head(15), "z", "z-score",
                                    caption="The most significant areas, highest z-score "
                                            "first; every one is in the table below."))
    if mode == "hotspots" and settings.correction != "fdr":
        table = table.drop(columns=[hotspots.Q_COLUMN])
    st.dataframe(table, hide_index=True, width="stretch", column_config={
        "z": st.column_config.NumberColumn("z", format="%.2f"),
        hotspots.P_COLUMN["gi"]: st.column_config.NumberColumn(
            "p (normal)", format="%.2e", help=f"The {hotspots.P_RULE['gi']}, for every "
            "area."),
        hotspots.P_COLUMN["lisa"]: st.column_config.NumberColumn(
            "p (permutations)", format="%.2e", help=f"The {hotspots.P_RULE['lisa']}, for "
            f"every area; none is below 1/(permutations + 1)."),
        hotspots.Q_COLUMN: st.column_config.NumberColumn(
            "q (FDR)", format="%.2e", help=f"The {hotspots.Q_RULE}. The class follows "
            "from it: 99 % at 0.01 or less, 95 % at 0.05, 90 % at 0.10."),
        "significant": st.column_config.CheckboxColumn(
            "significant at 95 %", help="q (or p, uncorrected) at 0.05 or less."),
        "rate_per_1000": st.column_config.NumberColumn("rate per 1,000", format="%.2f")})
if mode == "hotspots" and not resolution and not table.empty:
    marked = coordination.served(result, live, acting.lookup(view.region, view.vintage, v),
                                 view.level)
    gaps = marked[marked["served_by"] == ""]
    st.subheader("Unserved need")
    if marked.empty:
        st.caption("No significant hot spot to serve.")
    elif gaps.empty:
        st.success(f"Every one of the {len(marked)} significant hot spots has a live "
                   "intervention shared with you.", icon=":material/check:")
    else:
        st.markdown(f"**{len(gaps)} of {len(marked)} significant hot spots have no live "
                    "intervention shared with you in these months.**")
        st.dataframe(marked.sort_values("served_by"), hide_index=True, width="stretch",
                     column_config={"served_by": st.column_config.TextColumn(
                         "live interventions", help="Blank: none covers any part of it.")})
    if show_acting:
        st.dataframe(acting.numbered_table(live), hide_index=True, width="stretch")
level = f"h3r{resolution}" if resolution else view.level
name = f"{mode}_{view.indicator}_{level}_{view.period}".replace(":", "_")
st.download_button("Download every area (CSV)",
                   cached.audited_download(view, (view.indicator,), "csv", len(result),
                                           lambda: export.to_csv(result, list(result.columns))),
                   file_name=f"{name}.csv", mime="text/csv", key="hot_download",
                   on_click="ignore")

if not resolution and mode == "hotspots":
    st.subheader("Expected next month")
    title = widgets.plain(meta["title"])
    if view.indicator not in cached.forecastable(v):
        st.info(f"A forecast needs a count with at least {forecast.MIN_MONTHS} months; "
                f"{title} is not one. Choose a monthly count with a longer history.",
                icon=":material/info:")
    elif st.toggle("Show the expected next month", key="hot_fc",
                   help="Forecasts every area's count for the month after the period's last "
                   "month, from the months up to it: a few seconds."):
        try:
            fc = cached.forecast_result(view, v)
            fc_deck, fc_legend = cached.forecast_map(view, v)
        except LoaderError as err:
            st.warning(err.user_message, icon=":material/warning:")
        else:
            ahead = fc["period"].iat[0]
            st.markdown(f"**Expected {title} in {ahead}, from the months to "
                        f"{view.period_end}.**")
            left, right = st.columns([5, 1])
            with left:
                st.pydeck_chart(fc_deck, height=600, key="hot_fc_deck")
            with right:
                st.html(maps.legend_html(f"Expected count, {ahead}", fc_legend))
                st.caption(f"{len(fc):,} {noun}, in fifths by expected count. Hover an "
                           "area for its 80 % and 95 % ranges.")
            st.caption(forecast.EXPLAINED)
            top = fc.nlargest(15, "predicted")
            st.dataframe(top[["area_name", "area_code", "predicted", "predicted_lower_80",
                              "predicted_upper_80", "predicted_lower_95",
                              "predicted_upper_95"]], hide_index=True, width="stretch",
                         column_config=forecast_columns())
            st.download_button(
                "Download every area's forecast (CSV)",
                cached.audited_download(view, (view.indicator,), "csv", len(fc),
                                        lambda: export.to_csv(fc, forecast.COLUMNS)),
                file_name=f"forecast_{view.indicator}_{view.level}_{ahead}.csv",
                mime="text/csv", key="hot_fc_download", on_click="ignore")

if not resolution:
    st.subheader("How well does this predict?")
    months = [m for m in cached.months(view.indicator, v)
              if view.period_start <= m <= view.period_end]
    if len(months) < 3:
        st.info("A backtest needs at least three months in the period: choose a longer one.",
                icon=":material/info:")
    else:
        st.caption("Each method flags areas from a run of training months; the month(s) "
                   "after say how much of the indicator fell in them. Capture rate: the "
                   "share of the test total in the flagged areas. PAI (Chainey's Predictive "
                   "Accuracy Index): capture rate / the flagged areas' share of the land. "
                   "PEI* (Hunt's): capture rate / the most that as many areas could have "
                   "caught. The windows roll on a month at a time.")
        c1, c2, c3 = st.columns(3)
        # A slider needs a range: where only one value fits, it is stated instead.
        most = len(months) - 1
        if most > 2:
            train = c1.slider("Training months", 2, most, min(6, most), key="hot_bt_train")
        else:
            train = 2
            c1.caption("Training months: 2")
        if len(months) - train > 1:
            test = c2.slider("Test months", 1, len(months) - train, 1, key="hot_bt_test")
        else:
            test = 1
            c2.caption("Test months: 1")
        share = c3.select_slider("Share flagged by counts and rates", [0.01, 0.02, 0.05,
                                 0.1, 0.2], 0.05, format_func="{:.0%}".format,
                                 key="hot_bt_share")
        methods = [m for m in backtest.METHODS
                   if (m != "emerging" or train >= emerging.MIN_PERIODS)
                   and (m != "forecast" or (train >= forecast.MIN_MONTHS
                                            and view.indicator in cached.forecastable(v)))]
        if "emerging" not in methods:
            st.caption(f"Emerging hot spots need {emerging.MIN_PERIODS} training months; "
                       "they are left out here.")
        if "forecast" not in methods:
            st.caption(f"The forecast needs a count and {forecast.MIN_MONTHS} training "
                       "months; it is left out here.")
        if st.toggle("Run the backtest", key="hot_bt_run",
                      help="Tests every method on every window: a few seconds to a minute."):
            try:
                results = cached.backtest_result(view, settings, train, test, share,
                                                 tuple(methods), v)
            except LoaderError as err:
                st.warning(err.user_message, icon=":material/warning:")
            else:
                st.markdown(backtest.verdict(results))
                st.altair_chart(charts.backtest_chart(results, backtest.METHODS),
                                width="stretch",
                                height=34 * results["method"].nunique() + 90)
                st.dataframe(backtest.spread(results).assign(
                    method=lambda d: d["method"].map(backtest.METHODS)), hide_index=True,
                    width="stretch", column_config={
                        "pai_median": st.column_config.NumberColumn("median PAI",
                                                                    format="%.2f"),
                        "pai_low": st.column_config.NumberColumn("lowest", format="%.2f"),
                        "pai_high": st.column_config.NumberColumn("highest", format="%.2f"),
                        "capture_median": st.column_config.NumberColumn(
                            "median capture", format="percent",
                            help="Share of the test months' demand in the flagged areas"),
                        "area_share_median": st.column_config.NumberColumn(
                            "median land share", format="percent",
                            help="The flagged areas' share of the region's land"),
                        "pei_median": st.column_config.NumberColumn(
                            "median PEI*", format="%.2f",
                            help="Hunt's PEI*: the capture rate over the most that as many "
                            "areas could have caught (1 is a perfect pick)"),
                        "best_in": st.column_config.NumberColumn(
                            "best in", help="Windows in which it did best by the rule "
                            "above (ties count for each)")})
