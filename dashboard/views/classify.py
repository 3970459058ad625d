"""Choropleth classes (mapclassify) and colour-blind-safe palettes chosen by polarity."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import mapclassify
import numpy as np
import pandas as pd

# ColorBrewer sequential YlOrRd (colour-blind safe), light to dark, per class count.
YLORRD = {
    3: ["#ffeda0", "#feb24c", "#f03b20"],
    4: ["#ffffb2", "#fecc5c", "#fd8d3c", "#e31a1c"],
    5: ["#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"],
    6: ["#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#f03b20", "#bd0026"],
    7: ["#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#b10026"],
    8: ["#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c",
        "#b10026"],
    9: ["#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c",
        "#bd0026", "#800026"],
}
# ColorBrewer sequential Blues, for a figure with no better or worse (Fingertips
# shows those in blue too): darker is higher, and no shade says "need".
BLUES = {
    3: ["#deebf7", "#9ecae1", "#3182bd"],
    4: ["#eff3ff", "#bdd7e7", "#6baed6", "#2171b5"],
    5: ["#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c"],
    6: ["#eff3ff", "#c6dbef", "#9ecae1", "#6baed6", "#3182bd", "#08519c"],
    7: ["#eff3ff", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#084594"],
    8: ["#f7fbff", "#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5",
        "#084594"],
    9: ["#f7fbff", "#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5",
        "#08519c", "#08306b"],
}
NO_DATA = "#d9d9d9"
SUPPRESSED = "#9e9ac8"  # a muted purple: hidden, not missing and not zero
SCHEME_LABELS = {"quantiles": "Quantiles", "natural_breaks": "Natural breaks (Jenks)",
                 "equal_interval": "Equal interval",
                 "compared": "Compared with the region (95% CI)"}
COMPARED_LABELS = {"worse": "Significantly worse than the region",
                   "similar": "Similar to the region",
                   "better": "Significantly better than the region",
                   "higher": "Significantly higher than the region",
                   "lower": "Significantly lower than the region",
                   "not compared": "Not compared (no interval)"}
_JENKS_SAMPLE = 2000  # Fisher-Jenks is O(n^2 k); classify a spread sample of large sets


@dataclass(frozen=True)
class LegendEntry:
    """One legend row: colour, label and how many areas have it."""

    colour: str
    label: str
    count: int


@dataclass
class Classification:
    """Each area's class and colour, and the legend that explains them."""

    colours: list[str]  # hex colour per area, in input order
    legend: list[LegendEntry]
    bins: list[float]


def hex_to_rgb(colour: str) -> list[int]:
    """``#rrggbb`` -> ``[r, g, b]``."""
    return [int(colour[i:i + 2], 16) for i in (1, 3, 5)]


def _fmt(x: float) -> str:
    if abs(x) >= 100 or float(x).is_integer():
        return f"{x:,.0f}"
    return f"{x:,.2f}" if abs(x) >= 1 else f"{x:.3f}"


def _breaks(values: np.ndarray, scheme: str, k: int) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # mapclassify warns when k exceeds unique values
        if scheme == "quantiles":
            return mapclassify.Quantiles(values, k=k).bins
        if scheme == "equal_interval":
            return mapclassify.EqualInterval(values, k=k).bins
        if scheme == "natural_breaks":
            ordered = np.sort(values)
            if len(ordered) > _JENKS_SAMPLE:  # deterministic spread sample, keeps max
                idx = np.linspace(0, len(ordered) - 1, _JENKS_SAMPLE).round().astype(int)
                ordered = ordered[idx]
            bins = mapclassify.FisherJenks(ordered, k=k).bins
            bins[-1] = values.max()
            return bins
    raise ValueError(f"scheme was {scheme!r} but is expected to be one of {list(SCHEME_LABELS)}")


