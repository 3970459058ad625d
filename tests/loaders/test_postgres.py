"""The PostgreSQL store: publishing a build, loads that take turns in one transaction a
file, and the agreements enforced by the database itself for any SQL client."""

from __future__ import annotations

import io
import multiprocessing
import subprocess
from concurrent.futures import ProcessPoolExecutor

import pandas as pd
from psycopg.conninfo import conninfo_to_dict

from dashboard.cli import commands as cli
from deploy.pgcluster import BIN
from loaders.build import build
from loaders.ingest import ingest
from store import Store
from tests.conftest import _add_people, _partner_world_in
from tests.workers import ingest_as, read_while


def _areas(store, n: int) -> list[str]:
    return store.query("SELECT lsoa_code FROM lsoa_ward WHERE vintage = 2011 "
                       "AND lad_code = 'E06000023' ORDER BY 1 LIMIT ?", [n])["lsoa_code"].tolist()


def _file(path, indicator: str, codes: list[str], months: int = 24, base: int = 10):
    rows = [(c, f"20{20 + m // 12}-{m % 12 + 1:02d}", indicator, base + (i + m) % 30)
            for i, c in enumerate(codes) for m in range(months)]
    pd.DataFrame(rows, columns=["area_code", "period", "indicator", "value"]).to_csv(
        path, index=False)
    return path


def test_the_build_is_published_with_postgis_geometry_and_kept_up_to_date(postgres, tmp_path):
    url = postgres.database("publish")
    store = Store(url, bound=False)
    assert store.backend == "postgres"
    geo = store.query("SELECT geography, ST_SRID(geom) AS bng, ST_SRID(map_fine) AS wgs, "
                      "count(*) AS n FROM areas GROUP BY 1, 2, 3 ORDER BY 1")
    assert set(geo["bng"]) == {27700} and set(geo["wgs"]) == {4326}
    assert dict(zip(geo["geography"], geo["n"], strict=True))["WD19"] == 8071
    # A partner upload survives a rebuild: it exists only in the database.
    codes = _areas(store, 20)
    report = ingest(_file(tmp_path / "fires.csv", "pg_fires", codes), partner="fire",
                    store=url)
    assert report.rows_loaded == 20 * 24 and not report.refused
    said = []
    build(url, log=said.append)
    assert said[-1].endswith("is up to date")
    build(url, force=True, log=said.append)
    assert any("kept" in line and "partner rows" in line for line in said)
    after = Store(url, bound=False)
    assert after.query("SELECT count(*) AS n FROM observations WHERE indicator = 'pg_fires'"
                       )["n"].iat[0] == 20 * 24
    assert after.query("SELECT count(*) AS n FROM catalogue WHERE indicator = 'pg_fires'"
                       )["n"].iat[0] == 1
    store.close()
    after.close()


def test_parallel_loads_lose_nothing_and_no_reader_sees_half_a_file(postgres, tmp_path):
    url = postgres.database("parallel")
    store = Store(url, bound=False)
    codes = _areas(store, 60)
    files = [_file(tmp_path / "a.csv", "par_a", codes[:30]),
             _file(tmp_path / "b.csv", "par_b", codes[30:]),
             _file(tmp_path / "c.csv", "par_c", codes, months=12)]
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=6, mp_context=ctx) as pool:
        reader = pool.submit(read_while, url, 25.0)
        loads = [pool.submit(ingest_as, str(files[0]), url, "s_one", "fire"),
                 pool.submit(ingest_as, str(files[1]), url, "s_two", "health"),
                 # the same file sent twice at once
                 pool.submit(ingest_as, str(files[2]), url, "s_one", "fire"),
                 pool.submit(ingest_as, str(files[2]), url, "s_one", "fire")]
        reports = [f.result(timeout=120) for f in loads]
        reads = reader.result(timeout=120)
    assert not any(r["refused"] for r in reports), reports
    twice = reports[2:]
    assert sorted(r["already_loaded"] for r in twice) == [False, True]
    loaded = sum(r["rows_loaded"] for r in reports if not r["already_loaded"])
    assert loaded == 30 * 24 + 30 * 24 + 60 * 12
    got = store.query("SELECT count(*) AS n FROM observations WHERE origin = 'partner'")
    assert got["n"].iat[0] == loaded
    dupes = store.query("SELECT indicator, area_code, period_start, count(*) AS n "
                        "FROM observations WHERE origin = 'partner' "
                        "GROUP BY 1, 2, 3 HAVING count(*) > 1")
    assert dupes.empty
    logged = store.query("SELECT sum(rows_loaded) AS n, count(*) AS loads FROM ingest_log "
                         "WHERE origin = 'partner'")
    assert (logged["n"].iat[0], logged["loads"].iat[0]) == (loaded, 3)
    assert reads["reads"] > 10 and reads["torn"] == [], reads
    store.close()


