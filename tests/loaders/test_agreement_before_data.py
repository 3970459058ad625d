"""An information-sharing agreement is signed before data flows: it may name an
indicator that has not been loaded yet, which waits as "awaiting data" and is bound by
the agreement the moment its first file lands (the audit log records the binding)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from dashboard import access, measures
from dashboard.access import AccessDenied, Viewer, agreements, audit
from dashboard.filters import FilterError, ViewFilter
from loaders.ingest import ingest
from store import Store

TODAY = dt.date(2026, 6, 1)
ADMIN = Viewer("t_admin", "administrator")
COVERED = Viewer("t_fire_analyst", "analyst", "somerset_council")
NOT_COVERED = Viewer("t_other_analyst", "analyst", "someone_else")
FIRE = "fire_kitchen_incidents"


def spec(ident: str, indicators: list[str]) -> dict:
    return {"id": ident, "title": "Kitchen fires for prevention", "parties":
            "avon_fire, somerset_council", "orgs": "somerset_council",
            "indicators": indicators, "level": "lsoa", "expires": "2030-01-01"}


def test_an_agreement_binds_an_indicator_when_it_arrives(loader_store, tmp_path, regions):
    gov = tmp_path / "governance.sqlite"
    store = Store(loader_store, gov)
    known = access.partner_indicators(store)
    assert FIRE not in known
    added = agreements.add(spec("isa_fire_first", [FIRE]), known, by=ADMIN, path=gov)
    assert added["awaiting"] == [FIRE] and added["warnings"] == []
    register = agreements.register(gov)
    assert agreements.awaiting(register, known).tolist() == [[FIRE]]
    flt = ViewFilter("avon_and_somerset", "lsoa", FIRE, "2024", "2024")
    with pytest.raises(AccessDenied):  # nothing to see yet, for anyone
        measures.indicator_view(store, regions["avon_and_somerset"], flt, viewer=COVERED)
    store.close()  # the load below writes to the file

    data = tmp_path / "kitchen_fires.csv"
    data.write_text("area_code,period,indicator,value\n"
                    "E01014485,2024,fire_kitchen_incidents,7\n"
                    "E01014486,2024,fire_kitchen_incidents,12\n"
                    "E01014487,2024,fire_kitchen_incidents,0\n")
    report = ingest(data, store=loader_store, partner="avon_fire", today=TODAY,
                    governance_file=gov)
    assert not report.refused, report.reason
    assert f"{FIRE} arrived under the agreement isa_fire_first (registered before the " \
        "data): it applies to them now" in report.notes
    assert agreements.awaiting(agreements.register(gov),
                               access.partner_indicators(store)).tolist() == [[]]
    got = measures.indicator_view(store, regions["avon_and_somerset"], flt,
                                  viewer=COVERED).set_index("area_code")
    assert got.loc["E01014485", "value"] == 7 and got.loc["E01014486", "value"] == 12
    with pytest.raises(AccessDenied):
        measures.indicator_view(store, regions["avon_and_somerset"], flt, viewer=NOT_COVERED)
    log = audit.entries(event="agreement", path=gov)
    binds = [json.loads(d) for d in log["detail"] if json.loads(d).get("action") == "bind"]
    assert binds == [{"action": "bind", "id": "isa_fire_first", "indicators": [FIRE],
                      "file": "kitchen_fires.csv"}]
    # A second file of the same indicator binds nothing new.
    again = tmp_path / "kitchen_fires_2025.csv"
    again.write_text("area_code,period,indicator,value\nE01014485,2025,"
                     "fire_kitchen_incidents,9\n")
    store.close()
    assert not ingest(again, store=loader_store, partner="avon_fire", today=TODAY,
                      governance_file=gov).refused
    log = audit.entries(event="agreement", path=gov)
    assert sum(json.loads(d).get("action") == "bind" for d in log["detail"]) == 1


def test_a_close_id_is_warned_about_but_allowed_and_bad_ids_are_refused(loader_store,
                                                                         tmp_path):
    gov = tmp_path / "governance.sqlite"
    data = tmp_path / "deliberate.csv"
    data.write_text("area_code,period,indicator,value\nE01014485,2024,fire_deliberate,6\n")
    assert not ingest(data, store=loader_store, partner="avon_fire", today=TODAY,
                      governance_file=gov).refused
    store = Store(loader_store, gov)
    known = access.partner_indicators(store)
    assert "fire_deliberate" in known
    added = agreements.add(spec("isa_typo", ["fire_delibrate"]), known, by=ADMIN, path=gov)
    assert added["awaiting"] == ["fire_delibrate"]
    assert added["warnings"] == [
        "'fire_delibrate' has no data yet and is close to the loaded indicator "
        "'fire_deliberate'; check it is not a typo (it is kept as awaiting data)"]
    with pytest.raises(FilterError, match=r"\['crime_all'\] are open data"):
        agreements.add(spec("isa_open", ["crime_all"]), known, by=ADMIN, path=gov)
    with pytest.raises(FilterError, match="are not indicator ids"):
        agreements.add(spec("isa_bad", ["Kitchen Fires!"]), known, by=ADMIN, path=gov)
    with pytest.raises(FilterError, match="already belong to the agreement isa_typo"):
        agreements.add(spec("isa_twice", ["fire_delibrate"]), known, by=ADMIN, path=gov)