def compared_classes(compared: pd.Series, polarity: str, suppressed: pd.Series | None = None,
                     suppressed_label: str = "Suppressed") -> Classification:
    """Colours for each area's comparison with the region (``dashboard.measures.rates``):
    significantly worse, similar or better, as polarity says, in colour-blind-safe
    green, yellow and red (Okabe-Ito shades); areas without an interval are not compared."""
    from dashboard.measures import rates
    judged = rates.judged(compared.to_numpy(dtype=object), polarity)
    colours = np.array([rates.COMPARISON_COLOURS[j] for j in judged], dtype=object)
    hidden = np.zeros(len(judged), bool) if suppressed is None else \
        suppressed.to_numpy(dtype=bool)
    colours[hidden] = SUPPRESSED
    legend = [LegendEntry(rates.COMPARISON_COLOURS[j], label, int(((judged == j) & ~hidden)
                                                                   .sum()))
              for j, label in COMPARED_LABELS.items()]
    judging = polarity in rates.JUDGED  # better and worse, else higher and lower
    legend = [e for (j, _), e in zip(COMPARED_LABELS.items(), legend, strict=True)
              if (e.count or j != "not compared")
              and (j in ("similar", "not compared") or (j in ("better", "worse")) == judging)]
    if hidden.any():
        legend.append(LegendEntry(SUPPRESSED, suppressed_label, int(hidden.sum())))
    return Classification(colours=list(colours), legend=legend, bins=[])


def classify(values: pd.Series, scheme: str, k: int, polarity: str,
             suppressed: pd.Series | None = None, suppressed_label: str = "Suppressed"
             ) -> Classification:
    """Class values into ``k`` classes and colour them.

    The palette runs light to dark towards need: for ``high_is_bad`` the
    highest class is darkest; for ``low_is_bad`` (a deprivation rank, where 1
    is most deprived) the lowest class is darkest. Areas with no value get a
    grey "No data" class, never a colour of the scale.

    Parameters
    ----------
    values : Series
        One value per area; NaN means no data.
    scheme : {"quantiles", "natural_breaks", "equal_interval"}
    k : int
        Number of classes, 3 to 9; fewer when there are fewer distinct values.
    polarity : {"high_is_bad", "low_is_bad", "no_judgement"}
        With no judgement the palette is blue, darker for higher: no shade says need.
    suppressed : Series of bool, optional
        Areas whose figure is hidden by disclosure control: their own class,
        never "No data" and never a colour of the scale.
    """
    vals = values.to_numpy(dtype=float)
    has = ~np.isnan(vals)
    colours = np.full(len(vals), NO_DATA, dtype=object)
    legend: list[LegendEntry] = []
    bins: list[float] = []
    if has.any():
        present = vals[has]
        k = max(1, min(k, len(np.unique(present))))
        bins_arr = np.unique(_breaks(present, scheme, k)) if k > 1 else np.array([present.max()])
        idx = np.searchsorted(bins_arr, present, side="left").clip(0, len(bins_arr) - 1)
        n = len(bins_arr)
        ramp = YLORRD if polarity in ("high_is_bad", "low_is_bad") else BLUES
        palette = ramp[max(3, n)][-n:] if n < 3 else ramp[n]
        if polarity == "low_is_bad":
            palette = palette[::-1]
        colours[has] = [palette[i] for i in idx]
        lower = present.min()
        for i, upper in enumerate(bins_arr):
            count = int((idx == i).sum())
            bounds = f"{_fmt(lower)} – {_fmt(upper)}"
            label = bounds if i == 0 else f"> {bounds}"
            legend.append(LegendEntry(palette[i], label, count))
            lower = upper
        bins = [float(b) for b in bins_arr]
    hidden = np.zeros(len(vals), bool) if suppressed is None else \
        suppressed.to_numpy(dtype=bool)
    colours[hidden] = SUPPRESSED
    if hidden.any():
        legend.append(LegendEntry(SUPPRESSED, suppressed_label, int(hidden.sum())))
    missing = int((~has & ~hidden).sum())
    if missing:
        legend.append(LegendEntry(NO_DATA, "No data", missing))
    return Classification(colours=list(colours), legend=legend, bins=bins)
