"""Who may see what: every role against an open indicator, a partner indicator inside
its agreement, one in no agreement, and one whose agreement has expired; accounts,
sign-in and lockout; the audit chain; and the command line's ``--as``."""

from __future__ import annotations

import datetime as dt
import sqlite3
import sys

import pytest

from dashboard import access, measures
from dashboard.access import OPERATOR, PUBLIC, AccessDenied, Viewer, accounts, agreements, audit
from dashboard.analysis import hotspot_views
from dashboard.filters import FilterError, ViewFilter
from dashboard.geography.regions import get_region
from dashboard.views import export
from store import Store, governance
from tests.conftest import PASSWORD

REGION = get_region("avon_and_somerset")
VIEWERS = {
    "public": PUBLIC,
    "councillor": Viewer("t_councillor", "councillor"),
    "analyst": Viewer("t_analyst", "analyst", "avon_police"),
    "planner": Viewer("t_planner", "police_planner", "avon_police"),
    "steward": Viewer("t_steward", "data_steward", "test_partner"),
    "other_steward": Viewer("x_steward", "data_steward", "someone_else"),
    "admin": Viewer("t_admin", "administrator"),
}
# What each role sees: indicator -> finest level (None: not at all).
EXPECTED = {
    "public": {"crime_all": "ward", "test_in": None, "test_out": None, "test_gone": None},
    "councillor": {"crime_all": "ward", "test_in": "ward", "test_out": None,
                   "test_gone": None},
    "analyst": {"crime_all": "point", "test_in": "lsoa", "test_out": None, "test_gone": None},
    "planner": {"crime_all": "point", "test_in": None, "test_out": None, "test_gone": None},
    "steward": {"crime_all": "lsoa", "test_in": "lsoa", "test_out": "lsoa",
                "test_gone": None},  # expired: hidden from its own stewards too
    "other_steward": {"crime_all": "lsoa", "test_in": None, "test_out": None,
                      "test_gone": None},
    "admin": {"crime_all": "point", "test_in": "point", "test_out": "point",
              "test_gone": "point"},
}


pytestmark = pytest.mark.backends


@pytest.fixture(scope="module")
def world(partner_store):
    return partner_store


def flt(indicator: str, level: str) -> ViewFilter:
    return ViewFilter(region=REGION.name, level=level, indicator=indicator,
                      period_start="2022-01", period_end="2022-03")


@pytest.mark.parametrize("who", list(VIEWERS))
def test_grants_follow_role_agreement_and_expiry(world, who):
    grants = access.rules(world, VIEWERS[who])
    got = {i: grants[i].finest_level if i in grants else None for i in EXPECTED[who]}
    assert got == EXPECTED[who]


@pytest.mark.parametrize("who", list(VIEWERS))
@pytest.mark.parametrize("indicator", ["crime_all", "test_in", "test_out", "test_gone"])
@pytest.mark.parametrize("level", ["lsoa", "ward"])
def test_the_chokepoint_gives_figures_only_where_allowed(world, who, indicator, level):
    finest = EXPECTED[who][indicator]
    allowed = finest is not None and access.allows(finest, level)
    if allowed:
        view = measures.indicator_view(world, REGION, flt(indicator, level),
                                       viewer=VIEWERS[who])
        assert view["value"].notna().any()
        return
    with pytest.raises(AccessDenied) as err:
        measures.indicator_view(world, REGION, flt(indicator, level), viewer=VIEWERS[who])
    message = err.value.user_message
    if finest is None:  # not even the title is given away
        assert "not in the catalogue" in message and "Test:" not in message
        assert indicator not in message.split("known:")[1]
    else:
        assert "available to you at ward level" in message


def test_the_catalogue_a_user_sees_lists_only_what_they_may_see(world):
    cat = access.partner_catalogue(world, OPERATOR)
    for who, expected in EXPECTED.items():
        shown = access.visible_catalogue(cat, access.rules(world, VIEWERS[who]))
        visible = {i for i, lvl in expected.items() if lvl}
        assert visible <= set(shown["indicator"])
        assert not ({i for i, lvl in expected.items() if not lvl} & set(shown["indicator"]))


