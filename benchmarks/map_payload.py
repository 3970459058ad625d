"""Benchmark: the size and cost of the map the app draws, against a naive pydeck map.

Cases
    ``crime_all``, the indicator's full period, measure ``rate`` (quantiles, 5
    classes, as the app opens) for Avon and Somerset (wards, LSOAs) and England
    and Wales (LSOAs, wards).

Measured: the app's deck
    What ``dashboard.ui.cached.choropleth`` builds, reproduced without Streamlit:
    ``measures.indicator_view`` -> ``classify.classify`` ->
    ``geography.map_shapes`` + ``geography.lad_outlines`` ->
    ``maps.choropleth_deck`` -> ``deck.to_json()`` (compact, the string the app
    sends). Reported: the JSON's bytes (UTF-8), its gzip size (level 6, about
    what a compressed websocket carries), the seconds from the query to the JSON
    (cold: first time this case is built in this process) and the seconds of a
    second ``to_json()`` on the same deck (what a cached rerun pays).

Baseline (same run): a naive pydeck map
    The same areas with their analysis geometry from the store (``areas.geom``,
    British National Grid WKB, unsimplified) reprojected to EPSG:4326, turned
    into a full-precision GeoJSON FeatureCollection (``GeoDataFrame.to_json()``)
    with every view column and the class colour as properties, drawn by one
    ``pydeck.Layer("GeoJsonLayer", ...)`` in a plain ``pydeck.Deck`` and
    serialised with ``pydeck.Deck.to_json()`` (indented, sorted keys). Its
    seconds run from the store query to the JSON; its rerun is a second
    ``to_json()`` (plain pydeck does not memoise). The figures (view, classes)
    come from the same ``indicator_view`` call, timed in both.

The ratio rows are naive / app: how many times bigger or slower the naive map is.

Run from the repository root: ``.venv/bin/python benchmarks/map_payload.py``.
The store must be built (``python -m loaders build``).
"""

from __future__ import annotations

import gc
import gzip
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("ODA_DATA_DIR", str(REPO.parent / "shared" / "data"))

import geopandas as gpd  # noqa: E402
import pydeck as pdk  # noqa: E402

from dashboard import geography, measures  # noqa: E402
from dashboard.access import OPERATOR  # noqa: E402
from dashboard.filters import ViewFilter  # noqa: E402
from dashboard.geography.regions import get_region  # noqa: E402
from dashboard.measures import catalogue as cat  # noqa: E402
from dashboard.views import classify, maps  # noqa: E402
from store import Store  # noqa: E402

CASES = [("avon_and_somerset", "ward"), ("avon_and_somerset", "lsoa"),
         ("england_and_wales", "lsoa"), ("england_and_wales", "ward")]
INDICATOR = "crime_all"


def app_deck(store: Store, flt: ViewFilter, meta: dict):
    """The deck ``cached.choropleth`` builds, and its view and classes."""
    region = get_region(flt.region)
    view = measures.indicator_view(store, region, flt, viewer=OPERATOR)
    deck, classes = maps.view_map(
        geography.map_shapes(store, region, flt.level), geography.lad_outlines(store, region),
        view, measure=flt.measure, scheme=flt.scheme, k=flt.classes, level=flt.level,
        unit=meta["unit"], polarity=meta["polarity"], detail=region.map_detail)
    return deck, view, classes


def naive_deck(store: Store, flt: ViewFilter, meta: dict, codes) -> pdk.Deck:
    """One GeoJsonLayer of full-precision, unsimplified GeoJSON with every view column."""
    region = get_region(flt.region)
    view = measures.indicator_view(store, region, flt, viewer=OPERATOR)
    classes = classify.classify(view[measures.measure_column(flt)], flt.scheme,
                                flt.classes, meta["polarity"])
    geography_code = region.lsoa_geography if flt.level == "lsoa" else region.ward_geography
    detail = region.lsoa_detail if flt.level == "lsoa" else "bgc"
    geo = store.query("SELECT code, geom FROM areas WHERE geography = ? AND detail = ?",
                      [geography_code, detail])
    geo = geo[geo["code"].isin(set(codes))]
    frame = gpd.GeoDataFrame(geo[["code"]], geometry=geography._from_wkb(geo["geom"]),
                             crs=27700).to_crs(4326)
    props = view.assign(fill=[classify.hex_to_rgb(c) for c in classes.colours])
    frame = frame.merge(props, left_on="code", right_on="area_code", how="inner")
    feature_collection = json.loads(frame.to_json())
    layer = pdk.Layer("GeoJsonLayer", data=feature_collection, stroked=True, filled=True,
                      get_fill_color="properties.fill", get_line_color=[255, 255, 255],
                      pickable=True)
    return pdk.Deck(layers=[layer], initial_view_state=maps.view_state(
        tuple(frame.total_bounds)))


def measure(build, to_json) -> dict:
    """Bytes, gzip bytes, cold seconds (build + JSON) and rerun seconds (JSON again)."""
    gc.collect()
    t0 = time.perf_counter()
    obj = build()
    text = to_json(obj)
    cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    to_json(obj)
    rerun = time.perf_counter() - t0
    raw = text.encode()
    out = {"bytes": len(raw), "gzip": len(gzip.compress(raw, 6)), "cold": cold,
           "rerun": rerun}
    del obj, text, raw
    return out


def rerun_ratio(naive: float, app: float) -> str:
    """The rerun ratio; a memoised to_json() takes microseconds, so cap it."""
    return ">1000x" if naive > 1000 * app else f"{naive / app:.0f}x"


def main() -> int:
    store = Store()
    meta = measures.indicator_meta(store, INDICATOR, viewer=OPERATOR)
    months = cat.months(store, INDICATOR, viewer=OPERATOR)
    print(f"map_payload: {INDICATOR}, {months[0]}:{months[-1]}, rate, quantiles/5; "
          f"store {store.path}")
    rows = []
    for region, level in CASES:
        flt = ViewFilter(region=region, level=level, indicator=INDICATOR,
                         period_start=months[0], period_end=months[-1], measure="rate")
        holder = {}

        def build_app(flt=flt, holder=holder):
            deck, view, _ = app_deck(store, flt, meta)
            holder["codes"] = view["area_code"].tolist()
            holder["n"] = len(view)
            return deck

        app = measure(build_app, lambda d: d.to_json())
        naive = measure(lambda flt=flt, codes=holder["codes"]: naive_deck(store, flt, meta, codes),
                        lambda d: d.to_json())
        rows.append((f"{region} {level} ({holder['n']:,} areas)", app, naive))
        print(f"  done: {region} {level}", file=sys.stderr, flush=True)

    head = (f"{'case':<38} {'approach':<10} {'JSON bytes':>13} {'gzip bytes':>12} "
            f"{'build+JSON s':>13} {'rerun s':>9}")
    print("\n" + head)
    print("-" * len(head))
    for case, app, naive in rows:
        for label, r, name in (("app", app, case), ("naive", naive, "")):
            print(f"{name:<38} {label:<10} {r['bytes']:>13,} {r['gzip']:>12,} "
                  f"{r['cold']:>13.2f} {r['rerun']:>9.3f}")
        print(f"{'':<38} {'naive/app':<10} {naive['bytes'] / app['bytes']:>12.1f}x "
              f"{naive['gzip'] / app['gzip']:>11.1f}x {naive['cold'] / app['cold']:>12.1f}x "
              f"{rerun_ratio(naive['rerun'], app['rerun']):>9}")
    print("-" * len(head))
    print("app 'rerun s' is a second to_json() on the cached deck (memoised); "
          "naive re-serialises.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
