"""A local sign-in kept across a reload or an opened link: a signed, expiring cookie.

After a password sign-in the app records a session in the governance register and
offers the browser a one-time ticket (a minute to use). The app's own route
(``serve.py``: ``/session/start``) spends the ticket and sets the cookie: HttpOnly
(no script can read it), SameSite=Strict, Secure behind HTTPS, holding the session's
id, its expiry and an HMAC under the deployment secret (``store.secrets``), so it
cannot be forged or stretched. Every page run checks the cookie: its MAC, its
expiry, that the session was not signed out (revoked in the register) or idle for
longer than ``accounts.IDLE_MINUTES``, and that the account is still active. The
register is shared by replicas (PostgreSQL), and so is the secret, so any replica
behind the proxy accepts it.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets as random
from dataclasses import dataclass

from dashboard.access import accounts
from dashboard.access.policy import Viewer
from store import governance, secrets

COOKIE = "oda_session"
LIFETIME = dt.timedelta(hours=12)  # however active, a sign-in ends after this
TICKET_SECONDS = 60
TOUCH_EVERY = dt.timedelta(minutes=1)  # how stale the idle clock may get (of 30 minutes)


@dataclass(frozen=True)
class Session:
    """A checked session: its id and the viewer it signs in."""

    id: str
    viewer: Viewer


def _now() -> dt.datetime:
    return dt.datetime.fromisoformat(governance.now())


def _sign(kind: str, session_id: str, until: int) -> str:
    return f"{session_id}.{until}.{secrets.mac(kind, f'{session_id}|{until}')}"


def _open(kind: str, token: str, now: dt.datetime) -> str | None:
    """The session id a token names, when its MAC holds and it has not expired."""
    parts = str(token or "").split(".")
    if len(parts) != 3 or not parts[1].isdigit():
        return None
    session_id, until, mac = parts
    want = secrets.mac(kind, f"{session_id}|{until}")
    if not hmac.compare_digest(want, mac) or int(until) < now.timestamp():
        return None
    return session_id


def start(viewer: Viewer, path=None, now: dt.datetime | None = None) -> str:
    """Record a session for a viewer who has just signed in; return its one-time ticket."""
    now = now or _now()
    session_id = random.token_urlsafe(24)
    governance.add_session(session_id, viewer.name, now, now + LIFETIME, path)
    return _sign("session-ticket", session_id, int(now.timestamp()) + TICKET_SECONDS)


def redeem(ticket: str, path=None, now: dt.datetime | None = None) -> tuple[str, int] | None:
    """Spend a ticket (once, within its minute): the cookie's value and its lifetime in
    seconds, or None."""
    now = now or _now()
    session_id = _open("session-ticket", ticket, now)
    if session_id is None or not governance.use_ticket(session_id, path):
        return None
    row = governance.session(session_id, path)
    until = int(dt.datetime.fromisoformat(row["expires_at"]).timestamp())
    return _sign("session", session_id, until), max(0, until - int(now.timestamp()))


def check(cookie: str, path=None, now: dt.datetime | None = None) -> Session | None:
    """The session a cookie keeps, or None: forged, expired, signed out, idle too long,
    or its account disabled."""
    now = now or _now()
    session_id = _open("session", cookie, now)
    row = governance.session(session_id, path) if session_id else None
    if row is None or row["revoked_at"] or not row["ticket_used"]:
        return None
    idle = now - dt.datetime.fromisoformat(row["last_seen"])
    if idle > dt.timedelta(minutes=accounts.IDLE_MINUTES):
        governance.revoke_sessions(now, path, session_id=session_id)
        return None
    viewer = accounts.viewer_of(row["name"], path)
    if viewer is None:
        return None
    if idle > TOUCH_EVERY:  # not a write to the register on every rerun of a page
        governance.touch_session(session_id, now, path)
    return Session(session_id, viewer)


def end(session_id: str, path=None) -> bool:
    """Sign a session out: its cookie no longer signs anyone in, on any replica."""
    return bool(governance.revoke_sessions(_now(), path, session_id=session_id))
