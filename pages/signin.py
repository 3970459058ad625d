"""Sign in: with the organisation's account (OIDC) where configured, else a local account."""

import streamlit as st

from dashboard.access import accounts
from dashboard.ui import session, widgets

widgets.page_setup()
st.title("Sign in")
who = session.viewer()
reason = st.session_state.pop("signed_out_because", "")
if reason == "idle":
    st.info(f"You were signed out after {accounts.IDLE_MINUTES} minutes without activity.",
            icon=":material/timer_off:")
elif reason == "session ended":
    st.info("You were signed out in another tab or window.", icon=":material/logout:")
elif reason:
    st.warning("You were signed out: your account is no longer active. Ask an administrator.",
               icon=":material/person_off:")

if who.signed_in:
    st.success(f"Signed in as **{widgets.plain(who.name)}**: {who.rules.title}"
               + (f", {widgets.plain(who.org)}" if who.org else "") + ".",
               icon=":material/verified_user:")
    st.caption(who.rules.description)
    ticket = st.session_state.get("session_ticket")
    if ticket and session.session_routes() and not st.session_state.get("session_id"):
        st.link_button("Stay signed in on this device", f"/session/start?ticket={ticket}",
                       icon=":material/devices:",
                       help="Keeps you signed in when you reload the page or open a link, "
                       f"until you sign out or for {accounts.IDLE_MINUTES} minutes without "
                       "activity. Do not use it on a shared computer.")
    if session.oidc_configured() and st.user.is_logged_in:
        st.button("Sign out", on_click=st.logout, key="signout_oidc")
    else:
        st.button("Sign out", on_click=session.sign_out, key="signout")
    st.stop()

st.caption("Without signing in you see open data at ward level and above. Partners' data "
           "and finer detail are shown to the people their information-sharing agreements "
           "name.")
if session.oidc_configured():
    if st.user.is_logged_in:
        st.warning(f"{widgets.plain(str(st.user.get('email', '')))} has no account here yet. "
                   "Ask an administrator to add one; until then you see the public view.",
                   icon=":material/person_off:")
        st.button("Sign out", on_click=st.logout, key="signout_oidc")
    else:
        st.button("Sign in with your organisation account", on_click=st.login,
                  type="primary", key="signin_oidc")
    st.stop()

with st.form("signin"):
    name = st.text_input("Account name", key="signin_name", autocomplete="username")
    password = st.text_input("Password", type="password", key="signin_password",
                             autocomplete="current-password")
    submitted = st.form_submit_button("Sign in", type="primary")
if submitted:
    try:
        found = session.sign_in(name.strip(), password)
    except accounts.SignInError as err:
        st.error(err.problems[0].capitalize() + ".", icon=":material/lock:")
    else:
        st.rerun()
st.caption(f"After {accounts.MAX_FAILURES} wrong passwords in a row, sign-in for that name "
           f"pauses for {accounts.LOCK_MINUTES} minutes from this device, and longer each "
           "time after; other devices are not affected. A session idle for "
           f"{accounts.IDLE_MINUTES} minutes is signed out.")
