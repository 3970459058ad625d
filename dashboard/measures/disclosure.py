"""Statistical disclosure control: the one chokepoint before a figure leaves the model.

Every map, table, chart and export is built from ``measures.indicator_view``,
which passes its figures through :func:`protect`. The rules partners sign up to:

* **Primary suppression.** A count from 1 to k-1 is hidden (k from the
  indicator's catalogue entry, 5 by default for partner data, 0 for data that
  is already published openly such as police.uk).
* **Secondary suppression.** A district (LAD) total must not give a hidden cell
  away: where a district has exactly one hidden cell, its smallest other
  non-zero cell is hidden too, so the district total less the visible cells is
  the sum of at least two hidden cells.
* **Derived figures.** The rate of a hidden cell is hidden, and it has no rank
  (the other areas are ranked among themselves).
* A hidden cell is a distinct class on maps and legends and a marker in
  tables and exports (``suppressed`` says why). It is never shown as zero.
* **Across views.** Small counts are hidden where they are stored, at the
  finest grain (an LSOA in one month), before anything is added up: every
  total over months, wards, districts, the region and the monthly trends is
  built from the protected cells, in which each hidden count stands in as
  one value whatever its true value (:func:`cell_sql`). So no difference of
  two views the app offers (overlapping periods, a ward less its LSOAs, a
  district or region less the rest) depends on a hidden value, and none can
  reveal one. A total that includes hidden cells is an estimate, and
  ``estimated`` says how many stand-ins it includes.
* **The stand-in** (:func:`stand_in`) is the expected value of a hidden count,
  1 to k-1, given the indicator's *visible* counts (a negative binomial fitted to
  the counts from k up, carried down to 1..k-1), so a total over many hidden cells
  is far less inflated than with the midpoint, and the stand-in depends on no
  hidden value. Counts of most indicators fall away from 1 (many cells of 1,
  fewer of 4), where the midpoint k/2 overstated every total: robbery in one
  Bristol LSOA over 92 months was 48 in the source and 78 with k/2.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

PRIMARY = "primary"
SECONDARY = "secondary"
PARTNER = "partner"  # a cell the partner hid before sending ("under 5"), and totals with one
# Figures that include hidden parts: how many (``withheld``), the range of the figure
# (``low``, ``high``), and how many of those parts are withheld because another way of
# breaking the count down gives its total (``other``; see :func:`breakdown_cells`).
WITHHELD = ("withheld", "low", "high", "other")
COUNTED = ("withheld", "other")
OTHER_WAY = "withheld (another breakdown gives this count's total here)"
DERIVED = ("value", "rate_per_1000")


class StandIns(dict):
    """The stand-ins of a view's hidden small counts, by area code (never shown).

    Kept in the view's ``attrs``, which pandas deep-copies on every operation on
    the frame: a region's worth of them made each column read of a view copy
    thousands of entries. They are not changed once made, so a copy is the same
    object.
    """

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self


# At least this many visible cells, over at least three values, to fit the stand-in;
# with fewer, a hidden count stands in as the midpoint k/2.
FIT_CELLS = 30


def stand_in(visible: pd.Series, k: int) -> float:
    """The value a hidden count (1 to k-1) stands in as: its expected value given the
    indicator's visible counts.

    ``visible`` maps each visible whole count from k up to how many cells have it
    (never a hidden one). A negative binomial (a Poisson whose rate varies from cell
    to cell, as counts of incidents across areas do) is fitted by maximum likelihood
    to the visible counts, truncated below at k (up to their 99th percentile, so a
    few very large cells do not pull the fit); the stand-in is the fitted mean of a
    count from 1 to k-1. With too few visible cells to fit, or a fit that fails, it
    is the midpoint k/2.
    """
    from scipy import optimize, stats
    if k <= 1:
        return 0.0
    mid = float(k / 2)
    counts = visible[(visible.index >= k) & (visible > 0)].sort_index()
    if counts.sum() < FIT_CELLS or len(counts) < 3:
        return mid
    cumulative = counts.cumsum() / counts.sum()
    top = int(counts.index[np.searchsorted(cumulative.to_numpy(), 0.99)])
    counts = counts[counts.index <= max(top, k + 2)]
    x, n = counts.index.to_numpy(dtype=int), counts.to_numpy(dtype=float)

    def nll(params):
        size, mean = np.exp(params)
        p = size / (size + mean)
        inside = stats.nbinom.sf(k - 1, size, p) - stats.nbinom.sf(x.max(), size, p)
        if not inside > 0:
            return np.inf
        return -(n * (stats.nbinom.logpmf(x, size, p) - np.log(inside))).sum()

    with np.errstate(all="ignore"):
        fit = optimize.minimize(nll, [0.0, np.log(np.average(x, weights=n))],
                                method="Nelder-Mead")
        if not fit.success or not np.isfinite(fit.fun):
            return mid
        size, mean = np.exp(fit.x)
        small = np.arange(1, k)
        weights = stats.nbinom.pmf(small, size, size / (size + mean))
    if not np.isfinite(weights).all() or weights.sum() <= 0:
        return mid
    return float(round(np.clip((small * weights).sum() / weights.sum(), 1, k - 1), 4))


def cell_sql(value: str, k: str, standing: float | str | None = None) -> str:
    """SQL for a stored count as every figure uses it: a count from 1 to k-1 stands in
    as ``standing`` (:func:`stand_in`; k/2 when not given), so no figure depends on
    its true value (``k`` of 0 or 1 hides nothing)."""
    put = f"{k} / 2.0" if standing is None else str(standing)
    return f"(CASE WHEN {small_sql(value, k)} THEN {put} ELSE {value} END)"


def small_sql(value: str, k: str) -> str:
    """SQL that is true for a stored count from 1 to k-1 (one that is hidden)."""
    return f"({k} > 1 AND {value} > 0 AND {value} < {k})"


def withheld_sql(cell: str) -> str:
    """SQL columns for cells a partner hid: how many (``withheld``) and the range of the
    total (``low``, ``high``: each hidden cell at the ends of its range)."""
    mark = "(value IS NULL AND value_low IS NOT NULL)"
    return (f"count(*) FILTER (WHERE {mark}) AS withheld, "
            f"sum(CASE WHEN {mark} THEN value_low ELSE {cell} END) AS low, "
            f"sum(CASE WHEN {mark} THEN value_high ELSE {cell} END) AS high")


def is_withheld(frame: pd.DataFrame) -> pd.Series:
    """True for figures that include a cell the partner hid."""
    if "withheld" not in frame:
        return pd.Series(False, index=frame.index)
    return frame["withheld"].fillna(0).gt(0)


def with_withheld(frame: pd.DataFrame) -> pd.DataFrame:
    """A figure that includes a partner-hidden cell is hidden too: never a total that
    counts the hidden cell as zero. Its range stays in ``low`` and ``high``."""
    out = frame.copy()
    for col in WITHHELD:
        if col not in out:
            out[col] = 0 if col in COUNTED else np.nan
    for col in COUNTED:
        out[col] = out[col].fillna(0).astype(int)
    out.loc[is_withheld(out), "value"] = np.nan
    return out


def withheld_label(view: pd.DataFrame, suppressed: pd.Series) -> pd.Series:
    """The ``suppressed`` marker with partner-hidden figures as ``partner (12 to 18)``, and
    a breakdown withheld because another breakdown gives the total as :data:`OTHER_WAY`
    (the partner did not hide it, and its range is not given)."""
    out = suppressed.copy()
    hid = is_withheld(view).to_numpy()
    other = (view["other"].fillna(0).to_numpy() > 0) if "other" in view else \
        np.zeros(len(view), dtype=bool)
    ranges = [OTHER_WAY if o else f"{PARTNER} ({lo:g} to {hi:g})" if hi == hi
              else f"{PARTNER} (range not known)"
              for lo, hi, o in zip(view["low"].to_numpy()[hid], view["high"].to_numpy()[hid],
                                   other[hid], strict=True)]
    out.iloc[hid] = ranges
    return out


def why_blank(view: pd.DataFrame, k: int, *, rated: bool) -> pd.Series:
    """Why each blank figure of a protected view is blank, in words ("" where it is
    shown): a suppressed small count, one suppressed so that a district's total does
    not give a small count away, a cell the partner hid (with its range), a breakdown
    withheld for another, or no data. With a rate (``rated``), a figure shown without
    its rate says why the rate is missing."""
    s = view["suppressed"].astype(str)
    out = pd.Series("", index=view.index, dtype=object)
    out[s == PRIMARY] = f"suppressed: a count from 1 to {k - 1}"
    out[s == SECONDARY] = ("suppressed: with its district's total it would give a "
                           "suppressed count away")
    partner = s.str.startswith(PARTNER)
    out[partner] = "hidden by the partner" + s[partner].str[len(PARTNER):]
    out[s == OTHER_WAY] = OTHER_WAY
    empty = view["value"].isna() & (s == "")
    chosen = view["breakdown"].astype(str) if "breakdown" in view else ""
    out[empty] = np.where(pd.Series(chosen, index=view.index)[empty] != "",
                          "no data for this breakdown", "no data")
    if rated and "rate_per_1000" in view:
        no_rate = view["value"].notna() & view["rate_per_1000"].isna()
        out[no_rate] = "no rate: no population figure for this area"
    return out


def whole(values: pd.Series) -> pd.Series:
    """Totals that include stand-ins, rounded half up to whole counts."""
    return np.floor(values + 0.5)


def primary(values: pd.Series, k: int) -> pd.Series:
    """True where a count is from 1 to k-1 (a small count that could identify people)."""
    if k <= 1:
        return pd.Series(False, index=values.index)
    return values.notna() & (values > 0) & (values < k)


def secondary(values: pd.Series, hidden: pd.Series, groups) -> pd.Series:
    """Cells to hide so that no group total reveals a hidden cell.

    In each group with exactly one hidden cell, the smallest other cell with a
    positive value is chosen (the smallest with a value at all when none is
    positive; ties by position). Groups with two or more hidden cells need none.
    ``groups`` is a Series of group keys, or a list of them (a district in a
    period, say) whose combinations are the groups.
    """
    keys = [groups] if isinstance(groups, pd.Series) else list(groups)
    n = len(values)
    frame = pd.DataFrame({f"g{i}": k.fillna("").to_numpy() for i, k in enumerate(keys)})
    by = list(frame.columns)
    frame["v"], frame["h"] = values.to_numpy(), hidden.to_numpy(bool)
    frame["pos"] = np.arange(n)
    lonely = frame.groupby(by, sort=False)["h"].transform("sum") == 1
    others = frame[lonely & ~frame["h"] & frame["v"].notna()]
    others = others.assign(not_positive=others["v"] <= 0) \
        .sort_values([*by, "not_positive", "v", "pos"], kind="stable")
    picked = others.drop_duplicates(by)["pos"].to_numpy()
    # A group whose only cell with a value is the hidden one has no pick: the caller
    # must not show that total.
    out = np.zeros(n, dtype=bool)
    out[picked] = True
    return pd.Series(out, index=values.index)


def protect(view: pd.DataFrame, k: int, *, additive: bool, polarity: str,
            measure_column: str, by: pd.Series | None = None) -> pd.DataFrame:
    """Apply primary, secondary and derived suppression to a view.

    Parameters
    ----------
    view : DataFrame
        ``value, rate_per_1000, rank, lad_code`` per area (``measures.indicator_view``).
    k : int
        Counts from 1 to k-1 are hidden; 0 or 1 hides nothing.
    additive : bool
        Only counts are suppressed; scores, ranks and published rates are not counts.
    polarity : str
        To re-rank the areas left visible (1 = most need).
    measure_column : str
        The column ranks are taken from.
    by : Series, optional
        For several views one after another (one per period): which view each row
        is in. Each is protected, and ranked, on its own.

    Returns
    -------
    DataFrame
        The view with hidden figures set to NaN and a ``suppressed`` column:
        ``""``, ``"primary"`` or ``"secondary"``.
    """
    out = view.copy()
    out["suppressed"] = ""
    if k <= 1 or not additive:
        return out
    first = primary(out["value"], k)
    second = secondary(out["value"], first,
                       out["lad_code"] if by is None else [by, out["lad_code"]])
    out.loc[first, "suppressed"] = PRIMARY
    out.loc[second, "suppressed"] = SECONDARY
    hide = first | second
    out.loc[hide, list(DERIVED)] = np.nan
    if hide.any():
        ascending = polarity == "low_is_bad"
        measure = out[measure_column]
        ranked = measure.rank(method="min", ascending=ascending) if by is None else \
            measure.groupby(by).rank(method="min", ascending=ascending)
        out["rank"] = ranked.astype("Int64")
    return out


def label(k: int) -> str:
    """The legend and table wording for a hidden cell."""
    return f"Suppressed (counts of 1 to {k - 1}, and cells that would reveal them)"


# -- breakdowns: a total and its parts ---------------------------------------------------

KEY = ["geography", "area_code", "period_start", "period_end"]


def _cell(values: pd.Series, k: int, standing: float | None = None
          ) -> tuple[pd.Series, pd.Series]:
    """Stored counts as every figure uses them (a small count stands in as
    ``standing``, k/2 when not given), and which were small."""
    small = primary(values, k)
    return values.where(~small, k / 2 if standing is None else standing), small


def _ways(parts: pd.DataFrame) -> pd.DataFrame:
    """Each part's way of breaking the count down: ``dims`` (its dimensions, sorted and
    joined by ``|``), ``n`` (how many), and ``rank`` (one-way before cross-classified,
    then alphabetical)."""
    names = parts["b"].str.split("; ").map(lambda ps: [p.split(": ", 1)[0] for p in ps])
    dims = names.map(lambda d: "|".join(sorted(d)))
    n = names.map(len)
    return pd.DataFrame({"dims": dims, "n": n,
                         "rank": np.where(n > 1, "2", "1") + parts["b"].str.replace(
                             r": [^;]*", "", regex=True)}, index=parts.index)


def _crossed(parts: pd.DataFrame) -> pd.Series:
    """True for the parts of area-periods whose parts are one full cross-classification
    (every combination of the values of two or more dimensions, each once) with, at
    most, some of its margins beside it (one way, or fewer dimensions, of the same
    dimensions). Every other way there can then be added up from its cells."""
    if parts.empty:
        return pd.Series(False, index=parts.index)
    group = [parts[c] for c in KEY]
    top = parts["n"].groupby(group).transform("max")
    finest = parts["n"] == top
    one_way = parts[finest].groupby([parts.loc[finest, c] for c in KEY])["dims"].nunique()
    fine = parts[finest].assign(
        pieces=parts.loc[finest, "b"].str.split("; ").map(
            lambda ps: tuple(p.split(": ", 1)[1] if ": " in p else "" for p in ps)))
    by = fine.groupby(KEY)
    values = by["pieces"].agg(lambda ps: int(np.prod([len(set(v)) for v in zip(*ps,
                                                                              strict=True)])))
    full = (by.size() == values) & (one_way == 1) & (by["n"].first() > 1) & \
        (by["pieces"].agg(lambda ps: len(set(ps))) == by.size())
    head = by["dims"].first()
    parent = pd.MultiIndex.from_frame(parts[KEY])
    covering = head.reindex(parent).to_numpy()
    inside = [isinstance(h, str) and set(d.split("|")) <= set(h.split("|"))
              for d, h in zip(parts["dims"], covering, strict=True)]
    inside = pd.Series(inside, index=parts.index)
    every = inside.groupby(group).transform("all")
    return (full.reindex(parent).fillna(False).to_numpy().astype(bool)) & every


def _project(labels: pd.Series, dims: pd.Series) -> pd.Series:
    """A finest part's label (``"provider: A; age_group: 0-17"``) cut down to the
    dimensions of one of its margins (``"provider"``): ``"provider: A"``."""
    return pd.Series([
        "; ".join(p for p in lab.split("; ") if p.split(": ", 1)[0] in set(d.split("|")))
        for lab, d in zip(labels, dims, strict=True)], index=labels.index)


def _sums(targets: pd.DataFrame, cells: pd.DataFrame, k: int,
          standing: float | None = None) -> pd.DataFrame:
    """Figures built from protected cells: each stored target (a total, or a margin of a
    cross-classification) is the sum of the cells it holds (``cells`` with the target's
    :data:`KEY` and ``b``), plus what the stored target holds beyond them (a category the
    partner did not list), protected in the same way. A target with a withheld cell is
    withheld, its range the sum of the cells' ranges (never the stored one, which holds
    the true values of small cells); a target the partner hid whose cells are all shown
    keeps the partner's range."""
    by = cells.groupby([*KEY, "b"])
    summed = pd.DataFrame({
        "cell": by["cell"].sum(), "true": by["value"].sum(min_count=1),
        "small": by["small"].sum(), "held": by["held"].sum(),
        "low": by["low"].sum(), "high": by["high"].sum()})
    stored = targets.set_index([*KEY, "b"]).reindex(summed.index)
    remainder = (stored["value"] - summed["true"].fillna(0.0)).where(
        stored["value"].notna() & (summed["held"] == 0), 0.0)
    rest, rest_small = _cell(remainder.fillna(0.0), k, standing)
    own = stored["held"].fillna(0)
    held = (summed["held"] + own).astype(int)
    value = (summed["cell"] + rest).where(held == 0)
    partner_only = (own > 0) & (summed["held"] == 0)
    low = (summed["low"] + rest).where(~partner_only, stored["low"])
    high = (summed["high"] + rest).where(~partner_only, stored["high"])
    return pd.DataFrame({"value": value, "small": summed["small"] + rest_small.astype(int),
                         "withheld": held, "other": 0, "low": low.where(held > 0, value),
                         "high": high.where(held > 0, value), "lower": np.nan,
                         "upper": np.nan}).reset_index()


