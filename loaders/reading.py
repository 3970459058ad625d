"""How a partner file will be read: which column is which, decided before anything loads.

Partners send files as they hold them: ``lsoa_code`` rather than ``area_code``, a
total over 25 months with no period column, one column per crime type with the
type's name as its header. :func:`infer` looks at a file's columns (their names
first, then their contents) and returns a :class:`Reading`: the area code
column, the period column or the period for the whole file, the value columns,
the indicator, and the columns it leaves out, with a sentence for each choice.
The steward sees the reading on the Partner data page and can change any of it
before anything is written; the command line's ``--code``, ``--period``,
``--indicator`` and ``--value`` do the same. :func:`to_tidy` then lays the file
out on the tidy contract (``loaders.partner``), one row per area, period and
indicator.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

from loaders.errors import LoaderError
from loaders.fields import ask
from loaders.partner import CODE, parse_period
from loaders.readfile import RawTable, normal
from loaders.safety import looks_like_formula

# Column names as partners write them, compared after :func:`normal`.
CODE_NAMES = ("area_code", "areacode", "code", "geography_code", "lsoa_code", "lsoa",
              "lsoa11cd", "lsoa21cd", "lsoa_11_code", "lsoa_21_code", "lsoa_2011_code",
              "lsoa_2021_code", "ward_code", "wd19cd", "wd22cd", "wd23cd", "wd24cd",
              "wd25cd", "area_cd", "ons_code")
WARD_NAME_NAMES = ("ward", "ward_name", "wardname", "ward_nm", "wd19nm", "wd22nm", "wd23nm",
                   "wd24nm", "wd25nm", "aggregationlabel", "area_name", "areaname", "area",
                   "name", "place")
PERIOD_NAMES = ("period", "month", "year", "time_period", "financial_year", "quarter",
                "date", "reporting_period")
INDICATOR_NAMES = ("indicator", "indicator_id", "indicatorname", "indicator_name", "measure",
                   "metric", "crime_type", "category")
VALUE_NAMES = ("value", "count", "n", "total", "crimes", "incidents", "number",
               "indicatorvalue", "indicator_value")
DENOMINATOR_NAMES = ("denominator", "population", "households")
PARTNER_NAMES = ("partner", "agency")
# Columns that break a figure down (sex, age...): a row per value of each.
BREAKDOWN_NAMES = ("sex", "gender", "age", "agegrp", "age_grp", "age_group", "age_band",
                   "ageband", "ethnicity", "ethnic_group", "imd", "imd_quintile",
                   "imd_decile", "deprivation", "deprivation_quintile", "provider",
                   "claimant_type", "breakdown", "disability", "tenure")
# A breakdown cell that means "not broken down": the row is the total.
NOT_BROKEN_DOWN = frozenset({"", "null", "none", "na", "n/a", "all", "all ages", "all_ages",
                             "persons", "people", "total", "all persons", "any", "everyone",
                             "all people", "both", "both sexes", "all groups"})
MAX_BREAKDOWN_VALUES = 50  # an unnamed text column with more values is not a breakdown
INDICATOR_ID = re.compile(r"^[a-z][a-z0-9_]{1,63}$")
SPAN = re.compile(r"^\s*(\d{4}-\d{2})\s*(?::|to|/|–|-)\s*(\d{4}-\d{2})\s*$")
NUMERIC_SHARE = 0.9  # a column is numeric when this share of its non-empty cells are
ROLE_FIELDS = {"area code": "code", "period": "period_column",
               "indicator": "indicator_column", "value": "value"}
_LIMIT = re.compile(r"(ci|cl|limit|95|conf)")


def limit_side(name: str) -> str | None:
    """``"lower"`` or ``"upper"`` for a column of confidence limits (``LowerCI95``,
    ``upper_limit``, ``LCL``, ``uci_95``), else None."""
    n = normal(name)
    for side, short in (("lower", "l"), ("upper", "u")):
        if (side in n and _LIMIT.search(n.replace(side, ""))) or \
                re.fullmatch(rf"{short}(cl|ci|l)_?(95)?", n):
            return side
    return None


def not_broken_down(cell: object) -> bool:
    """True for a breakdown cell that means the total (``NULL``, ``All``, ``Persons``)."""
    return str(cell).strip().lower() in NOT_BROKEN_DOWN


def indicator_id(text: str) -> str:
    """An indicator id from a name: ``"Anti-social behaviour"`` -> ``anti_social_behaviour``.
    Ids already in the contract's form are kept as they are."""
    t = str(text).strip()
    if INDICATOR_ID.match(t) or looks_like_formula(t):
        return t  # formula-like text is kept as it came, to be quarantined as such
    slug = re.sub(r"[^a-z0-9]+", "_", t.lower().replace("&", " and ")).strip("_")
    if slug and not slug[0].isalpha():
        slug = "i_" + slug
    return slug[:64].rstrip("_")


