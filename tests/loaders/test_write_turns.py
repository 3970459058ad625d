"""The DuckDB store: a command-line load while the dashboard reads the file waits its
turn (and says so), the dashboard keeps answering, and nobody meets a lock error."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time

import duckdb
import pandas as pd

from store import Store
from store.duckdb import request_file
from tests.conftest import REPO


def _load(copy, file, tmp_path, **env):
    return subprocess.run(
        [sys.executable, "-m", "loaders", "ingest", str(file), "--store", str(copy),
         "--partner", "fire"], cwd=REPO, capture_output=True, text=True, timeout=300,
        env={**os.environ, "ODA_GOVERNANCE": str(tmp_path / "gov.sqlite"), **env})


def _fires(tmp_path, store):
    codes = store.query("SELECT lsoa_code FROM lsoa_ward WHERE vintage = 2011 "
                        "AND lad_code = 'E06000023' ORDER BY 1 LIMIT 50")["lsoa_code"]
    path = tmp_path / "fires.csv"
    pd.DataFrame({"area_code": codes, "period": "2022-05", "indicator": "turn_fires",
                  "value": 12}).to_csv(path, index=False)
    return path


def test_a_command_line_load_takes_its_turn_while_the_app_reads(store, tmp_path):
    copy = tmp_path / "store.duckdb"
    shutil.copy(store.path, copy)
    app = Store(copy, governance=tmp_path / "gov.sqlite")
    app.query("SELECT 1")  # the app holds the file open, as a serving dashboard does
    file = _fires(tmp_path, app)
    reads, errors, stop = [], [], threading.Event()

    def serve():
        while not stop.is_set():
            try:
                started = time.perf_counter()
                n = app.query("SELECT count(*) AS n FROM observations "
                              "WHERE indicator = 'crime_all'")["n"].iat[0]
                reads.append((n, time.perf_counter() - started))
            except Exception as err:  # noqa: BLE001 (any failure is the finding)
                errors.append(repr(err))
            time.sleep(0.02)

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        done = _load(copy, file, tmp_path)
    finally:
        stop.set()
        thread.join()
    assert done.returncode == 0, done.stderr
    assert "50 loaded" in done.stdout
    assert "lock" not in (done.stdout + done.stderr).lower()
    assert errors == [] and len(reads) > 5
    assert len({n for n, _ in reads}) == 1  # open data unchanged throughout
    # The app sees the new rows at once, without a restart.
    assert app.query("SELECT count(*) AS n FROM observations WHERE indicator = 'turn_fires'"
                     )["n"].iat[0] == 50
    assert not request_file(copy).exists()
    app.close()


def test_a_request_left_by_a_writer_that_died_is_ignored(store, tmp_path):
    copy = tmp_path / "store.duckdb"
    shutil.copy(store.path, copy)
    request_file(copy).write_text("999999 a load that crashed")
    app = Store(copy, governance=tmp_path / "gov.sqlite")
    started = time.perf_counter()
    assert app.query("SELECT 1 AS one")["one"].iat[0] == 1
    assert time.perf_counter() - started < 5
    app.close()


def test_a_program_that_never_lets_go_gets_a_plain_message_not_a_lock_error(store, tmp_path):
    copy = tmp_path / "store.duckdb"
    shutil.copy(store.path, copy)
    file = _fires(tmp_path, Store(copy, governance=tmp_path / "gov.sqlite"))
    holder = duckdb.connect(str(copy), read_only=True)  # not a dashboard: it never yields
    try:
        done = _load(copy, file, tmp_path, ODA_WRITE_WAIT_SECONDS="2")
    finally:
        holder.close()
    assert done.returncode == 2
    assert "is still held by another program after 2 s" in done.stderr
    assert "Could not set lock" not in done.stderr
