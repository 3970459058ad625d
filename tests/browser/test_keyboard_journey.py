"""In Debian's Chromium, with the keyboard alone: a councillor goes from the Overview to
the Ward profile, types a postcode, opens an indicator's trend over time, and
downloads the ward report. No mouse event is sent; each step finds its control by
pressing Tab and reading what has focus, as a keyboard user does."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SHOTS
from tests.browser.test_map_in_chromium import serve

pytestmark = pytest.mark.browser

FOCUSED = """() => {
  const e = document.activeElement;
  return {tag: e.tagName, text: (e.innerText || '').trim().slice(0, 80),
          label: e.getAttribute('aria-label') || '', role: e.getAttribute('role') || ''};
}"""


@pytest.fixture(scope="module")
def server():
    with serve() as url:
        yield url


def tab_to(page, wanted, what: str, limit: int = 150, key: str = "Tab") -> dict:
    """Press Tab (or ``key``: Shift+Tab to go back) until ``wanted(focused)`` holds; fail
    naming ``what`` if it never does."""
    seen = []
    for _ in range(limit):
        page.keyboard.press(key)
        focused = page.evaluate(FOCUSED)
        if wanted(focused):
            return focused
        seen.append(focused["text"] or focused["label"] or focused["tag"])
    raise AssertionError(f"{what} never had focus after {limit} presses of Tab; "
                         f"focus went to: {seen[:40]}")


def test_a_councillor_reaches_a_ward_report_with_the_keyboard_alone(server, page):
    page.goto(server + "/")
    page.get_by_role("heading", name="ODA Dashboard").wait_for(timeout=180_000)

    tab_to(page, lambda f: f["tag"] == "A" and f["text"] == "Ward profile",
           "the Ward profile link")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Ward profile").wait_for(timeout=120_000)
    # The heading is drawn before the rest of the page: wait for the box before tabbing.
    page.locator("input[aria-label*='postcode']").first.wait_for(timeout=120_000)

    tab_to(page, lambda f: f["tag"] == "INPUT" and "postcode" in f["label"],
           "the postcode box")
    page.keyboard.type("BS1 5LU")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Central", exact=True).wait_for(timeout=180_000)

    tab_to(page, lambda f: f["tag"] == "INPUT" and "Indicator over time" in f["label"],
           "the trend's indicator")
    page.keyboard.type("Burglary")
    page.keyboard.press("Enter")
    trend = page.get_by_role("combobox", name="Indicator over time")
    expect(trend).to_have_value(re.compile("Burglary"), timeout=120_000)
    page.get_by_text("Over time", exact=True).wait_for(timeout=60_000)

    # The report button is under the ward's name, above the trend: back up to it.
    tab_to(page, lambda f: f["tag"] == "BUTTON" and "Download the ward report" in f["text"],
           "the report button", key="Shift+Tab")
    with page.expect_download(timeout=300_000) as download:
        page.keyboard.press("Enter")
    path = SHOTS / "keyboard_ward_report.pdf"
    download.value.save_as(path)
    assert path.read_bytes()[:5] == b"%PDF-"
    assert download.value.suggested_filename.startswith("ward-report-E05010892")
    page.screenshot(path=str(SHOTS / "keyboard_journey.png"))
    assert page.outside == [], f"requests left the machine: {page.outside[:5]}"