def parse_span(text: str) -> tuple[str, str] | None:
    """A period given for a whole file: one period (``2023``, ``2024-Q1``) or a run of
    months (``2024-04:2026-04``). Returns the first and last period labels."""
    if m := SPAN.match(str(text)):
        start, end = parse_period(m[1]), parse_period(m[2])
        if start and end and start.start <= end.start:
            return start.label, end.label
        return None
    p = parse_period(str(text))
    return (p.label, p.label) if p else None


@dataclass
class Reading:
    """Every choice about how a file is read. Each can be changed before loading."""

    code: str | None = None  # the column of area codes...
    names: str | None = None  # ...or of ward names, matched to codes (``loaders.wardnames``)
    period: str | None = None  # the column of periods...
    fixed_period: str | None = None  # ...or one period (or START:END) for the whole file
    indicator: str | None = None  # the column of indicator ids or names...
    indicator_names: bool = False  # ...names ("Burglary"), made into ids (``burglary``)
    fixed_indicator: str | None = None  # ...or one indicator id for the whole file
    values: list[str] = field(default_factory=list)  # several: one indicator per column
    denominator: str | None = None
    partner: str | None = None
    wide_periods: list[str] = field(default_factory=list)  # a column per period
    breakdowns: list[str] = field(default_factory=list)  # sex, age...: one row per value
    lower: str | None = None  # published 95 % confidence limits of the value
    upper: str | None = None
    ignored: list[str] = field(default_factory=list)  # columns not read, with a reason
    decisions: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        """What still stops the file loading, for the steward to settle."""
        out = []
        if not (self.code or self.names):
            out.append("no column of area codes or ward names was found; choose one "
                       + ask("code"))
        if not (self.period or self.fixed_period or self.wide_periods):
            out.append("no period column was found; give the period the file covers "
                       + ask("period"))
        if not (self.values or self.wide_periods):
            out.append("no value column was found; choose one " + ask("value"))
        if not (self.indicator or self.fixed_indicator or len(self.values) > 1
                or self.wide_periods):
            out.append("no indicator column was found; name the indicator " + ask("indicator"))
        if self.fixed_indicator and not INDICATOR_ID.match(self.fixed_indicator):
            out.append(f"indicator id {self.fixed_indicator!r} must be lower_snake_case "
                       "(letters, digits, underscores)")
        if self.fixed_period and parse_span(self.fixed_period) is None:
            out.append(f"period {self.fixed_period!r} is not YYYY-MM, YYYY-Qn, YYYY, YYYY/YY "
                       "or START:END of months")
        return out


def _find(columns: dict[str, str], names: tuple[str, ...]) -> str | None:
    for n in names:
        if n in columns:
            return columns[n]
    return None


def _numeric(cells: pd.Series) -> bool:
    text = cells.astype(str).str.strip().str.replace(",", "", regex=False)
    text = text[text != ""]
    return bool(len(text)) and pd.to_numeric(text, errors="coerce").notna().mean() >= NUMERIC_SHARE


def _codes(cells: pd.Series) -> bool:
    text = cells.astype(str).str.strip().str.upper()
    text = text[text != ""]
    return bool(len(text)) and text.str.match(CODE).mean() >= NUMERIC_SHARE


def _periods(cells: pd.Series) -> bool:
    text = cells.astype(str).str.strip()
    text = text[text != ""]
    return bool(len(text)) and text.map(lambda t: parse_period(t) is not None).mean() >= 0.99


def _choose(name: str | None, columns: list[str], what: str) -> str | None:
    if name is None:
        return None
    if name not in columns:
        match = [c for c in columns if normal(c) == normal(name)]
        if not match:
            raise LoaderError(f"--{what}", f"the {what} column {name!r} is not in the file; "
                              f"its columns are {columns}")
        name = match[0]
    return name


def _split(value: str | list[str]) -> list[str]:
    return value if isinstance(value, list) else [v.strip() for v in value.split(",")]


