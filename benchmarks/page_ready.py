"""Benchmark: seconds until a map page is ready in a browser, against an empty Streamlit page.

What is measured
    The app is served with ``streamlit run streamlit_app.py`` on 127.0.0.1 and a
    free port (``ODA_DATA_DIR`` set, the repository's ``.streamlit/config.toml``
    in force). Debian's Chromium, driven by Playwright, opens each case in a
    fresh browser context, and the clock runs from ``page.goto`` until the page
    is ready. Each case is loaded cold, then warm:

    * cold: the first load after a fresh server start (Streamlit's caches
      empty, nothing imported yet) in a freshly launched browser;
    * warm: a fresh browser context in the same browser, on the same server,
      after the cold load finished (the server's caches are full); three warm
      loads one after another, and the median is reported.

    Cases: an empty page; a one-polygon pydeck page through the same map
    component with the app's no-basemap setting (the floor any map pays: loading
    deck.gl and starting WebGL); the map of Avon and Somerset by ward and by
    LSOA; and England and Wales by LSOA (``crime_all``, 2022-01:2022-11, rate;
    and IMD 2019, which covers every English LSOA).

When a page is ready
    Streamlit has finished the script run: ``[data-testid="stApp"]`` carries
    ``data-test-script-state="notRunning"`` (the hook Streamlit's own e2e tests
    wait on) and no status-widget "running" icon is shown. Then:

    * empty page: an ``h1`` reading "Empty" is visible (non-zero box);
    * map page: ``canvas#deckgl-overlay`` exists and is not blank. The check
      runs in the page: the WebGL canvas is copied into a 2D canvas with
      ``drawImage`` (Chromium hands over the last composited frame, so no
      ``preserveDrawingBuffer`` is needed) and the pixels are compared with
      the canvas's most common colour (transparent where deck.gl drew
      nothing). At least 1% of the sampled pixels must differ. A blank or
      unreadable canvas never passes, so the case times out rather than
      reporting too early.

    Python polls this every 0.1 s; while the browser's main thread is busy the
    poll waits, so readiness is seen when the page is first responsive with
    the map drawn. Each load starts after a 2 s idle pause. Figures vary by
    several seconds between runs on a small machine: WebGL runs in software
    (SwiftShader, ``--disable-gpu``) on the same cores as the server.

Who is looking
    The servers run with a roles file (``ODA_ROLES``, written for the run from
    ``config/roles.toml``) in which the public role may see LSOAs: by default
    the public sees wards and above, and a link to an LSOA map would draw
    wards instead. Each map case checks that its page says it shows the level
    asked for ("wards ·" or "LSOAs ·" under the legend).

Also recorded
    Bytes received over the websocket (the sum of Playwright's frame payloads,
    i.e. after permessage-deflate decompression: the size of the messages, not
    of the wire traffic), every request that leaves 127.0.0.1 (anything not
    starting with http://127.0.0.1, ws://127.0.0.1, data: or blob:), HTTP
    error responses and Streamlit exceptions shown on the page.

A click
    On the warm load of the Avon and Somerset ward map, once the page is ready,
    the pointer is moved over central Bristol until the tooltip names Central
    ward, then pressed and released as a person would (no clock is held still).
    The figure is the time from the press until the page shows "Selected:
    Central", which includes deck.gl's pick, the script rerun and the redraw.
    deck.gl takes a press as a click only if it ends within 250 ms, so a pick
    slower than that loses the click and the case fails.

Targets (warm ratio of ready time to the one-polygon deck's in the same run)
    a region's ward or LSOA map within 1.3x; England and Wales by LSOA within
    2x. The ratios to the empty page are shown too.

Exit status: non-zero if a server does not start, the browser cannot be
launched, a page never becomes ready, the app shows an exception, or a request
leaves 127.0.0.1. A missed target is reported, not an error. Every server the
script starts is stopped before it exits.

Run from the repository root: ``.venv/bin/python benchmarks/page_ready.py``.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from playwright.sync_api import Error as PlaywrightError  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
VIEWPORT = {"width": 1400, "height": 1000}
SERVER_START_S = 60.0
READY_TIMEOUT_S = 100.0
POLL_S = 0.1
SETTLE_S = 2.0  # idle pause before each load, so a closed context's teardown is over
WARM_RUNS = 3  # warm loads per case; the median is reported
LOCAL = ("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")
PERIOD = "2022-01:2022-11"
# (label, region, level, query for the indicator, target ratio). crime_all covers two
# forces, so most national LSOAs are "No data"; IMD 2019 covers all of England, the
# heaviest national map there is.
CRIME = f"indicator=crime_all&period={PERIOD}&measure=rate"
IMD = "indicator=imd2019_rank&period=2019:2019&measure=count"
MAP_CASES = [
    ("avon_and_somerset ward", "avon_and_somerset", "ward", CRIME, 1.3),
    ("avon_and_somerset lsoa", "avon_and_somerset", "lsoa", CRIME, 1.3),
    ("england_and_wales lsoa", "england_and_wales", "lsoa", CRIME, 2.0),
    ("E&W lsoa, IMD 2019", "england_and_wales", "lsoa", IMD, 2.0),
]
CLICK_CASE = "avon_and_somerset ward"
CENTRAL = (-2.5930, 51.4540)  # central Bristol, inside Central ward

# One in-page probe for both kinds of page; returns what the poll loop needs.
PROBE_JS = """(kind) => {
  const app = document.querySelector('[data-testid="stApp"]');
  const state = app ? app.getAttribute('data-test-script-state') : null;
  const running = !!document.querySelector(
    '[data-testid="stStatusWidgetRunningIcon"], [data-testid="stStatusWidgetRunningManIcon"]');
  const exc = document.querySelector('[data-testid="stException"]');
  const out = {state, running, error: exc ? exc.innerText.slice(0, 300) : null,
               canvas: !!document.querySelector('canvas#deckgl-overlay'),
               shown: false, detail: ''};
  if (state !== 'notRunning' || running) return out;
  if (kind === 'empty') {
    const h = [...document.querySelectorAll('h1')].find(e => e.textContent.trim() === 'Empty');
    const r = h && h.getBoundingClientRect();
    out.shown = !!(r && r.width > 0 && r.height > 0);
    return out;
  }
  const c = document.querySelector('canvas#deckgl-overlay');
  if (!c) { out.detail = 'no canvas'; return out; }
  const want = [Math.round(c.clientWidth * devicePixelRatio),
                Math.round(c.clientHeight * devicePixelRatio)];
  if (!c.width || Math.abs(c.width - want[0]) > 1 || Math.abs(c.height - want[1]) > 1) {
    out.detail = `canvas ${c.width}x${c.height}, box ${want[0]}x${want[1]}`;
    return out;  // deck.gl first draws at the default 300x150, before it is sized
  }
  const o = document.createElement('canvas');
  o.width = c.width; o.height = c.height;
  const g = o.getContext('2d', {willReadFrequently: true});
  g.drawImage(c, 0, 0);
  const px = new Uint32Array(g.getImageData(0, 0, o.width, o.height).data.buffer);
  const counts = new Map();
  let n = 0;
  for (let i = 0; i < px.length; i += 7) { counts.set(px[i], (counts.get(px[i]) || 0) + 1); n++; }
  const modal = Math.max(...counts.values());
  out.detail = `${c.width}x${c.height}, ${((n - modal) / n * 100).toFixed(1)}% drawn`;
  out.shown = (n - modal) / n >= 0.01;
  return out;
}"""


@dataclass
class Load:
    """One page load: seconds to ready (None if it never was) and what was seen.

    ``script_s`` and ``canvas_s`` are when the first poll saw the script run
    finished and the deck's canvas in the page (phases of ``seconds``).
    """

    seconds: float | None
    ws_bytes: int
    detail: str = ""
    error: str | None = None
    script_s: float | None = None
    canvas_s: float | None = None
    click_s: float | None = None
    click_detail: str = ""
    runs: list[float] = field(default_factory=list)


@dataclass
class Watch:
    """What the pages did that the benchmark must flag."""

    outside: list[str] = field(default_factory=list)
    http_errors: list[str] = field(default_factory=list)


FLOOR_APP = """
import sys
sys.path.insert(0, {repo!r})
import pydeck as pdk
import streamlit as st
from dashboard.views.maps import NO_BASEMAP
layer = pdk.Layer("PolygonLayer", id="areas", data=[{{"p": [[-2.6, 51.4], [-2.5, 51.4],
                  [-2.5, 51.5]]}}], get_polygon="p", get_fill_color=[200, 40, 40],
                  pickable=True)
