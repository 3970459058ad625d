"""Browser test fixtures: a headless Debian Chromium page that records any request
leaving this machine (``page.outside``).

One Chromium is started per test process and kept open; each test gets a page in a
fresh browser context (no cookies, storage or cache from an earlier test), as a
newly started browser would give it.
"""

import pytest

from tests.conftest import REPO

CHROMIUM = "/usr/bin/chromium"
SHOTS = REPO / "benchmarks" / "results"  # git-ignored; screenshots to look at
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run"]
LOCAL = ("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")


class _Chromium:
    """Playwright and one Chromium, started when a test first asks for a page."""

    def __init__(self) -> None:
        self.playwright = self.browser = None

    def get(self):
        if self.browser is None or not self.browser.is_connected():
            from playwright.sync_api import sync_playwright
            if self.playwright is None:
                self.playwright = sync_playwright().start()
            self.browser = self.playwright.chromium.launch(executable_path=CHROMIUM,
                                                           args=FLAGS)
        return self.browser

    def stop(self) -> None:
        if self.browser is not None and self.browser.is_connected():
            self.browser.close()
        if self.playwright is not None:
            self.playwright.stop()


@pytest.fixture(scope="session")
def chromium():
    """This process's Chromium (started on first use, closed at the end)."""
    keeper = _Chromium()
    yield keeper
    keeper.stop()


@pytest.fixture(scope="session")
def app_server():
    """The app (``streamlit_app.py``) on its default store, one server per test process,
    for the browser tests that need no server of their own."""
    from tests.browser.test_map_in_chromium import serve
    with serve() as url:
        yield url


@pytest.fixture()
def page(server, chromium):
    context = chromium.get().new_context(viewport={"width": 1400, "height": 1400})
    pg = context.new_page()
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.outside = []
    pg.on("request", lambda r: None if r.url.startswith(LOCAL) else pg.outside.append(r.url))
    yield pg
    context.close()
