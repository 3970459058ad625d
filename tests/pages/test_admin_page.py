"""The Administration page lists an agreement's indicators that have no data yet as
awaiting data, and registers an agreement for an id not loaded yet (with a warning
when the id is close to a loaded one)."""

from __future__ import annotations

from dashboard import access
from dashboard.access import Viewer, agreements
from store import Store
from tests.pages.conftest import app

ADMIN = Viewer("t_admin", "administrator")


def test_awaiting_indicators_are_shown_and_can_be_registered():
    store = Store()
    gov = store.governance
    known = access.partner_indicators(store)
    ident = "isa_awaiting_page"
    if ident not in set(agreements.register(gov)["id"]):
        agreements.add({"id": ident, "title": "Signed before the data", "parties":
                        "avon_fire", "orgs": "somerset_council",
                        "indicators": ["fire_not_loaded_yet"], "level": "ward",
                        "expires": "2031-01-01"}, known, by=ADMIN, path=gov)
    at = app("pages/admin.py", user="t_admin").run()
    assert not at.exception, [e.value for e in at.exception]
    table = at.dataframe[0].value.set_index("id")
    assert table.at[ident, "awaiting_data"] == "fire_not_loaded_yet"

    at.text_input(key="admin_ag_coming").input("fire_later_incidents")
    form = [w for w in at.text_input if w.label == "Id"][0]
    form.input("isa_awaiting_form")
    [w for w in at.text_input if w.label == "Title"][0].input("Later incidents")
    [w for w in at.text_input if w.label.startswith("Parties")][0].input("avon_fire")
    [w for w in at.text_input if w.label.startswith("Organisations")][0] \
        .input("somerset_council")
    at.button[[b.label for b in at.button].index("Register")].click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    row = agreements.register(gov).set_index("id").loc["isa_awaiting_form"]
    assert row["indicators"] == ["fire_later_incidents"]
    table = at.dataframe[0].value.set_index("id")
    assert table.at["isa_awaiting_form", "awaiting_data"] == "fire_later_incidents"
