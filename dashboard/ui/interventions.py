"""The interventions register in the app: the viewer's records, their areas over a map,
and evaluations, cached where they are slow.

The register itself is read on every run (it is small, and who may see a restricted
record depends on the account, not only the role), through the door as everywhere.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import geography
from dashboard.analysis import coordination, evaluation
from dashboard.filters import ViewFilter
from dashboard.geography.regions import view_region
from dashboard.measures import interventions as door
from dashboard.ui import cached
from dashboard.ui.session import Context, store, viewer
from dashboard.views import maps


def register(region: str | None = None) -> pd.DataFrame:
    """The records the signed-in viewer may see (of one region, or all)."""
    return door.register(store(), viewer=viewer(), region=region)


def lookup(region: str, vintage: int | None, v: Context) -> pd.DataFrame:
    """A region's LSOA to ward lookup (shared; do not mutate)."""
    return _lookup(region, vintage, v.store)


@st.cache_resource(show_spinner=False, max_entries=12, hash_funcs=cached.KEYS)
def _lookup(region: str, vintage: int | None, store_version: str) -> pd.DataFrame:
    return geography.lsoa_lookup(store(), view_region(region, vintage))


def live_in(flt: ViewFilter, v: Context) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The records live in a view's months in its region, numbered as on its map, and
    their LSOAs (``id, agency, title, lsoa_code, ward_code``)."""
    live = coordination.live(register(flt.region), flt.period_start, flt.period_end)
    live = live.assign(number=range(1, len(live) + 1))
    return live, coordination.covered_lsoas(live, lookup(flt.region, flt.vintage, v))


def overlay(deck: maps.LeanDeck, flt: ViewFilter, v: Context, covered: pd.DataFrame,
            zoom_to: bool = False) -> maps.LeanDeck:
    """The map with the live records' areas outlined over it (opening on them, with
    ``zoom_to``)."""
    if covered.empty:
        return deck
    key = tuple(zip(covered["id"], covered["lsoa_code"], strict=True))
    return _overlay(deck, flt.region, flt.vintage, key, zoom_to, v)


def _deck_key(deck: maps.LeanDeck) -> int:
    # The deck's own JSON, made once and kept in the deck: a string keeps its hash, so
    # a rerun does not hash megabytes again, and two maps never share an entry.
    return hash(deck.to_json())


@st.cache_resource(show_spinner="Drawing the interventions…", max_entries=16,
                   hash_funcs={**cached.KEYS, maps.LeanDeck: _deck_key})
def _overlay(deck: maps.LeanDeck, region: str, vintage: int | None, key: tuple,
             zoom_to: bool, v: Context) -> maps.LeanDeck:
    covered = pd.DataFrame(list(key), columns=["id", "lsoa_code"])
    shapes = maps.footprints(cached.shapes(region, "lsoa", vintage, v), covered)
    out = maps.with_footprints(deck, shapes, zoom_to,
                               cached.lad_outlines(region, vintage, v))
    out.to_json()
    return out


def toggles(live: pd.DataFrame, key: str) -> tuple[bool, bool]:
    """Whether to outline the live interventions on a map, and to open on them."""
    left, right = st.columns([3, 2])
    show = left.toggle(f"Show interventions live in these months ({len(live)})",
                       value=bool(len(live)), disabled=not len(live), key=f"{key}_acting",
                       help="Outline the areas of the interventions shared with you that "
                       "were live at any time in the period, over the need beneath them.")
    zoom = right.toggle("Zoom to them", value=False, disabled=not show,
                        key=f"{key}_acting_zoom",
                        help="Open the map on the interventions' areas.")
    return show, show and zoom


def numbered_table(live: pd.DataFrame) -> pd.DataFrame:
    """The live records as the list beside a map: number, title, agency, type, months."""
    return pd.DataFrame({
        "No.": live["number"], "Intervention": live["title"], "Agency": live["agency"],
        "Type": live["kind"].fillna(""),
        "From": live["start_month"], "To": live["end_month"].fillna("open"),
        "Areas": live["areas"].map(len), "Id": live["id"]})


@st.cache_data(show_spinner=False, max_entries=32, hash_funcs=cached.KEYS)
def evaluate(intervention: str, indicator: str, before: str | None, after: str | None,
             methods: tuple[str, ...], comparison: str, stamp: str, name: str, v: Context
             ) -> tuple[evaluation.Evaluation, dict, dict]:
    """An evaluation as :func:`evaluation.evaluate_intervention` makes it, for the viewer
    (``name`` and ``v``: the account, the store's and the register's state)."""
    return evaluation.evaluate_intervention(
        store(), intervention, indicator, viewer=viewer(), before=before, after=after,
        methods=methods, comparison=comparison)
