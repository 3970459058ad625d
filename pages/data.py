"""Data: upload a partner file, read its validation report, and browse the catalogue."""

import pandas as pd
import streamlit as st

from dashboard import LoaderError, partners
from dashboard.access import agreements
from dashboard.ui import cached, controls, session, upload_form, widgets

widgets.page_setup()
st.title("Partner data")
view = controls.region_picker()
who = session.viewer()
if who.rules.administer:
    for warning in agreements.warnings(path=session.store().governance):
        st.warning(widgets.plain(warning), icon=":material/gavel:")
may_upload = partners.may_upload(who)
if not may_upload:
    st.info("Data stewards load their organisation's files here once signed in. Below is "
            "the catalogue of the indicators you may see.", icon=":material/info:")
st.caption("Upload a partner file (CSV, Excel or Parquet) as you hold it: tidy rows of area, "
           "period, indicator and value; a wide file with a column per month or per "
           "indicator; ward names instead of codes; breakdowns such as sex or age group; "
           "published confidence limits; a list of incidents with positions; or a police.uk "
           "street-level file. You see how it will be read, and can change that, before "
           "anything is written. Good rows load; every other row is kept with its reason.")

submitted = False
if may_upload:
    with st.form("upload", clear_on_submit=False):
        upload = st.file_uploader("Partner file",
                                  type=["csv", "tsv", "txt", "xlsx", "parquet", "gz"],
                                  key="data_file")
        c1, c2 = st.columns(2)
        if who.rules.administer:
            partner = c1.text_input("Partner", key="data_partner", placeholder="e.g. fire",
                                    help="Used when the file has no partner column.")
        else:
            partner = who.org
            c1.text_input("Partner", value=who.org, disabled=True, key="data_partner_fixed",
                          help="A data steward loads their own organisation's files only.")
        meta = c2.file_uploader(
            "Catalogue details for new indicators (optional)", type=["toml", "json"],
            key="data_meta", help="Title, unit, polarity, denominator, coverage, licence "
            "(and, for an administrator, the suppression threshold k). Without it a new "
            "indicator gets defaults, and the report says so.")
        replace = st.checkbox("This is a corrected version of a file loaded before (replace "
                              "its rows)", key="data_replace")
        submitted = st.form_submit_button("Read the file", type="primary", key="data_read",
                                          help="Nothing is written until you load it.")

if submitted and upload is None:
    st.warning("Choose a file to upload first.")
elif submitted:
    st.session_state["data_upload"] = {
        "data": upload.getvalue(), "name": upload.name, "partner": partner,
        "meta": meta.getvalue() if meta else None, "meta_name": meta.name if meta else "",
        "replace": replace}
    st.session_state["data_choices"] = {}
    for key in ("data_preview", "data_report", "data_details"):
        st.session_state.pop(key, None)


def _upload(pending: dict, choices: dict, dry_run: bool, details: dict | None = None):
    return partners.ingest_upload(
        session.store(), pending["data"], pending["name"], viewer=who,
        partner=pending["partner"], meta=pending["meta"], meta_name=pending["meta_name"],
        replace=pending["replace"], choices=choices, dry_run=dry_run, details=details)


POLARITY = partners.catalogue_details.POLARITY_LABELS


def _new_indicator_details(new: list[dict]) -> tuple[dict, list[str]]:
    """Ask the unit and polarity of each new indicator; return the details chosen and
    the titles still without a polarity."""
    st.markdown("**What the new indicators' figures mean**")
    st.caption("Check each new indicator's unit, and say which way is worse: the maps, "
               "ranks and comparisons follow it (a higher life expectancy is better, a "
               "higher admission rate worse). Choose 'Neither' where there is no better "
               "or worse. These can be changed later under 'Change an indicator's details'.")
    chosen, unset = {}, []
    units = list(partners.catalogue_details.UNITS)
    for n in new:
        c = st.columns([3, 2, 3], vertical_alignment="bottom")
        c[0].markdown(f"{widgets.plain(n['title'])}  \n`{n['indicator']}`")
        unit = c[1].selectbox("Unit", units, index=units.index(n["unit"]),
                              key=f"data_unit_{n['indicator']}",
                              help=partners.catalogue_details.UNIT_HELP.capitalize() + ".")
        polarity = c[2].selectbox(
            "Polarity", list(POLARITY), format_func=POLARITY.get,
            index=list(POLARITY).index(n["polarity"]) if "polarity" in n["stated"] else None,
            placeholder="Which way is worse?", key=f"data_polarity_{n['indicator']}",
            help="Whether a higher figure is worse, a lower one, or neither.")
        chosen[n["indicator"]] = {"unit": unit, "polarity": polarity}
        if polarity is None:
            unset.append(n["title"])
    return chosen, unset


