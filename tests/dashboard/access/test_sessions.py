"""A local sign-in kept across a reload: a one-time ticket, then a signed, expiring
cookie that signing out and disabling the account revoke. On both registers, since
replicas share PostgreSQL's."""

from __future__ import annotations

import datetime as dt

import pytest

from dashboard.access import OPERATOR, Viewer, accounts, sessions
from tests.conftest import PASSWORD

NOW = dt.datetime(2026, 12, 6, 9, 0)
KIM = Viewer("kim", "analyst", "avon_police")


@pytest.fixture(params=["sqlite", "postgres"])
def register(request, tmp_path):
    path = tmp_path / "gov.sqlite" if request.param == "sqlite" else \
        request.getfixturevalue("postgres").database("sessions")
    accounts.add_user("kim", "analyst", "avon_police", PASSWORD, by=OPERATOR, path=path)
    return path


def cookie_for(register, now=NOW) -> str:
    value, seconds = sessions.redeem(sessions.start(KIM, register, now=now), register, now=now)
    assert 11 * 3600 < seconds <= 12 * 3600
    return value


def test_a_kept_sign_in_signs_its_account_in_again_on_a_reload(register):
    cookie = cookie_for(register)
    kept = sessions.check(cookie, register, now=NOW + dt.timedelta(minutes=5))
    assert kept is not None and kept.viewer == KIM
    # Used within the idle time, it stays; it ends after its lifetime however active.
    later = NOW + dt.timedelta(minutes=5)
    for _ in range(30):
        later += dt.timedelta(minutes=20)
        if later - NOW >= sessions.LIFETIME:
            break
        assert sessions.check(cookie, register, now=later) is not None
    assert sessions.check(cookie, register, now=NOW + sessions.LIFETIME
                          + dt.timedelta(minutes=1)) is None


def test_a_ticket_is_spent_once_and_only_within_its_minute(register):
    ticket = sessions.start(KIM, register, now=NOW)
    assert sessions.redeem(ticket, register, now=NOW + dt.timedelta(seconds=61)) is None
    ticket = sessions.start(KIM, register, now=NOW)
    assert sessions.redeem(ticket, register, now=NOW) is not None
    assert sessions.redeem(ticket, register, now=NOW) is None  # replayed
    # A ticket is not a cookie, nor a cookie a ticket.
    assert sessions.check(ticket, register, now=NOW) is None


@pytest.mark.parametrize("change", ["id", "expiry", "mac"])
def test_a_forged_or_stretched_cookie_signs_no_one_in(register, change):
    session_id, until, mac = cookie_for(register).split(".")
    forged = {"id": f"other{session_id[5:]}.{until}.{mac}",
              "expiry": f"{session_id}.{int(until) + 86_400}.{mac}",
              "mac": f"{session_id}.{until}.{'0' * len(mac)}"}[change]
    assert sessions.check(forged, register, now=NOW) is None


def test_signing_out_idling_and_disabling_the_account_end_it(register):
    one, two, three = (cookie_for(register) for _ in range(3))
    kept = sessions.check(one, register, now=NOW)
    assert sessions.end(kept.id, register)
    assert sessions.check(one, register, now=NOW) is None
    idle = NOW + dt.timedelta(minutes=accounts.IDLE_MINUTES + 1)
    assert sessions.check(two, register, now=idle) is None
    assert sessions.check(three, register, now=NOW) is not None
    accounts.set_active("kim", False, by=OPERATOR, path=register)
    assert sessions.check(three, register, now=NOW) is None
    accounts.set_active("kim", True, by=OPERATOR, path=register)
    assert sessions.check(three, register, now=NOW) is None  # revoked, not just refused
