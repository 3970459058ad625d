"""Shared fixtures. Tests read the real store that `make test` builds under geodata/.

Each test process gets its own governance register (accounts, agreements, audit)
in a temporary folder, so tests never touch the one beside the store.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

os.environ["ODA_GOVERNANCE"] = str(Path(tempfile.mkdtemp(prefix="oda-test-governance-"))
                                   / "governance.sqlite")
# The deployment secret and the audit checkpoints in the same folder, outside the register.
os.environ.setdefault("ODA_SECRET_FILE", str(Path(os.environ["ODA_GOVERNANCE"]).parent
                                             / "secret.key"))

import duckdb
import geopandas as gpd
import pytest
import shapely

from dashboard.access import OPERATOR, accounts
from loaders import data_dir, load_regions
from store import PARTNER_TABLES, Store

atexit.register(shutil.rmtree, Path(os.environ["ODA_GOVERNANCE"]).parent, ignore_errors=True)

PASSWORD = "test password 123"
# One account per role: (name, role, organisation).
PEOPLE = [("t_councillor", "councillor", ""), ("t_analyst", "analyst", "avon_police"),
          ("t_planner", "police_planner", "avon_police"),
          ("t_steward", "data_steward", "test_partner"), ("t_admin", "administrator", "")]

REPO = Path(__file__).resolve().parent.parent


BACKENDS = ("duckdb", "postgres")


def pytest_generate_tests(metafunc):
    """Tests marked ``backends`` run once on each store backend, with the same
    assertions: the figures must not depend on the database."""
    if metafunc.definition.get_closest_marker("backends"):
        name = "partner_store" if "partner_store" in metafunc.fixturenames else "store"
        if name in metafunc.fixturenames:
            metafunc.parametrize(name, BACKENDS, indirect=True, scope="session")


# The test files that take longest (seconds in a full run, both processes together),
# first: ``make test`` hands whole files to its two processes in the order collected
# (--dist loadfile --no-loadscope-reorder), so a long file started last would leave
# one process running it alone at the end.
SLOW_FILES = (
    "browser/test_accessibility_in_chromium.py",  # 190
    "dashboard/analysis/test_evaluation.py",  # 80
    "dashboard/measures/test_disclosure.py",  # 143
    "loaders/test_postgres.py",  # 212; third, once the PostgreSQL template is published
    "pages/test_smoke.py",  # 120
    "dashboard/analysis/test_hotspots.py",  # 116
    "dashboard/access/test_access.py",  # 91
    "loaders/test_ingest.py",  # 90
    "browser/test_map_in_chromium.py",  # 76
    "browser/test_session_in_chromium.py",  # 62
    "pages/test_roles.py",  # 62
    "pages/test_interventions_page.py",  # 75
    "browser/test_menu_in_chromium.py",  # 59
    "browser/test_keyboard_journey.py",  # 57
    "dashboard/analysis/test_backtest.py",  # 56
    "dashboard/analysis/test_forecast.py",  # 45
    "loaders/test_cross_classified.py",  # 52
    "browser/test_access_in_chromium.py",  # 49
)


def pytest_collection_modifyitems(config, items):
    """The slowest files first (:data:`SLOW_FILES`), the rest as collected."""
    first = {f"tests/{name}": i for i, name in enumerate(SLOW_FILES)}
    items.sort(key=lambda item: first.get(item.nodeid.split("::")[0], len(first)))


def pytest_sessionstart(session):
    """Publish the store into the throwaway PostgreSQL template in the background, in
    the main process, while the test processes start and run the DuckDB tests: a test
    process that needs PostgreSQL first waits for it (the template's advisory lock)
    instead of both test processes waiting on one publish."""
    if os.environ.get("ODA_TEST_DATABASE_URL") and not hasattr(session.config, "workerinput"):
        import threading

        from tests.postgres import Databases

        def publish() -> None:
            try:
                Databases.start().template()
            except Exception as error:  # the tests that need it report it themselves
                print(f"publishing the PostgreSQL template failed: {error!r}")

        _publishing.append(threading.Thread(target=publish, name="publish-template",
                                            daemon=True))
        _publishing[0].start()


def pytest_sessionfinish(session):
    for thread in _publishing:
        thread.join()


_publishing: list = []  # the background publish of the PostgreSQL template, if started


def _add_people(governance_target=None) -> None:
    have = set(accounts.users(governance_target)["name"])
    for name, role, org in PEOPLE:
        if name not in have:
            accounts.add_user(name, role, org, PASSWORD, by=OPERATOR, path=governance_target)


@pytest.fixture(scope="session")
def postgres():
    """Throwaway PostgreSQL databases, each a copy of the published store.

    ``make test`` runs the suite inside a throwaway cluster
    (``ODA_TEST_DATABASE_URL``); run alone, this process starts its own.
    """
    from tests.postgres import Databases
    dbs = Databases.start()
    yield dbs
    dbs.stop()


@pytest.fixture(scope="session")
def store(request) -> Store:
    """The built store (``make test`` builds it first): the DuckDB file, or (for tests
    marked ``backends``) also the same build published into PostgreSQL."""
    if getattr(request, "param", "duckdb") == "postgres":
        url = request.getfixturevalue("postgres").database("store")
        _add_people(url)
        return Store(url)
    return Store(os.environ.get("ODA_STORE"))


@pytest.fixture(scope="session", autouse=True)
def people() -> dict[str, str]:
    """An account for every role in this process's governance register."""
    _add_people()
    return {name: role for name, role, _ in PEOPLE}


@pytest.fixture(scope="session")
def regions():
    """The region presets."""
    return load_regions()


@pytest.fixture(scope="session")
def data() -> Path:
    """The open data folder."""
    return data_dir()


@pytest.fixture()
def lattice() -> gpd.GeoDataFrame:
    """A 3x3 grid of unit squares in BNG, codes A1..C3 (row letter, column number)."""
    cells = [(r, c) for r in range(3) for c in range(3)]
    return gpd.GeoDataFrame(
        {"code": [f"{'ABC'[r]}{c + 1}" for r, c in cells]},
        geometry=[shapely.box(c, r, c + 1, r + 1) for r, c in cells], crs=27700)


@pytest.fixture(scope="session")
def partner_world(tmp_path_factory):
    """A private store with three hand-made partner indicators, each with a different
    standing in the agreements register:

    - ``test_in``: in the live agreement ``ISA-IN`` (councillors and analysts, LSOA);
    - ``test_out``: in no agreement (its own stewards and administrators only);
    - ``test_gone``: in ``ISA-GONE``, which expired a year ago.

    Values are drawn with a fixed seed over Avon and Somerset's LSOAs, 12 months of
    2022, all at least 10 (no small counts: access, not disclosure, is tested here).
    Returns the store path; point ``ODA_STORE`` at it to use it from a page.
    """
    import shutil

    import duckdb

    store = Store(os.environ.get("ODA_STORE"))
    folder = tmp_path_factory.mktemp("partner_world")
    _partner_world_files(store, folder)
    copy = folder / "store.duckdb"
    shutil.copy(store.path, copy)
    with duckdb.connect(str(copy)) as con:
        for table in ("observations", "catalogue", "quarantine", "ingest_log"):
            con.execute(f"DELETE FROM {table} WHERE origin = 'partner'")
    _partner_world_in(copy, None, folder)
    return copy


def _partner_world_files(store, folder: Path) -> None:
    """The partner file and catalogue details of the partner world, in ``folder``."""
    import numpy as np
    import pandas as pd
    codes = store.query(
        "SELECT DISTINCT lsoa_code FROM lsoa_ward l JOIN lad_codes d "
        "ON l.lad_code IN (d.lad_code, d.lad_code_active) WHERE l.vintage = 2011 "
        "AND d.lad_code_active IN ('E06000022', 'E06000023', 'E06000024', 'E06000025') "
        "ORDER BY 1")["lsoa_code"].tolist()
    rng = np.random.default_rng(7)
    rows = [(code, f"2022-{m:02d}", ind, int(rng.integers(10, 40)))
            for ind in ("test_in", "test_out", "test_gone") for code in codes
            for m in range(1, 13)]
    pd.DataFrame(rows, columns=["area_code", "period", "indicator", "value"]) \
        .to_csv(folder / "partner.csv", index=False)
    (folder / "meta.toml").write_text('[test_in]\ntitle = "Test: shared indicator"\n'
                                      '[test_out]\ntitle = "Test: unshared indicator"\n'
                                      '[test_gone]\ntitle = "Test: expired indicator"\n')


def _partner_world_in(target, governance_target, folder: Path) -> None:
    """Load the partner world's file into a store and register its agreements."""
    import datetime as dt

    from dashboard.access import agreements
    from loaders.ingest import ingest
    report = ingest(folder / "partner.csv", partner="test_partner", meta=folder / "meta.toml",
                    store=target, governance_file=governance_target)
    assert not report.refused, report.reason
    have = set(agreements.register(governance_target)["id"])
    today = dt.date.today()
    for spec in ({"id": "ISA-IN", "indicators": ["test_in"], "expires": today.replace(
                  year=today.year + 2)},
                 {"id": "ISA-GONE", "indicators": ["test_gone"], "expires": today.replace(
                  year=today.year - 1), "start_date": today.replace(year=today.year - 3)}):
        if spec["id"] not in have:
            agreements.add({"title": f"Test agreement {spec['id']}", "parties": "test_partner",
                            "roles": "councillor,analyst", "level": "lsoa", **spec},
                           {"test_in", "test_out", "test_gone"}, by=OPERATOR,
                           path=governance_target)


@pytest.fixture(scope="session")
def partner_store(request, partner_world, tmp_path_factory):
    """The partner world as a Store: the DuckDB copy, or (for tests marked
    ``backends``) the same file and agreements loaded into a PostgreSQL copy."""
    if getattr(request, "param", "duckdb") != "postgres":
        return Store(partner_world)
    url = request.getfixturevalue("postgres").database("partner_world")
    _add_people(url)
    _partner_world_in(url, url, partner_world.parent)
    return Store(url)


@pytest.fixture()
def private_store(store, tmp_path, request):
    """A writable copy of ``store`` on the same backend, with a governance register of
    its own (the test accounts included): a test may load and delete freely."""
    import shutil
    if store.backend == "postgres":
        url = request.getfixturevalue("postgres").database(
            "private_" + request.node.name.split("[")[0][-30:])
        _add_people(url)
        local = Store(url)
        yield local
        local.close()
        return
    copy = tmp_path / "store.duckdb"
    shutil.copy(store.path, copy)
    gov = tmp_path / "gov.sqlite"
    _add_people(gov)
    local = Store(copy, governance=gov)
    yield local
    local.close()


@pytest.fixture()
def loader_store(tmp_path, store):
    """A private copy of the built store's file with no partner rows, to load into."""
    copy = tmp_path / "store.duckdb"
    shutil.copy(store.path, copy)
    with duckdb.connect(str(copy)) as con:
        for table in PARTNER_TABLES:
            con.execute(f"DELETE FROM {table} WHERE origin = 'partner'")
    return copy