def _breakdowns(frame: pd.DataFrame, candidates: list[str], *, indicator: str | None,
                area: str | None, named: set[str], keys: list[str]
                ) -> tuple[list[str], list[str]]:
    """Which candidate columns break figures down, and a sentence for each one that
    does not.

    A column that is always "not broken down" (``NULL``) says nothing; one that is
    the same within each indicator (``Gender`` is Female for a female life
    expectancy) describes the indicator; one that is the same for every row of an
    area (``Locality``) describes the area. An unnamed text column counts only
    where rows would otherwise repeat an area, period and indicator.
    """
    repeats = bool(keys) and frame.duplicated(keys).any()
    out, said = [], []
    for c in candidates:
        cells = frame[c].astype(str).str.strip()
        given = cells[~cells.map(not_broken_down)]
        if c not in named and (not repeats or cells.nunique() > MAX_BREAKDOWN_VALUES
                               or _numeric(cells)):
            continue
        if given.empty:
            said.append(f"'{c}' is always {cells.iat[0] if len(cells) else 'empty'!r}: "
                        "nothing is broken down by it")
        elif indicator and (frame.assign(_c=cells).groupby(indicator)["_c"].nunique() == 1
                            ).all():
            said.append(f"'{c}' is the same within each indicator (e.g. "
                        f"{given.iat[0]!r}): it describes the indicator, not a breakdown")
        elif area and cells.nunique() > 1 and (
                frame.assign(_c=cells).groupby(area)["_c"].nunique() == 1).all():
            said.append(f"'{c}' is the same for every row of an area: it describes the "
                        "area, not a breakdown")
        else:
            out.append(c)
    return out, said


def infer(raw: RawTable, *, code: str | None = None, period: str | None = None,
          indicator: str | None = None, value: str | list[str] | None = None,
          breakdown: str | list[str] | None = None) -> Reading:
    """Decide how to read a partner table; explicit choices win over guesses.

    Parameters
    ----------
    raw : RawTable
        The file's cells (``loaders.readfile``).
    code, value : str, optional
        The column of area codes, and the value column(s) (a list, or names joined
        by commas).
    period : str, optional
        A column name, or the period the whole file covers (``2024-04:2026-04``).
    indicator : str, optional
        A column name, or the indicator id for the whole file.
    breakdown : str, optional
        The breakdown columns (a list, or names joined by commas), or ``none``.

    Raises
    ------
    LoaderError
        When a named column is not in the file.
    """
    frame = raw.frame
    columns = [str(c) for c in frame.columns]
    by_name = {normal(c): c for c in reversed(columns)}
    r = Reading()
    _read_area(r, frame, columns, by_name, code)
    _read_period(r, frame, columns, by_name, period)
    _read_indicator(r, columns, by_name, indicator)
    _read_companions(r, columns, by_name)
    taken = {r.code, r.names, r.period, r.indicator, r.denominator, r.partner,
             r.lower, r.upper} - {None}
    named_breakdowns = [c for c in columns if normal(c) in BREAKDOWN_NAMES and c not in taken]
    if breakdown is not None:
        r.breakdowns = [] if str(breakdown).strip().lower() == "none" else \
            [_choose(b, columns, "breakdown") for b in _split(breakdown) if b]
    taken |= set(named_breakdowns) if breakdown is None else set(r.breakdowns)
    _read_values(r, frame, columns, by_name, value, taken)
    _refuse_case_twins(r, columns, given={code, period, indicator,
                                          *(r.values if value is not None else [])})
    if breakdown is None:
        keys = [c for c in (r.code or r.names, r.period, r.indicator) if c]
        rest = [c for c in columns if c not in taken | set(r.values) | set(r.wide_periods)]
        r.breakdowns, notes = _breakdowns(
            frame, named_breakdowns + [c for c in rest if c not in named_breakdowns],
            indicator=r.indicator, area=r.code or r.names, named=set(named_breakdowns),
            keys=keys)
        r.decisions += notes
    if r.breakdowns:
        r.decisions.append(
            f"{', '.join(repr(b) for b in r.breakdowns)} "
            f"{'breaks' if len(r.breakdowns) == 1 else 'break'} the figures down: each "
            "value is kept apart, and a row marked NULL, All or Persons is the total")
    used = {r.code, r.names, r.period, r.indicator, r.denominator, r.partner, r.lower,
            r.upper} | set(r.values) | set(r.wide_periods) | set(r.breakdowns)
    r.ignored = [c for c in columns if c not in used]
    if r.ignored:
        r.decisions.append(f"not read: {', '.join(repr(c) for c in r.ignored)}")
    return r


