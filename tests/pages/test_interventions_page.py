"""The interventions register in the app: each page shows each kind of user only the
records shared with them (the register, the map's outlines and list, unserved hot spots,
the ward profile, the Overview's card), and a partner's staff can add one and evaluate it."""

from __future__ import annotations

import shutil

import pytest

from dashboard import register
from dashboard.access import OPERATOR, agreements
from store import Store
from tests.conftest import _add_people
from tests.pages.conftest import app
from tests.pages.test_roles import page_text

WARD = "E05010892"  # a Bristol ward (WD19), as the profile tests use
TITLES = {"iv-partners": "Patrols for partners", "iv-quiet": "Covert operation",
          "iv-public": "Alley gating for all"}
SEES = {None: {"iv-public"}, "t_councillor": {"iv-public"},
        "t_analyst": {"iv-partners", "iv-public"},
        "t_planner": {"iv-partners", "iv-public", "iv-quiet"},
        "t_admin": set(TITLES)}


@pytest.fixture(scope="module")
def acting_world(partner_world, tmp_path_factory):
    """The partner world with a register of its own: one record shared with partners'
    staff, one restricted to police planners by an agreement, one public; all live in
    2022 over the same ward."""
    folder = tmp_path_factory.mktemp("acting_world")
    path = folder / "store.duckdb"
    shutil.copy(partner_world, path)
    gov = folder / "gov.sqlite"
    _add_people(gov)
    agreements.add({"id": "ISA-IN", "title": "Test agreement ISA-IN", "parties": "test_partner",
                    "indicators": "test_in", "roles": "councillor,analyst", "level": "lsoa",
                    "expires": "2099-01-01"}, {"test_in"}, by=OPERATOR, path=gov)
    agreements.add({"id": "ISA-OPS", "title": "Operations", "parties": "avon_police",
                    "indicators": "", "roles": "police_planner", "level": "lsoa",
                    "expires": "2099-01-01"}, set(), by=OPERATOR, path=gov)
    local = Store(path, governance=gov)
    common = {"agency": "avon_police", "start": "2022-01", "end": "2022-12", "areas": WARD,
              "indicators": "test_in"}
    register.add(local, {**common, "id": "iv-partners", "title": TITLES["iv-partners"]},
                 viewer=OPERATOR)
    register.add(local, {**common, "id": "iv-quiet", "title": TITLES["iv-quiet"],
                         "visibility": "restricted", "agreement": "ISA-OPS"}, viewer=OPERATOR)
    register.add(local, {**common, "id": "iv-public", "title": TITLES["iv-public"],
                         "agency": "bristol_council", "visibility": "public"},
                 viewer=OPERATOR)
    local.close()
    return path, gov


PAGES = {"interventions.py": {}, "map.py": {"level": "ward"},
         "hotspots.py": {"level": "ward"}, "profile.py": {"ward": WARD},
         "overview.py": {}}


@pytest.mark.parametrize("user", list(SEES), ids=lambda u: u or "public")
@pytest.mark.parametrize("page", list(PAGES))
def test_each_page_shows_only_the_records_shared_with_the_user(acting_world, monkeypatch,
                                                               page, user):
    path, gov = acting_world
    monkeypatch.setenv("ODA_STORE", str(path))
    monkeypatch.setenv("ODA_GOVERNANCE", str(gov))
    at = app(f"pages/{page}", user=user, region="avon_and_somerset", indicator="test_in",
             period="2022-01:2022-12", **PAGES[page]).run()
    assert not at.exception, [e.value for e in at.exception]
    text = page_text(at)
    for ident, title in TITLES.items():
        if ident not in SEES[user]:
            assert title not in text, (page, user, ident)
        elif page in ("interventions.py", "map.py", "profile.py"):
            assert title in text, (page, user, ident)
    if page == "overview.py":
        live = next(m for m in at.metric if m.label == "Interventions live")
        assert live.value == str(len(SEES[user]))


def test_a_partner_adds_a_record_on_the_page(acting_world, monkeypatch):
    path, gov = acting_world
    monkeypatch.setenv("ODA_STORE", str(path))
    monkeypatch.setenv("ODA_GOVERNANCE", str(gov))
    at = app("pages/interventions.py", user="t_analyst", region="avon_and_somerset").run()
    at.text_input(key="iv_id").set_value("iv-page")
    at.text_input(key="iv_title").set_value("Youth outreach from the page")
    at.multiselect(key="iv_wards").set_value([WARD])
    at.text_input(key="iv_start").set_value("2022-03")
    at.multiselect(key="iv_indicators").set_value(["test_in"])
    at.button[0].click()  # the form's submit button
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Added iv-page" in s.value for s in at.success), [e.value for e in at.error]
    at.text_input(key="iv_id").set_value("iv-page")
    at.button[0].click()
    at.run()
    assert any("is taken" in e.value for e in at.error)