def breakdown_cells(rows: pd.DataFrame, k: int, breakdown: str,
                    standing: float | None = None) -> pd.DataFrame:
    """Protected cells of a count that is broken down (by sex, age...), one per area and
    period, for its total (``breakdown`` ``""``) or one breakdown value.

    A stored total row holds the true sum of its parts, so "total less the visible parts"
    would give a hidden part back. So no total is shown as stored where its parts are:
    it is the sum of its parts' protected cells (a small part stands in as ``standing``,
    :func:`stand_in`; k/2 when not given), plus
    what the total holds beyond its parts (a category the partner did not list),
    protected in the same way. No shown figure then depends on a hidden part's value,
    whichever views are subtracted. A total is given only where one is stored (the
    partner's, or one made at load).

    A full cross-classification (provider by age group, every combination once) is the
    finest grain there: its total and each of its margins (a provider over all ages, an
    age group over all providers) are the sums of its protected cells, so every margin
    can be shown beside the cells without a hidden cell being worked back. Where a count
    is broken down several ways that are not one cross-classification (sex, and age
    group, in separate parts), one way is the total's (one-way before cross-classified,
    then alphabetical): the other ways' parts there are withheld from every view
    (``other``), since together the ways would pin a hidden part down.

    Parameters
    ----------
    rows : DataFrame
        The stored rows (:data:`KEY`, ``breakdown`` (None: the total), ``value``,
        ``value_low``, ``value_high``, ``value_lower``, ``value_upper``).

    Returns
    -------
    DataFrame
        :data:`KEY` and ``value`` (protected; NaN where withheld), ``small`` (stand-ins
        it includes), ``withheld`` (partner-hidden or withheld parts it includes),
        ``other`` (parts it includes that are withheld because another way of breaking
        the count down gives its total there), ``low``, ``high`` (its range where
        withheld) and ``lower``, ``upper`` (published limits, of a single stored row
        shown as it is).
    """
    r = rows.assign(b=rows["breakdown"].fillna(""))
    mark = r["value"].isna() & r["value_low"].notna()
    value, small = _cell(r["value"], k, standing)
    put = k / 2 if standing is None else standing
    r = r.assign(cell=value, small=small.astype(int), held=mark.astype(int),
                 low=r["value"].where(~mark, r["value_low"]).where(~small, put),
                 high=r["value"].where(~mark, r["value_high"]).where(~small, put))
    parts = r[r["b"] != ""]
    parts = parts.join(_ways(parts))
    crossed = _crossed(parts)
    canon = parts["rank"].groupby([parts[c] for c in KEY]).transform("min")
    top = parts["n"].groupby([parts[c] for c in KEY]).transform("max")
    r["canonical"] = False
    r.loc[parts.index, "canonical"] = ((~crossed & (parts["rank"] == canon))
                                       | (crossed & (parts["n"] == top))).to_numpy()
    r["margin"] = False
    r.loc[parts.index, "margin"] = (crossed & (parts["n"] < top)).to_numpy()
    r["dims"] = ""
    r.loc[parts.index, "dims"] = parts["dims"]
    out_cols = [*KEY, "value", "small", "withheld", "other", "low", "high", "lower", "upper"]
    finest = r[r["canonical"]]
    if breakdown:
        one = r[r["b"] == breakdown]
        margins = one[one["margin"]]
        plain = one[~one["margin"]]
        other = ~plain["canonical"]  # another way is this area and period's total: withheld
        out = pd.DataFrame({
            **{c: plain[c] for c in KEY}, "value": plain["cell"].where(~other),
            "small": plain["small"].where(~other, 0),
            "withheld": (plain["held"] | other).astype(int), "other": other.astype(int),
            "low": plain["low"].where(~other), "high": plain["high"].where(~other),
            "lower": plain["value_lower"].where(~other),
            "upper": plain["value_upper"].where(~other)})
        if len(margins):
            sums = _sums(margins, _margin_cells(finest, margins), k, standing)
            out = pd.concat([out, sums[out_cols]], ignore_index=True)
        return out[out_cols].reset_index(drop=True)
    totals = r[r["b"] == ""]
    # Only where a total is stored (the partner's, or made at load from one way's parts,
    # or from a cross-classification's cells): parts broken down several ways that are
    # not one cross-classification are not added up into a total here either.
    kept = finest[pd.MultiIndex.from_frame(finest[KEY]).isin(
        pd.MultiIndex.from_frame(totals[KEY]))].assign(b="")
    out_parts = _sums(totals, kept, k, standing)
    plain = totals[~pd.MultiIndex.from_frame(totals[KEY]).isin(
        pd.MultiIndex.from_frame(out_parts[KEY]))]
    out_plain = pd.DataFrame({**{c: plain[c] for c in KEY}, "value": plain["cell"],
                              "small": plain["small"], "withheld": plain["held"], "other": 0,
                              "low": plain["low"], "high": plain["high"],
                              "lower": plain["value_lower"], "upper": plain["value_upper"]})
    out = pd.concat([out_plain, out_parts], ignore_index=True)
    return out[out_cols]


def _margin_cells(finest: pd.DataFrame, margins: pd.DataFrame) -> pd.DataFrame:
    """The finest cells that each margin holds, labelled with the margin's ``b``."""
    ways = margins[[*KEY, "dims"]].drop_duplicates()
    cells = finest.drop(columns=["dims"]).merge(ways, on=KEY)
    return cells.assign(b=_project(cells["b"], cells["dims"])) \
        .merge(margins[[*KEY, "b"]], on=[*KEY, "b"])
