"""In Debian's Chromium: a public visitor's crafted link cannot reach partner data or
LSOAs; a signed-in analyst sees the partner indicator their agreement names; and
the sign-in, the view and the download are each in the audit log."""

from __future__ import annotations

import pytest

from dashboard.access import audit
from tests.browser.conftest import SHOTS
from tests.browser.test_map_in_chromium import serve
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser
CRAFTED = ("/map?region=avon_and_somerset&level=lsoa&indicator=test_in"
           "&period=2022-01:2022-03&measure=count")


@pytest.fixture(scope="module")
def server(partner_world):
    with serve(ODA_STORE=str(partner_world)) as url:
        yield url


def test_public_link_cannot_widen_access_and_an_analyst_sees_the_shared_data(server, page):
    page.goto(server + CRAFTED)
    page.get_by_text("URL parameter 'indicator' was 'test_in'", exact=False) \
        .wait_for(timeout=120_000)
    body = page.inner_text("body")
    assert "Test: shared indicator" not in body and "test_partner" not in body
    level = page.locator('[data-testid="stButtonGroup"]').first.inner_text()
    assert "LSOA" not in level and "Ward" in level
    page.screenshot(path=str(SHOTS / "public_crafted_link.png"))

    page.goto(server + "/signin")
    page.get_by_label("Account name").fill("t_analyst")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("Signed in as t_analyst", exact=False).first.wait_for(timeout=60_000)
    page.get_by_role("link", name="Map").click()
    box = page.get_by_role("combobox", name="Indicator", exact=False).first
    box.wait_for(timeout=120_000)
    box.click()
    page.keyboard.type("Test: shared")
    page.keyboard.press("Enter")
    page.get_by_text("Test: shared indicator,", exact=False).wait_for(timeout=120_000)
    page.locator('[data-testid="stButtonGroup"]').first.get_by_text("LSOA", exact=True) \
        .click()
    page.get_by_text("LSOAs ·", exact=False).wait_for(timeout=120_000)
    with page.expect_download(timeout=60_000):
        page.get_by_role("button", name="Download these figures (CSV)").click()
    page.wait_for_timeout(3000)  # the download's audit entry is written on the rerun
    page.screenshot(path=str(SHOTS / "analyst_partner_lsoa.png"))
    assert page.outside == [], f"requests left the machine: {page.outside[:5]}"

    log = audit.entries(user="t_analyst")
    events = log["event"].tolist()
    assert "sign-in" in events
    views = log[log["event"] == "view"]["detail"]
    assert views.str.contains('"indicator": "test_in"').any()
    assert views.str.contains('"level": "lsoa"').any()
    exports = log[log["event"] == "export"]["detail"]
    assert exports.str.contains('"sha256"').any() and exports.str.contains("test_in").any()
    assert audit.verify() == []
