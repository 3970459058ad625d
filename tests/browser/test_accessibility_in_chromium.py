"""In Debian's Chromium: every page, in its main states, passes axe-core's WCAG 2.0,
2.1 and 2.2 A and AA rules with no serious or critical violation.

axe-core is the npm package (``make node``), injected into the page by Playwright
once the page has drawn. Moderate and minor findings are printed, not failed.
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import SHOTS
from tests.browser.test_map_in_chromium import serve
from tests.conftest import REPO

pytestmark = pytest.mark.browser

AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
VIEW = ("region=avon_and_somerset&level=ward&indicator=crime_all&period=2022-01:2022-11"
        "&measure=count")
# (name, path, what to do once it has drawn)
STATES = [
    ("overview", "/", None),
    ("map", f"/map?{VIEW}", None),
    ("hotspots", f"/hotspots?{VIEW}", None),
    ("emerging", f"/hotspots?{VIEW}",
     lambda page: page.get_by_text("Emerging (month by month)").first.click()),
    ("profile", "/profile?region=avon_and_somerset&ward=E05010892", None),
    ("overlap", "/overlap?region=avon_and_somerset", None),
    ("overlap-index", "/overlap?region=avon_and_somerset",
     lambda page: page.get_by_role("tab").nth(1).click()),
    ("interventions", "/interventions?region=avon_and_somerset", None),
    ("interventions-add", "/interventions?region=avon_and_somerset",
     lambda page: page.get_by_role("tab").nth(1).click()),
    ("export", f"/export?{VIEW}", None),
    ("partner-data", "/data", None),
    ("about", "/about", None),
    ("sign-in", "/signin", None),
    ("accessibility", "/accessibility", None),
]


@pytest.fixture(scope="module")
def server():
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing; `make node` installs axe-core")
    with serve() as url:
        yield url


def settle(page) -> None:
    """Wait until the script has finished running and the page has drawn."""
    page.locator('[data-testid="stMain"] h1').first.wait_for(timeout=180_000)
    page.wait_for_timeout(1000)
    for _ in range(360):
        if page.locator('[data-testid="stStatusWidget"], [data-testid="stSpinner"]') \
                .count() == 0:
            break
        page.wait_for_timeout(500)
    page.wait_for_timeout(2000)


def scan(page) -> tuple[list[dict], int]:
    """axe's serious and critical violations, and how many text elements it checked
    for contrast (so a blank page cannot pass)."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", TAGS)
    for v in result["violations"]:
        print(f"  [{v['impact']}] {v['id']}: {len(v['nodes'])} ({v['help']})")
    checked = sum(len(p["nodes"]) for p in result["passes"] if p["id"] == "color-contrast")
    return [v for v in result["violations"] if v["impact"] in ("serious", "critical")], checked


@pytest.mark.parametrize("name,path,then", STATES, ids=[s[0] for s in STATES])
def test_no_serious_or_critical_accessibility_violation(server, page, name, path, then):
    page.goto(server + path)
    settle(page)
    if then:
        then(page)
        settle(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    found, checked = scan(page)
    assert checked > 10, f"axe checked only {checked} text elements: did the page draw?"
    page.screenshot(path=str(SHOTS / f"axe_{name}.png"))
    assert not found, "\n".join(
        f"[{v['impact']}] {v['id']} ({v['help']}): "
        + "; ".join(f"{n['target']} {n.get('failureSummary', '')[:160]}"
                    for n in v["nodes"][:5]) for v in found)
    assert page.outside == [], f"requests left the machine: {page.outside[:5]}"
