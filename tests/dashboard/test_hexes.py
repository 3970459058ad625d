"""H3 hexagons: neighbours, counts of the stored points, zeros kept, Gi* runs on them."""

import h3
import pytest

from dashboard import analysis, hexes, hotspots
from dashboard.access import OPERATOR
from dashboard.filters import FilterError, ViewFilter


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
    view, shapes = hexes.hex_view(store, region, flt, 7)
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
    result, _ = analysis.hex_hotspot_view(store, region, flt, 7, viewer=OPERATOR)
    bristol = h3.latlng_to_cell(51.4545, -2.5879, 7)
    row = result.set_index("area_code").loc[bristol]
    assert row["class"] in hotspots.HOT.values()
    assert "hexagon" in result.attrs["summary"]


def test_region_without_points_is_refused_with_a_reason(store, regions):
    region = regions["west_midlands_ca"]
    flt = ViewFilter(region.name, "lsoa", "crime_all", "2022-01", "2022-03")
    with pytest.raises(FilterError, match="no point locations in West Midlands"):
        hexes.hex_view(store, region, flt, 7)
