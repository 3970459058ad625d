"""Role x page x data: every page, run as each kind of user against a store holding a
partner indicator inside a live agreement, one in no agreement and one whose agreement
expired. Titles of what a user may not see appear nowhere on the page."""

from __future__ import annotations

import pytest

from tests.pages.conftest import PAGES, app

TITLES = {"test_in": "Test: shared indicator", "test_out": "Test: unshared indicator",
          "test_gone": "Test: expired indicator"}
# Which partner indicators each role sees anywhere (see tests/dashboard/access/test_access.py).
SEES = {None: set(), "t_councillor": {"test_in"}, "t_analyst": {"test_in"},
        "t_planner": set(), "t_steward": {"test_in", "test_out"},
        "t_admin": {"test_in", "test_out", "test_gone"}}


def page_text(at) -> str:
    """Everything a user can read or pick on the page."""
    parts = []
    for kind in ("selectbox", "multiselect", "radio", "segmented_control"):
        for widget in getattr(at, kind, []):
            parts += [str(o) for o in getattr(widget, "options", [])]
    for kind in ("markdown", "caption", "info", "warning", "error", "success", "subheader",
                 "header", "title", "metric"):
        parts += [str(getattr(e, "value", "")) + str(getattr(e, "label", ""))
                  for e in getattr(at, kind, [])]
    for frame in at.dataframe:
        parts.append(frame.value.to_csv())
    return "\n".join(parts)


@pytest.mark.parametrize("user", list(SEES), ids=lambda u: u or "public")
# Pages that show no figures: nothing to allow or withhold.
@pytest.mark.parametrize("page", [p for p in PAGES
                                  if p not in ("signin.py", "admin.py", "accessibility.py")])
def test_each_page_shows_each_role_only_what_its_agreements_allow(partner_world, monkeypatch,
                                                                  page, user):
    monkeypatch.setenv("ODA_STORE", str(partner_world))
    at = app(f"pages/{page}", user=user, region="avon_and_somerset", level="lsoa",
             indicator="test_in", indicators="test_in,test_out,test_gone").run()
    assert not at.exception, [e.value for e in at.exception]
    text = page_text(at)
    for indicator, title in TITLES.items():
        if indicator in SEES[user] and page in ("map.py", "hotspots.py", "export.py",
                                                "data.py", "about.py"):
            assert title in text, (page, user, indicator)
        if indicator not in SEES[user]:
            assert title not in text, (page, user, indicator)
    view = at.session_state["view"]
    if user in (None, "t_councillor"):  # a link cannot widen access to LSOAs
        assert view.level == "ward"
    if user is None:
        assert view.indicator != "test_in"


def test_a_public_visitor_is_told_why_lsoas_are_not_shown(partner_world, monkeypatch):
    monkeypatch.setenv("ODA_STORE", str(partner_world))
    at = app("pages/map.py", user=None, region="avon_and_somerset", level="lsoa",
             indicator="crime_all").run()
    assert at.session_state["view"].level == "ward"
    notices = " ".join(w.value for w in at.warning)
    assert "asked for LSOA" in notices and "Sign in for finer detail" in notices
