"""Local accounts: argon2-hashed passwords, sign-in with lockout, and the admin's
add, list and disable. Used when Streamlit's OIDC sign-in is not configured; with
OIDC the account register still decides each user's role and organisation.
"""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from dashboard.access import audit
from dashboard.access.policy import Viewer
from dashboard.access.roles import load_roles
from dashboard.filters import FilterError
from store import governance

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{1,63}$")
ORG = re.compile(r"^[a-z0-9][a-z0-9_]{0,47}$")
MIN_PASSWORD = 12
MAX_FAILURES = 5  # then the account is locked for LOCK_MINUTES
LOCK_MINUTES = 15
IDLE_MINUTES = 30  # a signed-in session idle this long is signed out
_hasher = PasswordHasher()
_DUMMY = _hasher.hash("not a real password, used to keep failed sign-ins as slow")


class SignInError(FilterError):
    """A sign-in was refused (wrong name or password, disabled or locked)."""


def check_new(name: str, role: str, org: str, password: str | None) -> list[str]:
    """What is wrong with a new account (empty when nothing)."""
    problems = []
    if not NAME.match(name or ""):
        problems.append(f"name {name!r} must be 2-64 letters, digits or . _ @ + -")
    roles = load_roles()
    if role not in roles:
        problems.append(f"role {role!r} is not a role; known: {list(roles)}")
    if org and not ORG.match(org):
        problems.append(f"organisation {org!r} must be lower-case letters, digits and _")
    if role in roles and roles[role].partner_data == "own" and not org:
        problems.append(f"a {roles[role].title} sees their own organisation's data, so must "
                        "belong to one (--org)")
    if password is not None and len(password) < MIN_PASSWORD:
        problems.append(f"the password must be at least {MIN_PASSWORD} characters")
    return problems


def add_user(name: str, role: str, org: str, password: str | None, *, by: Viewer,
             path=None) -> None:
    """Create an account (``password`` None: signs in through OIDC only).

    Raises
    ------
    FilterError
        Naming every problem with the account, or an existing name.
    """
    org = (org or "").strip()
    problems = check_new(name, role, org, password)
    if problems:
        raise FilterError("account", problems)
    if len(governance.read("SELECT 1 FROM accounts WHERE name = ?", [name], path)):
        raise FilterError("account", f"{name!r} already exists")
    governance.execute(
        "INSERT INTO accounts (name, role, org, password_hash, active, created_at, created_by) "
        "VALUES (?, ?, ?, ?, 1, ?, ?)",
        [name, role, org, _hasher.hash(password) if password else None, governance.now(),
         by.name], path)
    audit.record(by, "account", path, action="add", account=name, role=role, org=org)


def users(path=None) -> pd.DataFrame:
    """Every account, without its password hash."""
    return governance.read("SELECT name, role, org, active, failed_logins, locked_until, "
                           "last_login, created_at, created_by FROM accounts ORDER BY name",
                           path=path)


def set_active(name: str, active: bool, *, by: Viewer, path=None) -> None:
    """Disable (or re-enable) an account; a disabled account cannot sign in."""
    if not governance.execute("UPDATE accounts SET active = ?, failed_logins = 0, "
                              "locked_until = NULL WHERE name = ?", [active, name], path):
        raise FilterError("account", f"{name!r} is not an account")
    audit.record(by, "account", path, action="enable" if active else "disable", account=name)


def viewer_of(name: str, path=None) -> Viewer | None:
    """The viewer of an active account (an OIDC sign-in is matched by e-mail)."""
    row = governance.read("SELECT name, role, org FROM accounts WHERE lower(name) = lower(?) "
                          "AND active = 1", [name], path)
    return None if row.empty else Viewer(*row.iloc[0].tolist())


def sign_in(name: str, password: str, path=None, now: dt.datetime | None = None) -> Viewer:
    """Check a name and password; audit the attempt.

    After :data:`MAX_FAILURES` failures in a row the account is locked for
    :data:`LOCK_MINUTES`. The message never says whether the name exists.

    Raises
    ------
    SignInError
        With a message to show as it is.
    """
    now = now or dt.datetime.fromisoformat(governance.now())
    row = governance.read("SELECT * FROM accounts WHERE name = ?", [name], path)
    refused = Viewer(name if not row.empty else "unknown", "public")
    if row.empty:
        _verify(_DUMMY, password)
        audit.record(refused, "sign-in failed", path, reason="unknown name", given=name[:64])
        raise SignInError("sign-in", "the name or password is wrong")
    acct = row.iloc[0]
    locked = acct["locked_until"]
    if not acct["active"] or not acct["password_hash"]:
        _verify(_DUMMY, password)
        audit.record(refused, "sign-in failed", path, reason="disabled or no password")
        raise SignInError("sign-in", "the name or password is wrong")
    if locked is not None and not pd.isna(locked) and pd.Timestamp(locked) > now:
        audit.record(refused, "sign-in failed", path, reason="locked")
        raise SignInError("sign-in", f"this account is locked after {MAX_FAILURES} failed "
                          f"sign-ins; try again after {pd.Timestamp(locked):%H:%M} UTC, or ask "
                          "an administrator")
    if not _verify(acct["password_hash"], password):
        failures = int(acct["failed_logins"] or 0) + 1
        lock = now + dt.timedelta(minutes=LOCK_MINUTES) if failures >= MAX_FAILURES else None
        governance.execute("UPDATE accounts SET failed_logins = ?, locked_until = ? "
                           "WHERE name = ?", [0 if lock else failures, lock, name], path)
        audit.record(refused, "sign-in failed", path, reason="wrong password",
                     failures=failures, locked=bool(lock))
        raise SignInError("sign-in", "the name or password is wrong" + (
            f"; the account is now locked for {LOCK_MINUTES} minutes" if lock else ""))
    governance.execute("UPDATE accounts SET failed_logins = 0, locked_until = NULL, "
                       "last_login = ? WHERE name = ?", [now, name], path)
    viewer = Viewer(acct["name"], acct["role"], acct["org"] or "")
    audit.record(viewer, "sign-in", path, method="password")
    return viewer


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False
