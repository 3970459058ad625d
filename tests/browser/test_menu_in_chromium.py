"""In Debian's Chromium: the app's menu, from a fresh server's very first paint.

Streamlit's own sidebar menu lists every file in ``pages/`` on a server's first
request, before the app's navigation replaces it; a public visitor would see a link
to the administration page flash by. The menu is the app's own, from the first paint,
and a deep link still opens its page inside the app.
"""

from __future__ import annotations

import tomllib

import pytest

from tests.browser.conftest import SHOTS
from tests.browser.test_map_in_chromium import serve
from tests.conftest import REPO

pytestmark = pytest.mark.browser

# Records every link the page ever shows, from before the app's first script runs.
WATCH = """
window.__links = [];
new MutationObserver(() => {
  for (const a of document.querySelectorAll('a')) {
    const text = (a.innerText || '').trim();
    const href = a.getAttribute('href') || '';
    if (!window.__links.some(l => l.text === text && l.href === href))
      window.__links.push({text, href});
  }
}).observe(document, {subtree: true, childList: true, characterData: true});
"""
MENU = ["Overview", "Map", "Hotspots", "Ward profile", "Multi-agency overlap", "Interventions",
        "Export", "Partner data", "About the data", "Accessibility", "Sign in"]


@pytest.fixture()
def server():
    """A fresh server for each test: its first request is the one the test makes."""
    with serve("serve.py") as url:
        yield url


def test_streamlit_s_own_page_menu_is_switched_off():
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["client"]["showSidebarNavigation"] is False


@pytest.mark.parametrize("path", ["/", "/profile?region=avon_and_somerset&ward=E05010892"],
                         ids=["home", "deep-link"])
def test_a_fresh_server_never_shows_a_public_visitor_the_administration_page(server, page,
                                                                             path):
    page.add_init_script(WATCH)
    page.goto(server + path)  # the server's first request
    page.locator('[data-testid="stMain"] h1').wait_for(timeout=180_000)
    page.get_by_role("link", name="Accessibility", exact=True).wait_for(timeout=60_000)
    shown = page.evaluate("window.__links")
    which = "deep_link" if "?" in path else "home"
    page.screenshot(path=str(SHOTS / f"menu_first_paint_{which}.png"))
    admin = [link for link in shown if "admin" in (link["text"] + link["href"]).lower()]
    assert admin == [], f"a public visitor was shown {admin}"
    menu = page.locator(".st-key-page_menu a")
    assert [link.strip() for link in menu.all_inner_texts()] == MENU
    # Nothing but the app's own menu and the sidebar's sign-in link, ever (headings'
    # anchors have no text).
    assert {link["text"] for link in shown} - {""} <= {*MENU, "Skip to main content",
                                                "login\n\nSign in"}
    if "ward=" in path:  # the deep link opened its page, inside the app
        page.get_by_role("heading", name="Ward profile").wait_for(timeout=60_000)
        page.get_by_role("heading", name="Central", exact=True).wait_for(timeout=180_000)
