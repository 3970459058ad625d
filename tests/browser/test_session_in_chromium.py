"""A local sign-in kept across a reload and an opened link, on two replicas, in a real
browser: the app served with its own routes (``serve.py``)."""

import contextlib

import pytest

from tests.browser.conftest import SHOTS
from tests.browser.test_map_in_chromium import serve
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def servers():
    """Two replicas of the app sharing the governance register and the secret (as
    PostgreSQL and a secret store give replicas), on two loopback ports: a browser
    sends 127.0.0.1's cookies to both."""
    with contextlib.ExitStack() as stack:
        yield [stack.enter_context(serve("serve.py")) for _ in range(2)]


@pytest.fixture()
def server(servers):
    """The first replica (the page fixture's server)."""
    return servers[0]


def signed_in_as(page, url: str) -> str:
    """Who the Sign in page says is signed in, once it has said either."""
    page.goto(url + "/signin")
    signed = page.get_by_text("Signed in as t_analyst", exact=False).first
    form = page.get_by_label("Account name")
    signed.or_(form).first.wait_for(timeout=180_000)
    return "t_analyst" if signed.is_visible() else "public"


def test_a_kept_sign_in_survives_a_reload_a_link_and_another_replica(servers, page):
    one, two = servers
    page.goto(one + "/signin")
    page.get_by_label("Account name").fill("t_analyst")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("Signed in as t_analyst", exact=False).first.wait_for(timeout=60_000)
    assert signed_in_as(page, one) == "public"  # a plain sign-in lasts as long as the tab
    page.goto(one + "/signin")
    page.get_by_label("Account name").fill("t_analyst")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    stay = page.get_by_role("link", name="Stay signed in on this device")
    stay.wait_for(timeout=60_000)
    page.screenshot(path=str(SHOTS / "stay_signed_in.png"))
    with page.context.expect_page(timeout=60_000) as opened:
        stay.click()  # the link button opens the app again in a new tab, through the route
    tab = opened.value
    tab.locator('[data-testid="stMain"] h1').first.wait_for(timeout=180_000)
    tab.close()
    cookie = next(c for c in page.context.cookies() if c["name"] == "oda_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert page.evaluate("document.cookie").find("oda_session") == -1  # no script sees it
    assert signed_in_as(page, one) == "t_analyst"  # a reload
    page.goto(one + "/map?level=lsoa")  # a link opened: a new session of the app
    page.get_by_text("Signed in as t_analyst", exact=False).first.wait_for(timeout=120_000)
    assert signed_in_as(page, two) == "t_analyst"  # another replica
    page.screenshot(path=str(SHOTS / "kept_sign_in.png"))
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_timeout(2000)
    assert signed_in_as(page, one) == "public"
    assert signed_in_as(page, two) == "public"
    assert page.outside == []
