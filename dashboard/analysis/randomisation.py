"""Getis-Ord Gi* of many periods on one map, in one pass.

Emerging hot spots test every month of a period on the same areas with the same
weights. esda's ``G_Local`` tests one month at a time: each call transforms the
weights, draws the permutations again (the same draws, from the same seed) and
walks the map again. Here the weights and the draws are shared, and one pass
over the areas and the draws tests every month together: a draw picks the
same random neighbours for area *i* in every month, so each gathered row of
the areas x months matrix serves all the months at once.

The statistic and its inference are esda's, step for step:

* the draws are esda's own (``esda.crand.vec_permutations``, from the seed):
  for area *i* with *c* neighbours, draw *p* takes the first *c* of row *p*,
  indices into the other *n - 1* areas;
* a simulated Gi* keeps area *i*'s own value (self weight) and puts the drawn
  areas' values in place of its neighbours';
* the pseudo p-value is esda's "directed" (folded) one: the share of draws at
  least as large as the observed statistic, or at most, whichever is smaller,
  as (k + 1) / (permutations + 1);
* the z-score is esda's analytic ``Zs`` (Ord and Getis 1995).

Observed and simulated sums are compared before they are divided by the
month's total, which the two share: with whole counts the comparison is then
exact, where a division rounded differently could split a tie.
"""

from __future__ import annotations

import functools

import esda.crand
import numba
import numpy as np
from libpysal.graph import Graph
from scipy import sparse


@numba.njit(parallel=True, cache=True)
def _at_least(y, indptr, indices, weights, self_weight, observed, draws):  # pragma: no cover
    """For each area and period, how many draws give a sum at least the observed one.

    ``y`` is areas x periods; ``indptr, indices, weights`` the neighbours (self
    excluded) in CSR form; ``observed`` the observed weighted sums, self included;
    ``draws`` the permutations x max-neighbours indices into the other areas.
    """
    n, periods = y.shape
    permutations = draws.shape[0]
    larger = np.zeros((n, periods), dtype=np.int64)
    for i in numba.prange(n):
        start, stop = indptr[i], indptr[i + 1]
        acc = np.empty(periods)
        count = np.zeros(periods, dtype=np.int64)
        for p in range(permutations):
            for t in range(periods):
                acc[t] = self_weight[i] * y[i, t]
            for q in range(stop - start):
                j = draws[p, q]
                if j >= i:  # an index into the areas other than i
                    j += 1
                w = weights[start + q]
                for t in range(periods):
                    acc[t] += w * y[j, t]
            for t in range(periods):
                if acc[t] >= observed[i, t]:
                    count[t] += 1
        larger[i] = count
    return larger


@functools.lru_cache(maxsize=8)
def draws(max_neighbours: int, n: int, permutations: int, seed: int) -> np.ndarray:
    """esda's permutation draws (``esda.crand.vec_permutations``, the same as
    ``G_Local`` makes from the seed): permutations x max-neighbours indices into the
    other n - 1 areas. They depend only on the map's size, so a map tested again
    (another month, another window) reuses them."""
    out = esda.crand.vec_permutations(max(max_neighbours, 1), n, permutations, seed)
    out.flags.writeable = False
    return out


def adjacency(graph: Graph) -> sparse.csr_array:
    """A graph's neighbours as a binary CSR adjacency, self excluded, sorted."""
    return binary(graph.sparse)


def binary(adj) -> sparse.csr_array:
    """``adj`` as a binary CSR adjacency, self excluded, sorted."""
    out = sparse.csr_array(adj, dtype=float, copy=True)
    out.setdiag(0)
    out.eliminate_zeros()
    out.sort_indices()
    out.data[:] = 1.0
    return out


def gi_star(y: np.ndarray, adj: sparse.csr_array, *, permutations: int, seed: int
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gi* of every column of ``y`` (areas x periods) on binary contiguity weights,
    self included, as ``esda.G_Local(transform="B", star=True)``.

    Parameters
    ----------
    y : ndarray
        Areas x periods, areas in the order of ``adj``.
    adj : sparse array
        Binary adjacency, self excluded (:func:`adjacency`).

    Returns
    -------
    (G, z, p_sim)
        Arrays like ``y``. ``z`` is NaN in a period where every value is the same
        (there is nothing to test); ``p_sim`` is NaN without permutations. Areas
        with no neighbour get a number that means nothing: leave them out.
    """
    y = np.ascontiguousarray(y, dtype=float)
    n = len(y)
    cards = np.diff(adj.indptr)
    w = adj + sparse.identity(n, format="csr")
    observed = np.asarray(w @ y)
    total = y.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        g = observed / total
        # esda's analytic moments (N = n with the self weight in)
        mean = total / n
        variance = (y ** 2).sum(axis=0) / n - mean ** 2
        card = (cards + 1.0).reshape(-1, 1)
        expected = card / n
        spread = card * (n - card) / (n - 1) / n ** 2 * variance / mean ** 2
        z = (g - expected) / np.sqrt(spread)
    if not permutations:
        return g, z, np.full_like(y, np.nan)
    drawn = draws(int(cards.max()) if n else 0, n, permutations, seed)
    larger = _at_least(y, adj.indptr.astype(np.int64), adj.indices.astype(np.int64),
                       adj.data, np.ones(n), observed, drawn)
    low = (permutations - larger) < larger  # folded: the nearer tail
    larger = np.where(low, permutations - larger, larger)
    return g, z, (larger + 1.0) / (permutations + 1.0)