def test_exports_and_hotspots_obey_the_same_rule(world):
    councillor = VIEWERS["councillor"]
    frame = export.export_frame(world, REGION, flt("test_in", "ward"), ["test_in", "crime_all"],
                                viewer=councillor)
    assert set(frame["indicator"]) == {"test_in", "crime_all"}
    with pytest.raises(AccessDenied):
        export.export_frame(world, REGION, flt("test_in", "ward"), ["test_in", "test_out"],
                            viewer=councillor)
    with pytest.raises(AccessDenied):
        hotspot_views.hotspot_view(world, REGION, flt("test_in", "lsoa"), viewer=councillor)
    with pytest.raises(AccessDenied):  # points are finer than LSOAs
        hotspot_views.hex_hotspot_view(world, REGION, flt("crime_all", "lsoa"), 7,
                                  viewer=VIEWERS["steward"])
    summary = measures.region_summary(world, REGION, "2022-01", "2022-03",
                                      world.query("SELECT *, '' AS first_period, "
                                                  "'' AS last_period FROM catalogue"),
                                      viewer=PUBLIC)
    assert not ({"test_in", "test_out", "test_gone"} & set(summary["indicator"]))


def test_expiring_an_agreement_hides_its_data_at_once(world, tmp_path):
    gov = tmp_path / "gov.sqlite"
    local = Store(world.path, governance=gov)
    agreements.add({"id": "ISA-T", "title": "T", "parties": "test_partner",
                    "indicators": "test_in", "roles": "analyst", "level": "ward",
                    "expires": dt.date.today() + dt.timedelta(days=20),
                    "review_date": dt.date.today() + dt.timedelta(days=5)},
                   {"test_in"}, by=OPERATOR, path=gov)
    analyst = VIEWERS["analyst"]
    assert access.rules(local, analyst)["test_in"].finest_level == "ward"  # agreement narrows
    warned = agreements.warnings(path=gov)
    assert any("expires on" in w for w in warned) and any("review" in w for w in warned)
    agreements.set_status("ISA-T", "expired", by=OPERATOR, path=gov)
    assert "test_in" not in access.rules(local, analyst)
    assert "test_in" in access.rules(local, OPERATOR)
    log = audit.entries(event="agreement", path=gov)
    assert list(log["actor"]) == ["operator", "operator"]
    assert '"status": "expired"' in log["detail"].iat[1]


def test_an_indicator_belongs_to_exactly_one_agreement(tmp_path):
    gov = tmp_path / "gov.sqlite"
    base = {"title": "A", "parties": "p", "roles": "analyst", "level": "lsoa",
            "expires": "2030-01-01"}
    agreements.add({"id": "A1", "indicators": "x", **base}, {"x", "y"}, by=OPERATOR, path=gov)
    with pytest.raises(FilterError, match="already belong to the agreement A1"):
        agreements.add({"id": "A2", "indicators": "x,y", **base}, {"x", "y"}, by=OPERATOR,
                       path=gov)
    with pytest.raises(FilterError) as err:
        agreements.add({"id": "A3", "indicators": "crime_all", **base, "roles": "mayor",
                        "level": "street", "expires": "soon"}, {"x"}, by=OPERATOR, path=gov)
    text = err.value.user_message
    assert "are open data" in text and "'mayor'" in text and "'street'" in text
    assert "not a date" in text


