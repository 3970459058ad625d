"""The app's own HTTP routes, beside Streamlit's (served by ``serve.py``): they hand
a signed-in session to the browser as an HttpOnly cookie, and take it back.

``/session/start?ticket=...`` spends a one-time ticket (``access.sessions``) and sets
the cookie; ``/session/end`` clears it. Both answer with a redirect into the app, and
say nothing about why a ticket was refused.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.routing import Route

from dashboard.access import sessions
from store.settings import governance_path, store_target


def _register():
    return governance_path(None, store=store_target())


def session_start(request: Request) -> RedirectResponse:
    """Spend the ticket and keep the sign-in in a cookie; back to the app either way."""
    made = sessions.redeem(request.query_params.get("ticket", ""), _register())
    out = RedirectResponse("/", status_code=303)
    if made:
        value, seconds = made
        out.set_cookie(sessions.COOKIE, value, max_age=seconds, path="/", httponly=True,
                       samesite="strict", secure=request.url.scheme == "https")
    return out


def session_end(request: Request) -> RedirectResponse:
    """Clear the cookie (the session itself was ended when its user signed out)."""
    out = RedirectResponse("/signin", status_code=303)
    out.delete_cookie(sessions.COOKIE, path="/", httponly=True, samesite="strict")
    return out


ROUTES = [Route("/session/start", session_start), Route("/session/end", session_end)]