deck = pdk.Deck(layers=[layer], initial_view_state=pdk.ViewState(longitude=-2.55,
                latitude=51.45, zoom=9), map_style=NO_BASEMAP, map_provider=None)
st.pydeck_chart(deck, on_select="rerun", selection_mode="single-object", height=600)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A ``streamlit run`` subprocess on 127.0.0.1; stop() ends it and its group."""

    def __init__(self, script: Path, env: dict[str, str], log_dir: Path, name: str) -> None:
        self.port = free_port()
        self.log = log_dir / f"{name}.log"
        cmd = [str(REPO / ".venv" / "bin" / "streamlit"), "run", str(script),
               "--server.address", "127.0.0.1", "--server.port", str(self.port),
               "--server.headless", "true"]
        with open(self.log, "w") as fh:
            self.proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=fh,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        self.url = f"http://127.0.0.1:{self.port}"

    def wait_ready(self) -> None:
        deadline = time.monotonic() + SERVER_START_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        tail = self.log.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"the Streamlit server on port {self.port} did not start "
                           f"(exit status {self.proc.poll()}); log tail:\n{tail}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)


def click_central(page) -> tuple[float | None, str]:
    """Hover central Bristol until the tooltip names Central, press and release, and
    time the press until the page shows the selection (see "A click" above)."""
    from dashboard import geography
    from dashboard.geography.regions import load_regions
    from dashboard.views import maps
    from store import Store

    lads = geography.lad_outlines(Store(None), load_regions()["avon_and_somerset"])
    view = json.loads(maps.view_state(tuple(lads.total_bounds)).to_json())
    box = page.locator("canvas#deckgl-overlay").bounding_box()
    dx, dy = maps.screen_offset(view, *CENTRAL)
    page.mouse.move(box["x"] + box["width"] / 2 + dx, box["y"] + box["height"] / 2 + dy)
    try:
        page.locator(".deck-tooltip").get_by_text("Central").wait_for(timeout=30_000)
    except PlaywrightError:
        return None, "the tooltip never named Central ward"
    t0 = time.perf_counter()
    page.mouse.down()
    page.mouse.up()
    try:
        page.get_by_text("Selected: Central").wait_for(timeout=30_000)
    except PlaywrightError:
        return None, "the click selected nothing within 30 s"
    return time.perf_counter() - t0, ""


def load(browser, url: str, kind: str, watch: Watch, after=None, expect: str = "") -> Load:
    """Open ``url`` in a fresh context; seconds from goto until the page is ready.
    ``after(page)``, if given, runs on the ready page and gives (seconds, detail);
    ``expect`` is text the ready page must show."""
    ctx = browser.new_context(viewport=VIEWPORT)
    ws_bytes = [0]

    def on_ws(ws) -> None:
        if not ws.url.startswith(LOCAL):
            watch.outside.append(ws.url)
        ws.on("framereceived", lambda payload: ws_bytes.__setitem__(
            0, ws_bytes[0] + len(payload.encode() if isinstance(payload, str) else payload)))

    try:
        page = ctx.new_page()
        page.on("websocket", on_ws)
        page.on("request", lambda r: None if r.url.startswith(LOCAL)
                else watch.outside.append(r.url))
        page.on("response", lambda r: watch.http_errors.append(f"{r.status} {r.url}")
                if r.status >= 400 else None)
        t0 = time.perf_counter()
        try:
            page.goto(url, timeout=READY_TIMEOUT_S * 1000)
        except PlaywrightError as err:
            return Load(None, ws_bytes[0], f"page.goto failed: {str(err)[:200]}")
        last: dict = {}
        seen: dict[str, float] = {}
        while time.perf_counter() - t0 < READY_TIMEOUT_S:
            try:
                last = page.evaluate(PROBE_JS, kind)
            except PlaywrightError as err:  # e.g. the page re-rendered mid-probe
                last = {"detail": str(err)[:200]}
            now = time.perf_counter() - t0
            if last.get("state") == "notRunning":
                seen.setdefault("script", now)
            if last.get("canvas"):
                seen.setdefault("canvas", now)
            if last.get("error"):
                return Load(None, ws_bytes[0], last.get("detail", ""), last["error"])
            if last.get("shown"):
                done = Load(now, ws_bytes[0], last.get("detail", ""),
                            script_s=seen.get("script"), canvas_s=seen.get("canvas"))
                if expect and not page.get_by_text(expect, exact=False).count():
                    done.error = f"the page does not show {expect!r}"
                if after is not None:
                    done.click_s, done.click_detail = after(page)
                return done
            time.sleep(POLL_S)
        return Load(None, ws_bytes[0], f"not ready after {READY_TIMEOUT_S:.0f} s "
                    f"(last probe: {last})", script_s=seen.get("script"),
                    canvas_s=seen.get("canvas"))
    finally:
        ctx.close()


def run_case(pw, script: Path, path: str, kind: str, env: dict[str, str], log_dir: Path,
             name: str, watch: Watch, after=None, expect: str = "") -> tuple[Load, Load]:
    """Cold then warm load of one page, each server and browser started for it."""
    server = Server(script, env, log_dir, name)
    browser = None
    try:
        server.wait_ready()
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        time.sleep(SETTLE_S)
        cold = load(browser, server.url + path, kind, watch, expect=expect)
        warms = []
        for i in range(WARM_RUNS):
            time.sleep(SETTLE_S)
            warms.append(load(browser, server.url + path, kind, watch,
                              after if i == WARM_RUNS - 1 else None, expect))
        bad = [w for w in warms if w.seconds is None or w.error]
        if bad:  # a failed load is reported, not hidden by the others
            return cold, bad[0]
        warm = sorted(warms, key=lambda w: w.seconds)[WARM_RUNS // 2]  # the median load
        warm.runs = [w.seconds for w in warms]
        warm.click_s, warm.click_detail = warms[-1].click_s, warms[-1].click_detail
        return cold, warm
    finally:
        if browser is not None:
            browser.close()
        server.stop()


def fmt_s(x: Load) -> str:
    return f"{x.seconds:.2f}" if x.seconds is not None else "FAIL"


def phase(t: float | None) -> str:
    return f"{t:.2f}" if t is not None else "-"


def ratio(x: Load, base: Load) -> float | None:
    if x.seconds is None or base.seconds is None:
        return None
    return x.seconds / base.seconds


def main() -> int:
    env = {**os.environ}
    env.setdefault("ODA_DATA_DIR", str((REPO.parent / "shared" / "data").resolve()))
    os.environ.setdefault("ODA_DATA_DIR", env["ODA_DATA_DIR"])  # for click_central
    env.pop("ODA_STORE", None)
    watch = Watch()
    results: list[tuple[str, Load, Load, float | None]] = []
    print(f"page_ready: Chromium {CHROMIUM}, viewport {VIEWPORT['width']}x"
          f"{VIEWPORT['height']}, {os.cpu_count()} CPUs, ODA_DATA_DIR={env['ODA_DATA_DIR']}")
    with tempfile.TemporaryDirectory(prefix="oda-bench-page-") as tmp:
        tmp = Path(tmp)
        roles = tmp / "roles.toml"
        text = (REPO / "config" / "roles.toml").read_text(encoding="utf-8")
        public = text.index("[roles.public]")
        roles.write_text(text[:public] + text[public:].replace(
            'finest_level = "ward"', 'finest_level = "lsoa"', 1), encoding="utf-8")
        env["ODA_ROLES"] = str(roles)
        empty = tmp / "empty_app.py"
        empty.write_text('import streamlit as st\nst.title("Empty")\n')
        try:
            with sync_playwright() as pw:
                cold, warm = run_case(pw, empty, "/", "empty", env, tmp, "empty", watch)
                results.append(("empty page", cold, warm, None))
                print(f"  done: empty page ({fmt_s(cold)} / {fmt_s(warm)} s)",
                      file=sys.stderr, flush=True)
                # The floor for any map: one polygon through the same component, with
                # the app's no-basemap setting. What a map page costs above this is ours.
                floor = tmp / "one_polygon_app.py"
                floor.write_text(FLOOR_APP.format(repo=str(REPO)))
                cold, warm = run_case(pw, floor, "/", "map", env, tmp, "floor", watch)
                results.append(("one-polygon deck (floor)", cold, warm, None))
                print(f"  done: one-polygon deck ({fmt_s(cold)} / {fmt_s(warm)} s)",
                      file=sys.stderr, flush=True)
                for label, region, level, query, target in MAP_CASES:
                    path = f"/map?region={region}&level={level}&{query}"
                    cold, warm = run_case(pw, REPO / "streamlit_app.py", path, "map", env,
                                          tmp, label.replace(" ", "_"), watch,
                                          click_central if label == CLICK_CASE else None,
                                          "LSOAs ·" if level == "lsoa" else "wards ·")
                    results.append((label, cold, warm, target))
                    print(f"  done: {label} ({fmt_s(cold)} / {fmt_s(warm)} s)",
                          file=sys.stderr, flush=True)
        except (RuntimeError, PlaywrightError) as err:
            print(f"error: {err}", file=sys.stderr)
            return 2

    base_warm = results[0][2]
    floor_cold, floor_warm = results[1][1], results[1][2]
    head = (f"{'case':<24} {'cold s':>7} {'warm s':>7} {'warm/floor':>10} {'cold/floor':>10} "
            f"{'warm/empty':>10} {'ws bytes warm':>14}  target (warm/floor)")
    print("\n" + head)
    print("-" * (len(head) + 12))
    failed = False
    for label, cold, warm, target in results:
        rw, rc = ratio(warm, floor_warm), ratio(cold, floor_cold)
        re = ratio(warm, base_warm)
        if target is None:
            verdict = "(baseline)" if label == "empty page" else "(the floor: any deck map)"
        else:
            verdict = f"<= {target:.1f}x: {'met' if rw is not None and rw <= target else 'MISSED'}"
        print(f"{label:<24} {fmt_s(cold):>7} {fmt_s(warm):>7} "
              f"{(f'{rw:.2f}x' if rw else '-'):>10} {(f'{rc:.2f}x' if rc else '-'):>10} "
              f"{(f'{re:.2f}x' if re else '-'):>10} {warm.ws_bytes:>14,}  {verdict}")
        if warm.runs:
            print(f"{'':<24} warm loads: " + ", ".join(f"{x:.2f}" for x in warm.runs))
        for when, x in (("cold", cold), ("warm", warm)):
            if x.seconds is None or x.error:
                failed = True
                print(f"    {when}: NOT READY: {x.error or x.detail}")
    print("-" * (len(head) + 12))
    clicked = next(warm for label, _, warm, _ in results if label == CLICK_CASE)
    if clicked.click_s is not None:
        print(f"click: {clicked.click_s:.2f} s from the press on Central ward until the page "
              "showed it selected (warm, no clock held still)")
    else:
        failed = True
        print(f"click: FAILED: {clicked.click_detail or 'the page never became ready'}")
    print("phases, cold | warm (s after goto: script run finished, deck canvas in the page, "
          "canvas drawn):")
    for label, cold, warm, _target in results:
        if label != "empty page":
            print(f"    {label:<24} " + " | ".join(
                f"{phase(x.script_s)}, {phase(x.canvas_s)}, {fmt_s(x)} ({x.detail})"
                for x in (cold, warm)))
    if watch.http_errors:
        print(f"HTTP error responses ({len(watch.http_errors)}), e.g.: "
              + ", ".join(sorted(set(watch.http_errors))[:4]))
    if watch.outside:
        failed = True
        print(f"FLAG: {len(watch.outside)} request(s) left 127.0.0.1:")
        for url in sorted(set(watch.outside)):
            print(f"    {url[:160]}")
    else:
        print("requests leaving 127.0.0.1: none")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