def test_passwords_are_argon2_and_sign_in_locks_after_repeated_failures(tmp_path):
    gov = tmp_path / "gov.sqlite"
    accounts.add_user("kim", "analyst", "avon_police", PASSWORD, by=OPERATOR, path=gov)
    stored = governance.read("SELECT password_hash FROM accounts", path=gov).iat[0, 0]
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert accounts.sign_in("kim", PASSWORD, gov) == Viewer("kim", "analyst", "avon_police")
    for _ in range(accounts.MAX_FAILURES - 1):
        with pytest.raises(accounts.SignInError, match="name or password is wrong$"):
            accounts.sign_in("kim", "wrong password!", gov)
    with pytest.raises(accounts.SignInError, match="now pauses for 15 minutes"):
        accounts.sign_in("kim", "wrong password!", gov)
    with pytest.raises(accounts.SignInError, match="paused here after 5 failed attempts"):
        accounts.sign_in("kim", PASSWORD, gov)  # even the right password, while paused
    later = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(minutes=16)
    assert accounts.sign_in("kim", PASSWORD, gov, now=later).name == "kim"
    accounts.set_active("kim", False, by=OPERATOR, path=gov)
    with pytest.raises(accounts.SignInError):
        accounts.sign_in("kim", PASSWORD, gov)
    with pytest.raises(accounts.SignInError, match="name or password is wrong"):
        accounts.sign_in("nobody", PASSWORD, gov)
    events = audit.entries(path=gov)["event"].tolist()
    assert events.count("sign-in") == 2 and events.count("sign-in failed") == 8


def test_audit_verify_fails_when_a_row_is_edited_or_deleted(tmp_path):
    gov = tmp_path / "gov.sqlite"
    for i in range(5):
        audit.record(OPERATOR, "view", gov, indicator=f"i{i}")
    assert audit.verify(gov) == []
    with sqlite3.connect(gov) as con:
        con.execute("UPDATE audit_log SET actor = 'someone' WHERE seq = 3")
    assert audit.verify(gov) == ["entry 3 (view by someone) was changed or forged (its MAC "
                                 "does not match the deployment's key)"]
    with sqlite3.connect(gov) as con:
        con.execute("UPDATE audit_log SET actor = 'operator' WHERE seq = 3")
        con.execute("DELETE FROM audit_log WHERE seq = 2")
    assert "entry 2 is missing (the next is 3)" in audit.verify(gov)


def cli(*args, stdin: str = "", env_gov=None):
    """Run ``python -m dashboard`` in this process (as the module's ``main``), with its
    own governance register, standard input and captured output."""
    import contextlib
    import io
    import os
    from types import SimpleNamespace

    from dashboard.cli.commands import main
    err, out = io.StringIO(), io.StringIO()
    before = os.environ.get("ODA_GOVERNANCE")
    os.environ["ODA_GOVERNANCE"] = str(env_gov)
    old_stdin, sys.stdin = sys.stdin, io.StringIO(stdin)
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            code = main(list(args))
    finally:
        sys.stdin = old_stdin
        os.environ["ODA_GOVERNANCE"] = before
    return SimpleNamespace(returncode=code, stderr=err.getvalue(), stdout=out.getvalue())


