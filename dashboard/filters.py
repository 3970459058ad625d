"""The view filter: everything that decides what a map, table or export shows.

A ``ViewFilter`` is a frozen dataclass, so it is hashable and can key caches.
It round-trips through URL query parameters; a malformed parameter falls back
to its default and produces a notice naming the parameter and the bad value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Literal

import pandas as pd

from loaders import LoaderError

Level = Literal["lsoa", "ward"]
Measure = Literal["count", "rate"]
Scheme = Literal["quantiles", "natural_breaks", "equal_interval", "compared"]
LEVELS: tuple[str, ...] = ("lsoa", "ward")
MEASURES: tuple[str, ...] = ("count", "rate")
SCHEMES: tuple[str, ...] = ("quantiles", "natural_breaks", "equal_interval", "compared")
CLASSES = range(3, 10)
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
PERIOD = re.compile(r"^(\d{4}(?:-\d{2})?):(\d{4}(?:-\d{2})?)$")


class FilterError(LoaderError):
    """A filter value (URL parameter or command-line option) is wrong."""


@dataclass(frozen=True)
class ViewFilter:
    """What to show: region, level, indicator, period, measure and classification."""

    region: str
    level: Level
    indicator: str
    period_start: str
    period_end: str
    measure: Measure = "count"
    scheme: Scheme = "quantiles"
    classes: int = 5
    vintage: int | None = None  # None: the region preset's own vintage
    breakdown: str = ""  # one breakdown value ("Sex: Female"); "" is the total

    @property
    def period(self) -> str:
        """The period as ``START:END`` (inclusive)."""
        return f"{self.period_start}:{self.period_end}"

    def to_params(self) -> dict[str, str]:
        """URL query parameters that reproduce this view."""
        params = {"region": self.region, "level": self.level, "indicator": self.indicator,
                  "period": self.period, "measure": self.measure, "scheme": self.scheme,
                  "classes": str(self.classes)}
        if self.vintage:
            params["vintage"] = str(self.vintage)
        if self.breakdown:
            params["breakdown"] = self.breakdown
        return params

    def with_(self, **changes) -> ViewFilter:
        """A copy with some fields changed."""
        return replace(self, **changes)


def has_denominator(value: object) -> bool:
    """True when a catalogue ``denominator`` cell names one (not None, NaN or empty)."""
    return isinstance(value, str) and bool(value)


def parse_period(text: str, available: list[str]) -> tuple[str, str]:
    """Parse ``START:END`` against the periods an indicator has.

    Raises
    ------
    FilterError
        If the text is malformed, the start is after the end, or either end
        is not one of ``available``.
    """
    m = PERIOD.match(text.strip()) if isinstance(text, str) else None
    if not m:
        raise FilterError("period", f"{text!r} is not START:END, e.g. 2022-03:2022-05")
    start, end = m.groups()
    if start > end:
        raise FilterError("period", f"{text!r} starts after it ends")
    missing = [p for p in (start, end) if p not in available]
    if missing:
        span = f"{available[0]} to {available[-1]}" if available else "none"
        raise FilterError("period", f"{text!r}: {', '.join(missing)} not in the data "
                          f"(available: {span})")
    return start, end


def from_params(params: dict[str, str], *, regions: list[str], catalogue: pd.DataFrame,
                periods_of, default: ViewFilter, levels_of=None, breakdowns_of=None
                ) -> tuple[ViewFilter, list[str]]:
    """Build a filter from URL query parameters, falling back per parameter.

    Parameters
    ----------
    params : dict
        The query parameters (``st.query_params.to_dict()``).
    regions : list of str
        Known region names.
    catalogue : DataFrame
        The indicator catalogue of the chosen region's geography.
    periods_of : callable
        ``indicator -> list of periods``.
    default : ViewFilter
        The view to fall back to.
    levels_of : callable, optional
        ``indicator -> (levels the viewer may see, why not finer)``; a link
        cannot widen access, so a finer level falls back with that reason.
    breakdowns_of : callable, optional
        ``indicator -> list of its breakdown values``.

    Returns
    -------
    (ViewFilter, list of str)
        The filter and one notice per parameter that was ignored.
    """
    notices: list[str] = []
    out = default

    def take(key, allowed, convert=str):
        nonlocal out
        if key not in params:
            return
        raw = params[key]
        try:
            value = convert(raw)
        except (TypeError, ValueError):
            value = None
        if value not in allowed:
            notices.append(f"URL parameter '{key}' was {raw!r}; it must be one of "
                           f"{list(allowed)[:12]}. Showing the default instead.")
            return
        out = out.with_(**{key: value})

    take("region", regions)
    take("level", LEVELS)
    indicators = catalogue["indicator"].tolist()
    take("indicator", indicators)
    if out.indicator not in indicators:
        out = out.with_(indicator=indicators[0])
    if levels_of is not None:
        allowed, why = levels_of(out.indicator)
        if out.level not in allowed and allowed:
            if params.get("level") == out.level:
                notices.append(f"URL parameter 'level' asked for {out.level.upper()}: {why} "
                               f"Showing {allowed[0]}s instead.")
            out = out.with_(level=allowed[0])
    take("measure", MEASURES)
    row = catalogue.set_index("indicator").loc[out.indicator]
    if out.measure == "rate" and not (row.get("additive", True)
                                      and has_denominator(row.get("denominator"))):
        if params.get("measure") == "rate":
            notices.append(f"URL parameter 'measure' was 'rate', but {out.indicator} has no "
                           "population denominator. Showing its value instead.")
        out = out.with_(measure="count")
    take("scheme", SCHEMES)
    take("classes", list(CLASSES), int)
    take("vintage", [2011, 2021], int)
    if breakdowns_of is not None:
        take("breakdown", breakdowns_of(out.indicator))
    available = periods_of(out.indicator)
    if "period" in params:
        try:
            start, end = parse_period(params["period"], available)
            out = out.with_(period_start=start, period_end=end)
        except FilterError as err:
            notices.append(f"URL parameter 'period': {err.problems[0]}. "
                           "Showing the default instead.")
    if out.period_start not in available or out.period_end not in available:
        # All of a monthly indicator's months; the latest period of any other (a yearly
        # rate is never averaged over every year unasked).
        frequency = dict(zip(catalogue["indicator"], catalogue["frequency"], strict=True)) \
            if "frequency" in catalogue else {}
        first = available[0] if frequency.get(out.indicator, "monthly") == "monthly" \
            else available[-1]
        out = out.with_(period_start=first, period_end=available[-1])
    return out, notices


def search_areas(view: pd.DataFrame, words: str, limit: int = 50) -> list[str]:
    """Area codes whose name or code contains every word typed (case-insensitive)."""
    text = (view["area_name"] + " " + view["area_code"]).str.lower()
    mask = pd.Series(True, index=view.index)
    for word in words.lower().split():
        mask &= text.str.contains(word, regex=False)
    return view.loc[mask, "area_code"].head(limit).tolist()


HOTSPOT_OPTIONS: dict[str, tuple] = {
    "method": ("gi", "lisa"),
    "analysis": ("hotspots", "emerging"),
    "permutations": (99, 199, 499, 999, 9999),
    "correction": ("fdr", "none"),
    "hex": (0, 6, 7, 8, 9),  # 0: LSOAs or wards; otherwise the H3 resolution
}
HOTSPOT_DEFAULTS = {"method": "gi", "analysis": "hotspots", "permutations": 999,
                    "correction": "fdr", "hex": 0}
# Hexagons are many (tens of thousands at resolution 9): 9,999 permutations on them took
# 47 s and 1 GB, so a link (or a choice) asks for at most this many there.
MAX_HEX_PERMUTATIONS = 999


def hotspot_options(params: dict[str, str]) -> tuple[dict, list[str]]:
    """The Hotspots page's options from URL parameters, falling back per parameter.

    Returns
    -------
    (dict, list of str)
        ``method, analysis, permutations, correction, hex`` and one notice per
        parameter that was ignored.
    """
    out, notices = dict(HOTSPOT_DEFAULTS), []
    for key, allowed in HOTSPOT_OPTIONS.items():
        if key not in params:
            continue
        raw = params[key]
        try:
            value = type(allowed[0])(raw)
        except (TypeError, ValueError):
            value = None
        if value in allowed:
            out[key] = value
        else:
            notices.append(f"URL parameter '{key}' was {raw!r}; it must be one of "
                           f"{list(allowed)}. Showing the default instead.")
    if out["hex"] and out["permutations"] > MAX_HEX_PERMUTATIONS:
        notices.append(f"URL parameter 'permutations' was {out['permutations']:,}; on "
                       f"hexagons at most {MAX_HEX_PERMUTATIONS:,} are run.")
        out["permutations"] = MAX_HEX_PERMUTATIONS
    return out, notices
