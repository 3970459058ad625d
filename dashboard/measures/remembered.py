"""Region-wide figures kept in memory for the next ward, keyed by who may see them.

A ward profile, its monthly trends and its report read every indicator for
every ward of the region, then pick one ward. The next ward (or a postcode) needs
the same region-wide figures, so the door keeps the last few here instead of
reading and protecting them again.

An entry is only ever returned to a caller with the same key: the store's state
(``Store.version``: a build or any write changes it), the viewer's access scope
(role and organisation, as ``Viewer.scope``) and their grants as worked out for
this call (``access.rules``: agreements, their status and expiry today), the
function and its arguments. So one viewer never gets figures computed for
another's scope, a changed agreement or a new upload is never served stale, and
a result is what the function would compute now. Each caller gets its own copy,
so nothing it does to a frame reaches the next caller.
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from dashboard.access import Viewer
from store import Store

ENTRIES = 160  # about seven filters' worth of a region's ward indicators
_kept: OrderedDict[tuple, Any] = OrderedDict()
_lock = threading.Lock()


def key(name: str, store: Store, viewer: Viewer, grants: dict, *args: object) -> tuple:
    """What an entry is kept under (see the module's docstring)."""
    return (name, str(store.path), store.version(), viewer.scope(),
            frozenset(grants.items()), *args)


def remember(name: str, store: Store, viewer: Viewer, grants: dict, args: tuple,
             compute: Callable[[], Any]) -> Any:
    """``compute()``, or a copy of what it gave for the same key before."""
    k = key(name, store, viewer, grants, *args)
    with _lock:
        if k in _kept:
            _kept.move_to_end(k)
            return copy.deepcopy(_kept[k])
    value = compute()
    with _lock:
        _kept[k] = value
        while len(_kept) > ENTRIES:
            _kept.popitem(last=False)
    return copy.deepcopy(value)


def forget() -> None:
    """Drop every entry (tests, and a process that wants its memory back)."""
    with _lock:
        _kept.clear()