def _read_area(r: Reading, frame: pd.DataFrame, columns: list[str], by_name: dict,
               code: str | None) -> None:
    """The column of area codes, or of ward names where there is none."""
    said = r.decisions.append
    r.code = _choose(code, columns, "code") or _find(by_name, CODE_NAMES)
    if r.code is None:
        r.code = next((c for c in columns if _codes(frame[c])), None)
        if r.code:
            said(f"'{r.code}' holds area codes, so it is read as the area code")
    elif code is not None and not _codes(frame[r.code]) and not _numeric(frame[r.code]):
        r.names, r.code = r.code, None  # the column chosen as the code holds names
    elif normal(r.code) != "area_code":
        said(f"'{r.code}' is read as the area code")
    if r.code is None and r.names is None:
        r.names = _find(by_name, WARD_NAME_NAMES)
    if r.names:
        said(f"'{r.names}' holds ward names; each is matched to its ward code")


def _read_period(r: Reading, frame: pd.DataFrame, columns: list[str], by_name: dict,
                 period: str | None) -> None:
    """The period column, or the period the whole file covers."""
    if period is not None and period in columns:
        r.period = period
    elif period is not None:
        r.fixed_period = period
        r.decisions.append(f"every row is for the period {period} (given for the file)")
    else:
        r.period = _find(by_name, PERIOD_NAMES)
        if r.period is None:
            r.period = next((c for c in columns if c != r.code and _periods(frame[c])), None)
        if r.period and normal(r.period) != "period":
            r.decisions.append(f"'{r.period}' is read as the period")


def _read_indicator(r: Reading, columns: list[str], by_name: dict,
                    indicator: str | None) -> None:
    """The indicator column (of ids, or of names), or the id of the whole file."""
    if indicator is not None and indicator in columns:
        r.indicator = indicator
    elif indicator is not None:
        r.fixed_indicator = indicator
    else:
        r.indicator = _find(by_name, INDICATOR_NAMES)
    if r.indicator:
        # The contract's column holds ids, checked as such; any other holds names.
        r.indicator_names = normal(r.indicator) not in ("indicator", "indicator_id")
        if r.indicator_names:
            r.decisions.append(
                f"'{r.indicator}' names the indicator of each row; each name becomes an "
                "id in lower_snake_case, and the name its title")


def _read_companions(r: Reading, columns: list[str], by_name: dict) -> None:
    """The columns that travel with a value: its denominator, its partner, and its
    confidence limits (both or neither)."""
    r.denominator = _find(by_name, DENOMINATOR_NAMES)
    r.partner = _find(by_name, PARTNER_NAMES)
    sides = {c: limit_side(c) for c in columns}
    r.lower = next((c for c in columns if sides[c] == "lower"), None)
    r.upper = next((c for c in columns if sides[c] == "upper"), None)
    if (r.lower is None) != (r.upper is None):
        r.decisions.append(
            f"'{r.lower or r.upper}' looks like one confidence limit, but the other is "
            "missing: limits are not read")
        r.lower = r.upper = None
    elif r.lower:
        r.decisions.append(
            f"'{r.lower}' and '{r.upper}' are read as the 95 % confidence limits of the "
            "value, kept as published")


def _read_values(r: Reading, frame: pd.DataFrame, columns: list[str], by_name: dict,
                 value: str | list[str] | None, taken: set[str]) -> None:
    """The value column(s): as chosen, the contract's ``value``, one column per period
    (a wide file of periods), or the numeric columns left (one per indicator)."""
    said = r.decisions.append
    if value is not None:
        r.values = [_choose(v, columns, "value") for v in _split(value) if v]
    else:
        r.values = [c for c in (_find(by_name, VALUE_NAMES),) if c]
    if r.values:
        if len(r.values) == 1 and normal(r.values[0]) != "value":
            said(f"'{r.values[0]}' is read as the value")
        return
    if r.period is None and r.fixed_period is None:
        r.wide_periods = [c for c in columns if c not in taken
                          and parse_period(c.strip()) is not None]
        if r.wide_periods:
            said(f"a wide file with one column per period ({len(r.wide_periods)} "
                 "periods) is read as one row per area and period")
    if r.wide_periods:
        return
    numeric = [c for c in columns if c not in taken and _numeric(frame[c])]
    r.values = numeric[:1] if r.indicator or r.fixed_indicator else numeric
    if len(r.values) > 1:
        said(f"a wide file with one column per indicator ({len(r.values)}: "
             f"{', '.join(r.values)}) is read as one row per area, period and indicator")
    elif r.values and normal(r.values[0]) != "value":
        said(f"'{r.values[0]}' is read as the value")


