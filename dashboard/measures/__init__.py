"""Measures: an indicator's value, denominator, rate and rank for every area shown.

This is the door: the one path from the store's partner-bearing tables to every
map, table, chart and export, so the figures on screen and in a file are always
the same, and always the viewer's to see. Every public reader here takes the
viewer (and their grants, when already worked out) as a required argument, checks
access (``dashboard.access``) before it reads, and applies disclosure control
(``dashboard.measures.disclosure``) before anything leaves. The queries themselves are
``dashboard.measures._read``, the model's only SQL, which passes the viewer's
scope on to the store (bound by row-level security on PostgreSQL).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dashboard import access, geography
from dashboard.access import Viewer
from dashboard.filters import FilterError, ViewFilter, has_denominator
from dashboard.geography import vintage
from dashboard.measures import _read, catalogue, disclosure, rates, remembered
from dashboard.measures.catalogue import WARD_GEOGRAPHIES
from loaders import Region
from store import Store

COLUMNS = ["area_code", "area_name", "level", "indicator", "breakdown", "period_start",
           "period_end", "value", "value_lower_95", "value_upper_95", "denominator",
           "rate_per_1000", "rank", "estimated", "suppressed", "why_blank"]
# With the rate measure, exports add the rate's 95 % limits and the comparison with the
# region (``dashboard.measures.rates``).
RATE_COLUMNS = ["rate_lower_95", "rate_upper_95", "compared_with_region"]
# Change on the same period a year before, where the indicator has it (exports).
CHANGE_COLUMNS = ["value_year_before", "rate_ratio", "rate_ratio_lower_95",
                  "rate_ratio_upper_95", "change_on_year_before"]


def indicator_meta(store: Store, indicator: str, *, viewer: Viewer,
                   grants: dict | None = None) -> dict:
    """The catalogue entry of one indicator the viewer may see.

    An indicator the viewer may not see is reported as unknown, and only visible
    ones are listed, so nothing is given away.

    Raises
    ------
    AccessDenied
        If the indicator is not in the catalogue, or not visible to the viewer.
    """
    grants = access.rules(store, viewer) if grants is None else grants
    row = _read.catalogue_entry(store, viewer, indicator) if indicator in grants else None
    if row is None or row.empty:
        raise access.AccessDenied("indicator", f"{indicator!r} is not in the catalogue; "
                                  f"known: {sorted(grants)[:40]}")
    return row.iloc[0].to_dict()


def _lsoa_values(store: Store, who: Viewer, region: Region, meta: dict, start: str, end: str,
                 lookup: pd.DataFrame | None = None, breakdown: str = "") -> pd.DataFrame:
    """The indicator for each of the region's LSOAs over ``start``..``end``.

    Counts are summed over the period. Where an indicator's source covers an
    area (a police force's districts, say) an LSOA with no rows is a true zero;
    elsewhere it has no data (NaN). An indicator published on the other LSOA
    vintage is converted through the ONS lookup (``dashboard.geography.vintage``), and the
    frame's ``attrs["conversion"]`` says how. Pass the region's ``lookup``
    (``geography.lsoa_lookup``) when it is already read.

    Counts an indicator suppresses (k > 1) are protected here, cell by cell as
    stored, before they are summed (``disclosure.cell_sql``): ``hidden`` counts
    the small cells inside each figure.

    ``breakdown`` picks one breakdown value (``"Sex: Female"``); the default is
    the total.

    Returns
    -------
    DataFrame
        ``code, name, lad_code, value, denominator, hidden``, the partner-hidden
        columns (``disclosure.WITHHELD``) and ``lower``, ``upper`` (published
        limits, where a figure is one row as published).
    """
    shared = _LsoaShared(store, region, meta, lookup)
    obs = _figures(store, who, meta, shared.vintages, start, end, breakdown,
                   by_geography=True)
    partial, cover = "", pd.DataFrame({"lad_code": [], "period": []})
    if meta["additive"]:
        covered = _covered(store, who, meta["indicator"], start, end)
        cover = pd.DataFrame({"lad_code": covered["lad_code"], "period": None})
        partial = _partial(covered, shared.areas)
    out = shared.assemble(obs.assign(period=start), [start], cover).drop(columns="period")
    out.attrs["partial"] = partial
    return out


def _partial(covered: pd.DataFrame, areas: pd.DataFrame) -> str:
    """What a total over several periods says of the region's districts that its source
    covers in only some of them (:func:`_covered`); empty when none."""
    short = covered[~covered["full"] & covered["lad_code"].isin(set(areas["lad_code"]))]
    if not len(short):
        return ""
    months = int(covered.attrs["months"])
    return (f"{short['lad_code'].nunique()} districts of this region have data "
            f"for only {int(short['months'].min())} of the {months} months "
            "chosen; their totals cover those months only.")


def _lsoa_values_by_span(store: Store, who: Viewer, region: Region, meta: dict,
                         spans: dict[str, tuple[str, str]], lookup: pd.DataFrame | None = None,
                         breakdown: str = "") -> pd.DataFrame:
    """:func:`_lsoa_values` over each span of ``spans`` (a key to its ``(start, end)``),
    read in one pass: one query sums every span's protected cells
    (``_read.span_figures``), coverage and periods are read once, and the region's
    areas, populations and vintage weights are read once. The frame has a ``period``
    column of the spans' keys, and each span's rows are what ``_lsoa_values(..., start,
    end)`` gives; ``attrs["partial"]`` is a dict of each span's."""
    shared = _LsoaShared(store, region, meta, lookup)
    obs = _read.span_figures(store, who, meta, shared.vintages,
                             [(key, s, e) for key, (s, e) in spans.items()], breakdown,
                             standing=_standing(store, who, meta))
    obs["value"] = obs["value"].where(obs["hidden"] == 0, disclosure.whole(obs["value"]))
    partial = dict.fromkeys(spans, "")
    cover = pd.DataFrame({"lad_code": [], "period": []})
    if meta["additive"]:
        first = min(s for s, _ in spans.values())
        last = max(e for _, e in spans.values())
        rows = _read.coverage(store, who, meta["indicator"], first, last)
        bounds = _read.period_bounds(store, who, meta["indicator"])
        covers, seen = [], {}
        for key, (s, e) in spans.items():
            inside = bounds[(bounds["period_start"] >= s) & (bounds["period_end"] <= e)
                            & (bounds["period_start"] <= e)]
            within = (rows["period"].isna() | ((rows["period"] >= s) & (rows["period"] <= e))
                      ).to_numpy(bool)
            months = inside["period_start"].nunique()
            # spans with the same coverage rows and periods are covered alike
            same = (within.tobytes(), months)
            if same not in seen:
                seen[same] = _coverage_by_district(rows[within], months)
            covered = seen[same]
            covers.append(pd.DataFrame({"lad_code": covered["lad_code"], "period": key}))
            partial[key] = _partial(covered, shared.areas)
        cover = pd.concat(covers, ignore_index=True)
    out = shared.assemble(obs, list(spans), cover)
    out.attrs["partial"] = partial
    return out


def _lsoa_values_by_period(store: Store, who: Viewer, region: Region, meta: dict,
                           periods: list[str], lookup: pd.DataFrame | None = None,
                           breakdown: str = "") -> pd.DataFrame:
    """:func:`_lsoa_values` of each single period in ``periods``, read in one pass.

    One query reads every period's figures, the region's areas, populations and
    vintage weights are read once, and each step works on all the periods
    together: a series of 92 months took 92 full reads before. The frame has a
    ``period`` column, and each period's rows are what ``lsoa_values(..., p, p)``
    gives (``attrs["partial"]`` is empty: in one period a district is covered or not).
    """
    shared = _LsoaShared(store, region, meta, lookup)
    obs = _figures(store, who, meta, shared.vintages, periods[0], periods[-1], breakdown,
                   by_geography=True, by_period=True)
    obs = obs[obs["period"].isin(set(periods))]
    cover = _read.coverage(store, who, meta["indicator"], periods[0], periods[-1]) \
        if meta["additive"] else pd.DataFrame({"lad_code": [], "period": []})
    out = shared.assemble(obs, periods, cover)
    out.attrs["partial"] = ""
    return out


class _LsoaShared:
    """What every period of one indicator's LSOA figures in one region shares: the
    region's LSOAs and populations (read once); the vintage weights are read when a
    conversion needs them."""

    def __init__(self, store: Store, region: Region, meta: dict,
                 lookup: pd.DataFrame | None):
        _refuse_lsoas_of_ward_data(meta)
        if meta["geography"] not in vintage.GEOGRAPHY.values():
            raise FilterError("indicator", f"{meta['indicator']} is published on "
                              f"{meta['geography']} geography, which cannot be shown by LSOA")
        self.store, self.region, self.meta = store, region, meta
        self.areas = geography.region_areas(store, region, "lsoa", lookup)
        # A long series may change vintage part-way (LSOA 2011 codes until 2023, 2021
        # after): each vintage's rows are converted on their own, then added together.
        self.vintages = sorted(set(vintage.GEOGRAPHY.values()))
        self.pop = _read.population(store, region.lsoa_geography) \
            .rename(columns={"population": "denominator"})

    def weights(self, geo: str) -> tuple[pd.DataFrame, pd.Series]:
        """Weights from ``geo`` to the region's vintage (only those reaching the
        region, so a report speaks of the region), and ``geo``'s populations."""
        w = vintage.weights(self.store, geo, self.region.lsoa_geography)
        source_pop = _read.population(self.store, geo).set_index("code")["population"]
        return w[w["target_code"].isin(set(self.areas["code"]))], source_pop

    def assemble(self, obs: pd.DataFrame, periods: list[str], cover: pd.DataFrame
                 ) -> pd.DataFrame:
        """Figures (``_figures(..., by_geography=True)`` with a ``period`` column) on the
        region's LSOAs, every LSOA in every period, period by period. An LSOA without
        rows is a true zero in a district ``cover`` (``lad_code, period``; a NULL
        period: every period) says the source covers then."""
        meta, target = self.meta, self.region.lsoa_geography
        parts, conversions = [], []
        for geo, part in obs.groupby("geography", sort=True):
            part = part.drop(columns="geography")
            if geo != target:  # limits of a converted figure are not known
                part = part.drop(columns=["lower", "upper"])
                w, source_pop = self.weights(geo)
                moved = part[part["code"].isin(set(w["source_code"]))]
                part, conversion = vintage.convert(
                    moved, w, additive=bool(meta["additive"]), source=geo, target=target,
                    source_population=source_pop, by="period")
                conversions.append(conversion)
                # Every stand-in a converted figure holds is counted in ``estimated``:
                # a hidden cell counts once in each area it is shared into.
                if "hidden" in moved and moved["hidden"].gt(0).any():
                    hid = moved.loc[moved["hidden"] > 0, ["period", "code", "hidden"]] \
                        .merge(w[w["weight"] > 0], left_on="code", right_on="source_code") \
                        .groupby(["period", "target_code"], as_index=False)["hidden"].sum() \
                        .rename(columns={"target_code": "code"})
                    part = part.merge(hid, on=["period", "code"], how="left")
                if moved["withheld"].gt(0).any():  # partner-hidden cells go where they go
                    for col in [c for c in disclosure.WITHHELD if c in moved]:
                        shares, _ = vintage.convert(
                            moved[["period", "code", col]].rename(columns={col: "value"}), w,
                            additive=True, source=geo, target=target, by="period")
                        part = part.merge(shares.rename(columns={"value": col}),
                                          on=["period", "code"], how="outer")
            parts.append(part)
        if len(parts) > 1:
            both = pd.concat(parts, ignore_index=True)
            obs = both.groupby(["period", "code"], as_index=False).agg(
                value=("value", "sum" if meta["additive"] else "mean"),
                **{c: (c, "sum") for c in ("hidden", *disclosure.WITHHELD) if c in both})
        else:
            obs = parts[0] if parts else obs.drop(columns="geography")
        out = _every_period(self.areas, periods) \
            .merge(obs, on=["period", "code"], how="left", validate="one_to_one") \
            .merge(self.pop, on="code", how="left", validate="many_to_one")
        if meta["additive"]:
            always = cover["period"].isna()
            covered = out["lad_code"].isin(set(cover.loc[always, "lad_code"]))
            if (~always).any():
                when = pd.MultiIndex.from_frame(cover.loc[~always, ["period", "lad_code"]])
                covered |= pd.MultiIndex.from_frame(out[["period", "lad_code"]]).isin(when)
            zero = out["value"].isna() & covered & ~disclosure.is_withheld(out)
            out.loc[zero, "value"] = 0.0
        out["hidden"] = out["hidden"].fillna(0).astype(int) if "hidden" in out else 0
        out = disclosure.with_withheld(out)
        for col in ("lower", "upper"):
            out[col] = out[col].where(out["value"].notna()) if col in out else np.nan
        out = out[["period", "code", "name", "lad_code", "value", "denominator", "hidden",
                   *disclosure.WITHHELD, "lower", "upper"]]
        out.attrs["conversion"] = " ".join(c.describe() for c in conversions)
        return out


def _every_period(areas: pd.DataFrame, periods: list[str]) -> pd.DataFrame:
    """Each area in each period: the periods in order, the areas in order within each."""
    return pd.DataFrame({"period": periods}).merge(areas, how="cross")


def _refuse_lsoas_of_ward_data(meta: dict) -> None:
    """An indicator published by ward has no LSOA figures, and is never spread over
    LSOAs."""
    if catalogue.ward_level(meta):
        raise FilterError("level", f"{meta['title']} is published by ward; it is shown at "
                          "ward level only, never spread over LSOAs")


def _figures(store: Store, who: Viewer, meta: dict, geographies, start: str, end: str,
             breakdown: str, *, by_geography: bool = False, by_period: bool = False
             ) -> pd.DataFrame:
    """Each area's stored figure over ``start``..``end`` for one breakdown (``""``: the
    total): ``code, value, hidden``, the partner-hidden columns and the published
    limits (and ``geography`` with ``by_geography``). Counts are summed from protected
    cells (``disclosure.cell_sql``; ``hidden`` counts the small ones), other measures
    averaged. ``by_period`` gives each single period's figure (``period``) instead of
    one over the range."""
    if meta["additive"] and meta["indicator"] in _broken_down(store, who):
        obs = _broken_down_figures(store, who, meta, geographies, start, end, breakdown,
                                   by_geography=by_geography, by_period=by_period)
    else:
        obs = _read.figures(store, who, meta, geographies, start, end, breakdown,
                            by_geography=by_geography, by_period=by_period,
                            standing=_standing(store, who, meta))
    obs["value"] = obs["value"].where(obs["hidden"] == 0, disclosure.whole(obs["value"]))
    return obs


_BROKEN_DOWN: dict[tuple, set[str]] = {}
_STANDING: dict[tuple, float | None] = {}


def _standing(store: Store, who: Viewer, meta: dict) -> float | None:
    """The value an indicator's hidden small counts stand in as (``disclosure.stand_in``,
    fitted to its visible counts), read once per store state and scope; None where
    nothing is hidden."""
    k = int(meta.get("suppression_k") or 0) if meta.get("additive") else 0
    if k <= 1 or meta["indicator"] in _broken_down(store, who):
        # A count with breakdowns keeps the midpoint k/2: its stored totals hold the
        # true values of hidden parts, so no count of it may inform the stand-in.
        return None
    key = (id(store), store.version(), who.role, who.org, meta["indicator"], k)
    if key not in _STANDING:
        if len(_STANDING) > 256:
            _STANDING.clear()
        _STANDING[key] = disclosure.stand_in(
            _read.visible_counts(store, who, meta["indicator"], k), k)
    return _STANDING[key]


def stand_in(store: Store, indicator: str, *, viewer: Viewer,
             grants: dict | None = None) -> float | None:
    """The value an indicator's hidden small counts stand in as in every total (None
    where it hides none): what exports and help text say."""
    return _standing(store, viewer, indicator_meta(store, indicator, viewer=viewer,
                                                   grants=grants))


def _broken_down(store: Store, who: Viewer) -> set[str]:
    """The indicators with breakdown rows, read once per store state and scope."""
    key = (id(store), store.version(), who.role, who.org)
    if key not in _BROKEN_DOWN:
        if len(_BROKEN_DOWN) > 64:
            _BROKEN_DOWN.clear()
        _BROKEN_DOWN[key] = _read.broken_down(store, who)
    return _BROKEN_DOWN[key]


def _breakdown_cells(store: Store, who: Viewer, meta: dict, geographies, start: str,
                     end: str, breakdown: str, codes: list[str] | None = None
                     ) -> pd.DataFrame:
    """A broken-down count's protected cells (``disclosure.breakdown_cells``): its total
    built from its parts' protected cells, never as stored."""
    rows = _read.breakdown_rows(store, who, meta["indicator"], geographies, start, end, codes)
    return disclosure.breakdown_cells(rows, int(meta.get("suppression_k") or 0), breakdown,
                                      _standing(store, who, meta))


def _broken_down_figures(store: Store, who: Viewer, meta: dict, geographies, start: str,
                         end: str, breakdown: str, *, by_geography: bool, by_period: bool
                         ) -> pd.DataFrame:
    """:func:`_figures` of a count with breakdowns, from its protected cells (the same
    columns as ``_read.figures`` gives)."""
    cells = _breakdown_cells(store, who, meta, geographies, start, end, breakdown)
    if by_period:
        cells = cells[cells["period_start"] == cells["period_end"]].rename(
            columns={"period_start": "period"})
    keys = [*(["geography"] if by_geography else []), *(["period"] if by_period else []),
            "area_code"]
    by = cells.groupby(keys)
    out = pd.DataFrame({
        "value": by["value"].sum(min_count=1), "hidden": by["small"].sum(),
        "withheld": by["withheld"].sum(), "other": by["other"].sum(),
        "low": by["low"].sum(min_count=1),
        "high": by["high"].sum(min_count=1), "n": by.size(),
        "lower": by["lower"].first(), "upper": by["upper"].first()}).reset_index()
    out.loc[out["n"] != 1, ["lower", "upper"]] = np.nan  # limits of one row as published
    return out.drop(columns="n").rename(columns={"area_code": "code"})


def _ward_values(store: Store, who: Viewer, region: Region, meta: dict, start: str, end: str,
                 lookup: pd.DataFrame | None = None, breakdown: str = "") -> pd.DataFrame:
    """An indicator published by ward, for each of the region's wards.

    A ward code names one boundary, so a ward of either vintage that is on the
    region's map takes its figure as published; a ward the map does not have is
    left out and counted in ``attrs["unmatched"]``. Counts are summed over the
    period, other measures averaged. The denominator is the population of the
    LSOAs best-fitted to the ward. Same columns as :func:`lsoa_values`.
    """
    lk = geography.lsoa_lookup(store, region) if lookup is None else lookup
    areas = geography.region_areas(store, region, "ward", lk)
    obs = _figures(store, who, meta, WARD_GEOGRAPHIES, start, end, breakdown)
    pop = _read.population(store, region.lsoa_geography).set_index("code")["population"]
    denominator = lk.assign(p=lk["lsoa_code"].map(pop)).groupby("ward_code")["p"] \
        .sum(min_count=1).rename("denominator").rename_axis("code").reset_index()
    out = areas.merge(obs, on="code", how="left", validate="one_to_one") \
        .merge(denominator, on="code", how="left", validate="one_to_one")
    out["hidden"] = out["hidden"].fillna(0).astype(int)
    out = disclosure.with_withheld(out)
    out = out[["code", "name", "lad_code", "value", "denominator", "hidden",
               *disclosure.WITHHELD, "lower", "upper"]]
    out.attrs["unmatched"] = int((~obs["code"].isin(set(areas["code"]))).sum())
    out.attrs["conversion"] = ""
    out.attrs["partial"] = ""
    return out


def _area_values(store: Store, who: Viewer, region: Region, meta: dict, flt: ViewFilter,
                 lookup: pd.DataFrame | None = None) -> pd.DataFrame:
    """The indicator's figures on its own areas for the filter's period and breakdown:
    LSOAs (:func:`_lsoa_values`), or wards for an indicator published by ward."""
    values = _ward_values if catalogue.ward_level(meta) else _lsoa_values
    return values(store, who, region, meta, flt.period_start, flt.period_end, lookup,
                  flt.breakdown)


def covered_districts(store: Store, indicator: str, start: str, end: str, *,
                      viewer: Viewer, grants: dict | None = None) -> pd.DataFrame:
    """Districts where the indicator's source reports, over ``start``..``end``, for a
    viewer who may see the indicator.

    In a covered district an area without rows had none to report (a true zero).

    Returns
    -------
    DataFrame
        ``lad_code`` (each code of every vintage), ``months`` covered and
        ``full`` (covered in every period of the indicator in the range).
        ``attrs["months"]`` is how many periods the range holds.
    """
    indicator_meta(store, indicator, viewer=viewer, grants=grants)
    return _covered(store, viewer, indicator, start, end)


def _covered(store: Store, who: Viewer, indicator: str, start: str, end: str
             ) -> pd.DataFrame:
    months = _read.period_count(store, who, indicator, start, end)
    return _coverage_by_district(_read.coverage(store, who, indicator, start, end), months)


def _coverage_by_district(cov: pd.DataFrame, months: int) -> pd.DataFrame:
    """:func:`_covered` from the coverage rows of its range (``_read.coverage``) and how
    many periods the range holds."""
    by = cov.groupby("lad_code")["period"]
    per = pd.DataFrame({"always": cov["period"].isna().groupby(cov["lad_code"]).any(),
                        "months": by.nunique()}).rename_axis("lad_code").reset_index()
    per["months"] = per["months"].where(~per["always"], months)
    per["full"] = per["months"] >= months
    out = per[["lad_code", "months", "full"]].reset_index(drop=True)
    out.attrs["months"] = int(months)
    return out


def latest_period(store: Store, indicator: str, *, viewer: Viewer,
                  grants: dict | None = None) -> tuple[str, str]:
    """The latest period an indicator has a figure for: ``(start, end)`` (a total
    over several months keeps its span).

    Raises
    ------
    AccessDenied, FilterError
        If the viewer may not see the indicator, or it has no figures.
    """
    indicator_meta(store, indicator, viewer=viewer, grants=grants)
    row = _read.latest(store, viewer, indicator)
    if row.empty:
        raise FilterError("indicator", f"{indicator} has no figures yet")
    return row["period_start"].iat[0], row["period_end"].iat[0]


def rank_areas(measure: pd.Series, polarity: str, by: pd.Series | None = None) -> pd.Series:
    """Rank areas so that 1 is the area of most need (highest, or lowest if low is bad);
    ``by`` ranks each group (a period) on its own."""
    ascending = polarity == "low_is_bad"
    ranked = measure.rank(method="min", ascending=ascending) if by is None else \
        measure.groupby(by).rank(method="min", ascending=ascending)
    return ranked.astype("Int64")


def indicator_view(store: Store, region: Region, flt: ViewFilter, *, viewer: Viewer,
                   grants: dict | None = None, lookup: pd.DataFrame | None = None,
                   lsoa: pd.DataFrame | None = None) -> pd.DataFrame:
    """The figures behind a map: one row per area of the region at the filter's level.

    This is the chokepoint. The ``viewer`` must be allowed the indicator at the
    filter's level (``dashboard.access``; pass their ``grants`` when already
    read), and small counts are suppressed (``dashboard.measures.disclosure``).

    Returns
    -------
    DataFrame
        :data:`COLUMNS` plus ``lad_code`` and ``lad_name``, sorted by area code.
        ``rank`` ranks the chosen measure within the region (1 = most need).
        Pass the region's ``lookup`` and the indicator's ``lsoa`` values
        (:func:`lsoa_values` for the filter's period) when they are already read.
        Small counts are suppressed (``dashboard.measures.disclosure``): their figures
        are NaN and ``suppressed`` says why.

    Raises
    ------
    FilterError
        If the indicator is unknown, is on another geography, or the measure is
        a rate for an indicator without a denominator.
    AccessDenied
        If the viewer may not see the indicator, or not at this level.
    """
    meta = _allowed(store, flt, viewer, grants)
    if lookup is None:
        lookup = geography.lsoa_lookup(store, region)
    if lsoa is None:
        lsoa = _area_values(store, viewer, region, meta, flt, lookup)
    views = _protected_views(store, region, flt, meta, lookup,
                             lsoa.assign(period=flt.period_start),
                             {flt.period_start: flt.period_end})
    out = views[flt.period_start]
    out.attrs["partial"] = lsoa.attrs.get("partial", "")
    return out


def indicator_views(store: Store, region: Region, flt: ViewFilter, periods: list[str], *,
                    viewer: Viewer, grants: dict | None = None) -> dict[str, pd.DataFrame]:
    """:func:`indicator_view` of each single period in ``periods`` (the filter's own
    period is not used), read and protected together: access is checked once,
    every period's figures come from one query (:func:`lsoa_values_by_period`),
    and each step runs on all the periods at once. Each frame is the same as
    ``indicator_view`` gives for its period, but ``attrs["conversion"]``, which
    reports the conversion of all the periods together.

    Raises
    ------
    FilterError, AccessDenied
        As :func:`indicator_view`, before any figure is read.
    """
    grants = access.rules(store, viewer) if grants is None else grants
    if flt.level != "ward":
        return _indicator_views(store, region, flt, periods, viewer=viewer, grants=grants)
    return remembered.remember(
        "indicator_views", store, viewer, grants, (region, flt, tuple(periods)),
        lambda: _indicator_views(store, region, flt, periods, viewer=viewer, grants=grants))


def _indicator_views(store: Store, region: Region, flt: ViewFilter, periods: list[str], *,
                     viewer: Viewer, grants: dict) -> dict[str, pd.DataFrame]:
    meta = _allowed(store, flt, viewer, grants)
    lookup = geography.lsoa_lookup(store, region)
    if catalogue.ward_level(meta):
        read = [_ward_values(store, viewer, region, meta, p, p, lookup, flt.breakdown)
                .assign(period=p)
                for p in periods]
        lsoa = pd.concat(read, ignore_index=True)
        lsoa.attrs["conversion"] = ""
    else:
        lsoa = _lsoa_values_by_period(store, viewer, region, meta, periods, lookup,
                                      flt.breakdown)
    views = _protected_views(store, region, flt, meta, lookup, lsoa, {p: p for p in periods})
    for view in views.values():
        view.attrs["partial"] = ""  # one period: a district is covered in it or not
    return views


def span_views(store: Store, region: Region, flt: ViewFilter, spans: list[tuple[str, str]],
               *, viewer: Viewer, grants: dict | None = None,
               lookup: pd.DataFrame | None = None) -> dict[tuple[str, str], pd.DataFrame]:
    """:func:`indicator_view` of each span ``(start, end)`` in ``spans`` (the filter's own
    period is not used), keyed by the span, read and protected together: access is
    checked once, one query sums every span's stored cells, each protected where it is
    stored and each small one standing in as in every total
    (``_read.span_figures``), and each step runs on all the spans at once. Every
    span's total is then protected as that total (primary, secondary and derived
    suppression on its own figures), exactly as :func:`indicator_view` protects it:
    never pieced together from protected single months. Each frame is the same as
    ``indicator_view`` gives for its span, but ``attrs["conversion"]``, which reports
    the conversion of all the spans together.

    An indicator published by ward, or a count with breakdowns, is read span by span.

    Raises
    ------
    FilterError, AccessDenied
        As :func:`indicator_view`, before any figure is read.
    """
    grants = access.rules(store, viewer) if grants is None else grants
    meta = _allowed(store, flt, viewer, grants)
    lookup = geography.lsoa_lookup(store, region) if lookup is None else lookup
    spans = list(dict.fromkeys(spans))
    if not spans:
        return {}
    if catalogue.ward_level(meta) or (meta["additive"]
                                      and meta["indicator"] in _broken_down(store, viewer)):
        return {(s, e): indicator_view(store, region, flt.with_(period_start=s, period_end=e),
                                       viewer=viewer, grants=grants, lookup=lookup)
                for s, e in spans}
    keys = {f"{s}/{e}": (s, e) for s, e in spans}
    lsoa = _lsoa_values_by_span(store, viewer, region, meta, keys, lookup, flt.breakdown)
    views = _protected_views(store, region, flt, meta, lookup, lsoa,
                             {key: e for key, (_, e) in keys.items()},
                             {key: s for key, (s, _) in keys.items()})
    out = {}
    for key, span in keys.items():
        view = views[key]
        view.attrs["partial"] = lsoa.attrs["partial"][key]
        out[span] = view
    return out


def _allowed(store: Store, flt: ViewFilter, viewer: Viewer, grants: dict | None) -> dict:
    """The indicator's catalogue entry, once the viewer is known to be allowed it at the
    filter's level and the filter's measure and level are known to suit it."""
    grants = access.rules(store, viewer) if grants is None else grants
    meta = indicator_meta(store, flt.indicator, viewer=viewer, grants=grants)
    access.require(viewer, grants, flt.indicator, flt.level, meta["title"])
    if flt.measure == "rate" and not has_rate(meta):
        why = "population denominator" if not has_denominator(meta["denominator"]) else \
            f"rate per 1,000: it is a {meta['unit']}, shown as published"
        raise FilterError("measure", f"{flt.indicator} has no {why}; use --measure count")
    if flt.level == "lsoa":
        _refuse_lsoas_of_ward_data(meta)
    return meta


def _protected_views(store: Store, region: Region, flt: ViewFilter, meta: dict,
                     lookup: pd.DataFrame, lsoa: pd.DataFrame, ends: dict[str, str],
                     starts: dict[str, str] | None = None) -> dict[str, pd.DataFrame]:
    """The body of :func:`indicator_view`, once access is checked and the figures read,
    for one period or several at once: ward totals, rates, ranks, then disclosure
    control on all of them, each period on its own.

    ``lsoa`` holds the figures on the indicator's own areas with a ``period`` column
    whose values are the keys of ``ends`` (each period's start, mapped to its end; or,
    with ``starts``, any key, mapped to its start by ``starts``). Returns each period's
    view, keyed as in ``ends``.
    """
    periods = list(ends)
    by_ward = catalogue.ward_level(meta)
    if flt.level == "lsoa" or by_ward:
        view = lsoa
    else:
        wards = geography.region_areas(store, region, "ward", lookup)
        agg = geography.aggregate_to_ward(lsoa, lookup, additive=bool(meta["additive"]))
        view = _every_period(wards, periods).merge(agg, on=["period", "code"], how="left",
                                                   validate="one_to_one")
    view = view.assign(hidden=view["hidden"].fillna(0).astype(int) if "hidden" in view else 0)
    view = disclosure.with_withheld(view)  # a total with a partner-hidden cell is hidden
    names = lookup[["lad_code", "lad_name"]].drop_duplicates("lad_code")
    view = view.drop(columns=[c for c in ("lad_name",) if c in view]).merge(
        names, on="lad_code", how="left")
    if meta["additive"] and has_denominator(meta["denominator"]):
        rate = view["value"] / view["denominator"].replace(0, np.nan) * 1000.0
    else:
        rate = pd.Series(np.nan, index=view.index)
    chosen = rate if flt.measure == "rate" else view["value"]
    period = view["period"]
    out = pd.DataFrame({
        "area_code": view["code"], "area_name": view["name"], "level": flt.level,
        "indicator": flt.indicator, "breakdown": flt.breakdown,
        "period_start": period if starts is None else period.map(starts),
        "period_end": period.map(ends),
        "value": view["value"], "value_lower_95": view.get("lower", np.nan),
        "value_upper_95": view.get("upper", np.nan),
        "denominator": view["denominator"], "rate_per_1000": rate,
        "rank": rank_areas(chosen, meta["polarity"], by=period),
        "lad_code": view["lad_code"], "lad_name": view["lad_name"],
        "estimated": view["hidden"]})
    # The disclosure chokepoint: nothing below reaches a page or a file unprotected.
    protected = out["value"]  # built from protected cells only
    k = int(meta.get("suppression_k") or 0)
    out = disclosure.protect(out, k, additive=bool(meta["additive"]),
                             polarity=meta["polarity"],
                             measure_column="rate_per_1000" if flt.measure == "rate"
                             else "value", by=period)
    out["suppressed"] = disclosure.withheld_label(view, out["suppressed"])
    hide = out["suppressed"] != ""  # limits would give a hidden figure away
    out.loc[hide, ["value_lower_95", "value_upper_95"]] = np.nan
    out["why_blank"] = disclosure.why_blank(out, k, rated=has_rate(meta))
    out, region_figure = _with_comparison(out, lsoa, meta, flt.measure, period)
    # A small count's stand-in (one value per hidden cell, never its true value) lets a hotspot
    # test keep the area in place instead of leaving a hole: holes in random data
    # make false clusters. It is never shown.
    stand_in = protected.where(out["suppressed"] == disclosure.PRIMARY)
    out = out[COLUMNS + ["lad_code", "lad_name", *RATE_COLUMNS]]
    views = {}
    for p, part in out.groupby(period, sort=False):
        small = stand_in[part.index].dropna()
        one = part.sort_values("area_code").reset_index(drop=True)
        one.attrs = {"measure": flt.measure, "suppression_k": k,
                     "stand_in": disclosure.StandIns(zip(
                         part.loc[small.index, "area_code"], small, strict=True)),
                     "region_figure": region_figure[p],
                     "conversion": lsoa.attrs.get("conversion", "")}
        views[p] = one
    return views


def _with_comparison(out: pd.DataFrame, lsoa: pd.DataFrame, meta: dict,
                     measure: str, period: pd.Series) -> tuple[pd.DataFrame, dict]:
    """Each area's 95 % interval against its region's figure in the same period
    (``dashboard.measures.rates``), and the region's figure of each period (``period`` says
    which each row of ``out`` is in, by the keys of ``lsoa``'s ``period``).

    A rate per 1,000 takes the exact Poisson limits of its count; a published rate
    or score, the partner's own limits. The region's figure pools all its areas
    (a rate: their counts over their population; a published rate: the
    population-weighted mean). A count, or a figure without limits, is not compared.
    """
    lower, upper = (rates.rate_limits(out["value"], out["denominator"]) if has_rate(meta)
                    else (np.nan, np.nan))
    out = out.assign(rate_lower_95=lower, rate_upper_95=upper)
    out.loc[out["suppressed"] != "", ["rate_lower_95", "rate_upper_95"]] = np.nan
    periods = lsoa.groupby("period", sort=False)
    if measure == "rate" and has_rate(meta):
        region = {p: pooled(part, additive=True, rated=True) for p, part in periods}
        lo, hi = out["rate_lower_95"], out["rate_upper_95"]
    elif not meta["additive"]:
        region = {p: pooled(part, additive=False, rated=False) for p, part in periods}
        lo, hi = out["value_lower_95"], out["value_upper_95"]
    else:
        region = {p: np.nan for p, _ in periods}
        lo, hi = np.full(len(out), np.nan), np.full(len(out), np.nan)
    comparator = period.map(region).astype(float)
    out["compared_with_region"] = rates.compare(lo, hi, comparator)
    return out, region


def year_before(period: str) -> str | None:
    """The same period a year earlier: ``2023-04`` -> ``2022-04``, ``2023`` -> ``2022``."""
    head, sep, tail = period.partition("-")
    return f"{int(head) - 1}{sep}{tail}" if head.isdigit() and len(head) == 4 else None


def change_on_year_before(store: Store, region: Region, flt: ViewFilter, *, viewer: Viewer,
                          grants: dict | None = None, lookup: pd.DataFrame | None = None,
                          now: pd.DataFrame | None = None) -> pd.DataFrame | None:
    """Each area's count over the filter's period against the same period a year
    before, as a rate ratio with its 95 % interval (``rates.rate_ratio``). Pass the
    filter's own view as ``now`` when it is already read. Kept for the next caller of
    the same scope (:mod:`dashboard.measures.remembered`).

    Returns
    -------
    DataFrame or None
        ``area_code`` and :data:`CHANGE_COLUMNS` (``change_on_year_before`` is
        ``higher``, ``similar``, ``lower`` or ``not compared``); None where the
        indicator is not a count or has no figures a year before.
    """
    grants = access.rules(store, viewer) if grants is None else grants
    return remembered.remember(
        "change_on_year_before", store, viewer, grants, (region, flt),
        lambda: _change_on_year_before(store, region, flt, viewer=viewer, grants=grants,
                                       lookup=lookup, now=now))


def _change_on_year_before(store: Store, region: Region, flt: ViewFilter, *, viewer: Viewer,
                          grants: dict | None = None, lookup: pd.DataFrame | None = None,
                          now: pd.DataFrame | None = None) -> pd.DataFrame | None:
    """Each area's count over the filter's period against the same period a year
    before, as a rate ratio with its 95 % interval (``rates.rate_ratio``). Pass the
    filter's own view as ``now`` when it is already read.

    Returns
    -------
    DataFrame or None
        ``area_code`` and :data:`CHANGE_COLUMNS` (``change_on_year_before`` is
        ``higher``, ``similar``, ``lower`` or ``not compared``); None where the
        indicator has no figures a year before. A count's ratio is of rates on its
        population (``rates.rate_ratio``); a published figure's of the figures, with
        an interval from the partner's own limits (``rates.ratio_of_published``).
    """
    grants = access.rules(store, viewer) if grants is None else grants
    meta = indicator_meta(store, flt.indicator, viewer=viewer, grants=grants)
    start, end = year_before(flt.period_start), year_before(flt.period_end)
    months = catalogue.months(store, flt.indicator, viewer=viewer, grants=grants)
    if start not in months or end not in months:
        return None

    def read(s: str, e: str) -> pd.DataFrame:
        return indicator_view(store, region, flt.with_(measure="count", period_start=s,
                                                       period_end=e),
                              viewer=viewer, grants=grants, lookup=lookup)
    now = read(flt.period_start, flt.period_end) if now is None else now
    before = read(start, end)
    before = before.set_index("area_code").reindex(now["area_code"])
    if meta["additive"]:
        ratio = rates.rate_ratio(now["value"], now["denominator"],
                                 before["value"].to_numpy(), before["denominator"].to_numpy())
    else:  # a published figure: the ratio, with an interval from the partner's limits
        limits = ["value_lower_95", "value_upper_95"]
        have = [now.get(c, np.nan) for c in limits]
        had = [before[c].to_numpy() if c in before else np.nan for c in limits]
        ratio = rates.ratio_of_published(now["value"], *have, before["value"].to_numpy(),
                                         *had)
    return pd.DataFrame({
        "area_code": now["area_code"], "value_year_before": before["value"].to_numpy(),
        "rate_ratio": ratio["ratio"].to_numpy(),
        "rate_ratio_lower_95": ratio["ratio_lower_95"].to_numpy(),
        "rate_ratio_upper_95": ratio["ratio_upper_95"].to_numpy(),
        "change_on_year_before": ratio["change"].to_numpy()})


def coverage_note(view: pd.DataFrame, noun: str, where: str) -> str:
    """How much of the areas shown the indicator covers, when it is not all of them:
    ``Figures cover 1,234 of the 35,672 LSOAs of England and Wales (3%)...``."""
    has = view["value"].notna() | (view.get("suppressed", pd.Series("", view.index)) != "")
    n, of = int(has.sum()), len(view)
    if not of or n == of or not n:
        return ""
    return (f"Figures cover {n:,} of the {of:,} {noun} of {where} ({n / of:.0%}): the "
            "source covers only those areas, so the others have no data, and no total, "
            "rank, comparison or hot spot test counts them.")


def most_need(view: pd.DataFrame, n: int = 15) -> pd.DataFrame:
    """The ``n`` areas of most need (rank 1 first); suppressed and no-data areas are out."""
    ranked = view["rank"].dropna()
    if ranked.empty:
        return view.iloc[:0]
    # Sort only the areas up to the n-th rank (ties kept), not all 35,000 of a national view.
    cut = ranked.nsmallest(n).max()
    return view[view["rank"] <= cut].sort_values(["rank", "area_code"]).head(n)


def measure_column(flt: ViewFilter) -> str:
    """The column of :func:`indicator_view` that the filter's measure maps."""
    return "rate_per_1000" if flt.measure == "rate" else "value"


def has_rate(meta: dict) -> bool:
    """Whether an indicator has a rate per 1,000: a count with a denominator."""
    return bool(meta["additive"]) and has_denominator(meta["denominator"])


def filter_for(store: Store, flt: ViewFilter, indicator: str, *, viewer: Viewer,
               prefer_rate: bool = True, grants: dict | None = None) -> ViewFilter:
    """The filter for one indicator among several (a profile, an overlap, an export).

    The measure is the rate where the indicator has one (and ``prefer_rate``),
    else its value; the period is the filter's where the indicator has those
    months, else all of a monthly indicator's months, or the latest period of
    any other (a yearly rate is never averaged over years unasked).
    """
    grants = access.rules(store, viewer) if grants is None else grants
    meta = indicator_meta(store, indicator, viewer=viewer, grants=grants)
    months = catalogue.months(store, indicator, viewer=viewer, grants=grants)
    if flt.period_start in months and flt.period_end in months:
        start, end = flt.period_start, flt.period_end
    elif meta["frequency"] == "monthly":
        start, end = months[0], months[-1]
    else:
        start, end = latest_period(store, indicator, viewer=viewer, grants=grants)
    return flt.with_(indicator=indicator, period_start=start, period_end=end,
                     measure="rate" if prefer_rate and has_rate(meta) else "count",
                     breakdown=flt.breakdown if indicator == flt.indicator else "")


def pooled(lsoa: pd.DataFrame, *, additive: bool, rated: bool) -> float:
    """One figure for a set of LSOAs (a district, a region): counts summed (as a rate per
    1,000 if ``rated``), other measures as their population-weighted mean."""
    part = lsoa[lsoa["value"].notna()]
    if part.empty or disclosure.is_withheld(lsoa).any():  # never a total without a hidden cell
        return np.nan
    if additive:
        total = part["value"].sum()
        if not rated:
            return float(total)
        pop = part["denominator"].sum()
        return float(total / pop * 1000) if pop else np.nan
    w = part["denominator"].fillna(0)
    return float((part["value"] * w).sum() / w.sum()) if w.sum() else np.nan


def england_figure(store: Store, meta: dict, start: str, end: str, *, rated: bool,
                   viewer: Viewer, grants: dict | None = None, breakdown: str = "",
                   coverage: float = 0.95) -> float:
    """:func:`_england_figure`, kept for the next caller of the same scope
    (:mod:`dashboard.measures.remembered`)."""
    grants = access.rules(store, viewer) if grants is None else grants
    return remembered.remember(
        "england_figure", store, viewer, grants,
        (meta["indicator"], start, end, rated, breakdown, coverage),
        lambda: _england_figure(store, meta, start, end, rated=rated, viewer=viewer,
                                grants=grants, breakdown=breakdown, coverage=coverage))


def _england_figure(store: Store, meta: dict, start: str, end: str, *, rated: bool,
                   viewer: Viewer, grants: dict | None = None, breakdown: str = "",
                   coverage: float = 0.95) -> float:
    """An indicator's figure for England over ``start``..``end``, where its LSOA rows
    cover at least ``coverage`` of England's LSOAs of its vintage (else NaN): a
    count's rate per 1,000 (``rated``) or total; any other measure's
    population-weighted mean. Small counts count as their stand-ins; a total
    that includes a cell the partner hid is not given (NaN), never one that counts
    the hidden cell as zero."""
    indicator_meta(store, meta["indicator"], viewer=viewer, grants=grants)
    if meta["geography"] not in vintage.GEOGRAPHY.values():
        return np.nan
    if meta["additive"] and meta["indicator"] in _broken_down(store, viewer):
        row = _england_broken_down(store, viewer, meta, start, end, breakdown)
    else:
        row = _read.england(store, viewer, meta, start, end, breakdown,
                            _standing(store, viewer, meta))
    if not row["areas"] or row["n"] < coverage * row["areas"] or not row["pop"] \
            or (row["withheld"] or 0) > 0:
        return np.nan
    if meta["additive"]:
        return float(row["total"] / row["pop"] * 1000) if rated else float(row["total"])
    return float(row["weighted"] / row["pop"])


def _england_broken_down(store: Store, who: Viewer, meta: dict, start: str, end: str,
                         breakdown: str) -> pd.Series:
    """:func:`_read.england`'s figures for a count with breakdowns, from its protected
    cells."""
    geo = meta["geography"]
    cells = _breakdown_cells(store, who, meta, [geo], start, end, breakdown)
    cells = cells[cells["area_code"].str.startswith("E01")]
    per = cells.groupby("area_code").agg(value=("value", "sum"), withheld=("withheld", "sum"))
    pop = _read.population(store, geo).set_index("code")["population"]
    per = per.join(pop, how="inner")
    return pd.Series({"n": len(per), "total": per["value"].sum(),
                      "pop": per["population"].sum(),
                      "weighted": (per["value"] * per["population"]).sum(),
                      "withheld": per["withheld"].sum(),
                      "areas": int(pop.index.str.startswith("E01").sum())})


def region_summary(store: Store, region: Region, start: str, end: str,
                   catalogue: pd.DataFrame, *, viewer: Viewer) -> pd.DataFrame:
    """One headline figure per indicator for the whole region.

    Counts are summed over the region and the months ``start``..``end`` (an
    indicator that is not monthly uses its latest period whatever the months);
    scores, ranks and rates take the population-weighted mean of the region's
    LSOAs (or wards, for an indicator published by ward).

    A monthly count with the same months a year before also gets its change on
    them: the region's total against that year's, as a rate ratio with its 95 %
    interval (the population is the same in both).

    Returns
    -------
    DataFrame
        ``indicator, title, partner, unit, polarity, value, denominator,
        rate_per_1000, period_start, period_end, areas_with_data, areas`` and
        :data:`CHANGE_COLUMNS` (NaN where there is no year before).
    """
    rows = []
    lookup = geography.lsoa_lookup(store, region)  # read once, not once per indicator
    grants = access.rules(store, viewer)
    for meta in catalogue[catalogue["indicator"].isin(grants)].to_dict("records"):
        monthly = meta["frequency"] == "monthly"
        s, e = (start, end) if monthly else latest_period(store, meta["indicator"],
                                                          viewer=viewer, grants=grants)
        values = _ward_values if meta["geography"] in WARD_GEOGRAPHIES else _lsoa_values
        lsoa = values(store, viewer, region, meta, s, e, lookup)
        has = lsoa["value"].notna()
        value = pooled(lsoa, additive=bool(meta["additive"]), rated=False)
        denominator = lsoa.loc[has, "denominator"].sum()
        rate = pooled(lsoa, additive=True, rated=True) if has_rate(meta) else np.nan
        change = {}
        s0, e0 = year_before(s), year_before(e)
        if meta["additive"] and monthly and s0 >= meta["first_period"]:
            before = pooled(values(store, viewer, region, meta, s0, e0, lookup),
                            additive=True, rated=False)
            r = rates.rate_ratio([value], [1.0], [before], [1.0]).iloc[0]
            change = {"value_year_before": before, "rate_ratio": r["ratio"],
                      "rate_ratio_lower_95": r["ratio_lower_95"],
                      "rate_ratio_upper_95": r["ratio_upper_95"],
                      "change_on_year_before": r["change"]}
        rows.append({"indicator": meta["indicator"], "title": meta["title"],
                     "partner": meta["partner"], "unit": meta["unit"],
                     "polarity": meta["polarity"], "value": value,
                     "denominator": denominator, "rate_per_1000": rate, "period_start": s,
                     "period_end": e, "areas_with_data": int(has.sum()), "areas": len(lsoa),
                     **{c: change.get(c, np.nan) for c in CHANGE_COLUMNS}})
    return pd.DataFrame(rows)


def region_monthly(store: Store, region: Region, start: str, end: str, *,
                   viewer: Viewer) -> pd.DataFrame:
    """Monthly regional totals of every monthly count indicator the viewer may see, for
    the Overview's trends.

    Totals are taken on each indicator's own vintage (a regional total does not
    depend on the LSOA vintage it is drawn with), from protected cells: a small
    count stands in as its stand-in, as in every other figure (``disclosure.cell_sql``). A
    month whose total includes a cell the partner hid is not given (NaN), never a
    total that counts the hidden cell as zero; ``withheld`` says how many it includes.

    Returns
    -------
    DataFrame
        ``indicator, period_start, value, withheld``, months ``start``..``end`` in order.
    """
    grants = access.rules(store, viewer)
    standing = {}
    for indicator in grants:
        meta = indicator_meta(store, indicator, viewer=viewer, grants=grants)
        if meta["frequency"] == "monthly" and (put := _standing(store, viewer, meta)):
            standing[indicator] = put
    out = _read.region_monthly(store, viewer, region.lads, start, end, standing)
    broken = _broken_down(store, viewer)
    out = out[out["indicator"].isin(set(grants)) & ~out["indicator"].isin(broken)]
    parts = [out]
    if broken & set(grants):  # totals with parts: from the parts' protected cells
        codes = pd.concat([_read.lsoa_ward(store, v, region.lads) for v in (2011, 2021)])
        for indicator in sorted(broken & set(grants)):
            meta = indicator_meta(store, indicator, viewer=viewer, grants=grants)
            if not meta["additive"] or meta["frequency"] != "monthly":
                continue
            cells = _breakdown_cells(store, viewer, meta, sorted(set(vintage.GEOGRAPHY.values())),
                                     start, end, "")
            cells = cells[cells["area_code"].isin(set(codes["lsoa_code"]))
                          & (cells["period_start"] == cells["period_end"])]
            by = cells.groupby("period_start")
            parts.append(pd.DataFrame({
                "indicator": indicator, "value": np.floor(by["value"].sum() + 0.5),
                "withheld": by["withheld"].sum()}).reset_index())
    out = pd.concat(parts, ignore_index=True).sort_values(["indicator", "period_start"]) \
        .reset_index(drop=True)
    out["withheld"] = out["withheld"].fillna(0).astype(int)
    out["value"] = out["value"].where(out["withheld"] == 0)
    return out


def view_and_comparators(store: Store, region: Region, flt: ViewFilter, *, viewer: Viewer,
                         grants: dict | None = None, lookup: pd.DataFrame | None = None
                         ) -> tuple[pd.DataFrame, pd.Series]:
    """:func:`indicator_view` of the filter, and the same figure pooled for each district
    of the region (by LAD code) and the region (``"region"``), from the one read
    (:func:`_view_and_comparators`). The next ward's profile reads them again: they are
    kept for the next caller of the same scope (:mod:`dashboard.measures.remembered`)."""
    grants = access.rules(store, viewer) if grants is None else grants
    return remembered.remember(
        "view_and_comparators", store, viewer, grants, (region, flt),
        lambda: _view_and_comparators(store, region, flt, viewer=viewer, grants=grants,
                                      lookup=lookup))


def _view_and_comparators(store: Store, region: Region, flt: ViewFilter, *, viewer: Viewer,
                         grants: dict | None = None, lookup: pd.DataFrame | None = None
                         ) -> tuple[pd.DataFrame, pd.Series]:
    """:func:`indicator_view` of the filter, and the same figure pooled for each district
    of the region (by LAD code) and the region (``"region"``), from the one read.

    The pooled figures are built from protected cells, and a figure that includes a
    partner-hidden cell is NaN (:func:`pooled`)."""
    grants = access.rules(store, viewer) if grants is None else grants
    meta = _allowed(store, flt, viewer, grants)
    lookup = geography.lsoa_lookup(store, region) if lookup is None else lookup
    lsoa = _area_values(store, viewer, region, meta, flt, lookup)
    view = indicator_view(store, region, flt, viewer=viewer, grants=grants, lookup=lookup,
                          lsoa=lsoa)
    additive, rated = bool(meta["additive"]), flt.measure == "rate"
    out = {lad: pooled(part, additive=additive, rated=rated)
           for lad, part in lsoa.groupby("lad_code")}
    out["region"] = pooled(lsoa, additive=additive, rated=rated)
    return view, pd.Series(out)


def region_figures(store: Store, region: Region, flt: ViewFilter, periods: list[str], *,
                   viewer: Viewer, grants: dict | None = None) -> dict[str, float]:
    """:func:`_region_figures`, kept for the next caller of the same scope
    (:mod:`dashboard.measures.remembered`)."""
    grants = access.rules(store, viewer) if grants is None else grants
    return remembered.remember(
        "region_figures", store, viewer, grants, (region, flt, tuple(periods)),
        lambda: _region_figures(store, region, flt, periods, viewer=viewer, grants=grants))


def _region_figures(store: Store, region: Region, flt: ViewFilter, periods: list[str], *,
                   viewer: Viewer, grants: dict | None = None) -> dict[str, float]:
    """The region's figure (as :func:`pooled`: NaN where it includes a partner-hidden
    cell) in each single period of ``periods``, the filter's measure."""
    grants = access.rules(store, viewer) if grants is None else grants
    meta = _allowed(store, flt, viewer, grants)
    lookup = geography.lsoa_lookup(store, region)
    if catalogue.ward_level(meta):
        areas = pd.concat([_ward_values(store, viewer, region, meta, p, p, lookup,
                                        flt.breakdown).assign(period=p) for p in periods])
    else:
        areas = _lsoa_values_by_period(store, viewer, region, meta, periods, lookup,
                                       flt.breakdown)
    rated = flt.measure == "rate"
    return {p: pooled(part, additive=bool(meta["additive"]), rated=rated)
            for p, part in areas.groupby("period")}


def area_monthly_counts(store: Store, region: Region, indicator: str, codes: list[str],
                        start: str, end: str, *, viewer: Viewer,
                        grants: dict | None = None) -> pd.Series:
    """Some LSOAs' monthly total of a count (a ward's, say), from protected cells, by
    month; a month that includes a partner-hidden cell is NaN.

    The total is of areas the viewer may see the indicator for at ward level or finer
    (a ward's LSOAs add up to the ward)."""
    grants = access.rules(store, viewer) if grants is None else grants
    meta = indicator_meta(store, indicator, viewer=viewer, grants=grants)
    access.require(viewer, grants, indicator, "ward", meta["title"])
    if meta["indicator"] in _broken_down(store, viewer):
        cells = _breakdown_cells(store, viewer, meta, [region.lsoa_geography], start, end, "",
                                 codes)
        cells = cells[cells["period_start"] == cells["period_end"]]
        frame = cells.groupby("period_start").agg(n=("value", "sum"),
                                                  withheld=("withheld", "sum")) \
            .rename_axis("month").reset_index()
    else:
        frame = _read.area_monthly(store, viewer, meta, region.lsoa_geography, codes, start,
                                   end, _standing(store, viewer, meta))
    return frame.set_index("month")["n"].where(frame.set_index("month")["withheld"] == 0)


def month_panel(store: Store, region: Region, indicator: str, months: list[str], *,
                level: str = "lsoa", viewer: Viewer, grants: dict | None = None
                ) -> pd.DataFrame:
    """Each area's protected count in each month (rows: the region's areas at ``level``;
    columns: the months), as every total is built: a hidden small count is its
    stand-in, never its true value. A month hidden for another reason (a partner's
    "under 5", a cell hidden so a district total cannot give one away) is NaN.
    ``attrs["stand_ins"]`` marks the stand-ins (a frame of booleans like the panel).

    Raises
    ------
    FilterError, AccessDenied
        As :func:`indicator_view` at ``level``.
    """
    grants = access.rules(store, viewer) if grants is None else grants
    flt = ViewFilter(region.name, level, indicator, months[0], months[-1])
    views = indicator_views(store, region, flt, months, viewer=viewer, grants=grants)
    cols, marks = {}, {}
    for month in months:
        view = views[month].set_index("area_code")
        stand_in = pd.Series(view.attrs.get("stand_in") or {}, dtype=float)
        cols[month] = view["value"].fillna(stand_in.reindex(view.index))
        marks[month] = view.index.isin(stand_in.index)
    panel = pd.DataFrame(cols)
    panel.attrs["stand_ins"] = pd.DataFrame(marks, index=panel.index)
    return panel


def lsoa_month_panel(store: Store, region: Region, indicator: str, months: list[str], *,
                     viewer: Viewer, grants: dict | None = None) -> pd.DataFrame:
    """:func:`month_panel` at LSOA level (an evaluation reads LSOA figures)."""
    return month_panel(store, region, indicator, months, level="lsoa", viewer=viewer,
                       grants=grants)
