"""Region presets, read from ``config/regions.toml`` (re-exported for pages)."""

from __future__ import annotations

import dataclasses

from dashboard.filters import FilterError
from loaders import Region, default_region, load_regions


def get_region(name: str) -> Region:
    """The region preset called ``name``.

    Raises
    ------
    FilterError
        Naming the known regions.
    """
    regions = load_regions()
    if name not in regions:
        raise FilterError("region", f"{name!r} is not a region preset; known: {list(regions)}")
    return regions[name]


def view_region(name: str, vintage: int | None = None) -> Region:
    """The region preset, on another geography vintage when one is chosen."""
    region = get_region(name)
    return dataclasses.replace(region, vintage=vintage) if vintage else region


__all__ = ["Region", "default_region", "get_region", "load_regions", "view_region"]
