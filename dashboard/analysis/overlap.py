"""Multi-agency overlap: where partners' hot spots coincide, and a composite demand index.

* **Overlap.** Each chosen indicator is tested with Gi* (``dashboard.analysis.hotspots``,
  rates smoothed where there is a denominator). An area is a hot spot of need
  for that indicator when it is a hot spot at 90 % or more, or a cold spot
  where low values mean need (a deprivation rank). The overlap is how many
  partners' indicators make the area a hot spot of need.
* **Composite demand index.** Each indicator is turned into a need score: the
  area's percentile among the areas (0 least need, 100 most), so indicators in
  any unit can be added. The index is the weighted mean of the scores, with
  the user's weights; each indicator's contribution is its weight times its
  score over the sum of the weights, so the contributions add up to the index.
  Stability: the weights are redrawn at random around the user's (each within
  half and one and a half times, a fixed seed) and each area's share of draws
  that keep it in the top N is reported.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from libpysal.graph import Graph

from dashboard import access, measures
from dashboard.access import Viewer
from dashboard.analysis import hotspots
from dashboard.filters import FilterError, ViewFilter
from loaders import Region
from store import Store

TOP = 10
DRAWS = 200
SEED = 20240601


def indicator_filters(store: Store, flt: ViewFilter, indicators: list[str], *,
                      viewer: Viewer, grants: dict | None = None) -> list[ViewFilter]:
    """One filter per indicator (``measures.filter_for``: rates where there are some)."""
    return [measures.filter_for(store, flt, i, viewer=viewer, grants=grants)
            for i in indicators]


def overlap(store: Store, region: Region, flt: ViewFilter, indicators: list[str],
            graph: Graph, settings: hotspots.Settings = hotspots.DEFAULT, *,
            viewer: Viewer) -> pd.DataFrame:
    """Where the chosen indicators' hot spots of need coincide.

    Returns
    -------
    DataFrame
        One row per area: ``area_code, area_name, lad_name``, a boolean column
        per indicator (a hot spot of need for it), ``partners`` (how many
        different partners' indicators make it one), ``which`` (their titles),
        sorted by ``partners`` then name.
    """
    if len(indicators) < 2:
        raise FilterError("indicator", "choose at least two indicators to compare")
    frames, titles, partners = [], {}, {}
    grants = access.rules(store, viewer)
    for one in indicator_filters(store, flt, indicators, viewer=viewer, grants=grants):
        meta = measures.indicator_meta(store, one.indicator, viewer=viewer, grants=grants)
        view = measures.indicator_view(store, region, one, viewer=viewer, grants=grants)
        result = hotspots.hotspots(view, graph, measure=one.measure, settings=settings)
        need = set(hotspots.COLD.values()) if meta["polarity"] == "low_is_bad" else \
            set(hotspots.HOT.values())
        frames.append(result.set_index("area_code")["class"].isin(need)
                      .rename(one.indicator))
        titles[one.indicator] = meta["title"]
        partners[one.indicator] = meta["partner"]
        names = view.set_index("area_code")[["area_name", "lad_name"]]
    hot = pd.concat(frames, axis=1).reindex(names.index).fillna(False).astype(bool)
    out = names.join(hot)
    out["partners"] = [len({partners[i] for i in indicators if row[i]})
                       for _, row in hot.iterrows()]
    out["which"] = ["; ".join(titles[i] for i in indicators if row[i])
                    for _, row in hot.iterrows()]
    out = out.reset_index().sort_values(["partners", "area_name"], ascending=[False, True])
    return out.reset_index(drop=True)


def need_scores(store: Store, region: Region, flt: ViewFilter,
                indicators: list[str], *, viewer: Viewer) -> pd.DataFrame:
    """Each indicator as a need score per area: its percentile, 0 least need, 100 most.

    Areas without a figure for an indicator (no data, or suppressed) have NaN.
    """
    cols, names = {}, None
    grants = access.rules(store, viewer)
    for one in indicator_filters(store, flt, indicators, viewer=viewer, grants=grants):
        meta = measures.indicator_meta(store, one.indicator, viewer=viewer, grants=grants)
        view = measures.indicator_view(store, region, one, viewer=viewer, grants=grants) \
            .set_index("area_code")
        figure = view[measures.measure_column(one)]
        ascending = meta["polarity"] != "low_is_bad"
        cols[one.indicator] = figure.rank(pct=True, ascending=ascending) * 100
        names = view[["area_name", "lad_name"]]
    return names.join(pd.DataFrame(cols))


def composite(scores: pd.DataFrame, weights: dict[str, float], *, top: int = TOP,
              draws: int = DRAWS, seed: int = SEED) -> pd.DataFrame:
    """The composite demand index, each indicator's contribution, and top-N stability.

    Parameters
    ----------
    scores : DataFrame
        From :func:`need_scores`: ``area_name, lad_name`` and a score column
        per indicator.
    weights : dict
        Indicator -> weight (0 or more; at least one above 0).

    Returns
    -------
    DataFrame
        ``area_code, area_name, lad_name, index, rank``, a ``contrib_<indicator>``
        column per indicator (they add up to ``index``), ``in_top`` (the
        share of re-weighted draws that keep the area in the top ``top``),
        sorted by rank. Areas missing a score are ranked on the others
        (their weights re-scaled), and ``complete`` says whether they had all.

    Raises
    ------
    FilterError
        If every weight is zero or a weight is negative.
    """
    ids = [i for i in weights if i in scores.columns]
    w = np.array([float(weights[i]) for i in ids])
    if (w < 0).any() or w.sum() <= 0:
        raise FilterError("weights", "weights must be 0 or more, and at least one above 0")
    s = scores[ids].to_numpy(float)

    def index_for(wv: np.ndarray) -> np.ndarray:
        have = ~np.isnan(s)
        wsum = (have * wv).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(wsum > 0, np.nansum(s * wv, axis=1) / wsum, np.nan)

    idx = index_for(w)
    have = ~np.isnan(s)
    wsum = (have * w).sum(axis=1)
    out = scores[["area_name", "lad_name"]].copy()
    out["index"] = idx
    for j, i in enumerate(ids):
        with np.errstate(invalid="ignore", divide="ignore"):
            out[f"contrib_{i}"] = np.where(have[:, j] & (wsum > 0), s[:, j] * w[j] / wsum, 0.0)
    out["complete"] = have.all(axis=1)
    out["rank"] = out["index"].rank(method="min", ascending=False).astype("Int64")
    rng = np.random.default_rng(seed)
    kept = np.zeros(len(out))
    for _ in range(draws):
        redrawn = w * rng.uniform(0.5, 1.5, len(w))
        r = pd.Series(index_for(redrawn)).rank(method="min", ascending=False).to_numpy()
        kept += r <= top
    out["in_top"] = kept / draws
    out = out.rename_axis("area_code").reset_index()
    return out.sort_values(["rank", "area_code"], na_position="last").reset_index(drop=True)
