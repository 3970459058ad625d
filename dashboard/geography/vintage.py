"""Converting LSOA figures between the 2011 and 2021 vintages through the ONS exact-fit lookup.

Each source LSOA's figure is shared among the target LSOAs it overlaps:

* unchanged and merged LSOAs map whole (one target, weight 1);
* a split (or complex) LSOA shares its count among its parts in proportion to
  their population: Census 2021 usual residents of the LSOA21 parts when going
  2011 -> 2021; mid-2018 estimates of the LSOA11 parts when going 2021 -> 2011.

Weights of every source sum to 1, so counts are conserved; whole counts are
shared by largest remainders, so they stay whole and the total is exact. Scores and
rates are not shared out: a target takes the population-weighted mean of its
sources. Every conversion returns a report: how many areas, and how much of the
total moved by apportionment.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dashboard.measures import _read
from store import Store

GEOGRAPHY = {2011: "LSOA11", 2021: "LSOA21"}


@dataclass(frozen=True)
class Conversion:
    """What a conversion did, for the page and the export metadata."""

    source: str
    target: str
    areas_in: int
    areas_out: int
    apportioned_areas: int  # source areas shared among several targets
    total: float
    apportioned_total: float  # the part of the total moved by population shares
    unmatched: int  # source areas the lookup does not know (kept out, reported)

    def describe(self) -> str:
        """One plain sentence."""
        share = self.apportioned_total / self.total if self.total else 0.0
        text = (f"Converted from {self.source} to {self.target} through the ONS lookup: "
                f"{self.areas_in:,} areas became {self.areas_out:,}; "
                f"{self.apportioned_areas:,} split areas were shared by population, moving "
                f"{share:.1%} of the total.")
        if self.unmatched:
            text += f" {self.unmatched:,} areas are not in the lookup and were left out."
        return text


def weights(store: Store, source: str, target: str) -> pd.DataFrame:
    """``source_code, target_code, weight`` with each source's weights summing to 1."""
    lk = _read.exact_fit(store)
    src, tgt = ("lsoa11_code", "lsoa21_code") if source == "LSOA11" else \
        ("lsoa21_code", "lsoa11_code")
    pairs = lk.rename(columns={src: "source_code", tgt: "target_code"})[
        ["source_code", "target_code"]].drop_duplicates()
    pop = _read.population(store, target).rename(columns={"code": "target_code"})
    pairs = pairs.merge(pop, on="target_code", how="left")
    pairs["population"] = pairs["population"].fillna(0.0)
    total = pairs.groupby("source_code")["population"].transform("sum")
    parts = pairs.groupby("source_code")["target_code"].transform("size")
    # With no population to go by, parts share equally (never lose the count).
    pairs["weight"] = np.where(total > 0, pairs["population"] / total.replace(0, 1), 1 / parts)
    return pairs[["source_code", "target_code", "weight"]]


def _whole_parts(merged: pd.DataFrame, keys: list[str]) -> pd.Series:
    """Largest-remainder rounding within each source: whole counts, same total."""
    groups = [merged[k] for k in keys] + [merged["code"]]
    floor = np.floor(merged["part"] + 1e-9)
    remainder = merged["part"] - floor
    short = (merged["value"] - floor.groupby(groups).transform("sum")).round()
    order = remainder.groupby(groups).rank(method="first", ascending=False)
    return floor + (order <= short).astype(float)


def convert(values: pd.DataFrame, w: pd.DataFrame, *, additive: bool, source: str,
            target: str, source_population: pd.Series | None = None, by: str | None = None
            ) -> tuple[pd.DataFrame, Conversion]:
    """Convert ``code, value`` from one vintage to the other.

    Parameters
    ----------
    values : DataFrame
        ``code, value`` on the source vintage (NaN values are skipped).
    w : DataFrame
        From :func:`weights`.
    additive : bool
        Counts are shared by weight; other values take population-weighted means.
    source_population : Series, optional
        Population by source code, for non-additive means.
    by : str, optional
        A column of ``values`` (``period``) whose groups are converted each on their
        own, in one pass; the output keeps it, and the report covers them all.

    Returns
    -------
    (DataFrame, Conversion)
        ``code, value`` on the target vintage (after ``by``), and the report.
    """
    keys = [by] if by else []
    have = values.dropna(subset=["value"])
    merged = have.merge(w, left_on="code", right_on="source_code", how="inner")
    unmatched = int(have.loc[~have["code"].isin(w["source_code"]), "code"].nunique())
    if additive:
        merged["part"] = merged["value"] * merged["weight"]
        if np.allclose(have["value"], have["value"].round()):
            merged["part"] = _whole_parts(merged, keys)
        out = merged.groupby([*keys, "target_code"], as_index=False)["part"].sum() \
            .rename(columns={"target_code": "code", "part": "value"})
    else:
        pop = merged["code"].map(source_population) if source_population is not None \
            else pd.Series(1.0, index=merged.index)
        merged["a"] = pop.fillna(0.0) * merged["weight"]
        merged["av"] = merged["a"] * merged["value"]
        g = merged.groupby([*keys, "target_code"])
        out = (g["av"].sum() / g["a"].sum().replace(0, np.nan)).rename("value") \
            .reset_index().rename(columns={"target_code": "code"})
    split = merged.groupby([*keys, "code"])["target_code"].transform("size") > 1
    report = Conversion(
        source=source, target=target, areas_in=int(have["code"].nunique()),
        areas_out=out["code"].nunique(),
        apportioned_areas=int(merged.loc[split, "code"].nunique()),
        total=float(have["value"].sum()) if additive else 0.0,
        apportioned_total=float(merged.loc[split, "value"].mul(merged.loc[split, "weight"])
                                .sum()) if additive else 0.0,
        unmatched=unmatched)
    return out, report
