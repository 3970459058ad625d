"""Browser test fixtures: a headless Debian Chromium page that records any request
leaving this machine (``page.outside``)."""

import pytest

from tests.conftest import REPO

CHROMIUM = "/usr/bin/chromium"
SHOTS = REPO / "benchmarks" / "results"  # git-ignored; screenshots to look at
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run"]
LOCAL = ("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")


@pytest.fixture()
def page(server):
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        pg = browser.new_page(viewport={"width": 1400, "height": 1400})
        SHOTS.mkdir(parents=True, exist_ok=True)
        pg.outside = []
        pg.on("request", lambda r: None if r.url.startswith(LOCAL) else pg.outside.append(r.url))
        yield pg
        browser.close()