def _report_figures(report, verb: str) -> None:
    c = st.columns(4)
    c[0].metric("Rows read", f"{report.rows_read:,}")
    c[1].metric(f"Rows {verb}", f"{report.rows_loaded:,}")
    c[2].metric("Hidden by the partner", f"{report.rows_suppressed:,}",
                help="Cells the partner suppressed ('under 5', '*', 'c'...): kept as hidden "
                "cells with their range, never as zero.")
    c[3].metric("Rows quarantined", f"{report.rows_quarantined:,}")


pending = st.session_state.get("data_upload") if may_upload else None
if pending is not None:
    choices = st.session_state.get("data_choices", {})
    key = (pending["name"], tuple(sorted(choices.items())))
    preview = st.session_state.get("data_preview")
    if preview is None or preview[0] != key:
        with st.spinner(f"Reading {pending['name']}…"):
            preview = (key, _upload(pending, choices, dry_run=True))
        st.session_state["data_preview"] = preview
    seen = preview[1]
    reading = seen.reading
    st.subheader(f"How {widgets.plain(seen.file)} will be read", anchor=False)
    kind = {"table": "a table of figures", "incidents": "a list of incidents, counted by "
            "LSOA and month", "police.uk": "a police.uk street-level file"}
    if reading.get("kind"):
        st.markdown(f"Recognised as **{kind[reading['kind']]}**. Nothing has been written yet.")
    if seen.refused:
        st.warning("As it is read now, the file cannot load: "
                   f"{widgets.plain(partners.on_page(seen.reason))}", icon=":material/rule:")
    elif seen.already_loaded:
        st.info("This exact file was loaded before; loading it again changes nothing.")
    else:
        _report_figures(seen, "that would load")
    for warning in seen.warnings:
        st.warning(widgets.plain(partners.on_page(warning)), icon=":material/location_on:")
    left, right = st.columns([2, 3])
    if reading.get("kind"):
        roles = partners.roles_table(seen)
        left.dataframe(roles, hide_index=True, width="stretch",
                       height=min(35 * (len(roles) + 1) + 3, 600))
    with right:
        for note in seen.notes:
            st.caption(f"Note: {widgets.plain(partners.on_page(note))}")
    if seen.matches:
        with st.expander(f"Ward names matched to codes ({len(seen.matches)})"):
            st.dataframe(pd.DataFrame(seen.matches), hide_index=True, width="stretch")
    if seen.quarantine:
        with st.expander(f"Rows that would be quarantined ({len(seen.quarantine):,})"):
            st.dataframe(pd.DataFrame(seen.quarantine), hide_index=True, width="stretch")
    columns = reading.get("columns") or []
    if reading.get("kind") in ("table", "incidents") and columns:
        with st.form("data_reading"):
            st.markdown("**Change how it is read**")
            changed = upload_form.reading_choices(reading, columns)
            if st.form_submit_button("Read again", key="data_reread"):
                st.session_state["data_choices"] = changed
                st.rerun()
    details, unset = ({}, [])
    if seen.new_indicators and not seen.refused:
        details, unset = _new_indicator_details(seen.new_indicators)
    if unset:
        st.info(f"Choose a polarity for {len(unset)} new indicator"
                f"{'s' if len(unset) > 1 else ''} under 'Polarity' above "
                f"({', '.join(unset[:3])}{'…' if len(unset) > 3 else ''}) before loading.",
                icon=":material/swap_vert:")
    load = st.button(f"Load {pending['name']}", type="primary", key="data_load",
                     disabled=seen.refused or seen.already_loaded or bool(unset))
    if load:
        with st.spinner(f"Loading {pending['name']}…"):
            st.session_state["data_report"] = _upload(pending, choices, dry_run=False,
                                                      details=details)
        for key in ("data_upload", "data_preview", "data_choices"):
            st.session_state.pop(key, None)
        st.rerun()

