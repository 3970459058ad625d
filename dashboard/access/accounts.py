"""Local accounts: argon2-hashed passwords, sign-in throttled per client, and the
admin's add, list and disable. Used when Streamlit's OIDC sign-in is not configured; with
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
MAX_FAILURES = 5  # then that client is paused for that name for LOCK_MINUTES, then longer
LOCK_MINUTES = 15
WRONG = "the name or password is wrong"
LAST = (f"; that was the last of {MAX_FAILURES} attempts: sign-in for this name from here "
        f"now pauses for {LOCK_MINUTES} minutes or more")
PAUSED = ("sign-in for this name is paused here after {n} failed attempts; try again after "
          "{at:%H:%M} UTC, or ask an administrator")
IDLE_MINUTES = 30  # a signed-in session idle this long is signed out
_hasher = PasswordHasher()  # argon2id at the library's defaults (RFC 9106's low-memory choice)
_dummy: list[str] = []  # a hash made on the first refused sign-in, not on every import


def _dummy_hash() -> str:
    """A hash of no account's password: checked when a name has none, so a failed
    sign-in takes as long as a wrong password."""
    if not _dummy:
        _dummy.append(_hasher.hash("not a real password, used to keep failed sign-ins slow"))
    return _dummy[0]


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
    if not governance.add_account(name, role, org, _hasher.hash(password) if password else None,
                                  by.name, path):
        raise FilterError("account", f"{name!r} already exists")
    audit.record(by, "account", path, action="add", account=name, role=role, org=org)


def users(path=None) -> pd.DataFrame:
    """Every account, without its password hash."""
    return governance.accounts(path)


def set_active(name: str, active: bool, *, by: Viewer, path=None) -> None:
    """Disable (or re-enable) an account; a disabled account cannot sign in."""
    if not governance.set_account_active(name, active, path):
        raise FilterError("account", f"{name!r} is not an account")
    if not active:  # its kept sign-ins end at once, on every replica
        governance.revoke_sessions(dt.datetime.fromisoformat(governance.now()), path, name=name)
    audit.record(by, "account", path, action="enable" if active else "disable", account=name)


def viewer_of(name: str, path=None) -> Viewer | None:
    """The viewer of an active account (an OIDC sign-in is matched by e-mail)."""
    row = governance.account(name, path, active_only=True)
    return None if row.empty else Viewer(*row.iloc[0][["name", "role", "org"]].tolist())


def sign_in(name: str, password: str, path=None, now: dt.datetime | None = None,
            client: str = "") -> Viewer:
    """Check a name and password from ``client`` (an address); audit the attempt.

    Every attempt is counted before its password is checked, atomically, per name and
    client (``store.governance.take_sign_in_attempt``): after :data:`MAX_FAILURES`
    attempts without a success that client is paused for that name for
    :data:`LOCK_MINUTES`, twice as long each time after (at most a day). Other
    clients are not paused, so a stranger cannot lock a known account out; an
    unknown name, a disabled account and a wrong password get the same answer.

    Raises
    ------
    SignInError
        With a message to show as it is.
    """
    now = now or dt.datetime.fromisoformat(governance.now())
    given = name.strip()[:64]
    paused = governance.take_sign_in_attempt(
        given, client, now, limit=MAX_FAILURES, pause=dt.timedelta(minutes=LOCK_MINUTES),
        most=dt.timedelta(hours=24), path=path)
    row = governance.account(given, path)
    refused = Viewer(row["name"].iat[0] if len(row) else "unknown", "public")
    if paused is not None:
        audit.record(refused, "sign-in failed", path, reason="paused", client=client,
                     given=given)
        raise SignInError("sign-in", PAUSED.format(n=MAX_FAILURES, at=paused))
    usable = len(row) and row["active"].iat[0] and row["password_hash"].iat[0]
    if not usable:
        _verify(_dummy_hash(), password)  # as slow as a real check
    if not usable or not _verify(row["password_hash"].iat[0], password):
        why = "unknown name" if row.empty else "wrong password" if usable else \
            "disabled or no password"
        left = MAX_FAILURES - governance.sign_in_attempts(given, client, path)
        audit.record(refused, "sign-in failed", path, reason=why, client=client, given=given)
        raise SignInError("sign-in", WRONG + (LAST if left <= 0 else ""))
    acct = row.iloc[0]
    governance.clear_sign_in(given, client, now, path)
    viewer = Viewer(acct["name"], acct["role"], acct["org"] or "")
    audit.record(viewer, "sign-in", path, method="password", client=client)
    return viewer


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False
