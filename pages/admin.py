"""Administration: accounts, sharing agreements, partner indicators and the audit log."""

import datetime as dt

import streamlit as st

from dashboard import LoaderError, access, partners
from dashboard.access import accounts, agreements, audit
from dashboard.access.roles import load_roles
from dashboard.ui import cached, session, widgets
from dashboard.views import export

widgets.page_setup()
st.title("Administration")
who = session.viewer()
if not who.rules.administer:
    st.info("This page is for administrators: accounts, information-sharing agreements and "
            "the audit log.", icon=":material/lock:")
    st.stop()
gov = session.store().governance
roles = load_roles()

for warning in agreements.warnings(path=gov):
    st.warning(widgets.plain(warning), icon=":material/gavel:")

tab_ag, tab_acc, tab_ind, tab_log = st.tabs(
    ["Agreements", "Accounts", "Partner indicators", "Audit log"])


def _done(message: str) -> None:
    st.session_state["admin_done"] = message


if "admin_done" in st.session_state:
    st.toast(st.session_state.pop("admin_done"), icon=":material/check:")

with tab_ag:
    register = agreements.register(gov)
    partner_ids = sorted(access.partner_indicators(session.store()))
    if register.empty:
        st.info("No agreement is registered yet. Partner uploads are seen only by their own "
                "organisation's stewards until one is.", icon=":material/info:")
    else:
        shown = register.assign(
            awaiting_data=agreements.awaiting(register, set(partner_ids)).map(", ".join),
            **{c: register[c].map(", ".join) for c in ("parties", "indicators", "roles",
                                                       "orgs")})
        st.dataframe(shown[["id", "title", "status", "parties", "indicators", "awaiting_data",
                            "roles", "orgs", "level", "start_date", "review_date", "expires",
                            "purpose", "lawful_basis"]], hide_index=True, width="stretch",
                     column_config={"awaiting_data": st.column_config.TextColumn(
                         "Awaiting data", help="Indicators the agreement names that have "
                         "not been loaded yet; it applies to them when they arrive.")})
        c1, c2 = st.columns([2, 3])
        chosen = c1.selectbox("Agreement", register["id"].tolist(), key="admin_ag_pick")
        action = c2.segmented_control("Change its status", ["active", "suspended", "expired"],
                                      key="admin_ag_status",
                                      help="Suspended or expired data leaves every map, "
                                      "table, test and export for everyone but administrators.")
        if action and st.button(f"Set {chosen} to {action}", key="admin_ag_apply"):
            try:
                agreements.set_status(chosen, action, by=who, path=gov)
                _done(f"{chosen} is now {action}")
                st.rerun()
            except LoaderError as err:
                st.error(err.user_message)
    for line in st.session_state.pop("admin_ag_warnings", []):
        st.warning(widgets.plain(line), icon=":material/spellcheck:")
    with st.expander("Register a new agreement"), st.form("admin_ag_add"):
        a1, a2 = st.columns(2)
        spec = {"id": a1.text_input("Id", placeholder="e.g. ISA-2026-004"),
                "title": a2.text_input("Title")}
        spec["parties"] = st.text_input("Parties (organisations, comma-separated)")
        spec["purpose"] = st.text_area("Purpose", height=68)
        spec["lawful_basis"] = st.text_input("Lawful basis",
                                             placeholder="e.g. UK GDPR Art. 6(1)(e)")
        chosen_ids = st.multiselect("Indicators covered", partner_ids, key="admin_ag_ids")
        coming = st.text_input("Indicators not loaded yet (ids, comma-separated)",
                               key="admin_ag_coming",
                               help="An agreement is signed before data flows: it applies "
                               "to these ids when their first file arrives.")
        spec["indicators"] = [*chosen_ids, *(i.strip() for i in coming.split(",") if i.strip())]
        b1, b2, b3 = st.columns(3)
        spec["roles"] = b1.multiselect("Roles that may see them",
                                       [r for r in roles if r not in ("public", "administrator")])
        spec["orgs"] = b2.text_input("Organisations that may see them (comma-separated)")
        levels = list(agreements.AGREEMENT_LEVELS)
        spec["level"] = b3.selectbox(
            "Finest level", levels, index=levels.index("lsoa"),
            help="The finest geography the agreement allows. 'point' shares a partner's "
            "incidents on hexagons, below LSOAs.")
        d1, d2, d3 = st.columns(3)
        spec["start_date"] = d1.date_input("Starts", dt.date.today())
        spec["review_date"] = d2.date_input("Review", dt.date.today() + dt.timedelta(days=365))
        spec["expires"] = d3.date_input("Expires", dt.date.today() + dt.timedelta(days=730))
        if st.form_submit_button("Register", type="primary"):
            try:
                added = agreements.add(spec, set(partner_ids), by=who, path=gov)
                st.session_state["admin_ag_warnings"] = added["warnings"]
                _done(f"Registered {spec['id']}" + (
                    f" ({len(added['awaiting'])} indicator(s) awaiting data)"
                    if added["awaiting"] else ""))
                st.rerun()
            except LoaderError as err:
                st.error(err.user_message)