def _psql(url: str, user: str, sql: str) -> str:
    """What psql prints when it connects as ``user`` (or ERROR and why)."""
    info = conninfo_to_dict(url)
    out = subprocess.run([str(BIN / "psql"), "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                          "-h", info["host"], "-p", str(info["port"]), "-U", user,
                          "-d", info["dbname"], "-c", sql], capture_output=True, text=True)
    return out.stdout.strip() if out.returncode == 0 else "ERROR: " + out.stderr.strip()


def test_psql_as_a_partners_role_reads_only_what_its_agreements_allow(
        postgres, tmp_path, partner_world, monkeypatch):
    url = postgres.database("rls")
    _add_people(url)
    _partner_world_in(url, url, partner_world.parent)
    store = Store(url, bound=False)
    code = store.query("SELECT min(area_code) AS c FROM observations "
                       "WHERE indicator = 'test_in'")["c"].iat[0]
    # One small count (3, under the default k of 5) in the shared indicator.
    small = tmp_path / "small.csv"
    small.write_text(f"area_code,period,indicator,value\n{code},2023-01,test_in,3\n")
    assert ingest(small, partner="test_partner", store=url).rows_loaded == 1
    for name in ("t_analyst", "t_steward", "t_councillor", "t_admin"):
        monkeypatch.setattr("sys.stdin", io.StringIO("sql password\n"))
        assert cli.main(["users", "sql-login", name, "--store", url]) == 0
    count = ("SELECT indicator || ':' || count(*) FROM oda.observations "
             "WHERE origin = 'partner' GROUP BY indicator ORDER BY 1")
    full = 12 * len(store.query("SELECT DISTINCT area_code FROM observations "
                                "WHERE indicator = 'test_in'"))
    # The analyst's role is named by ISA-IN (LSOA level): test_in only, small count hidden.
    assert _psql(url, "t_analyst", count) == f"test_in:{full}"
    # The steward's organisation owns test_in and test_out (its own small count too);
    # test_gone's agreement has expired.
    assert _psql(url, "t_steward", count).split("\n") == [f"test_in:{full + 1}",
                                                          f"test_out:{full}"]
    # Councillors may see ward level and above; the file is at LSOA level.
    assert _psql(url, "t_councillor", count) == ""
    assert _psql(url, "t_admin", count).count("\n") == 2
    # Open data: LSOA crime for the analyst, nothing finer than ward for a councillor.
    crime = "SELECT count(*) > 0 FROM oda.observations WHERE indicator = 'crime_all'"
    assert (_psql(url, "t_analyst", crime), _psql(url, "t_councillor", crime)) == ("t", "f")
    # The catalogue shows only what may be read; the register is out of reach.
    assert _psql(url, "t_analyst", "SELECT string_agg(indicator, ',') FROM oda.catalogue "
                 "WHERE origin = 'partner'") == "test_in"
    assert _psql(url, "t_analyst", "SELECT count(*) FROM governance.accounts") \
        .startswith("ERROR")
    # The interventions register lives there too: the app's door shows a restricted
    # operation only to the roles its agreement names; no SQL login reads the table.
    from dashboard import register
    from dashboard.access import OPERATOR, Viewer, agreements
    from dashboard.measures import interventions
    agreements.add({"id": "ISA-OPS", "title": "Operations", "parties": "avon_police",
                    "indicators": "", "roles": "police_planner", "level": "lsoa",
                    "expires": "2099-01-01"}, set(), by=OPERATOR, path=url)
    register.add(store, {"id": "op-pg", "title": "Covert operation", "agency": "avon_police",
                         "areas": code, "start": "2022-01", "indicators": "test_in",
                         "visibility": "restricted", "agreement": "ISA-OPS"}, viewer=OPERATOR)
    seen = {who.role: set(interventions.register(store, viewer=who)["id"]) for who in (
        Viewer("p", "police_planner", "avon_police"), Viewer("a", "analyst", "avon_police"))}
    assert seen == {"police_planner": {"op-pg"}, "analyst": set()}
    for name in ("t_analyst", "t_admin"):
        assert _psql(url, name, "SELECT count(*) FROM governance.interventions") \
            .startswith("ERROR")
    # A disabled account reads as the public: no partner data at all.
    from dashboard.access import OPERATOR, accounts
    accounts.set_active("t_analyst", False, by=OPERATOR, path=url)
    assert _psql(url, "t_analyst", count) == ""
    store.close()