def _refuse_case_twins(r: Reading, columns: list[str], given: set) -> None:
    """Refuse a guess between columns whose names differ only in case: the steward
    says which holds the role."""
    twins: dict[str, list[str]] = {}
    for c in columns:
        twins.setdefault(normal(c), []).append(c)
    for role, chosen in (("area code", r.code), ("period", r.period),
                         ("indicator", r.indicator), *(("value", v) for v in r.values)):
        if chosen and chosen not in given and len(twins[normal(chosen)]) > 1:
            both = " and ".join(repr(c) for c in twins[normal(chosen)])
            raise LoaderError("the file", f"the columns {both} differ only in case; say "
                              f"which holds the {role} {ask(ROLE_FIELDS[role])}")


def to_tidy(raw: RawTable, reading: Reading, *, partner: str | None = None
            ) -> tuple[pd.DataFrame, dict[str, str]]:
    """Lay a file out on the tidy contract as ``reading`` says.

    Returns
    -------
    (DataFrame, dict)
        Columns ``row, area_code, ward_name, period, period_end, indicator, value,
        denominator, partner, breakdown, lower, upper`` (text; ``period_end``
        differs from ``period`` only for a total over several periods;
        ``breakdown`` is ``""`` for a total, else ``"IMD: Q1"`` or
        ``"Sex: Female; Age: 0-15"``; ``lower`` and ``upper`` are published
        limits; ``ward_name`` is set, and ``area_code`` empty, where the file
        names wards), and each indicator id's title where
        the file names indicators in words.

    Raises
    ------
    LoaderError
        When the reading still has problems.
    """
    if problems := reading.problems():
        raise LoaderError("the file", problems)
    frame = raw.frame
    rows = pd.Series([raw.file_row(i) for i in frame.index], index=frame.index)

    def column(name: str | None, default: str = "") -> pd.Series:
        if name is None:
            return pd.Series(default, index=frame.index, dtype=object)
        return frame[name].astype(str)

    base = pd.DataFrame({"row": rows, "area_code": column(reading.code),
                         "ward_name": column(reading.names),
                         "denominator": column(reading.denominator),
                         "partner": column(reading.partner, partner or "")})
    if reading.breakdowns:
        parts = [frame[b].astype(str).str.strip().map(
            lambda v, b=b: "" if not_broken_down(v) else f"{b.strip()}: {v}")
            for b in reading.breakdowns]
        base["breakdown"] = pd.concat(parts, axis=1).apply(
            lambda r: "; ".join(v for v in r if v), axis=1)
    else:
        base["breakdown"] = ""
    base["lower"], base["upper"] = column(reading.lower), column(reading.upper)
    if reading.partner and partner:
        base["partner"] = base["partner"].where(base["partner"].str.strip() != "", partner)
    if reading.fixed_period:
        start, end = parse_span(reading.fixed_period)
        base["period"], base["period_end"] = start, end
    elif reading.period:
        base["period"] = column(reading.period)
        base["period_end"] = base["period"]
    titles: dict[str, str] = {}
    if reading.wide_periods:
        parts = [base.assign(period=p, period_end=p, value=frame[p].astype(str))
                 for p in reading.wide_periods]
        tidy = pd.concat(parts, ignore_index=True)
        tidy["indicator"] = pd.concat([column(reading.indicator, reading.fixed_indicator or "")]
                                      * len(parts), ignore_index=True)
    elif len(reading.values) > 1:
        parts = []
        for v in reading.values:
            ident = indicator_id(v)
            if ident != v:
                titles[ident] = v
            parts.append(base.assign(indicator=ident, value=frame[v].astype(str)))
        tidy = pd.concat(parts, ignore_index=True)
    else:
        tidy = base.assign(value=frame[reading.values[0]].astype(str))
        if reading.fixed_indicator:
            tidy["indicator"] = reading.fixed_indicator
        else:
            names = column(reading.indicator).str.strip()
            ids = names.map(indicator_id) if reading.indicator_names else names
            titles.update({i: n for i, n in zip(ids, names, strict=True) if i != n})
            tidy["indicator"] = ids
    for col in ("area_code", "period", "period_end", "indicator", "partner"):
        tidy[col] = tidy[col].astype(str).str.strip()
    tidy["area_code"] = tidy["area_code"].str.upper()
    tidy["indicator"] = tidy["indicator"].str.lower()
    return tidy.sort_values("row", kind="stable").reset_index(drop=True), titles

