"""H3 hexagons: neighbours, counts of the stored points, zeros kept, Gi* runs on them."""

import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import h3
import numpy as np
import pandas as pd
import pytest

from dashboard.access import OPERATOR, AccessDenied, accounts
from dashboard.analysis import hotspot_views, hotspots
from dashboard.filters import FilterError, ViewFilter
from dashboard.measures import disclosure, hexes
from loaders.ingest import Uploader, ingest, reserved
from store import PARTNER_TABLES, Store

REPO = Path(__file__).resolve().parents[3]


def test_hexagon_neighbours_share_an_edge():
    centre = h3.latlng_to_cell(51.4545, -2.5879, 8)  # central Bristol
    ring = sorted(h3.grid_disk(centre, 1))
    g = hexes.hex_graph(ring)
    counts = g.cardinalities
    assert counts[centre] == 6
    assert all(counts[c] == 3 for c in ring if c != centre)


def test_hex_counts_are_the_stored_points_and_quiet_hexagons_are_zero(store, regions):
    region = regions["avon_and_somerset"]
    flt = ViewFilter(region.name, "lsoa", "crime_burglary", "2022-01", "2022-03")
    view, shapes = hexes.hex_view(store, region, flt, 7, viewer=OPERATOR)
    assert list(shapes["code"]) == list(view["area_code"])
    assert shapes.crs.to_epsg() == 4326
    pts = store.query("SELECT lat, lon, n FROM crime_points WHERE indicator = "
                      "'crime_burglary' AND month BETWEEN '2022-01' AND '2022-03'")
    cells = set(view["area_code"])
    inside = sum(n for lat, lon, n in zip(pts["lat"], pts["lon"], pts["n"], strict=True)
                 if h3.latlng_to_cell(lat, lon, 7) in cells)
    assert view["value"].sum() == inside > 0
    assert (view["value"] == 0).sum() > 100  # Exmoor and the Levels are kept, as zeros
    assert view["value"].notna().all()


def test_gi_star_on_hexagons_finds_central_bristol(store, regions):
    region = regions["avon_and_somerset"]
    flt = ViewFilter(region.name, "lsoa", "crime_all", "2022-01", "2022-11")
    result, _ = hotspot_views.hex_hotspot_view(store, region, flt, 7, viewer=OPERATOR)
    bristol = h3.latlng_to_cell(51.4545, -2.5879, 7)
    row = result.set_index("area_code").loc[bristol]
    assert row["class"] in hotspots.HOT.values()
    assert "hexagon" in result.attrs["summary"]


def test_region_without_points_is_refused_with_a_reason(store, regions):
    region = regions["west_midlands_ca"]
    flt = ViewFilter(region.name, "lsoa", "crime_all", "2022-01", "2022-03")
    with pytest.raises(FilterError, match="no point locations in West Midlands"):
        hexes.hex_view(store, region, flt, 7, viewer=OPERATOR)


# -- a steward's incidents never reach anyone's All crime hexagons ----------------------

STEWARD = Uploader(name="t_steward", role="data_steward", org="test_partner")