report = st.session_state.get("data_report")
if report is not None:
    st.subheader(f"Report: {widgets.plain(report.file)}", anchor=False)
    if report.refused:
        st.error(f"Refused: {widgets.plain(partners.on_page(report.reason))}",
                 icon=":material/block:")
    elif report.already_loaded:
        st.info("This exact file was loaded before; nothing changed.")
    else:
        st.success(f"Loaded {report.rows_loaded:,} of {report.rows_read:,} rows.")
    _report_figures(report, "loaded")
    for warning in report.warnings:
        st.warning(widgets.plain(partners.on_page(warning)), icon=":material/location_on:")
    for note in report.notes:
        st.caption(f"Note: {widgets.plain(partners.on_page(note))}")
    if report.quarantine:
        st.dataframe(pd.DataFrame(report.quarantine), hide_index=True, width="stretch")
        st.download_button("Download the quarantined rows (CSV)",
                           partners.quarantine_csv(report),
                           file_name=f"quarantine_{report.file}.csv", mime="text/csv",
                           key="data_quarantine", on_click="ignore")

st.subheader("Indicator catalogue")
cat = cached.catalogue_coverage(view.region, session.version())
st.dataframe(
    cat[["indicator", "title", "partner", "standing", "agreement_id", "area_coverage",
         "first_period", "last_period", "loaded_at", "unit", "polarity", "geography",
         "source", "licence"]],
    hide_index=True, width="stretch",
    column_config={"area_coverage": st.column_config.ProgressColumn(
        "Area coverage", help="Share of the region's areas with data", format="percent",
        min_value=0, max_value=1),
        "loaded_at": st.column_config.DatetimeColumn("Last loaded", format="YYYY-MM-DD HH:mm"),
        "geography": st.column_config.TextColumn("Vintage"),
        "standing": st.column_config.TextColumn(
            "Agreement", help="Open data; a partner upload with no agreement yet (seen by "
            "its own stewards only); live until its expiry; or expired or suspended "
            "(hidden from everyone but administrators)."),
        "agreement_id": st.column_config.TextColumn("Agreement id")})

editable = partners.may_edit(who, cat)
if len(editable):
    with st.expander("Change an indicator's details"):
        st.caption("Correct a partner indicator's title, unit or polarity without loading "
                   "its file again. Every change is recorded in the audit log, before and "
                   "after.")
        titles = dict(zip(editable["indicator"], editable["title"], strict=True))
        chosen = st.selectbox("Indicator", list(titles), key="details_indicator",
                              format_func=lambda i: f"{titles[i]} ({i})")
        now = editable.set_index("indicator").loc[chosen]
        units = list(partners.catalogue_details.UNITS)
        with st.form("details_form"):
            title = st.text_input("Title", value=now["title"], key=f"details_title_{chosen}")
            unit = st.selectbox("Unit", units, key=f"details_unit_{chosen}",
                                index=units.index(now["unit"]) if now["unit"] in units else 0,
                                help=partners.catalogue_details.UNIT_HELP.capitalize() + ".")
            codes = list(POLARITY)
            polarity = st.radio("Polarity", codes, key=f"details_polarity_{chosen}",
                                index=codes.index(now["polarity"])
                                if now["polarity"] in codes else 2,
                                format_func=POLARITY.get, horizontal=True,
                                help="Which way is worse: the maps, ranks and comparisons "
                                "follow it.")
            saved = st.form_submit_button("Save the details", key="details_save")
        if saved:
            try:
                changed = partners.edit_details(
                    session.store(), chosen, {"title": title.strip(), "unit": unit,
                                             "polarity": polarity}, viewer=who)
            except LoaderError as err:
                st.error(widgets.plain(err.user_message), icon=":material/block:")
            else:
                if changed:
                    st.success("Changed: " + widgets.plain(
                        partners.catalogue_details.describe(changed)))
                else:
                    st.info("Nothing changed: the details were already so.")
