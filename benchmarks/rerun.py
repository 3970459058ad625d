"""Warm reruns: server script time of the Map page when nothing new has to be computed.

A person on the Map page reruns it all day without changing the view: a click on
the map, a pick in "Find an area", the table toggle. Each is a script run in which
every figure, class and deck is already cached. This measures what such a run costs
the server, at K = 1 session (one user), against a trivial page measured in the
same run.

How
    One ``streamlit run streamlit_app.py`` on 127.0.0.1 (DuckDB store, a temporary
    governance register with a councillor's account). One websocket session speaks
    Streamlit's protocol as a browser does (``load.Session``), signs in through the
    Sign in form, and sends, with every rerun, the hashes of the large messages it
    already holds (``cached_message_hashes``), as the browser's message cache does:
    an unchanged deck then comes back as a reference, not megabytes. The time of a
    run is from sending ``rerun_script`` to the server's ``script_finished``.

    Cases, each opened once, warmed (two runs), then rerun ``--runs`` times:

    * the Accessibility page: the baseline, a page with no figures;
    * the Map, Avon and Somerset by ward, then by LSOA (crime_all, 2022-01:2022-11,
      rate), plain reruns (same page, same widgets);
    * the same maps with a click on the map each run (the deck's selection state,
      alternating between two areas), which also draws "Selected: ..."; sent as the
      browser sends it, for the map's fragment alone where the map is drawn in one.

    With ``--profile`` the server runs under a wrapper that profiles every script
    run with cProfile (in the script thread) and writes the top functions of the
    last warm rerun of each map case; profiler overhead inflates those times, so
    the figures above come from a run without it.

The machine has two cores and other work may be running: compare figures within
one run. Everything listens on loopback; each step is bounded in time.

Usage::

    .venv/bin/python benchmarks/rerun.py [--runs 30] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from load import PEOPLE, Session, accounts  # noqa: E402
from page_ready import Server  # noqa: E402
from streamlit.proto.BackMsg_pb2 import BackMsg  # noqa: E402
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: E402
from streamlit.proto.WidgetStates_pb2 import WidgetState  # noqa: E402

PERIOD = "region=avon_and_somerset&indicator=crime_all&period=2022-01:2022-11"
CASES = [("accessibility", "", "baseline"),
         ("map", f"{PERIOD}&level=ward&measure=rate", "ward"),
         ("map", f"{PERIOD}&level=lsoa&measure=rate", "lsoa")]


class CachingSession(Session):
    """A session that keeps the large messages' hashes, as the browser's cache does,
    and notes the map's widget id, its areas and the subheaders drawn."""

    def __init__(self, base: str, pid: int) -> None:
        super().__init__(base)
        self.pid = pid
        self.cpu: list[float] = []  # server CPU seconds of each run, until it is idle
        self.hashes: set[str] = set()
        self.deck_id = ""
        self.areas: list[dict] = []
        self.headers: list[str] = []
        self.refs = 0
        self.deck_fragment = ""  # the fragment the map is drawn in, if any
        self.fragment = ""  # the fragment the current run asks for ("" the whole page)

    async def run(self, page: str, query: str = "", widgets=(), fragment: str = "") -> float:
        """As ``load.Session.run``, for the whole page or one fragment, noting the
        server's CPU seconds until it is idle again."""
        self.fragment, self.headers, self.refs = fragment, [], 0
        cpu0 = cpu_seconds(self.pid)
        took = await super().run(page, query, widgets)
        self.cpu.append(await idle_cpu(self.pid) - cpu0)
        return took

    def _request(self, page: str, query: str, widgets) -> BackMsg:
        msg = super()._request(page, query, widgets)
        msg.rerun_script.fragment_id = self.fragment
        msg.rerun_script.cached_message_hashes.extend(sorted(self.hashes))
        return msg

    def _received(self, fwd: ForwardMsg) -> bool:
        if fwd.metadata.cacheable and fwd.hash:
            self.hashes.add(fwd.hash)
        kind = fwd.WhichOneof("type")
        if kind == "ref_hash":
            self.refs += 1
        elif kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
            self._note(fwd.delta.new_element, fwd.delta.fragment_id)
            return False
        return super()._received(fwd)

    def _note(self, el, fragment: str = "") -> None:
        kind = el.WhichOneof("type")
        if kind == "deck_gl_json_chart":
            chart = el.deck_gl_json_chart
            self.deck_id = chart.id or self.deck_id
            self.deck_fragment = fragment
            if chart.json:
                spec = json.loads(chart.json)
                layer = next(x for x in spec["layers"] if x.get("id") == "areas")
                self.areas = [{"code": d["code"], "name": d["name"]} for d in layer["data"]]
        elif kind in ("markdown", "heading"):
            self.headers.append(getattr(el, kind).body)
        super()._note(el)


TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User and system CPU seconds of a process, all its threads (``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


async def idle_cpu(pid: int, limit_s: float = 10.0) -> float:
    """The process's CPU seconds once it is idle (unchanged over 0.1 s): what a run
    cost includes the work the server does after ``script_finished`` (Streamlit's
    post-run garbage collection, say), which holds the GIL all the same."""
    last, deadline = cpu_seconds(pid), time.monotonic() + limit_s
    while time.monotonic() < deadline:
        await asyncio.sleep(0.1)
        now = cpu_seconds(pid)
        if now == last:
            break
        last = now
    return last


def click(session: CachingSession, area: dict, index: int) -> WidgetState:
    """The deck's selection state after a click on ``area``, as the browser sends it."""
    state = {"selection": {"indices": {"areas": [index]}, "objects": {"areas": [area]}}}
    return WidgetState(id=session.deck_id, string_value=json.dumps(state))


async def measure(servers: list[tuple[str, int]], runs: int
                  ) -> list[dict[str, tuple[list, list]]]:
    """Every case on every server, one session each, taking turns run by run (so a
    burst of other load on the machine falls on all of them alike)."""
    sessions = [CachingSession(url, pid) for url, pid in servers]
    out: list[dict[str, tuple[list, list]]] = [{} for _ in sessions]
    try:
        for s in sessions:
            await s.open()
            await s.sign_in(PEOPLE["councillor"][0])
        for page, query, label in CASES:
            for s in sessions:
                await s.run(page, query)  # open the page: caches filled
                for _ in range(2):
                    await s.run(page, query)
                s.cpu, s.times = [], []
            for _ in range(runs):
                for s in sessions:
                    s.times.append(await s.run(page, query))
            for s, res in zip(sessions, out, strict=True):
                res[label] = (s.times, s.cpu)
            if page != "map":
                continue
            for s in sessions:
                if not s.refs:
                    raise RuntimeError("the warm map was sent again in full, not as a "
                                       "reference")
                s.picks = [a for a in s.areas if a["name"]][:2]
                s.cpu, s.times = [], []
            for i in range(runs):
                for s in sessions:
                    area = s.picks[i % 2]
                    # As the browser does: a click on a map drawn in a fragment reruns
                    # that fragment only.
                    s.times.append(await s.run(page, query, [click(s, area, i % 2)],
                                               s.deck_fragment))
                    if not any(f"Selected: {area['name']}" in h for h in s.headers):
                        raise RuntimeError(f"the click on {area['name']} selected nothing")
            for s, res in zip(sessions, out, strict=True):
                res[f"{label}, click"] = (s.times, s.cpu)
    finally:
        for s in sessions:
            await s.close()
    return out


PROFILED_SERVER = """
import cProfile, os, sys, threading, time
from streamlit.runtime.scriptrunner import script_runner
out = os.environ["ODA_RERUN_PROFILE_DIR"]
count = [0]
lock = threading.Lock()
original = script_runner.ScriptRunner._run_script

def profiled(self, rerun_data):
    with lock:
        count[0] += 1
        n = count[0]
    prof = cProfile.Profile(time.thread_time)  # CPU time: other load does not count
    prof.enable()
    try:
        return original(self, rerun_data)
    finally:
        prof.disable()
        prof.dump_stats(os.path.join(out, f"run-{n:04d}-{rerun_data.page_name or 'main'}.prof"))

script_runner.ScriptRunner._run_script = profiled
from streamlit.web.cli import main
sys.argv = ["streamlit", *sys.argv[1:]]
main()
"""


class AppServer(Server):
    """``streamlit run streamlit_app.py`` of a checkout; with ``profile_dir``, under a
    wrapper that profiles each script run into it."""

    def __init__(self, repo: Path, env: dict[str, str], log_dir: Path, name: str,
                 profile_dir: Path | None = None) -> None:
        import subprocess

        from page_ready import free_port
        self.port = free_port()
        self.log = log_dir / f"{name}.log"
        run = ["run", str(repo / "streamlit_app.py"), "--server.address", "127.0.0.1",
               "--server.port", str(self.port), "--server.headless", "true"]
        if profile_dir is None:
            cmd = [str(repo / ".venv" / "bin" / "streamlit"), *run]
        else:
            wrapper = log_dir / "profiled_server.py"
            wrapper.write_text(PROFILED_SERVER)
            cmd = [str(repo / ".venv" / "bin" / "python"), str(wrapper), *run]
            env = {**env, "ODA_RERUN_PROFILE_DIR": str(profile_dir)}
        with open(self.log, "w") as fh:
            self.proc = subprocess.Popen(cmd, cwd=repo, env=env, stdout=fh,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        self.url = f"http://127.0.0.1:{self.port}"


def top(prof: Path, n: int = 14) -> None:
    stats = pstats.Stats(str(prof))
    rows = []
    for (file, line, fn), (_cc, _nc, tt, ct, _callers) in stats.stats.items():
        where = file.replace(str(REPO) + "/", "").split("site-packages/")[-1]
        rows.append((ct, tt, f"{where}:{line}({fn})"))
    total = stats.total_tt
    print(f"  {prof.name}: {total:.3f} s CPU profiled")
    print(f"  {'cumulative s':>12} {'own s':>7}  function")
    skip = ("exec_func_with_error_handling", "_run_script", "code_to_exec", "run(",
            "<module>", "{built-in method builtins.exec}")
    shown = 0
    for ct, tt, name in sorted(rows, reverse=True):
        if any(s in name for s in skip) and ct > total * 0.9:
            continue
        print(f"  {ct:12.3f} {tt:7.3f}  {name[:110]}")
        shown += 1
        if shown >= n:
            break
    print(f"  own time, top {n // 2}:")
    for tt, ct, name in sorted(((tt, ct, nm) for ct, tt, nm in rows), reverse=True)[:n // 2]:
        print(f"  {ct:12.3f} {tt:7.3f}  {name[:110]}")


def show(title: str, res: dict[str, tuple[list, list]], runs: int) -> None:
    print(f"\n{title}: warm rerun at K = 1, seconds ({runs} runs each): script time "
          "(rerun_script to script_finished) and the server's CPU time per run")
    print(f"{'case':<16} {'script p50':>10} {'p95':>7} {'min':>7}   {'CPU p50':>8} {'p95':>7}")
    for label, (times, cpu) in res.items():
        print(f"{label:<16} {np.percentile(times, 50):10.3f} "
              f"{np.percentile(times, 95):7.3f} {min(times):7.3f}   "
              f"{np.percentile(cpu, 50):8.3f} {np.percentile(cpu, 95):7.3f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=30, help="warm reruns per case")
    ap.add_argument("--against", type=Path, default=None,
                    help="another checkout of the app (with its .venv and geodata) to "
                    "measure in the same run, taking turns with this one")
    ap.add_argument("--profile", action="store_true",
                    help="also profile the script runs (a further server) and show the top")
    args = ap.parse_args()
    env = {**os.environ}
    env.setdefault("ODA_DATA_DIR", str((REPO.parent / "shared" / "data").resolve()))
    env.pop("ODA_DATABASE_URL", None)
    print(f"rerun: {os.cpu_count()} cores; {args.runs} warm reruns per case; K = 1 "
          "(one councillor); Avon and Somerset, crime 2022-01..2022-11", flush=True)
    checkouts = [REPO] + ([args.against.resolve()] if args.against else [])
    with tempfile.TemporaryDirectory(prefix="oda-rerun-") as tmp:
        tmp = Path(tmp)
        gov = tmp / "governance.sqlite"
        accounts(gov)
        env["ODA_GOVERNANCE"] = str(gov)
        servers = [AppServer(repo, env, tmp, f"app{i}") for i, repo in enumerate(checkouts)]
        try:
            for srv in servers:
                srv.wait_ready()
            results = asyncio.run(measure([(s.url, s.proc.pid) for s in servers],
                                          args.runs))
        finally:
            for srv in servers:
                srv.stop()
        for repo, res in zip(checkouts, results, strict=True):
            show(str(repo), res, args.runs)
        if args.profile:
            prof_dir = REPO / "benchmarks" / "results" / time.strftime("rerun-%Y%m%dT%H%M%S")
            prof_dir.mkdir(parents=True)  # git-ignored; kept to look at with pstats
            for i, repo in enumerate(checkouts):
                (prof_dir / str(i)).mkdir()
                psrv = AppServer(repo, env, tmp, f"profiled{i}", prof_dir / str(i))
                try:
                    psrv.wait_ready()
                    asyncio.run(measure([(psrv.url, psrv.proc.pid)], 3))
                finally:
                    psrv.stop()
                runs = sorted((prof_dir / str(i)).glob("run-*-map.prof"))
                # Each map case: open, 2 warm, 3 plain, 3 clicks: 9 runs. The last
                # plain rerun of each is its 6th.
                for label, prof in (("ward", runs[5]), ("LSOA", runs[14])):
                    print(f"\n{repo}: profile of one plain warm rerun of the map by {label} "
                          "(cProfile, the script thread's CPU time)")
                    top(prof)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
