"""Concurrent sessions: script time per page for K = 1, 5, 10 and 20 sessions.

Each session is a real Streamlit websocket client. It speaks the app's own
protocol (protobuf BackMsg and ForwardMsg on ``/_stcore/stream``) the way a
browser does, without drawing anything, so the figures are the server's. A
session signs in through the Sign in page's form, with an account of its own (half
are councillors, half police planners), then walks its journey: Map, Hotspots, Ward
profile, Export. The time of a page is from asking for it (``rerun_script``) to the
server's ``script_finished``. A page that shows an error is counted, and its session
goes on; the table lists how many did.

The runs, each against K = 1 measured in the same run:

1. one app on the DuckDB store;
2. one app on a PostgreSQL store (a throwaway local cluster);
3. two app replicas on that PostgreSQL, behind nginx with sticky sessions
   (``deploy/nginx.conf``).

A warm-up pass fills the caches first, so the figures are for a working day's
second visitor onwards. Everything listens on loopback and each run is bounded
in time. The app is served as ``make run`` serves it (``serve.py``, with the routes
that keep a sign-in in a cookie).

**Sessions that think** (``--think 5``): people read a page before the next
action, so each session waits a random 2.5 to 7.5 s (the think time, give or take
half) between actions, and the sessions start spread over one think time. The
table then ends with the largest K at which the map's p95 stays at or under
``--map-target`` (1.5 s).

**Moved sessions** (``--move``, with replicas): each session keeps its sign-in
once signed in (the Sign in page's "Stay signed in" link sets the HttpOnly
cookie), and after its first journey reconnects with a fresh proxy route, as a
browser does when its replica goes away; the run counts the sessions that landed on the other
replica and whether they were still signed in there. Usage::

    .venv/bin/python benchmarks/load.py [--ks 1,5,10,20] [--rounds 2]
        [--backends duckdb,postgres] [--no-replicas] [--think 5] [--move]
    .venv/bin/python benchmarks/load.py --think 5 --ks 10,25,50 --move  # capacity
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import ExitStack
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from page_ready import Server, free_port  # noqa: E402
from streamlit.proto.BackMsg_pb2 import BackMsg  # noqa: E402
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: E402
from websockets.asyncio.client import connect  # noqa: E402

from deploy.pgcluster import Cluster  # noqa: E402

PASSWORD = "load test password"
PEOPLE = {"councillor": ("load_councillor", "councillor", ""),
          "planner": ("load_planner", "police_planner", "avon_police")}
PERIOD = "region=avon_and_somerset&indicator=crime_all&period=2022-01:2022-11"
JOURNEYS = {
    "councillor": [("map", f"{PERIOD}&level=ward&measure=rate"),
                   ("hotspots", f"{PERIOD}&level=ward"),
                   ("profile", "region=avon_and_somerset&ward=E05010896"),
                   ("export", f"{PERIOD}&level=ward")],
    "planner": [("map", f"{PERIOD}&level=lsoa&measure=rate"),
                ("hotspots", f"{PERIOD}&level=lsoa"),
                ("profile", "region=avon_and_somerset&ward=E05010896"),
                ("export", f"{PERIOD}&level=lsoa")],
}
PAGES = ["map", "hotspots", "profile", "export"]
PAGE_TIMEOUT_S = 300.0
ENTRY = REPO / "serve.py"  # the app as `make run` serves it
# A whole script run, or a fragment's own run (a click on the Map page's map).
FINISHED = {ForwardMsg.ScriptFinishedStatus.Value(v) for v in
            ("FINISHED_SUCCESSFULLY", "FINISHED_FRAGMENT_RUN_SUCCESSFULLY")}


class Session:
    """One browser tab's worth of protocol: a websocket and its script runs."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.ws = None
        self.widgets: dict[str, str] = {}
        self.links: dict[str, str] = {}
        self.texts: list[str] = []
        self.cookies: dict[str, str] = {}
        self.replica = ""  # the upstream the proxy chose (benchmark proxies say it)
        # Errors the pages showed; None: raise at the first (a page must not fail).
        self.errors: list[str] | None = None

    def _http(self, path: str) -> None:
        """One HTTP request with the session's cookies, keeping those it is given;
        redirects are not followed (a route answers with its cookie and a redirect)."""
        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None
        req = urllib.request.Request(self.base + path)
        if self.cookies:
            req.add_header("Cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        try:
            r = urllib.request.build_opener(NoRedirect).open(req, timeout=30)
        except urllib.error.HTTPError as err:  # the redirect itself
            r = err
        for c in r.headers.get_all("Set-Cookie") or []:
            name, _, value = c.split(";", 1)[0].partition("=")
            self.cookies[name.strip()] = value.strip()
        self.replica = r.headers.get("X-Upstream", self.replica)

    async def open(self) -> None:
        # A first HTTP request, as a browser makes: behind nginx it sets the route cookie.
        await asyncio.to_thread(self._http, "/")
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        ws = self.base.replace("http://", "ws://") + "/_stcore/stream"
        self.ws = await connect(ws, subprotocols=["streamlit"], max_size=None,
                                additional_headers={"Cookie": cookie} if cookie else None,
                                open_timeout=30)

    async def run(self, page: str, query: str = "", widgets=()) -> float:
        """Ask for a page; return seconds until its script finished."""
        msg = self._request(page, query, widgets)
        self.widgets, self.links, self.texts = {}, {}, []
        started = time.perf_counter()
        await self.ws.send(msg.SerializeToString())
        async with asyncio.timeout(PAGE_TIMEOUT_S):
            while True:
                fwd = ForwardMsg()
                fwd.ParseFromString(await self.ws.recv())
                if self._received(fwd):
                    return time.perf_counter() - started

    def _request(self, page: str, query: str, widgets) -> BackMsg:
        """The message that asks for a page (a subclass adds what a browser adds)."""
        msg = BackMsg()
        msg.rerun_script.page_name = page
        msg.rerun_script.query_string = query
        for w in widgets:
            msg.rerun_script.widget_states.widgets.append(w)
        return msg

    def _received(self, fwd: ForwardMsg) -> bool:
        """Take one message from the server; True when the script run has finished."""
        kind = fwd.WhichOneof("type")
        if kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
            self._note(fwd.delta.new_element)
        return kind == "script_finished" and fwd.script_finished in FINISHED

    def _note(self, el) -> None:
        kind = el.WhichOneof("type")
        if kind in ("text_input", "button"):
            widget = getattr(el, kind)
            self.widgets[widget.label] = widget.id
        elif kind == "link_button":
            self.links[el.link_button.label] = el.link_button.url
        elif kind == "alert":
            self.texts.append(el.alert.body)
        elif kind == "exception":
            if self.errors is None:
                raise RuntimeError(f"the page raised: {el.exception.message}")
            self.errors.append(el.exception.message)

    async def sign_in(self, name: str) -> None:
        from streamlit.proto.WidgetStates_pb2 import WidgetState
        await self.run("signin")
        states = []
        for label, value in (("Account name", name), ("Password", PASSWORD)):
            w = WidgetState(id=self.widgets[label], string_value=value)
            states.append(w)
        states.append(WidgetState(id=self.widgets["Sign in"], trigger_value=True))
        await self.run("signin", widgets=states)
        if not any("Signed in as" in t for t in self.texts):
            await self.run("signin")
        if not any("Signed in as" in t for t in self.texts):
            raise RuntimeError(f"{name} could not sign in: {self.texts}")

    async def signed_in(self) -> bool:
        await self.run("signin")
        return any("Signed in as" in t for t in self.texts)

    async def keep(self) -> None:
        """Keep the sign-in in its cookie, as a person clicking "Stay signed in on this
        device" straight after signing in does (its ticket lasts a minute)."""
        await self.run("signin")
        link = self.links.get("Stay signed in on this device")
        if not link:
            raise RuntimeError("the Sign in page offers no kept sign-in (is the app served "
                               "with serve.py?)")
        await asyncio.to_thread(self._http, link)
        if "oda_session" not in self.cookies:
            raise RuntimeError("the kept sign-in route set no cookie")

    async def move(self) -> tuple[bool, bool]:
        """Reconnect with a fresh proxy route, as a browser does when its replica goes
        away: (landed on another replica, still signed in there)."""
        before = self.replica
        await self.close()
        self.cookies["oda_route"] = random.randbytes(8).hex()
        await self.open()
        return self.replica != before, await self.signed_in()

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()


def pause(think: float) -> float:
    """A person's pause before the next action: the think time, give or take half."""
    return random.uniform(0.5 * think, 1.5 * think) if think else 0.0


async def journey(base: str, role: str, i: int, rounds: int, times: dict[str, list[float]],
                  think: float = 0.0, moves: list | None = None,
                  errors: dict[str, list[str]] | None = None) -> None:
    await asyncio.sleep(random.uniform(0, think))  # people do not all arrive at once
    s = Session(base)
    await s.open()
    try:
        if errors is not None:
            s.errors = errors["sign in"]
            try:
                await s.sign_in(account(role, i))
            except RuntimeError as err:  # counted: this person could not start
                errors["sign in"].append(str(err))
                return
        else:
            await s.sign_in(account(role, i))
        if moves is not None:
            await s.keep()
        for n in range(rounds):
            for page, query in JOURNEYS[role]:
                await asyncio.sleep(pause(think))
                if errors is not None:
                    s.errors = errors[page]  # counted, and the journey goes on
                times[page].append(await s.run(page, query))
            if moves is not None and n == 0:
                moves.append(await s.move())
    finally:
        await s.close()


async def load(base: str, k: int, rounds: int, think: float = 0.0,
               moves: list | None = None) -> dict[str, list[float]]:
    """K sessions at once, half councillors and half planners."""
    times: dict[str, list[float]] = {p: [] for p in PAGES}
    errors: dict[str, list[str]] = {p: [] for p in ["sign in", *PAGES]}
    roles = ["councillor" if i % 2 == 0 else "planner" for i in range(k)]
    await asyncio.gather(*(journey(base, r, i // 2, rounds, times, think, moves, errors)
                           for i, r in enumerate(roles)))
    times["errors"] = [f"{p}: {e}" for p, errs in errors.items() for e in errs]
    return times


def account(role: str, i: int) -> str:
    """The account of the ``i``-th session of a role. Each person has their own:
    sign-in counts every attempt per name and address before checking it, so a score
    of sessions signing in at once as one name from one address would be paused."""
    return PEOPLE[role][0] if i == 0 else f"{PEOPLE[role][0]}_{i}"


def accounts(governance, n: int = 1) -> None:
    """Accounts for ``n`` sessions of each role."""
    from dashboard.access import OPERATOR
    from dashboard.access import accounts as acc
    have = set(acc.users(governance)["name"])
    for role, (_, kind, org) in PEOPLE.items():
        for i in range(n):
            if account(role, i) not in have:
                acc.add_user(account(role, i), kind, org, PASSWORD, by=OPERATOR,
                             path=governance)


def report(label: str, ks: list[int], rounds: int, base: str, think: float = 0.0,
           move: bool = False) -> dict:
    asyncio.run(load(base, 2, 1))  # warm-up: both journeys once, caches filled
    out = {}
    for k in ks:
        started = time.perf_counter()
        moves: list | None = [] if move else None
        times = asyncio.run(load(base, k, rounds, think, moves))
        out[k] = {p: (np.percentile(v, 50), np.percentile(v, 95), len(v))
                  for p, v in times.items() if p in PAGES}
        out[k]["errors"] = times["errors"]
        if moves is not None:
            out[k]["moved"] = (sum(m for m, _ in moves),
                               sum(kept for m, kept in moves if m), len(moves))
        print(f"  {label}: K = {k:>2} done in {time.perf_counter() - started:.1f} s",
              flush=True)
    return out


def show(label: str, res: dict, map_target: float = 1.5) -> None:
    ks = sorted(res)
    print(f"\n{label}: script time per page, seconds (p50 / p95; x: p95 against "
          f"K = {ks[0]})")
    print(f"{'page':<10}" + "".join(f"{'K = ' + str(k):>22}" for k in ks))
    for p in PAGES:
        base95 = res[ks[0]][p][1]
        cells = []
        for k in ks:
            p50, p95, _ = res[k][p]
            cells.append(f"{p50:6.2f} / {p95:6.2f} {p95 / base95:4.1f}x")
        print(f"{p:<10}" + "".join(f"{c:>22}" for c in cells))
    within = [k for k in ks if res[k]["map"][1] <= map_target]
    print(f"largest K with the map's p95 <= {map_target:g} s: "
          + (str(max(within)) if within else f"none of {ks}"))
    for k in ks:
        if res[k]["errors"]:
            kinds = {}
            for e in res[k]["errors"]:
                kinds[e.split(":")[0]] = kinds.get(e.split(":")[0], 0) + 1
            print(f"K = {k}: errors " + ", ".join(f"{p} {n}" for p, n in kinds.items())
                  + f"; e.g. {res[k]['errors'][0][:160]}")
    for k in ks:
        if "moved" in res[k]:
            moved, kept, n = res[k]["moved"]
            print(f"K = {k}: {moved} of {n} sessions moved to the other replica; "
                  f"{kept} of those {moved} were still signed in there")


def nginx(prefix: Path, upstreams: list[int]) -> tuple[subprocess.Popen, int]:
    port = free_port()
    conf = (REPO / "deploy" / "nginx.conf").read_text()
    conf = conf.replace("@PREFIX@", str(prefix)).replace("@PORT@", str(port)).replace(
        "@SERVERS@", " ".join(f"server 127.0.0.1:{p};" for p in upstreams))
    # The benchmark's proxy says which replica answered (the deployment's does not).
    conf = conf.replace("proxy_read_timeout 3600s;",
                        "proxy_read_timeout 3600s;\n      add_header X-Upstream $upstream_addr "
                        "always;")
    (prefix / "nginx.conf").write_text(conf)
    proc = subprocess.Popen([shutil.which("nginx") or "/usr/sbin/nginx", "-p", str(prefix),
                             "-c", str(prefix / "nginx.conf")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)
            return proc, port
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nginx did not start; see {prefix / 'error.log'}")


def _env(name: str, value: str, unset: str) -> dict[str, str]:
    env = {**os.environ, name: value}
    env.pop(unset, None)
    return env


def _single(label: str, env: dict, tmp: Path, servers: list, ks: list[int],
            rounds: int, think: float) -> dict:
    """One app server under each K in turn."""
    srv = Server(ENTRY, env, tmp, label)
    servers.append(srv)
    srv.wait_ready()
    try:
        return report(label, ks, rounds, srv.url, think)
    finally:
        srv.stop()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ks", default="1,5,10,20")
    ap.add_argument("--rounds", type=int, default=2, help="journeys per session")
    ap.add_argument("--backends", default="duckdb,postgres")
    ap.add_argument("--no-replicas", action="store_true")
    ap.add_argument("--replicas-only", action="store_true",
                    help="no single-app run on PostgreSQL (replicas only)")
    ap.add_argument("--think", type=float, default=0.0,
                    help="seconds a person pauses between actions, give or take half "
                    "(0: back to back)")
    ap.add_argument("--move", action="store_true",
                    help="with replicas: move each session to a fresh proxy route once, "
                    "with its kept sign-in")
    ap.add_argument("--map-target", type=float, default=1.5)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    random.seed(args.seed)
    ks = [int(k) for k in args.ks.split(",")]
    backends = args.backends.split(",")
    print(f"load: {os.cpu_count()} cores; K = {ks}; {args.rounds} journeys per session; "
          + (f"think {args.think:g} s (+/- half); " if args.think else "back to back; ")
          + "Avon and Somerset, crime 2022-01..2022-11", flush=True)
    results = {}
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="oda-load-")))
        servers: list[Server] = []
        stack.callback(lambda: [s.stop() for s in servers])
        if "duckdb" in backends:
            gov = tmp / "governance.sqlite"
            accounts(gov, (max(ks) + 1) // 2)
            env = _env("ODA_GOVERNANCE", str(gov), "ODA_DATABASE_URL")
            results["DuckDB, one app"] = _single("duckdb", env, tmp, servers, ks, args.rounds,
                                                 args.think)
        if "postgres" in backends:
            cluster = stack.enter_context(Cluster())
            url = cluster.url()
            from loaders.build import build
            build(url, log=lambda _line: None)
            accounts(url, (max(ks) + 1) // 2)
            env = _env("ODA_DATABASE_URL", url, "ODA_GOVERNANCE")
            if not args.replicas_only:
                results["PostgreSQL, one app"] = _single("postgres", env, tmp, servers, ks,
                                                         args.rounds, args.think)
            if not args.no_replicas:
                pair = [Server(ENTRY, env, tmp, f"replica{i}") for i in (1, 2)]
                servers.extend(pair)
                for s in pair:
                    s.wait_ready()
                prefix = tmp / "nginx"
                prefix.mkdir()
                proc, port = nginx(prefix, [s.port for s in pair])
                stack.callback(proc.terminate)
                results["PostgreSQL, two replicas behind nginx"] = report(
                    "replicas", ks, args.rounds, f"http://127.0.0.1:{port}", args.think,
                    args.move)
    for label, res in results.items():
        show(label, res, args.map_target)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
