"""Interventions: who is doing what, where and when; enter and import records, see them
over time, and ask whether one worked."""

import pandas as pd
import streamlit as st

from dashboard import LoaderError, register
from dashboard.access.policy import VISIBILITY
from dashboard.analysis import coordination, evaluation
from dashboard.ui import cached, controls, session, state, widgets
from dashboard.ui import interventions as ui
from dashboard.views import charts, export

widgets.page_setup()
st.title("Interventions")
st.caption("The register of who is acting where: patrols, youth outreach, CCTV, home fire "
           "safety visits, environmental works. Set against need on the Map and Hotspots "
           "pages, and evaluated here against comparison areas.")
state.show_notices()
view = controls.region_picker()
v = session.version()
who = session.viewer()
region = cached.regions()[view.region]
records = ui.register(view.region)
if not who.signed_in:
    st.info("Most records are shared with the staff of partner organisations only: sign in "
            "to see them. Records shared with the public are listed below.",
            icon=":material/lock:")

tab_register, tab_add, tab_evaluate = st.tabs(["Register and timeline", "Add or import",
                                               "Did it work?"])

with tab_register:
    months = sorted({*records["start_month"], *records["end_month"].dropna()}) \
        if len(records) else []
    this_month = pd.Timestamp.today().strftime("%Y-%m")
    if not len(records):
        st.info(f"No intervention in {region.title} is shared with you yet. Partner staff "
                "add them on the next tab, or with `python -m dashboard interventions add`.",
                icon=":material/info:")
    else:
        span = evaluation.month_range(min(months[0], this_month), max(months[-1], this_month))
        start, end = st.select_slider("Months", options=span,
                                      value=(span[0], span[-1]), key="iv_months",
                                      help="Interventions live at any time in these months.")
        agencies = sorted(records["agency"].unique())
        chosen = st.multiselect("Agencies", agencies, default=agencies, key="iv_agencies")
        shown = records[records["agency"].isin(chosen)]
        bars = coordination.timeline(shown, start, end)
        st.subheader(f"Live from {start} to {end}: {len(bars)} interventions, "
                     f"{bars['agency'].nunique() if len(bars) else 0} agencies")
        if bars.empty:
            st.info("No intervention is live in these months.", icon=":material/info:")
        else:
            st.altair_chart(charts.timeline_chart(bars, start, end), width="stretch")
            st.caption("Each bar runs from an intervention's first month to its last; an "
                       "arrow-head marks one still open. The shaded band is the months "
                       "chosen.")
        live = coordination.live(shown, start, end)
        look = ui.lookup(view.region, view.vintage, v)
        both = coordination.overlaps(live, look, "ward")
        if len(both):
            names = cached.ward_names(view.region, view.vintage, v)
            st.markdown(f"**{len(both)} wards have two or more agencies acting in the same "
                        "months.**")
            st.dataframe(both.assign(ward=both["area_code"].map(names))[
                ["ward", "area_code", "n_agencies", "agencies", "interventions"]],
                hide_index=True, width="stretch", column_config={
                    "n_agencies": st.column_config.NumberColumn("agencies (n)")})
        table = live.assign(areas=live["areas"].map(", ".join),
                            indicators=live["indicators"].map(", ".join),
                            end_month=live["end_month"].fillna("open"),
                            dose_unit=live["dose_unit"].fillna(""),
                            agreement=live["agreement"].fillna(""))
        st.dataframe(table[["id", "title", "agency", "kind", "start_month", "end_month",
                            "status", "dose", "dose_unit", "indicators", "problem", "cost",
                            "contact", "visibility", "areas"]], hide_index=True,
                     width="stretch", column_config={
                         "cost": st.column_config.NumberColumn("cost (£)", format="%,.0f")})
        st.download_button("Download these records (CSV)",
                           export.to_csv(table, list(table.columns)),
                           file_name=f"interventions_{view.region}_{start}_{end}.csv",
                           mime="text/csv", key="iv_download", on_click="ignore")