def test_sql_logins_are_refused_on_the_duckdb_store(store, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("pw\n"))
    assert cli.main(["users", "sql-login", "t_analyst", "--store", str(store.path)]) == 2
    assert "only on the PostgreSQL store" in capsys.readouterr().err


# -- every table under row-level security, for every role ----------------------------

OPEN_TABLES = {"areas", "lsoa_ward", "lsoa11_lsoa21", "lad_codes", "lad_pfa", "population",
               "regions", "build_info"}
LEVEL_OF = {"LSOA11": "lsoa", "LSOA21": "lsoa", "WD19": "ward", "WD24": "ward",
            "POINT": "point"}


def _set(text: str) -> set[str]:
    assert not text.startswith("ERROR"), text
    return set(text.split("\n")) - {""}


def test_every_table_is_under_row_level_security_for_every_role(postgres, tmp_path,
                                                                 partner_world, monkeypatch):
    """Walk every table and view of the store's schema, logged in as each role, and check
    that no row beyond the role's grants can be read; the app's own reads likewise. A
    table this test does not know fails it, so a new table cannot slip through."""
    from dashboard import access
    from dashboard.access import OPERATOR, Viewer, accounts
    from loaders.ingest import Uploader
    from tests.dashboard.measures.test_hexes import incident_file
    url = postgres.database("rls_every")
    _add_people(url)
    _partner_world_in(url, url, partner_world.parent)
    accounts.add_user("x_steward", "data_steward", "someone_else", "x password 123",
                      by=OPERATOR, path=url)
    # A steward's incidents: partner points, coverage, a load record and a kept-aside row.
    path = incident_file(tmp_path / "incidents.csv", n=600)
    path.write_text(path.read_text() + "9999,not a date,\"(51.45, -2.58)\",Fire\n")
    report = ingest(path, store=url, uploader=Uploader("t_steward", "data_steward",
                                                       "test_partner"),
                    indicator="fire_test22", governance_file=url)
    assert not report.refused and report.rows_quarantined >= 1, report.reason
    logins = {"t_analyst": Viewer("t_analyst", "analyst", "avon_police"),
              "t_steward": Viewer("t_steward", "data_steward", "test_partner"),
              "x_steward": Viewer("x_steward", "data_steward", "someone_else"),
              "t_councillor": Viewer("t_councillor", "councillor"),
              "t_admin": Viewer("t_admin", "administrator"),
              "stranger": access.PUBLIC}
    for name in logins:
        if name != "stranger":
            monkeypatch.setattr("sys.stdin", io.StringIO("sql password\n"))
            assert cli.main(["users", "sql-login", name, "--store", url]) == 0
    owner = Store(url, bound=False)
    owner.query("SELECT 1")  # the stranger: a login with no account reads as the public
    import psycopg
    with psycopg.connect(url, autocommit=True) as con:
        con.execute("DROP ROLE IF EXISTS stranger")
        con.execute("CREATE ROLE stranger LOGIN IN ROLE oda_public")
    tables = owner.query("SELECT table_name AS t, table_type AS kind FROM "
                         "information_schema.tables WHERE table_schema = 'oda' ORDER BY 1")
    assert len(tables) >= 14
    secured = owner.query("SELECT c.relname AS t, c.relrowsecurity AS on FROM pg_class c "
                          "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE "
                          "n.nspname = 'oda' AND c.relkind IN ('r', 'p')")
    assert secured["on"].all(), secured[~secured["on"]]
    columns = owner.query("SELECT table_name AS t, column_name AS c FROM "
                          "information_schema.columns WHERE table_schema = 'oda'"
                          ).groupby("t")["c"].apply(set)
    partner = set(owner.query("SELECT indicator FROM catalogue WHERE origin = 'partner'"
                              )["indicator"])
    assert {"test_in", "test_out", "test_gone", "fire_test22"} <= partner
    loads = owner.query("SELECT ingest_id, partner FROM ingest_log WHERE origin = 'partner'")
    for login, who in logins.items():
        grants = access.rules(owner, who)
        for table in tables["t"]:
            cols = columns[table]
            if table in OPEN_TABLES:
                n = _psql(url, login, f"SELECT count(*) FROM oda.{table}")
                assert n == str(owner.query(f"SELECT count(*) AS n FROM {table}")["n"].iat[0])
            elif {"indicator", "origin"} <= cols:
                where = "geography" if "geography" in cols else "'POINT'"
                seen = _set(_psql(url, login, f"SELECT DISTINCT indicator || '|' || {where} || "
                                  f"'|' || coalesce(origin, 'open') FROM oda.{table}"))
                for row in seen:
                    ind, geo, origin = row.split("|")
                    assert ind in grants, (login, table, row)
                    if table in ("observations", "crime_points"):
                        level = LEVEL_OF.get(geo, "district")
                        assert access.allows(grants[ind].finest_level, level), (login, table,
                                                                                row)
                if table in ("observations", "catalogue") and login in (
                        "t_steward", "t_analyst", "t_admin"):  # what they may see, they do
                    assert any(r.split("|")[2] == "partner" for r in seen), (login, table)
            elif {"ingest_id", "origin"} <= cols:
                seen = _set(_psql(url, login, f"SELECT DISTINCT ingest_id FROM oda.{table} "
                                  "WHERE origin = 'partner'"))
                mine = set(loads["ingest_id"]) if who.rules.partner_data == "all" else \
                    set(loads.loc[loads["partner"] == who.org, "ingest_id"]) \
                    if who.rules.partner_data == "own" and who.org else set()
                assert seen <= mine, (login, table)
                assert bool(seen) == bool(mine), (login, table)
            else:
                raise AssertionError(f"the table {table} is not classified by this test: say "
                                     "who may read it, in store.security and here")
    # The app's own reads are bound the same way, by the scope it reads for.
    app = Store(url)
    used = "SELECT DISTINCT indicator FROM observations WHERE origin = 'partner' ORDER BY 1"
    assert set(app.query(used, scope=("analyst", "avon_police"))["indicator"]) == {"test_in"}
    assert set(app.query(used, scope=("councillor", ""))["indicator"]) == {"test_in"}
    assert set(app.query(used, scope=("data_steward", "test_partner"))["indicator"]) == {
        "test_in", "test_out"} | {i for i in partner if i.startswith("fire_test22")}
    assert set(app.query(used, scope=("data_steward", "someone_else"))["indicator"]) == set()
    assert app.query(used)["indicator"].empty  # no scope: the public
    for scope in (("analyst", "avon_police"), ("data_steward", "someone_else"), None):
        kept = app.query("SELECT count(*) AS n FROM quarantine WHERE origin = 'partner'",
                         scope=scope)
        assert kept["n"].iat[0] == 0, scope
        assert app.query("SELECT count(*) AS n FROM crime_points WHERE origin = 'partner'",
                         scope=scope)["n"].iat[0] == 0
    # A SQL login cannot take the app's role to claim a scope.
    assert _psql(url, "t_analyst", "SET ROLE oda_app").startswith("ERROR")
    app.close()
    owner.close()
