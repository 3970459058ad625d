"""Who is looking, and at which store: the Streamlit session's side of access.

The viewer is read here: from Streamlit's OIDC sign-in when ``[auth]`` is
configured, else from the local sign-in form (kept across a reload by the cookie
``serve.py``'s routes set), else the public. :func:`refresh` works out the viewer and
the context once per script run (``widgets.page_setup`` calls it first on every
page); :func:`viewer` and :func:`version` then read them from the session without
touching the governance register again. The caches (:mod:`dashboard.ui.cached`) take
the :class:`Context` as their key.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from dataclasses import dataclass

import streamlit as st

from dashboard.access import PUBLIC, Viewer, accounts, audit, sessions
from store import Store, governance, store_target


@st.cache_resource(show_spinner=False)
def _store(path: str) -> Store:
    return Store(path)


def store() -> Store:
    """The store, opened once per process (queries reopen it after a rebuild or upload)."""
    return _store(str(store_target()))


@dataclass(frozen=True)
class Context:
    """What every cached figure depends on besides its filter."""

    store: str  # the store's state (a build or write changes it)
    rules: str  # the agreements register's state and today's date (expiry)
    viewer: Viewer  # the access scope: role and organisation, no name


def _store_version() -> str:
    return store().version()


def _rules_stamp() -> str:
    return f"{governance.agreements_stamp(store().governance)}:{dt.date.today().isoformat()}"


def oidc_configured() -> bool:
    """Whether Streamlit's OIDC sign-in is set up (an ``[auth]`` section in secrets)."""
    try:
        return "auth" in st.secrets
    except FileNotFoundError:
        return False


def _resolve_viewer() -> Viewer:
    """Who is using this session, checked against the account register.

    A disabled account loses access on its next run; a local sign-in idle for
    ``accounts.IDLE_MINUTES`` is signed out.
    """
    if oidc_configured() and st.user.is_logged_in:
        found = accounts.viewer_of(str(st.user.get("email") or ""), store().governance)
        return found or PUBLIC
    kept = _kept_session()
    if kept is not None and not st.session_state.get("signed_in"):
        st.session_state["signed_in"] = kept.viewer.name
        st.session_state["session_id"] = kept.id
        st.session_state["last_seen"] = time.time()
    elif kept is None and st.session_state.get("session_id"):
        sign_out(reason="session ended")  # signed out elsewhere, or its cookie went
        return PUBLIC
    name = st.session_state.get("signed_in")
    if not name:
        return PUBLIC
    idle = time.time() - st.session_state.get("last_seen", 0)
    if idle > accounts.IDLE_MINUTES * 60:
        sign_out(reason="idle")
        return PUBLIC
    found = accounts.viewer_of(name, store().governance)
    if found is None:
        sign_out(reason="account disabled")
        return PUBLIC
    st.session_state["last_seen"] = time.time()
    return found


def _kept_session() -> sessions.Session | None:
    """The sign-in this browser keeps in its cookie (``access.sessions``), if it holds."""
    cookie = st.context.cookies.get(sessions.COOKIE) if st.context.cookies else None
    return sessions.check(cookie, store().governance) if cookie else None


def session_routes() -> bool:
    """Whether the app is served with its own routes (``serve.py``), which keep a
    sign-in in a cookie."""
    import os
    return os.environ.get("ODA_SESSION_ROUTES") == "1"


def client_address() -> str:
    """The address a session comes from, for throttling sign-in per client: the socket's
    peer, or, behind the deployment's own proxy (``ODA_BEHIND_PROXY=1``), the address
    that proxy puts last in ``X-Forwarded-For`` (earlier entries are the client's to
    write, so they are not trusted)."""
    import os
    if os.environ.get("ODA_BEHIND_PROXY") == "1":
        forwarded = st.context.headers.get("X-Forwarded-For", "")
        if forwarded.strip():
            return forwarded.split(",")[-1].strip()[:64]
    return str(st.context.ip_address or "")[:64]


def sign_in(name: str, password: str) -> Viewer:
    """Check a local account's password and keep the sign-in in the session.

    Raises
    ------
    accounts.SignInError
        With a message to show as it is.
    """
    found = accounts.sign_in(name, password, store().governance, client=client_address())
    if session_routes():  # a ticket the browser spends to keep the sign-in in a cookie
        st.session_state["session_ticket"] = sessions.start(found, store().governance)
    st.session_state["signed_in"] = found.name
    st.session_state["last_seen"] = time.time()
    for key in ("view", "audited"):  # the next view is built for the new role
        st.session_state.pop(key, None)
    refresh()
    return found


def sign_out(reason: str = "") -> None:
    """End the session's local sign-in (audited)."""
    name = st.session_state.pop("signed_in", None)
    st.session_state.pop("view", None)
    st.session_state.pop("audited", None)
    st.session_state.pop("session_ticket", None)
    kept = st.session_state.pop("session_id", None)
    if kept:  # the cookie no longer signs anyone in, on any replica
        sessions.end(kept, store().governance)
    if name:
        who = accounts.viewer_of(name, store().governance) or Viewer(name, "public")
        audit.record(who, "sign-out", store().governance, reason=reason or "by the user")
        if reason:
            st.session_state["signed_out_because"] = reason
    st.session_state["run_viewer"] = PUBLIC
    st.session_state.pop("run_context", None)


_FOR_PAGE = "context_read_for_page"


def refresh(*, for_page: bool = False) -> Context:
    """Work out this run's viewer and context (one read of the governance register
    each); every page calls it first, through ``widgets.page_setup``. The entrypoint
    reads it before it builds the menu, ``for_page``: the page it then runs in the same
    script run takes that read (:func:`page_refresh`) rather than making another."""
    who = _resolve_viewer()
    context = Context(_store_version(), _rules_stamp(), who.scope())
    st.session_state["run_viewer"] = who
    st.session_state["run_context"] = context
    if for_page:
        st.session_state[_FOR_PAGE] = True
    return context


def page_refresh() -> Context:
    """A page's :func:`refresh`: the one the entrypoint made moments before in this
    script run, else (a page run on its own, as in a page test) a new one."""
    if st.session_state.pop(_FOR_PAGE, False) and "run_context" in st.session_state:
        return st.session_state["run_context"]
    return refresh()


def recheck(drawn: Context) -> None:
    """Check the viewer again in a fragment's own rerun (a click on a map reruns only the
    map), as every full run does: if the sign-in or the agreements changed since the
    page was drawn (signed out, idle, disabled, an agreement ended), the whole page runs
    again for the viewer as they are now. In a full run the page has just checked."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx
    ctx = get_script_run_ctx()
    if ctx is None or not ctx.fragment_ids_this_run:
        return
    now = refresh()
    if (now.viewer, now.rules) != (drawn.viewer, drawn.rules):
        st.rerun(scope="app")


def viewer() -> Viewer:
    """Who is using this session (as :func:`refresh` found at the start of the run)."""
    if "run_viewer" not in st.session_state:
        refresh()
    return st.session_state["run_viewer"]


def version() -> Context:
    """The session's context: store build (checked on every call, so an upload in this
    run is seen at once), and the agreements state and access scope of this run."""
    run = st.session_state.get("run_context") or refresh()
    return dataclasses.replace(run, store=_store_version())
