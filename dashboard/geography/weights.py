"""Spatial weights: which areas are neighbours (queen contiguity), islands included.

Weights are built from the analysis geometry in the store (EPSG:27700), not
from the lighter map geometry, so two areas that touch at a single corner are
neighbours however the map is drawn. Areas with no neighbour (an island such
as the Isles of Scilly, or an area whose neighbours all lack data) are kept
and listed, never silently dropped: the hotspot model gives them their own
class.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from libpysal.graph import Graph
from scipy import sparse

from dashboard import geography
from loaders import Region
from store import Store

ANALYSIS_CRS = geography.ANALYSIS_CRS


def area_geometry(store: Store, region: Region, level: str) -> gpd.GeoDataFrame:
    """Analysis geometry (EPSG:27700) of the region's areas at ``level``, by code.

    Areas without geometry in the store are left out (the caller reports them as
    having no neighbours).
    """
    return geography.area_shapes(store, region, level)[["code", "geometry"]].set_index("code")


def contiguity(shapes: gpd.GeoDataFrame) -> Graph:
    """Queen contiguity between areas (shared edge or corner), binary weights.

    Parameters
    ----------
    shapes : GeoDataFrame
        Polygons in EPSG:27700, indexed by area code.

    Returns
    -------
    libpysal.graph.Graph
        Indexed by area code, in the order of ``shapes``. Areas with no
        neighbour are isolates of the graph (``Graph.isolates``).
    """
    if shapes.crs is None or shapes.crs.to_epsg() != ANALYSIS_CRS:
        raise ValueError(f"shapes must be in EPSG:{ANALYSIS_CRS}, not {shapes.crs}")
    if shapes.index.has_duplicates:
        raise ValueError("shapes must be indexed by unique area codes")
    # Vertex-based queen contiguity: ONS boundaries share their vertices exactly,
    # so this finds the same neighbours as a geometric test, in a fraction of the time.
    return Graph.build_contiguity(shapes, rook=False, strict=False)


def region_graph(store: Store, region: Region, level: str) -> Graph:
    """Queen contiguity of a region's areas at ``level`` (``lsoa`` or ``ward``)."""
    return contiguity(area_geometry(store, region, level))


def restrict(graph: Graph, codes: pd.Index | list[str]) -> Graph:
    """The graph between ``codes`` only (areas with data), in the order given.

    An area whose neighbours are all outside ``codes`` becomes an isolate.
    Codes not in the graph (no geometry) are added as isolates.
    """
    codes = pd.Index(np.asarray(codes, dtype=object))
    if codes.equals(pd.Index(np.asarray(graph.unique_ids, dtype=object))):
        return graph
    return Graph.from_sparse(restricted(graph.sparse, graph.unique_ids, codes).tocsr(),
                             ids=codes)


def restricted(adjacency, ids, codes) -> sparse.coo_array:
    """The adjacency (areas ``ids``) between ``codes`` only, in the order given; codes
    not in ``ids`` have no neighbours. Sparse slicing, not pandas joins: this runs
    on every hotspot test."""
    pos = pd.Index(np.asarray(ids, dtype=object)).get_indexer(
        pd.Index(np.asarray(codes, dtype=object)))
    known = np.flatnonzero(pos >= 0)
    adj = sparse.csr_array(adjacency)[pos[known]][:, pos[known]].tocoo()
    return sparse.coo_array((adj.data, (known[adj.row], known[adj.col])),
                            shape=(len(pos), len(pos)))


def neighbour_counts(graph: Graph) -> pd.Series:
    """How many neighbours each area has (0 for an isolate), by code."""
    counts = graph.cardinalities.copy()
    counts.loc[counts.index.isin(graph.isolates)] = 0
    return counts.astype(int)
