"""In Debian's Chromium: the map draws for avon_and_somerset, and clicking a ward selects it.

The app is served by a real Streamlit server on 127.0.0.1; the test fails on any
request that leaves this machine (the map must need no tile server).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pandas as pd
import pytest
from PIL import Image

from dashboard.views import maps
from tests.browser.conftest import CHROMIUM, SHOTS
from tests.conftest import PASSWORD, REPO

HOTSPOTS = ("{server}/hotspots?region=avon_and_somerset&level=ward&indicator=crime_all"
            "&period=2022-01:2022-11&measure=count")

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve(script: str = "streamlit_app.py", **env):
    """A real Streamlit server of the app (``script``: the app, or ``serve.py`` with its
    own routes) on a free loopback port, with ``env`` added to its environment
    (``ODA_STORE``, say); yields its URL."""
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.fail("Debian's chromium is not installed; `make test` installs it")
    # Compile esda's kernels into numba's disk cache first, so the server's first
    # hotspot map does not compile them while the rest of the suite holds the CPUs.
    subprocess.run([sys.executable, "-c",
                    "from dashboard.analysis import hotspots; hotspots.warm_up()"],
                   cwd=REPO, check=True, timeout=600)
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", script, "--server.port",
         str(port), "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, **env})
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).status == 200:
                    break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("the Streamlit server did not start")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture(scope="module")
def server():
    with serve() as url:
        yield url


def _pixel(box: dict, view: dict, lon: float, lat: float) -> tuple[float, float]:
    """Where (lon, lat) is drawn on the page."""
    dx, dy = maps.screen_offset(view, lon, lat)
    return box["x"] + box["width"] / 2 + dx, box["y"] + box["height"] / 2 + dy


def _distinct_colours(png: bytes) -> int:
    img = Image.open(io.BytesIO(png)).convert("RGB").resize((200, 150))
    return len(set(img.get_flattened_data()))


def _open_map(page, url: str, timeout: int = 120_000):
    """Open a page and wait for its deck.gl map; return the chart."""
    page.goto(url)
    chart = page.locator('[data-testid="stDeckGlJsonChart"]')
    chart.wait_for(state="visible", timeout=timeout)
    page.locator("canvas#deckgl-overlay").wait_for(timeout=30_000)
    return chart


def _wait_drawn(chart, at_least: int) -> None:
    """Wait until polygons are drawn: many distinct colours, not a blank canvas."""
    colours = 0
    for _ in range(60):
        colours = _distinct_colours(chart.screenshot())
        if colours > at_least:
            break
        time.sleep(0.5)
    assert colours > at_least, f"the map canvas looks blank ({colours} colours)"


def _hover_central(page, chart, store, regions, timeout: int = 30_000) -> None:
    """Point at central Bristol, where the view the app sends puts it on screen, and
    wait for the tooltip to name Central ward."""
    from dashboard import geography
    bounds = geography.lad_outlines(store, regions["avon_and_somerset"]).total_bounds
    view = json.loads(maps.view_state(tuple(bounds)).to_json())
    page.mouse.move(*_pixel(chart.bounding_box(), view, -2.5930, 51.4540))
    page.locator(".deck-tooltip").get_by_text("Central").wait_for(timeout=timeout)


def _click_here(page) -> None:
    """Click where the pointer is, as a person does: press and release.

    deck.gl counts a press as a click only if it ends within 250 ms; the press
    runs a pick, so this holds only while picking the map is quicker than that
    in software WebGL (``benchmarks/page_ready.py`` times it).
    """
    page.mouse.down()
    page.mouse.up()


def test_map_draws_and_a_click_selects_a_ward(server, page, store, regions):
    chart = _open_map(page, f"{server}/map?region=avon_and_somerset&level=ward"
                      "&indicator=crime_all&period=2022-01:2022-11&measure=rate", 60_000)
    _wait_drawn(chart, 20)
    _hover_central(page, chart, store, regions, 20_000)
    _click_here(page)
    selected = page.get_by_text("Selected:", exact=False)
    selected.wait_for(timeout=30_000)
    assert selected.first.inner_text() == "Selected: Central"
    page.get_by_text("Rank in region").wait_for(timeout=10_000)
    page.screenshot(path=str(SHOTS / "map_selected.png"))
    assert page.outside == [], f"requests left the machine: {page.outside[:5]}"


def test_a_click_on_the_map_checks_the_viewer_again(server, page, store, regions):
    """A click on the map reruns only the map (a fragment), but the viewer is checked
    again as on every full run: an account disabled since the page was drawn gets the
    public view on its next click, not the figures it was signed in for."""
    from dashboard.access import OPERATOR, accounts
    if "t_map_gone" not in set(accounts.users()["name"]):
        accounts.add_user("t_map_gone", "councillor", "", PASSWORD, by=OPERATOR)
    accounts.set_active("t_map_gone", True, by=OPERATOR)
    page.goto(server + "/signin")
    page.get_by_label("Account name").fill("t_map_gone")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("Signed in as t_map_gone", exact=False).first.wait_for(timeout=60_000)
    page.get_by_role("link", name="Map").first.click()  # in the app: the session is kept
    chart = page.locator('[data-testid="stDeckGlJsonChart"]').first
    chart.wait_for(timeout=120_000)
    _wait_drawn(chart, 20)
    page.get_by_text("Signed in as", exact=False).first.wait_for(timeout=10_000)
    accounts.set_active("t_map_gone", False, by=OPERATOR)
    _hover_central(page, chart, store, regions, 20_000)
    _click_here(page)
    page.get_by_text("Public view: open data", exact=False).first.wait_for(timeout=60_000)
    assert "Signed in as" not in page.inner_text("body")


def test_hotspot_map_draws_with_its_legend_and_tooltip(server, page, store, regions):
    chart = _open_map(page, HOTSPOTS.format(server=server))
    _wait_drawn(chart, 8)
    page.get_by_text("Hot spot, 9", exact=False).first.wait_for(timeout=10_000)
    # Hover central Bristol: the tooltip names the ward and its class.
    _hover_central(page, chart, store, regions, 20_000)
    assert "z = " in page.locator(".deck-tooltip").inner_text()
    page.screenshot(path=str(SHOTS / "hotspots.png"))
    assert page.outside == [], f"requests left the machine: {page.outside[:5]}"


def test_export_page_downloads_a_file_that_parses(server, page, tmp_path):
    page.goto(f"{server}/export?region=avon_and_somerset&level=ward&indicator=crime_all"
              "&period=2022-01:2022-11&measure=rate&indicators=crime_all,imd2019_rank"
              "&format=xlsx")
    button = page.get_by_role("button", name="Download Excel workbook", exact=False)
    button.wait_for(timeout=120_000)
    with page.expect_download(timeout=60_000) as done:
        button.click()
    path = tmp_path / done.value.suggested_filename
    done.value.save_as(path)
    assert path.suffix == ".xlsx"
    sheets = pd.read_excel(path, sheet_name=None)
    assert list(sheets) == ["data", "metadata"]
    assert len(sheets["data"]) == 2 * 257
    assert set(sheets["data"]["indicator"]) == {"crime_all", "imd2019_rank"}
    page.screenshot(path=str(SHOTS / "export.png"), full_page=True)
    assert page.outside == [], f"requests left the machine: {page.outside[:5]}"


def test_clicking_a_ward_on_the_hotspot_map_opens_its_profile(server, page, store, regions):
    chart = _open_map(page, HOTSPOTS.format(server=server))
    _hover_central(page, chart, store, regions)
    _click_here(page)
    link = page.get_by_role("link", name="Central: open the ward profile of Central")
    link.wait_for(timeout=60_000)
    link.click()
    page.get_by_text("E05010892 · Bristol, City of").wait_for(timeout=120_000)
    assert "ward=E05010892" in page.url and "/profile" in page.url
    page.screenshot(path=str(SHOTS / "profile_from_click.png"))
    assert page.outside == [], f"requests left the machine: {page.outside[:5]}"