def incident_file(path: Path, n: int = 1600, seed: int = 22) -> Path:
    """Incidents across Bristol over 2022-01..03, as a fire service lists them: some
    positions piled up (large counts), most alone (small counts a hexagon must hide);
    they reach most of Bristol's LSOAs, so the service covers the city."""
    rng = np.random.default_rng(seed)
    lat = 51.4600 + rng.uniform(-0.05, 0.05, n)
    lon = -2.5900 + rng.uniform(-0.09, 0.09, n)
    lat[: n // 8], lon[: n // 8] = 51.4545, -2.5879  # an eighth at one spot
    days = rng.integers(1, 28, n)
    months = rng.integers(1, 4, n)
    path.write_text("incident_number,datetime,location,incident_category\n" + "".join(
        f'{i},{m:02d}/{d:02d}/2022 10:00:00 AM +0000,"({a:.5f}, {b:.5f})",'
        f'{"Fire" if i % 3 else "Flood"}\n'
        for i, (a, b, d, m) in enumerate(zip(lat, lon, days, months, strict=True))))
    return path


@pytest.fixture(scope="module")
def steward_store(tmp_path_factory, store):
    """A copy of the store after a steward loaded an incident file (``fire_test22``), with
    one more partner point stored under a ``crime_`` id, as a store from before such ids
    were reserved could hold."""
    folder = tmp_path_factory.mktemp("steward-points")
    copy = folder / "store.duckdb"
    shutil.copy(store.path, copy)
    with duckdb.connect(str(copy)) as con:
        for table in PARTNER_TABLES:
            con.execute(f"DELETE FROM {table} WHERE origin = 'partner'")
    report = ingest(incident_file(folder / "incidents.csv"), store=copy, uploader=STEWARD,
                    indicator="fire_test22", today=dt.date(2026, 12, 1))
    assert not report.refused, report.reason
    with duckdb.connect(str(copy)) as con:
        con.execute("INSERT INTO crime_points (indicator, month, lon, lat, lsoa_code, n, "
                    "source, origin, ingest_id) SELECT 'crime_fire22', month, lon, lat, "
                    "lsoa_code, n, source, origin, ingest_id FROM crime_points "
                    "WHERE origin = 'partner'")
        # Each incident is stored under the file's id and its category's, twice over now.
        assert con.execute("SELECT sum(n) FROM crime_points WHERE origin = 'partner'"
                           ).fetchone()[0] > 900
    return copy


def test_a_steward_cannot_load_incidents_under_an_open_crime_id(tmp_path, store):
    copy = tmp_path / "store.duckdb"
    shutil.copy(store.path, copy)
    report = ingest(incident_file(tmp_path / "incidents.csv"), store=copy, uploader=STEWARD,
                    indicator="crime_fire22", today=dt.date(2026, 12, 1))
    assert report.refused
    assert "indicator id 'crime_fire22' is reserved for open data" in report.reason
    for ident in ("imd2019_rank", "IMD_local", "stroke_admissions"):
        assert "reserved for open data" in reserved(ident)
    assert reserved("fire_test22") == ""


def test_all_crime_hexagons_from_the_command_line_are_police_uk_points_alone(
        steward_store, tmp_path):
    """Run as an analyst after a steward loaded incidents: every hexagon's All crime count
    is the count of police.uk's (open) points in it, none of the steward's."""
    out = tmp_path / "hex.csv"
    done = subprocess.run(
        [sys.executable, "-m", "dashboard", "export", "--region", "avon_and_somerset",
         "--level", "hex", "--resolution", "8", "--indicator", "crime_all", "--period",
         "2022-01:2022-03", "--out", str(out), "--store", str(steward_store),
         "--as", "t_analyst"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    got = pd.read_csv(out).set_index("area_code")["value"]
    with duckdb.connect(str(steward_store), read_only=True) as con:
        pts = con.execute("SELECT lat, lon, n FROM crime_points WHERE origin = 'open' AND "
                          "month BETWEEN '2022-01' AND '2022-03'").df()
    pts["cell"] = [h3.latlng_to_cell(a, b, 8) for a, b in zip(pts["lat"], pts["lon"],
                                                              strict=True)]
    want = pts.groupby("cell")["n"].sum().reindex(got.index, fill_value=0)
    assert (got == want).all()
    assert got.sum() > 10_000
    meta = json.loads(out.with_name("hex.metadata.json").read_text())
    assert meta["filters"]["level"] == "hex" and meta["filters"]["resolution"] == 8


def test_a_partners_points_on_hexagons_hide_small_counts_and_need_the_point_level(
        steward_store, regions):
    region = regions["avon_and_somerset"]
    flt = ViewFilter(region.name, "lsoa", "fire_test22", "2022-01", "2022-03")
    steward = Store(steward_store)
    admin = accounts.viewer_of("t_admin", steward.governance)
    view, _ = hexes.hex_view(steward, region, flt, 8, viewer=admin)
    shown = view["value"].dropna()
    assert not shown.between(1, 4).any()
    assert (view["suppressed"] == disclosure.PRIMARY).sum() >= 1
    # Most hexagons add up small counts of their finest cells, each standing in as k/2.
    assert (view["estimated"] > 0).sum() > 50
    assert shown.max() >= 200  # the pile at one spot is shown
    # A hidden hexagon's stand-in is k/2 per hidden cell inside it, never its count.
    assert set(view.attrs["stand_in"].values()) <= {3.0, 5.0, 8.0, 10.0}
    for name in ("t_steward", "t_councillor"):  # its own steward sees LSOAs, not points
        with pytest.raises(AccessDenied):
            hexes.hex_view(steward, region, flt, 8,
                           viewer=accounts.viewer_of(name, steward.governance))
    with pytest.raises(AccessDenied):  # an analyst whose agreements do not name it
        hexes.hex_view(steward, region, flt, 8,
                       viewer=accounts.viewer_of("t_analyst", steward.governance))


@pytest.mark.parametrize(("level", "allowed"), [("point", True), ("lsoa", False)])
def test_an_agreement_at_the_point_level_shares_a_partners_hexagons(steward_store, regions,
                                                                   tmp_path, level, allowed):
    """Points sit below LSOAs among an agreement's levels: an agreement naming analysts at
    the point level shares the partner's hexagons (small counts hidden); at LSOA it does
    not."""
    from dashboard.access import OPERATOR, Viewer, agreements
    gov = tmp_path / "gov.sqlite"
    agreements.add({"id": "ISA-FIRE", "title": "Fire incidents", "parties": "test_partner",
                    "indicators": "fire_test22", "roles": "analyst", "level": level,
                    "expires": (dt.date.today() + dt.timedelta(days=365)).isoformat()},
                   {"fire_test22"}, by=OPERATOR, path=gov)
    store = Store(steward_store, governance=gov)
    flt = ViewFilter("avon_and_somerset", "lsoa", "fire_test22", "2022-01", "2022-03")
    analyst = Viewer("t_analyst", "analyst", "avon_police")
    if allowed:
        view, _ = hexes.hex_view(store, regions["avon_and_somerset"], flt, 8, viewer=analyst)
        assert not view["value"].dropna().between(1, 4).any() and view["value"].max() >= 200
    else:
        with pytest.raises(AccessDenied, match="points and hexagons"):
            hexes.hex_view(store, regions["avon_and_somerset"], flt, 8, viewer=analyst)


def test_hexagons_are_named_by_the_ward_they_lie_in(store, regions):
    region = regions["avon_and_somerset"]
    flt = ViewFilter(region.name, "lsoa", "crime_burglary", "2022-01", "2022-03")
    view, _ = hexes.hex_view(store, region, flt, 8, viewer=OPERATOR)
    names = view.set_index("area_code")["area_name"]
    # Lawrence Hill, east of Bristol's centre (St Philips Marsh).
    assert names[h3.latlng_to_cell(51.4525, -2.5700, 8)] == \
        "Hexagon in Lawrence Hill, Bristol, City of"
    assert names.str.startswith("Hexagon in ").all()
    assert not any(code in name for code, name in names.items())  # never the H3 id
    assert (names.str.contains(", ")).mean() > 0.8  # nearly all inside a named ward


def test_a_hexagon_map_opens_on_the_districts_with_data(steward_store, regions):
    from dashboard import geography
    from dashboard.views import maps
    region = regions["avon_and_somerset"]
    steward = Store(steward_store)
    admin = accounts.viewer_of("t_admin", steward.governance)
    flt = ViewFilter(region.name, "lsoa", "fire_test22", "2022-01", "2022-03")
    result, cells = hotspot_views.hex_hotspot_view(steward, region, flt, 8, viewer=admin)
    lads = geography.lad_outlines(steward, region)
    deck = maps.class_map(cells, lads, result, mode="hotspots", method="gi",
                          detail=region.map_detail, level="hex")
    opened = deck.initial_view_state
    whole = maps.view_state(tuple(lads.total_bounds))
    assert opened.zoom > whole.zoom + 0.5  # the incidents' districts, not the region
    minx, miny, maxx, maxy = cells.total_bounds
    assert minx < opened.longitude < maxx and miny < opened.latitude < maxy
    assert opened.zoom == maps.view_state(tuple(cells.total_bounds)).zoom