def test_command_line_users_agreements_as_and_audit(partner_world, tmp_path):
    gov = tmp_path / "gov.sqlite"
    store = ["--store", str(partner_world)]
    assert cli("users", "add", "cllr", "--role", "councillor", *store,
               stdin=PASSWORD + "\n", env_gov=gov).returncode == 0
    assert cli("users", "add", "ana", "--role", "analyst", "--org", "avon_police", *store,
               stdin=PASSWORD + "\n", env_gov=gov).returncode == 0
    done = cli("agreements", "add", "--id", "ISA-1", "--title", "Fire and police",
               "--parties", "test_partner,avon_police", "--indicators", "test_in",
               "--roles", "councillor", "--orgs", "avon_police", "--level", "ward",
               "--expires", "2031-03-31", "--lawful-basis", "UK GDPR 6(1)(e)", *store,
               env_gov=gov)
    assert done.returncode == 0, done.stderr
    view = ["export", "--region", REGION.name, "--indicator", "test_in",
            "--period", "2022-01:2022-02", *store]
    refused = cli(*view, "--level", "lsoa", "--out", str(tmp_path / "a.csv"), "--as", "cllr",
                  env_gov=gov)
    assert refused.returncode == 2
    assert refused.stderr.count("\n") == 1 and "ward level and above" in refused.stderr
    ok = cli(*view, "--level", "ward", "--out", str(tmp_path / "w.csv"), "--as", "cllr",
             env_gov=gov)
    assert ok.returncode == 0, ok.stderr
    hidden = cli(*view, "--level", "ward", "--indicator", "test_out", "--out",
                 str(tmp_path / "o.csv"), "--as", "ana", env_gov=gov)
    assert hidden.returncode == 2 and "not in the catalogue" in hidden.stderr
    assert "unshared" not in hidden.stderr
    assert cli("users", "list", *store, "--as", "ana", env_gov=gov).returncode == 2
    assert cli("agreements", "expire", "ISA-1", *store, env_gov=gov).returncode == 0
    gone = cli(*view, "--level", "ward", "--out", str(tmp_path / "g.csv"), "--as", "cllr",
               env_gov=gov)
    assert gone.returncode == 2
    out = tmp_path / "audit.csv"
    assert cli("audit", "--user", "cllr", "--out", str(out), *store,
               env_gov=gov).returncode == 0
    log = __import__("pandas").read_csv(out)
    assert {"command", "export"} <= set(log["event"]) and set(log["actor"]) == {"cllr"}
    assert log.loc[log["event"] == "export", "detail"].str.contains("sha256").all()
    assert cli("audit", "verify", *store, env_gov=gov).returncode == 0
    with sqlite3.connect(gov) as con:
        con.execute("UPDATE audit_log SET detail = '{}' WHERE event = 'export'")
    broken = cli("audit", "verify", *store, env_gov=gov)
    assert broken.returncode == 1 and "was changed" in broken.stderr
    missing = cli("audit", "--out", str(tmp_path / "no" / "a.csv"), *store, env_gov=gov)
    assert missing.returncode == 2 and "does not exist" in missing.stderr


def test_uploads_are_the_stewards_own_and_audited(private_store):
    from dashboard import partners
    local, gov = private_store, private_store.governance
    steward = VIEWERS["steward"]
    data = (b"area_code,period,indicator,value,partner\n"
            b"E01014399,2022-01,steward_fires,7,test_partner\n"
            b"E01014400,2022-01,steward_fires,9,someone_else\n")
    report = partners.ingest_upload(local, data, "fires.csv", viewer=steward,
                                    partner="someone_else")
    assert report.refused and "you upload for test_partner" in report.reason
    report = partners.ingest_upload(local, data, "fires.csv", viewer=steward)
    assert report.rows_loaded == 1 and report.quarantine[0]["column"] == "partner"
    with pytest.raises(AccessDenied, match="cannot load partner files"):
        partners.ingest_upload(local, data, "fires.csv", viewer=VIEWERS["analyst"])
    log = audit.entries(event="upload", path=gov)
    assert list(log["actor"]) == ["t_steward", "t_steward"]
    assert '"refused": true' in log["detail"].iat[0] and '"sha256"' in log["detail"].iat[1]
    # Unassigned, the upload is its own stewards' (and administrators') only.
    assert "steward_fires" in access.rules(local, steward)
    assert "steward_fires" not in access.rules(local, VIEWERS["analyst"])
    assert "steward_fires" not in access.rules(local, VIEWERS["other_steward"])


def test_a_deployment_names_its_own_roles_file_and_a_wrong_one_is_refused(tmp_path,
                                                                          monkeypatch):
    from dashboard.access.roles import load_roles
    from loaders import ConfigError
    from store.settings import DEFAULT_ROLES, roles_file

    assert roles_file() == DEFAULT_ROLES
    own = tmp_path / "roles.toml"
    own.write_text(DEFAULT_ROLES.read_text().replace(
        'description = "Anyone, without signing in: open data at ward level and above."\n'
        'finest_level = "ward"', 'description = "Anyone."\nfinest_level = "lsoa"'))
    monkeypatch.setenv("ODA_ROLES", str(own))
    assert roles_file() == own
    assert load_roles(roles_file())["public"].finest_level == "lsoa"
    monkeypatch.setenv("ODA_ROLES", str(tmp_path / "missing.toml"))
    with pytest.raises(ConfigError, match="ODA_ROLES.*missing.toml.*does not exist"):
        roles_file()
