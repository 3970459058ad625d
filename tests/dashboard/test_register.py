"""The interventions register: entering, importing and ending records, every problem
named, every change audited, and a record seen only by those it is shared with, on
every path (the door, the command line)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import geopandas as gpd
import pandas as pd
import pytest

from dashboard import register
from dashboard.access import OPERATOR, PUBLIC, AccessDenied, Viewer, agreements, audit
from dashboard.filters import FilterError
from dashboard.measures import interventions as door
from store import Store
from tests.conftest import PEOPLE, REPO, _add_people

PEOPLE_BY = {name: Viewer(name, role, org) for name, role, org in PEOPLE}
PLANNER, ANALYST = PEOPLE_BY["t_planner"], PEOPLE_BY["t_analyst"]
STEWARD, COUNCILLOR, ADMIN = PEOPLE_BY["t_steward"], PEOPLE_BY["t_councillor"], \
    PEOPLE_BY["t_admin"]
WARD = "E05010885"  # a Bristol ward (WD19)
LSOAS = ["E01014485", "E01014486", "E01014487"]


@pytest.fixture(scope="module")
def reg(series, tmp_path_factory) -> Store:
    """The series store with a register of its own: an agreement for police planners,
    and one record of each kind of visibility."""
    gov = tmp_path_factory.mktemp("register") / "gov.sqlite"
    _add_people(gov)
    local = Store(series.path, governance=gov)
    agreements.add({"id": "op_planners", "title": "Operations: police planners only",
                    "parties": "avon_police", "indicators": "", "roles": "police_planner",
                    "level": "lsoa", "expires": "2099-01-01"}, set(), by=OPERATOR, path=gov)
    common = {"agency": "avon_police", "start": "2022-01",
              "indicators": "anti_social_behaviour"}
    register.add(local, {**common, "id": "patrols", "title": "Hot spot patrols",
                         "areas": WARD, "kind": "patrol", "dose": "6",
                         "dose_unit": "hours a week"}, viewer=ANALYST)
    register.add(local, {**common, "id": "op-quiet", "title": "Covert operation",
                         "areas": ",".join(LSOAS), "visibility": "restricted",
                         "agreement": "op_planners"}, viewer=OPERATOR)
    register.add(local, {**common, "id": "works", "title": "Alley gating",
                         "areas": LSOAS[0], "visibility": "public", "agency": "test_partner"},
                 viewer=STEWARD)
    yield local
    local.close()


def ids(store, viewer) -> set[str]:
    return set(door.register(store, viewer=viewer)["id"])


def test_each_viewer_sees_only_what_is_shared_with_them(reg):
    assert ids(reg, ADMIN) == ids(reg, OPERATOR) == {"patrols", "op-quiet", "works"}
    assert ids(reg, PLANNER) == {"patrols", "op-quiet", "works"}  # named by the agreement
    # Same organisation as the operation, but not a role its agreement names.
    assert ids(reg, ANALYST) == {"patrols", "works"}
    assert ids(reg, STEWARD) == {"patrols", "works"}
    assert ids(reg, COUNCILLOR) == {"works"}  # no organisation: public records only
    assert ids(reg, PUBLIC) == {"works"}


def test_a_hidden_record_reads_as_an_unknown_one(reg):
    with pytest.raises(AccessDenied) as hidden:
        door.record(reg, "op-quiet", viewer=ANALYST)
    with pytest.raises(AccessDenied) as unknown:
        door.record(reg, "no-such-id", viewer=ANALYST)
    assert str(hidden.value).replace("op-quiet", "X") == \
        str(unknown.value).replace("no-such-id", "X")
    assert door.record(reg, "op-quiet", viewer=PLANNER)["title"] == "Covert operation"


def test_a_lapsed_agreement_hides_the_restricted_record(reg):
    import datetime as dt
    assert "op-quiet" not in set(door.register(reg, viewer=PLANNER,
                                               today=dt.date(2099, 2, 1))["id"])


def test_a_record_keeps_its_fields_and_areas(reg):
    rec = door.record(reg, "patrols", viewer=ANALYST)
    assert rec["areas"] == [WARD] and rec["level"] == "ward"
    assert (rec["dose"], rec["dose_unit"], rec["kind"]) == (6.0, "hours a week", "patrol")
    assert rec["end_month"] is None and rec["status"] == "active"
    assert rec["indicators"] == ["anti_social_behaviour"]


def test_every_problem_is_named_at_once(reg):
    with pytest.raises(FilterError) as err:
        register.add(reg, {"id": "bad id!", "title": "", "areas": "E01014485,NOPE",
                           "start": "2022-13", "end": "2021-01", "indicators": "",
                           "cost": "lots", "visibility": "restricted"}, viewer=ANALYST)
    text = str(err.value)
    for words in ("id 'bad id!'", "a title is required", "'NOPE'", "start '2022-13'",
                  "cost 'lots' is not a number", "at least one indicator",
                  "needs --agreement"):
        assert words in text, words


def test_staff_enter_records_for_their_own_agency_only(reg):
    with pytest.raises(FilterError, match="your own organisation"):
        register.add(reg, {"id": "x1", "title": "T", "agency": "avon_fire", "areas": WARD,
                           "start": "2023-01", "indicators": "burglary"}, viewer=ANALYST)
    for nobody in (PUBLIC, COUNCILLOR):
        with pytest.raises(FilterError, match="partner organisation"):
            register.add(reg, {"id": "x2", "title": "T", "areas": WARD, "start": "2023-01",
                               "indicators": "burglary"}, viewer=nobody)


def test_ending_and_changing_are_audited_and_owned(reg):
    with pytest.raises(FilterError, match="avon_police staff"):
        register.end(reg, "patrols", "2023-06", viewer=STEWARD)
    before = len(audit.entries(path=reg.governance))
    rec = register.end(reg, "patrols", "2023-06", viewer=ANALYST)
    assert (rec["end_month"], rec["status"]) == ("2023-06", "ended")
    log = audit.entries(path=reg.governance).iloc[before:]
    detail = json.loads(log["detail"].iloc[-1])
    assert log["event"].iloc[-1] == "intervention" and detail["id"] == "patrols"
    assert set(detail["fields"]) == {"end_month", "status"}
    register.update(reg, "patrols", {"end": None, "status": "active"}, viewer=ANALYST)


def test_an_import_keeps_good_rows_and_names_each_bad_one(reg):
    csv = ("id,title,agency,areas,start,end,indicators,kind,cost\n"
           f"imp-1,Youth outreach,avon_police,{LSOAS[1]};{LSOAS[2]},2022-04,,burglary,"
           "youth outreach,12000\n"
           "imp-2,No areas,avon_police,,2022-04,,burglary,,\n"
           f"imp-3,Bad month,avon_police,{LSOAS[1]},April 2022,,burglary,,\n"
           f"imp-1,Duplicate,avon_police,{LSOAS[1]},2022-04,,burglary,,\n")
    added, refused = register.import_csv(reg, csv.encode(), "plans.csv", viewer=ANALYST)
    assert [r["id"] for r in added] == ["imp-1"]
    assert added[0]["areas"] == LSOAS[1:] and added[0]["cost"] == 12000
    assert list(refused["row"]) == [3, 4, 5]
    assert "at least one area" in refused["reason"].iloc[0]
    assert "'April 2022' is not a month" in refused["reason"].iloc[1]
    assert "is taken" in refused["reason"].iloc[2]
    with pytest.raises(FilterError, match="required"):
        register.import_csv(reg, b"name,place\nx,y\n", "wrong.csv", viewer=ANALYST)


def test_a_geojson_footprint_becomes_the_areas_it_covers(reg, regions):
    from dashboard import geography
    region = regions["avon_and_somerset"]
    shapes = geography.area_shapes(reg, region, "lsoa").set_index("code").to_crs(4326)
    inside = shapes.loc[LSOAS[0], "geometry"].representative_point()
    square = shapes.loc[LSOAS[1], "geometry"].buffer(-0.0005)  # well inside one LSOA
    features = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": {
            "type": "Point", "coordinates": [inside.x, inside.y]}},
        {"type": "Feature", "properties": {},
         "geometry": gpd.GeoSeries([square]).__geo_interface__["features"][0]["geometry"]}]}
    rec = register.add(reg, {"id": "cctv", "title": "CCTV cameras", "start": "2023-01",
                             "indicators": "robbery"}, viewer=ANALYST,
                       areas_file=(json.dumps(features).encode(), "cameras.geojson"))
    assert rec["areas"] == sorted(LSOAS[:2]) and rec["areas_from"] == "cameras.geojson"
    far = {"type": "Feature", "properties": {}, "geometry": {"type": "Point",
                                                             "coordinates": [-1.9, 52.48]}}
    with pytest.raises(FilterError, match="covers no LSOA of Avon and Somerset"):
        register.add(reg, {"id": "cctv2", "title": "T", "start": "2023-01",
                           "indicators": "robbery"}, viewer=ANALYST,
                     areas_file=(json.dumps(far).encode(), "birmingham.geojson"))
    with pytest.raises(FilterError, match="not a GeoJSON file"):
        register.add(reg, {"id": "cctv3", "title": "T", "start": "2023-01",
                           "indicators": "robbery"}, viewer=ANALYST,
                     areas_file=(b"not json at all", "x.geojson"))


def run(store: Store, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "ODA_GOVERNANCE": str(store.governance)}
    return subprocess.run([sys.executable, "-m", "dashboard", *args, "--store",
                           str(store.path)], cwd=REPO, capture_output=True, text=True,
                          timeout=300, env=env)


def test_the_command_line_lists_only_what_the_account_may_see(reg):
    seen = {}
    for name in ("t_planner", "t_analyst", "t_councillor"):
        done = run(reg, "interventions", "list", "--as", name)
        assert done.returncode == 0, done.stderr
        seen[name] = set(pd.read_csv(io.StringIO(done.stdout))["id"])
    assert "op-quiet" in seen["t_planner"]
    assert "op-quiet" not in seen["t_analyst"] | seen["t_councillor"]
    assert seen["t_councillor"] == {"works"}


def test_a_listed_title_cannot_run_as_a_spreadsheet_formula(reg):
    register.add(reg, {"id": "formula", "title": "=HYPERLINK(\"http://x\",\"y\")",
                       "areas": WARD, "start": "2023-01", "indicators": "burglary"},
                 viewer=ANALYST)
    done = run(reg, "interventions", "list", "--as", "t_analyst")
    listed = pd.read_csv(io.StringIO(done.stdout)).set_index("id")
    assert listed.loc["formula", "title"].startswith("'=")


def test_the_command_line_adds_and_refuses_with_reasons(reg):
    done = run(reg, "interventions", "add", "--id", "cli-1", "--title", "Street lighting",
               "--areas", WARD, "--start", "2023-03", "--indicators", "burglary",
               "--type", "street lighting", "--as", "t_analyst")
    assert done.returncode == 0, done.stderr
    assert "added cli-1" in done.stderr
    done = run(reg, "interventions", "add", "--id", "cli-2", "--title", "T", "--areas",
               "E99999999", "--start", "2023-03", "--indicators", "burglary",
               "--as", "t_analyst")
    assert done.returncode == 2 and "'E99999999'" in done.stderr


def test_an_evaluation_of_a_hidden_record_is_refused_like_an_unknown_one(reg, tmp_path):
    out = tmp_path / "e.csv"
    done = run(reg, "evaluate", "--intervention", "op-quiet", "--indicator",
               "anti_social_behaviour", "--out", str(out), "--as", "t_analyst")
    assert done.returncode == 2 and "not in the register" in done.stderr
    assert not out.exists()
    entry = audit.entries(path=reg.governance).iloc[-1]
    assert entry["event"] == "refused" and entry["actor"] == "t_analyst"