with tab_add:
    if not register.may_register(who):
        st.info("Staff of partner organisations enter their interventions here once signed "
                "in.", icon=":material/lock:")
    else:
        with st.form("iv_add"):
            c1, c2 = st.columns(2)
            ident = c1.text_input("Id", key="iv_id", placeholder="e.g. asb-patrols-2025",
                                  help="Letters, digits, '.', '_' or '-'.")
            title = c2.text_input("Title", key="iv_title")
            agency = c1.text_input("Agency", value=who.org, key="iv_agency",
                                   disabled=not who.rules.administer,
                                   help="The organisation acting: your own.")
            kind = c2.selectbox("Type", register.KINDS, index=None, key="iv_kind",
                                accept_new_options=True, placeholder="Choose or type")
            description = st.text_area("Description", key="iv_description", height=80)
            wards = cached.ward_names(view.region, view.vintage, v)
            area_help = (f"Wards of {region.title}, or type LSOA codes (comma-separated) "
                         "below, or upload a GeoJSON footprint.")
            picked = st.multiselect("Wards covered", sorted(wards, key=wards.get),
                                    format_func=lambda c: f"{wards[c]} ({c})", key="iv_wards",
                                    help=area_help)
            codes = st.text_input("Or LSOA codes", key="iv_codes",
                                  placeholder="E01014485, E01014486")
            footprint = st.file_uploader("Or a GeoJSON file of polygons or points",
                                         type=["geojson", "json"], key="iv_geojson",
                                         help="Points (say, CCTV cameras) cover the LSOA "
                                         "each is in; polygons the LSOAs they cover by a "
                                         "tenth or more.")
            c1, c2, c3 = st.columns(3)
            start = c1.text_input("Start month", key="iv_start", placeholder="YYYY-MM")
            end = c2.text_input("End month (blank: open)", key="iv_end",
                                placeholder="YYYY-MM")
            status = c3.selectbox("Status", register.STATUSES, index=1, key="iv_status")
            known = cached.catalogue(v).sort_values("frequency", key=lambda f: f != "monthly",
                                                    kind="stable")
            ids = known["indicator"].tolist()  # monthly counts first: they can be evaluated
            titles = known.set_index("indicator")["title"].to_dict()
            aims = st.multiselect("Indicators it aims to change", ids, key="iv_indicators",
                                  format_func=lambda i: widgets.plain(titles.get(i, i)))
            c1, c2, c3 = st.columns(3)
            dose = c1.text_input("Dose", key="iv_dose", placeholder="e.g. 6")
            dose_unit = c2.text_input("Dose unit", key="iv_dose_unit",
                                      placeholder="hours a week")
            cost = c3.text_input("Cost (£)", key="iv_cost")
            c1, c2 = st.columns(2)
            problem = c1.text_input("Problem or project", key="iv_problem")
            contact = c2.text_input("Contact", key="iv_contact")
            c1, c2 = st.columns(2)
            visibility = c1.selectbox(
                "Who may see it", VISIBILITY, key="iv_visibility",
                format_func={"partners": "Staff of partner organisations",
                             "restricted": "Only those an agreement names",
                             "public": "Everyone, the public too"}.get)
            agreement = c2.text_input("Agreement (for a restricted record)",
                                      key="iv_agreement")
            added = st.form_submit_button("Add the intervention", type="primary")
        if added:
            spec = {"id": ident, "title": title, "agency": agency, "kind": kind,
                    "description": description, "region": view.region,
                    "areas": list(picked) + [c for c in codes.replace(";", ",").split(",")
                                             if c.strip()],
                    "start": start, "end": end or None, "status": status,
                    "indicators": aims, "dose": dose, "dose_unit": dose_unit, "cost": cost,
                    "problem": problem, "contact": contact, "visibility": visibility,
                    "agreement": agreement}
            file = (footprint.getvalue(), footprint.name) if footprint else None
            try:
                rec = register.add(session.store(), spec, viewer=who, areas_file=file)
                st.success(f"Added {rec['id']}: {len(rec['areas'])} areas from "
                           f"{rec['start_month']}.", icon=":material/check:")
            except LoaderError as err:
                st.error(err.user_message)

        st.subheader("Import a CSV of interventions")
        st.caption(f"Columns: {', '.join(register.IMPORT_COLUMNS)} (required: "
                   f"{', '.join(register.REQUIRED)}). Lists are separated by ';'. Good rows "
                   "are added; each other row is listed with its reason.")
        upload = st.file_uploader("CSV file", type=["csv"], key="iv_import")
        if upload is not None and st.button("Import", key="iv_import_go"):
            try:
                done, refused = register.import_csv(session.store(), upload.getvalue(),
                                                    upload.name, viewer=who)
                st.success(f"Added {len(done)} interventions.", icon=":material/check:")
                if len(refused):
                    st.warning(f"{len(refused)} rows were not added:",
                               icon=":material/warning:")
                    st.dataframe(refused, hide_index=True, width="stretch")
            except LoaderError as err:
                st.error(err.user_message)

        mine = records[(records["agency"] == who.org) | who.rules.administer]
        open_ones = mine[mine["end_month"].isna()]
        if len(open_ones):
            st.subheader("End an intervention")
            c1, c2, c3 = st.columns([3, 1, 1])
            which = c1.selectbox("Intervention", open_ones["id"], key="iv_end_id",
                                 format_func=dict(zip(open_ones["id"], open_ones["title"],
                                                      strict=True)).get)
            last = c2.text_input("Last month", key="iv_end_month", placeholder="YYYY-MM")
            if c3.button("End it", key="iv_end_go"):
                try:
                    rec = register.end(session.store(), which, last or None, viewer=who)
                    st.success(f"{rec['id']} ends {rec['end_month']}.")
                except LoaderError as err:
                    st.error(err.user_message)

