"""Region-wide figures kept for the next ward (``dashboard.measures.remembered``): the
same figures as computed afresh, a copy to each caller, and never another scope's."""

from __future__ import annotations

import pandas as pd
import pytest

from dashboard import measures
from dashboard.access import OPERATOR, AccessDenied, Viewer
from dashboard.analysis import profile
from dashboard.filters import ViewFilter
from dashboard.measures import remembered

FLT = ViewFilter("avon_and_somerset", "ward", "crime_all", "2022-01", "2022-11", "rate")


def test_a_second_ward_gets_the_figures_a_fresh_read_gives(store, regions):
    region = regions["avon_and_somerset"]
    remembered.forget()
    profile.ward_profile(store, region, "E05010892", FLT, viewer=OPERATOR)  # fills it
    kept = profile.ward_profile(store, region, "E05010885", FLT, viewer=OPERATOR)
    remembered.forget()
    fresh = profile.ward_profile(store, region, "E05010885", FLT, viewer=OPERATOR)
    pd.testing.assert_frame_equal(kept, fresh)
    trend = profile.ward_trend(store, region, "E05010885", FLT, viewer=OPERATOR)
    again = profile.ward_trend(store, region, "E05010885", FLT, viewer=OPERATOR)
    pd.testing.assert_frame_equal(trend, again)


def test_each_caller_gets_its_own_copy(store, regions):
    region = regions["avon_and_somerset"]
    view, comp = measures.view_and_comparators(store, region, FLT, viewer=OPERATOR)
    view["value"] = -1.0
    comp[:] = -1.0
    again, comp_again = measures.view_and_comparators(store, region, FLT, viewer=OPERATOR)
    assert (again["value"].dropna() >= 0).all() and (comp_again.dropna() >= 0).all()


def test_another_scope_never_gets_what_was_kept(series, regions):
    """A partner's monthly series read by the operator is not handed to a councillor
    (who may not see it here) nor kept under the councillor's scope."""
    region = regions["avon_and_somerset"]
    flt = ViewFilter("avon_and_somerset", "ward", "burglary", "2024-01", "2024-06", "count")
    months = ["2024-01", "2024-02", "2024-03"]
    measures.indicator_views(series, region, flt, months, viewer=OPERATOR)
    measures.view_and_comparators(series, region, flt, viewer=OPERATOR)
    stranger = Viewer("t_councillor", "councillor", "")
    with pytest.raises(AccessDenied):
        measures.indicator_views(series, region, flt, months, viewer=stranger)
    with pytest.raises(AccessDenied):
        measures.view_and_comparators(series, region, flt, viewer=stranger)
    keys = [k for k in remembered._kept if k[0] in ("indicator_views", "view_and_comparators")]
    assert keys and all(k[3] == OPERATOR.scope() for k in keys)


def test_the_key_holds_the_store_state_scope_and_grants(store):
    grants = {"a": "grant"}
    base = remembered.key("f", store, OPERATOR, grants, 1)
    assert remembered.key("f", store, Viewer("x", "councillor"), grants, 1) != base
    assert remembered.key("f", store, OPERATOR, {"a": "other"}, 1) != base
    assert remembered.key("f", store, OPERATOR, grants, 2) != base
    assert remembered.key("f", store, Viewer("someone else", OPERATOR.role, OPERATOR.org),
                          grants, 1) == base  # the name is not part of the scope
    assert store.version() in base
