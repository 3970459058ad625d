"""Sign-in under attack: a burst of guesses, probing for names, and a stranger trying to
lock someone out. On both registers (the SQLite file and PostgreSQL's schema)."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import pytest

from dashboard.access import OPERATOR, accounts, audit
from tests.conftest import PASSWORD

WRONG = "not the password 1"


@pytest.fixture(params=["sqlite", "postgres"])
def register(request, tmp_path):
    if request.param == "sqlite":
        return tmp_path / "gov.sqlite"
    return request.getfixturevalue("postgres").database("signin")


def attempt(name: str, password: str, register, client: str = "", now=None) -> str:
    try:
        accounts.sign_in(name, password, register, now=now, client=client)
    except accounts.SignInError as err:
        return err.problems[0]
    return "signed in"


def test_a_burst_of_guesses_at_once_checks_only_the_allowed_number(register):
    accounts.add_user("kim", "analyst", "avon_police", PASSWORD, by=OPERATOR, path=register)
    since = len(audit.entries(path=register))
    with ThreadPoolExecutor(max_workers=25) as pool:
        answers = list(pool.map(lambda _: attempt("kim", WRONG, register), range(100)))
    log = audit.entries(path=register).iloc[since:]
    reasons = log.loc[log["event"] == "sign-in failed", "detail"].str.extract(
        r'"reason": "([^"]+)"')[0].value_counts()
    # Each attempt is counted before its password is checked: five are checked, and the
    # other 95 are refused unchecked.
    assert reasons.get("wrong password") == accounts.MAX_FAILURES
    assert reasons.get("paused") == 100 - accounts.MAX_FAILURES
    assert sum("paused here" in a for a in answers) == 95
    # Paused, even for the right password.
    assert "paused here" in attempt("kim", PASSWORD, register)


def test_an_unknown_name_is_answered_as_a_known_one_is(register):
    accounts.add_user("kim", "analyst", "avon_police", PASSWORD, by=OPERATOR, path=register)
    accounts.add_user("off", "analyst", "avon_police", PASSWORD, by=OPERATOR, path=register)
    accounts.set_active("off", False, by=OPERATOR, path=register)
    now = dt.datetime(2026, 12, 6, 9, 0)
    seen = {name: [attempt(name, WRONG, register, now=now) for _ in range(7)]
            for name in ("kim", "nobody", "off")}
    assert seen["kim"] == seen["nobody"] == seen["off"]
    assert seen["kim"][0] == accounts.WRONG
    assert "paused here" in seen["kim"][-1]


def test_a_stranger_cannot_lock_a_known_account_out(register):
    accounts.add_user("kim", "analyst", "avon_police", PASSWORD, by=OPERATOR, path=register)
    now = dt.datetime(2026, 12, 6, 9, 0)
    for _ in range(20):
        attempt("kim", WRONG, register, client="203.0.113.9", now=now)
    assert "paused here" in attempt("kim", PASSWORD, register, client="203.0.113.9", now=now)
    # Kim, elsewhere, signs in at once.
    assert attempt("kim", PASSWORD, register, client="198.51.100.7", now=now) == "signed in"
    # The stranger's pause grows: 15 minutes, then 30, then an hour.
    later = now + dt.timedelta(minutes=16)
    for _ in range(5):
        attempt("kim", WRONG, register, client="203.0.113.9", now=later)
    assert "paused here" in attempt("kim", PASSWORD, register, client="203.0.113.9",
                                    now=later + dt.timedelta(minutes=20))
    assert attempt("kim", PASSWORD, register, client="203.0.113.9",
                   now=later + dt.timedelta(minutes=31)) == "signed in"
