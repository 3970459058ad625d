"""The caches' keys: a context, a viewer scope and a filter are keyed by every field, so
no viewer's cached figure serves another scope (``cached.KEYS``)."""

from __future__ import annotations

import dataclasses

import pytest
from streamlit.runtime.caching.cache_type import CacheType
from streamlit.runtime.caching.hashing import update_hash
from streamlit.util import create_fast_hasher

from dashboard.access import Viewer
from dashboard.filters import ViewFilter
from dashboard.ui import cached
from dashboard.ui.session import Context

CONTEXT = Context("build-1", "rules-1", Viewer("", "police_planner", "avon_police"))
VIEW = ViewFilter("avon_and_somerset", "ward", "crime_all", "2022-01", "2022-11", "rate")
CHANGED = {str: lambda s: s + "x", int: lambda n: n + 1}


def key(*args) -> str:
    h = create_fast_hasher()
    update_hash(args, h, CacheType.DATA, hash_funcs=cached.KEYS)
    return h.hexdigest()


def variants(obj):
    """``obj`` with one field changed at a time (nested dataclasses too)."""
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if dataclasses.is_dataclass(value):
            for inner in variants(value):
                yield f.name, dataclasses.replace(obj, **{f.name: inner[1]})
        else:
            new = CHANGED.get(type(value), lambda _: 2021)(value)
            yield f.name, dataclasses.replace(obj, **{f.name: new})


@pytest.mark.parametrize("obj", [CONTEXT, VIEW])
def test_every_field_is_part_of_the_key(obj):
    assert key(obj) == key(dataclasses.replace(obj))  # equal values, equal keys
    seen = {key(obj)}
    for name, other in variants(obj):
        assert key(other) not in seen, f"changing {name} kept the cache key"
        seen.add(key(other))


def test_viewer_scopes_never_share_a_key():
    scopes = [Viewer("", "public"), Viewer("", "councillor"), Viewer("", "police_planner",
              "avon_police"), Viewer("", "police_planner", "other_force"),
              Viewer("", "administrator")]
    keys = {key(VIEW, dataclasses.replace(CONTEXT, viewer=s)) for s in scopes}
    assert len(keys) == len(scopes)