with tab_evaluate:
    if not len(records):
        st.info("There is no intervention to evaluate.", icon=":material/info:")
        st.stop()
    titles_by_id = dict(zip(records["id"], records["title"], strict=True))
    picked = st.selectbox("Intervention", list(records["id"]), key="iv_eval_id",
                          format_func=lambda i: f"{titles_by_id[i]} ({i})")
    rec = records[records["id"] == picked].iloc[0]
    cat = cached.catalogue(v)
    counts = cat[(cat["frequency"] == "monthly") & cat["additive"].astype(bool)
                 & cat["finest_level"].isin(["lsoa", "point"])]
    if counts.empty:
        st.info("You may not see any monthly count at LSOA level, which an evaluation "
                "needs.", icon=":material/lock:")
        st.stop()
    options = list(counts["indicator"])
    aims = [i for i in rec["indicators"] if i in options]
    names = counts.set_index("indicator")["title"].to_dict()
    c1, c2, c3 = st.columns([2, 1, 1])
    indicator = c1.selectbox("Indicator", options, key="iv_eval_indicator",
                             index=options.index(aims[0]) if aims else 0,
                             format_func=lambda i: widgets.plain(names[i]))
    comparison = c2.radio("Compared with", evaluation.COMPARISONS, key="iv_eval_cmp",
                          format_func={"region": "the rest of the region",
                                       "matched": "matched areas"}.get,
                          help="Matched: for each treated area the five untreated areas most "
                          "like it before the start, in level and trend.")
    methods = c3.multiselect("Methods", evaluation.METHODS, default=list(evaluation.METHODS),
                             key="iv_eval_methods", format_func=evaluation.METHOD_NAMES.get)
    with st.expander("Windows (default: 24 months before the start, every month since)"):
        c1, c2 = st.columns(2)
        before = c1.text_input("Before", key="iv_eval_before", placeholder="2020-01:2021-12")
        after = c2.text_input("After", key="iv_eval_after", placeholder="2022-01:2023-12")
    if not methods:
        st.info("Choose at least one method.", icon=":material/info:")
        st.stop()
    if st.button("Evaluate", type="primary", key="iv_eval_go"):
        st.session_state["iv_eval_asked"] = (picked, indicator, before, after,
                                             tuple(methods), comparison)
    asked = st.session_state.get("iv_eval_asked")
    if asked is None or asked[0] not in titles_by_id:
        st.caption("An evaluation compares the treated areas' counts before and after the "
                   "start with comparison areas', by difference-in-differences and by "
                   "synthetic control, and tests each against placebo groups of untreated "
                   "areas. It takes a few seconds.")
        st.stop()
    try:
        with st.spinner("Evaluating: fitting the models and 500 placebo groups…"):
            ev, rec_e, meta = ui.evaluate(*asked[:2], asked[2] or None, asked[3] or None,
                                          asked[4], asked[5], register.stamp(session.store()),
                                          who.name, v)
    except LoaderError as err:
        st.warning(err.user_message, icon=":material/warning:")
        st.stop()
    st.subheader(f"{widgets.plain(rec_e['title'])}: {widgets.plain(meta['title'])}")
    words = evaluation.verdict_lines(ev, widgets.plain(meta["title"]), meta["polarity"])
    any_sig = any(e.significant for e in ev.estimates.values())
    (st.success if any_sig else st.info)("\n\n".join(words), icon=":material/insights:")
    cols = st.columns(len(ev.estimates) + 1)
    for col, (method, est) in zip(cols, ev.estimates.items(), strict=False):
        col.metric(evaluation.METHOD_NAMES[method].capitalize(), f"{est.effect * 100:+.0f} %",
                   help=f"95 % CI {est.lower * 100:+.0f} % to {est.upper * 100:+.0f} %, "
                   f"p = {est.p_value:.3f}. Smallest change it could detect: "
                   f"{est.mde * 100:.0f} %.", border=True)
    cols[-1].metric("Displacement quotient", "n/a" if ev.wdq is None else f"{ev.wdq:.2f}",
                    help="Bowers and Johnson's weighted displacement quotient on the ring of "
                    "untreated neighbours: negative when crime moved into the ring, positive "
                    "when the ring fell too. Not defined when the treated areas did not "
                    "fall against the comparison areas.", border=True)
    st.caption(f"Treated: {len(ev.treated)} LSOAs. Compared with: {len(ev.comparison)} "
               f"{'matched ' if ev.comparison_kind == 'matched' else ''}LSOAs. Ring: "
               f"{len(ev.ring)} neighbouring LSOAs. Before: {ev.before[0]} to "
               f"{ev.before[-1]}; after: {ev.after[0]} to {ev.after[-1]}.")
    paths = {m: e.path for m, e in ev.estimates.items()}
    st.altair_chart(charts.evaluation_chart(paths, rec_e["start_month"],
                                            widgets.plain(meta["title"])), width="stretch")
    table = evaluation.table(ev, indicator)
    st.dataframe(table, hide_index=True, width="stretch", column_config={
        c: st.column_config.NumberColumn(c, format="%.3f")
        for c in ("effect", "effect_lower_95", "effect_upper_95", "p_value", "mde", "wdq")})
    for method, why in ev.skipped.items():
        st.caption(f"{evaluation.METHOD_NAMES.get(method, method).capitalize()} not "
                   f"estimated: {why}")
    with st.expander("The areas compared, and the monthly figures"):
        areas = evaluation.areas_table(ev)
        st.dataframe(areas, hide_index=True, width="stretch")
        st.download_button("Download the areas (CSV)",
                           export.to_csv(areas, list(areas.columns)),
                           file_name=f"evaluation_{asked[0]}_{asked[1]}_areas.csv",
                           mime="text/csv", key="iv_eval_areas", on_click="ignore")
        first = next(iter(ev.estimates.values())).path
        st.dataframe(first, hide_index=True, width="stretch")
    st.download_button("Download the evaluation (CSV)",
                       export.to_csv(table, list(table.columns)),
                       file_name=f"evaluation_{asked[0]}_{asked[1]}.csv", mime="text/csv",
                       key="iv_eval_download", on_click="ignore")
