"""Data: upload a partner file, read its validation report, and browse the catalogue."""

import pandas as pd
import streamlit as st

from dashboard import cached, partners, widgets
from dashboard.access import agreements

widgets.page_setup()
st.title("Partner data")
view = widgets.region_picker()
who = cached.viewer()
if who.rules.administer:
    for warning in agreements.warnings(path=cached.store().governance):
        st.warning(widgets.plain(warning), icon=":material/gavel:")
may_upload = partners.may_upload(who)
if not may_upload:
    st.info("Data stewards load their organisation's files here once signed in. Below is "
            "the catalogue of the indicators you may see.", icon=":material/info:")
st.caption("Upload a partner file (CSV, Excel or Parquet): one row per area, period and "
           "indicator, with columns area_code, period, indicator and value (optionally "
           "denominator and partner). Wide files with one column per month or per indicator, "
           "and police.uk street-level files, are recognised too. Good rows load; every other "
           "row is kept with its reason for you to download and correct.")

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
            key="data_meta", help="Title, unit, polarity, denominator, licence (and, for an "
            "administrator, the suppression threshold k). Without it a new indicator gets "
            "defaults, and the report says so.")
        replace = st.checkbox("This is a corrected version of a file loaded before (replace "
                              "its rows)", key="data_replace")
        submitted = st.form_submit_button("Validate and load", type="primary")

if submitted and upload is None:
    st.warning("Choose a file to upload first.")
elif submitted:
    with st.spinner(f"Validating {upload.name}…"):
        report = partners.ingest_upload(
            cached.store(), upload.getvalue(), upload.name, viewer=who, partner=partner,
            meta=meta.getvalue() if meta else None, meta_name=meta.name if meta else "",
            replace=replace)
    st.session_state["data_report"] = report

report = st.session_state.get("data_report")
if report is not None:
    st.subheader(f"Report: {widgets.plain(report.file)}", anchor=False)
    if report.refused:
        st.error(f"Refused: {widgets.plain(report.reason)}", icon=":material/block:")
    elif report.already_loaded:
        st.info("This exact file was loaded before; nothing changed.")
    else:
        st.success(f"Loaded {report.rows_loaded:,} of {report.rows_read:,} rows.")
    c = st.columns(3)
    c[0].metric("Rows read", f"{report.rows_read:,}")
    c[1].metric("Rows loaded", f"{report.rows_loaded:,}")
    c[2].metric("Rows quarantined", f"{report.rows_quarantined:,}")
    for note in report.notes:
        st.caption(f"Note: {widgets.plain(note)}")
    if report.quarantine:
        st.dataframe(pd.DataFrame(report.quarantine), hide_index=True, width="stretch")
        st.download_button("Download the quarantined rows (CSV)",
                           partners.quarantine_csv(report),
                           file_name=f"quarantine_{report.file}.csv", mime="text/csv",
                           key="data_quarantine", on_click="ignore")

st.subheader("Indicator catalogue")
cat = cached.catalogue_coverage(view.region, cached.version())
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