with tab_acc:
    people = accounts.users(gov)
    st.dataframe(people, hide_index=True, width="stretch")
    if len(people):
        c1, c2 = st.columns([2, 1])
        name = c1.selectbox("Account", people["name"].tolist(), key="admin_acc_pick")
        active = bool(people.set_index("name").at[name, "active"])
        if c2.button("Disable" if active else "Enable", key="admin_acc_toggle"):
            accounts.set_active(name, not active, by=who, path=gov)
            _done(f"{name} {'disabled' if active else 'enabled'}")
            st.rerun()
    with st.expander("Add an account"), st.form("admin_acc_add"):
        a1, a2, a3 = st.columns(3)
        new = a1.text_input("Name (an e-mail address for OIDC sign-in)")
        role = a2.selectbox("Role", [r for r in roles if r != "public"],
                            format_func=lambda r: roles[r].title)
        org = a3.text_input("Organisation", placeholder="e.g. avon_fire")
        password = st.text_input("Password (leave empty for OIDC sign-in only)",
                                 type="password", autocomplete="new-password")
        if st.form_submit_button("Add", type="primary"):
            try:
                accounts.add_user(new.strip(), role, org.strip(), password or None, by=who,
                                  path=gov)
                _done(f"Added {new}")
                st.rerun()
            except LoaderError as err:
                st.error(err.user_message)

with tab_ind:
    cat = cached.catalogue(session.version())
    own = cat[cat["origin"] == "partner"]
    if own.empty:
        st.info("No partner indicator has been loaded.", icon=":material/info:")
    else:
        st.dataframe(own[["indicator", "title", "partner", "agreement_id", "suppression_k",
                          "first_period", "last_period"]], hide_index=True, width="stretch")
        gone = st.selectbox("Delete a partner indicator and all its figures",
                            own["indicator"].tolist(), index=None, key="admin_del_pick")
        if gone and st.button(f"Delete {gone}", key="admin_del", type="primary"):
            try:
                n = partners.delete(session.store(), gone, viewer=who)
                st.cache_data.clear()
                _done(f"Deleted {gone} ({n:,} figures)")
                st.rerun()
            except LoaderError as err:
                st.error(err.user_message)

with tab_log:
    c1, c2, c3 = st.columns(3)
    since = c1.date_input("Since", dt.date.today() - dt.timedelta(days=30), key="admin_since")
    user = c2.text_input("Account", key="admin_user")
    event = c3.selectbox("Event", audit.EVENTS, index=None, key="admin_event",
                         placeholder="Every event")
    log = audit.entries(since=since, user=user.strip() or None, event=event, path=gov)
    st.dataframe(log.drop(columns=["hash"]), hide_index=True, width="stretch")
    data = export.to_csv(log, list(log.columns))
    st.download_button(f"Download these {len(log):,} entries (CSV)", data,
                       file_name=f"audit_{since}.csv", mime="text/csv", key="admin_log_csv",
                       on_click="ignore")
    if st.button("Verify the chain", key="admin_verify"):
        problems = audit.verify(gov)
        if problems:
            st.error("The audit log has been altered:\n\n" + "\n".join(
                f"- {widgets.plain(p)}" for p in problems), icon=":material/report:")
        else:
            st.success("Every entry is intact: the hash chain is unbroken.",
                       icon=":material/verified:")
