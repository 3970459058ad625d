"""The model's one read module: every query the model makes of the store.

Private to the door (``dashboard.measures``). Two kinds of read:

* **Open reads** (:data:`OPEN_READS`: boundaries, lookups, populations) hold no
  partner row; geography and vintage conversion may call them.
* **Everything else** reads tables that hold partner rows (observations, points,
  coverage, periods, breakdowns, the catalogue, the load log). Each takes the
  viewer (``who``) and passes their scope to the store, whose PostgreSQL backend
  binds the query by row-level security to what that scope may use; only the
  door's own modules call them (the architecture test keeps it so), and they check
  the viewer's access before they do.

No function here decides who may see what, or hides a small count: that is the
door's (``dashboard.measures``, ``dashboard.measures.disclosure``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from dashboard.measures import disclosure
from store import Store

if TYPE_CHECKING:  # the door's modules import access; this module does not need it
    from dashboard.access import Viewer

# Periods inside start..end. ``period_start <= end`` follows from the other two, and
# is said so that a store partitioned by period reads only the partitions in range.
IN_RANGE = "period_end <= ? AND period_start <= ?"
BREAKDOWN = "coalesce(breakdown, '') = ?"
# The published 95 % limits of a value: a single row's, as the partner gave them.
LIMITS_SQL = ("CASE WHEN count(*) = 1 THEN max(value_lower) END AS lower, "
              "CASE WHEN count(*) = 1 THEN max(value_upper) END AS upper")
OPEN_READS = ("lsoa_ward", "ward_areas", "area_geometry", "district_outlines",
              "exact_fit", "population")
# The catalogue's ids, titles and owners: what access itself is worked out from.
ACCESS_READS = ("catalogue_owners",)


def _scope(who: Viewer) -> tuple[str, str]:
    return who.role, who.org


def lad_clause(lads: tuple[str, ...] | None, column: str = "lad_code") -> tuple[str, list]:
    """SQL that keeps rows of the given districts (all when None)."""
    if lads is None:
        return "TRUE", []
    return f"{column} IN ({', '.join('?' for _ in lads)})", list(lads)


# -- open reads ----------------------------------------------------------------------

def lsoa_ward(store: Store, vintage: int, lads: tuple[str, ...] | None) -> pd.DataFrame:
    """The best-fit LSOA -> ward -> district lookup of a vintage, in the districts."""
    where, params = lad_clause(lads)
    return store.query(
        f"SELECT lsoa_code, lsoa_name, ward_code, ward_name, lad_code, lad_name "
        f"FROM lsoa_ward WHERE vintage = ? AND {where} ORDER BY lsoa_code", [vintage, *params])


def ward_areas(store: Store, geography: str, lads: tuple[str, ...] | None) -> pd.DataFrame:
    """``ward_code, ward_name, lad_code`` of every ward boundary in the districts."""
    where, params = lad_clause(lads)
    return store.query(f"SELECT code AS ward_code, name AS ward_name, lad_code FROM areas "
                       f"WHERE geography = ? AND {where}", [geography, *params])


def area_geometry(store: Store, column: str, geography: str, detail: str) -> pd.DataFrame:
    """``code, wkb``: one geometry column (``geom``, ``map_fine``, ``map_coarse``)."""
    if column not in ("geom", "map_fine", "map_coarse"):
        raise ValueError(f"no geometry column {column!r}")
    return store.query(f"SELECT code, {column} AS wkb FROM areas WHERE geography = ? "
                       f"AND detail = ?", [geography, detail])


def district_outlines(store: Store, geography: str, detail: str, lads: list[str]
                      ) -> pd.DataFrame:
    """``code, name, lon, lat, wkb`` of districts, with their map geometry."""
    if detail not in ("fine", "coarse"):
        raise ValueError(f"no map detail {detail!r}")
    marks = ", ".join("?" for _ in lads) or "NULL"
    return store.query(f"SELECT code, name, lon, lat, map_{detail} AS wkb FROM areas "
                       f"WHERE geography = ? AND code IN ({marks})", [geography, *lads])


def exact_fit(store: Store) -> pd.DataFrame:
    """``lsoa11_code, lsoa21_code`` pairs of the ONS exact-fit lookup."""
    return store.query("SELECT lsoa11_code, lsoa21_code FROM lsoa11_lsoa21 "
                       "WHERE fit = 'exact'")


def population(store: Store, geography: str) -> pd.DataFrame:
    """``code, population`` of every area of a geography."""
    return store.query("SELECT code, population FROM population WHERE geography = ?",
                       [geography])


# -- the catalogue ---------------------------------------------------------------------

def catalogue_owners(store: Store, who: Viewer) -> pd.DataFrame:
    """``indicator, title, partner, origin`` of every indicator the scope may use."""
    return store.query("SELECT indicator, title, partner, origin FROM catalogue",
                       scope=_scope(who))


def catalogue_entry(store: Store, who: Viewer, indicator: str) -> pd.DataFrame:
    """One indicator's catalogue row (empty when unknown)."""
    return store.query("SELECT * FROM catalogue WHERE indicator = ?", [indicator],
                       scope=_scope(who))


def catalogue_rows(store: Store, who: Viewer) -> pd.DataFrame:
    """Every catalogue row with its period coverage (first, last, how many periods and
    areas)."""
    return store.query("""
        SELECT c.*, o.first_period, o.last_period, coalesce(o.n_periods, 0) AS n_periods,
               coalesce(o.n_areas, 0) AS n_areas
        FROM catalogue c LEFT JOIN (
            SELECT indicator, min(period_start) AS first_period,
                   max(period_end) AS last_period, count(DISTINCT period_start) AS n_periods,
                   count(DISTINCT area_code) AS n_areas
            FROM observations GROUP BY indicator) o USING (indicator)""", scope=_scope(who))


def periods(store: Store, who: Viewer, indicator: str) -> list[str]:
    """Every period start and end an indicator has, oldest first."""
    return store.query("SELECT period_start AS p FROM observations WHERE indicator = ? "
                       "UNION SELECT period_end FROM observations WHERE indicator = ? "
                       "ORDER BY 1", [indicator, indicator], scope=_scope(who))["p"].tolist()


def breakdowns(store: Store, who: Viewer, indicator: str) -> list[str]:
    """The breakdown values an indicator has, in order."""
    return store.query("SELECT DISTINCT breakdown AS b FROM observations WHERE indicator = ? "
                       "AND breakdown IS NOT NULL ORDER BY 1", [indicator],
                       scope=_scope(who))["b"].tolist()


def latest(store: Store, who: Viewer, indicator: str) -> pd.DataFrame:
    """The latest period an indicator has a figure for (``period_start, period_end``)."""
    return store.query("SELECT period_start, period_end FROM observations WHERE indicator = ? "
                       "ORDER BY period_end DESC, period_start DESC LIMIT 1", [indicator],
                       scope=_scope(who))


def area_codes(store: Store, who: Viewer) -> pd.DataFrame:
    """``indicator, area_code, geography``: every area each indicator has a row for."""
    return store.query("SELECT DISTINCT indicator, area_code, geography FROM observations",
                       scope=_scope(who))


def covered_lads(store: Store, who: Viewer) -> pd.DataFrame:
    """``indicator, lad_code``: each district code (of every vintage) a source covers."""
    return store.query("SELECT DISTINCT c.indicator, k.lad_code FROM coverage c JOIN "
                       "lad_codes k ON c.lad_code IN (k.lad_code, k.lad_code_active)",
                       scope=_scope(who))


def build_time(store: Store) -> pd.DataFrame:
    """When the open data was built (``value``)."""
    return store.query("SELECT value FROM build_info WHERE key = 'built_at'")


def partner_loads(store: Store, who: Viewer) -> pd.DataFrame:
    """``indicator, loaded_at``: when each partner indicator was last loaded."""
    return store.query(
        "SELECT o.indicator, max(l.loaded_at) AS loaded_at FROM observations o "
        "JOIN ingest_log l USING (ingest_id) WHERE o.origin = 'partner' GROUP BY 1",
        scope=_scope(who))


def load_log(store: Store, who: Viewer, partner_files: bool) -> pd.DataFrame:
    """Rows read, loaded and kept aside per file (partner uploads when asked)."""
    where = "" if partner_files else "WHERE origin = 'open'"
    return store.query(
        "SELECT source, rows_read, rows_loaded, rows_quarantined AS rows_kept_aside, summary "
        f"FROM ingest_log {where} ORDER BY source", scope=_scope(who))


# -- figures ---------------------------------------------------------------------------

def visible_counts(store: Store, who: Viewer, indicator: str, k: int) -> pd.Series:
    """How many stored cells of a count hold each whole value from k up: the visible
    counts a hidden one's stand-in is fitted to (``disclosure.stand_in``)."""
    frame = store.query(
        "SELECT value, count(*) AS n FROM observations WHERE indicator = ? AND value >= ? "
        "AND value = floor(value) GROUP BY value", [indicator, k], scope=_scope(who))
    return frame.set_index("value")["n"].sort_index()


def figures(store: Store, who: Viewer, meta: dict, geographies, start: str, end: str,
            breakdown: str, *, by_geography: bool = False, by_period: bool = False,
            standing: float | None = None) -> pd.DataFrame:
    """Each area's stored figure over ``start``..``end`` for one breakdown (``""``: the
    total), counts summed from protected cells (``disclosure.cell_sql``; a small count
    as ``standing``)."""
    k = int(meta.get("suppression_k") or 0) if meta["additive"] else 0
    cell = disclosure.cell_sql("value", str(k), standing)
    keys = [*(["geography"] if by_geography else []),
            *(["period_start AS period"] if by_period else [])]
    group = ", ".join([key.split()[0] for key in keys] + ["area_code"])
    marks = ", ".join("?" * len(geographies))
    return store.query(
        f"SELECT {''.join(key + ', ' for key in keys)}area_code AS code, "
        f"{'sum' if meta['additive'] else 'avg'}({cell}) AS value, "
        f"count(*) FILTER (WHERE {disclosure.small_sql('value', str(k))}) AS hidden, "
        f"{disclosure.withheld_sql(cell)}, {LIMITS_SQL} FROM observations "
        f"WHERE indicator = ? AND geography IN ({marks}) AND period_start >= ? "
        f"AND {IN_RANGE} AND {BREAKDOWN}"
        f"{' AND period_start = period_end' if by_period else ''} GROUP BY {group}",
        [meta["indicator"], *geographies, start, end, end, breakdown], scope=_scope(who))


def span_figures(store: Store, who: Viewer, meta: dict, geographies,
                 spans: list[tuple[str, str, str]], breakdown: str,
                 standing: float | None = None) -> pd.DataFrame:
    """:func:`figures` by geography over each span ``(key, start, end)`` of ``spans``, in
    one query: ``geography, period`` (the span's key) and the columns ``figures`` gives.
    Each span's figure is summed (averaged) from the same stored cells, protected the
    same way, as ``figures`` over its start..end."""
    k = int(meta.get("suppression_k") or 0) if meta["additive"] else 0
    cell = disclosure.cell_sql("value", str(k), standing)
    marks = ", ".join("?" * len(geographies))
    rows = ", ".join("(?, ?, ?)" for _ in spans)
    first = min(s for _, s, _ in spans)
    last = max(e for _, _, e in spans)
    return store.query(
        f"SELECT o.geography, w.span AS period, o.area_code AS code, "
        f"{'sum' if meta['additive'] else 'avg'}({cell}) AS value, "
        f"count(*) FILTER (WHERE {disclosure.small_sql('value', str(k))}) AS hidden, "
        f"{disclosure.withheld_sql(cell)}, {LIMITS_SQL} FROM observations o "
        f"JOIN (VALUES {rows}) AS w(span, span_start, span_end) "
        f"ON o.period_start >= w.span_start AND o.period_end <= w.span_end "
        f"AND o.period_start <= w.span_end "
        f"WHERE o.indicator = ? AND o.geography IN ({marks}) AND o.period_start >= ? "
        f"AND {IN_RANGE} AND {BREAKDOWN} GROUP BY o.geography, w.span, o.area_code",
        [*(v for span in spans for v in span), meta["indicator"], *geographies, first,
         last, last, breakdown], scope=_scope(who))


def broken_down(store: Store, who: Viewer) -> set[str]:
    """The indicators that have breakdown rows (whose totals are protected part by part)."""
    return set(store.query("SELECT DISTINCT indicator FROM observations "
                           "WHERE breakdown IS NOT NULL", scope=_scope(who))["indicator"])


def breakdown_rows(store: Store, who: Viewer, indicator: str, geographies, start: str,
                   end: str, codes: list[str] | None = None) -> pd.DataFrame:
    """Every stored row of a broken-down indicator in the range (totals and parts), for
    ``disclosure.breakdown_cells``; only the areas ``codes`` when given."""
    marks = ", ".join("?" * len(geographies))
    where = f" AND area_code IN ({', '.join('?' * len(codes))})" if codes else ""
    return store.query(
        f"SELECT geography, area_code, period_start, period_end, breakdown, value, value_low, "
        f"value_high, value_lower, value_upper FROM observations WHERE indicator = ? AND "
        f"geography IN ({marks}) AND period_start >= ? AND {IN_RANGE}{where}",
        [indicator, *geographies, start, end, end, *(codes or [])], scope=_scope(who))


def period_count(store: Store, who: Viewer, indicator: str, start: str, end: str) -> int:
    """How many periods an indicator has in ``start``..``end``."""
    return int(store.query("SELECT count(DISTINCT period_start) AS n FROM observations "
                           f"WHERE indicator = ? AND period_start >= ? AND {IN_RANGE}",
                           [indicator, start, end, end], scope=_scope(who))["n"].iat[0])


def period_bounds(store: Store, who: Viewer, indicator: str) -> pd.DataFrame:
    """``period_start, period_end``: every distinct period an indicator has."""
    return store.query("SELECT DISTINCT period_start, period_end FROM observations "
                       "WHERE indicator = ?", [indicator], scope=_scope(who))


def coverage(store: Store, who: Viewer, indicator: str, start: str, end: str
             ) -> pd.DataFrame:
    """``lad_code, period``: each district code (of every vintage) the source covers in
    a period of ``start``..``end`` (``period`` NULL: in all)."""
    return store.query(
        "SELECT k.lad_code, c.period FROM coverage c JOIN lad_codes k "
        "ON c.lad_code IN (k.lad_code, k.lad_code_active) WHERE c.indicator = ? "
        "AND (c.period IS NULL OR (c.period >= ? AND c.period <= ?)) "
        "UNION SELECT k.lad_code_active, c.period FROM coverage c JOIN lad_codes k "
        "ON c.lad_code IN (k.lad_code, k.lad_code_active) WHERE c.indicator = ? "
        "AND (c.period IS NULL OR (c.period >= ? AND c.period <= ?))",
        [indicator, start, end] * 2, scope=_scope(who)).drop_duplicates()


def england(store: Store, who: Viewer, meta: dict, start: str, end: str, breakdown: str,
            standing: float | None = None) -> pd.Series:
    """An indicator's English LSOA rows over the range, summed from protected cells:
    ``n`` areas with a figure, ``total``, ``pop``, ``weighted``, ``areas`` (England's
    LSOAs of its vintage) and ``withheld`` (cells the partner hid)."""
    geo = meta["geography"]
    k = int(meta.get("suppression_k") or 0) if meta["additive"] else 0
    agg = "sum" if meta["additive"] else "avg"
    mark = "(value IS NULL AND value_low IS NOT NULL)"
    cell = disclosure.cell_sql("value", str(k), standing)
    return store.query(
        f"SELECT count(*) AS n, sum(o.value) AS total, sum(p.population) AS pop, "
        f"sum(o.value * p.population) AS weighted, sum(o.withheld) AS withheld, "
        f"(SELECT count(*) FROM population WHERE geography = ? AND code LIKE 'E01%') AS "
        f"areas FROM (SELECT area_code, {agg}({cell}) AS "
        f"value, count(*) FILTER (WHERE {mark}) AS withheld FROM observations "
        f"WHERE indicator = ? AND geography = ? AND area_code LIKE "
        f"'E01%' AND period_start >= ? AND {IN_RANGE} AND {BREAKDOWN} GROUP BY area_code) o "
        f"JOIN population p ON p.code = o.area_code AND p.geography = ?",
        [geo, meta["indicator"], geo, start, end, end, breakdown, geo],
        scope=_scope(who)).iloc[0]


def region_monthly(store: Store, who: Viewer, lads: tuple[str, ...] | None, start: str,
                   end: str, standing: dict[str, float] | None = None) -> pd.DataFrame:
    """``indicator, period_start, value, withheld``: each monthly count's regional total
    per month from protected cells (its own vintage; a small count as its indicator's
    ``standing``, k/2 for one not given), and how many partner-hidden cells it includes."""
    where, params = lad_clause(lads, "l.lad_code")
    put = None
    if standing:
        put = ("CASE o.indicator " + " ".join(
            f"WHEN '{i.replace(chr(39), '')}' THEN {float(v)!r}" for i, v in standing.items())
            + " ELSE coalesce(c.suppression_k, 0) / 2.0 END")
    cell = disclosure.cell_sql("o.value", "coalesce(c.suppression_k, 0)", put)
    mark = "(o.value IS NULL AND o.value_low IS NOT NULL)"
    return store.query(
        f"SELECT o.indicator, o.period_start, floor(sum({cell}) + 0.5) AS value, "
        f"count(*) FILTER (WHERE {mark}) AS withheld FROM observations o "
        f"JOIN lsoa_ward l ON l.lsoa_code = o.area_code "
        f"AND l.vintage = CASE o.geography WHEN 'LSOA11' THEN 2011 ELSE 2021 END "
        f"JOIN catalogue c ON c.indicator = o.indicator "
        f"WHERE c.frequency = 'monthly' AND c.additive AND o.breakdown IS NULL "
        f"AND o.period_start >= ? AND {IN_RANGE.replace('period_', 'o.period_')} AND {where} "
        f"GROUP BY o.indicator, o.period_start ORDER BY 1, 2",
        [start, end, end, *params], scope=_scope(who))


def area_monthly(store: Store, who: Viewer, meta: dict, geography: str, codes: list[str],
                 start: str, end: str, standing: float | None = None) -> pd.DataFrame:
    """``month, n, withheld``: the areas' monthly total from protected cells, and how many
    partner-hidden cells each month includes."""
    k = int(meta.get("suppression_k") or 0)
    mark = "(value IS NULL AND value_low IS NOT NULL)"
    return store.query(
        f"SELECT period_start AS month, sum({disclosure.cell_sql('value', str(k), standing)}) "
        f"AS n, "
        f"count(*) FILTER (WHERE {mark}) AS withheld "
        f"FROM observations WHERE indicator = ? AND geography = ? AND breakdown IS NULL "
        f"AND period_start = period_end AND period_start >= ? AND period_start <= ? "
        f"AND area_code IN ({', '.join('?' * len(codes))}) GROUP BY 1",
        [meta["indicator"], geography, start, end, *codes], scope=_scope(who))


# -- points ----------------------------------------------------------------------------

def _points_where(indicator: str, all_crime: str) -> tuple[str, list]:
    """For all crime, every open (police.uk) point, whatever its type; else the
    indicator's own."""
    if indicator == all_crime:
        return "origin = 'open'", []
    return "indicator = ?", [indicator]


def any_points(store: Store, who: Viewer, indicator: str, all_crime: str) -> bool:
    """Whether an indicator has point locations."""
    where, params = _points_where(indicator, all_crime)
    return bool(store.query(f"SELECT count(*) AS n FROM (SELECT 1 FROM crime_points "
                            f"WHERE {where} LIMIT 1) AS one", params,
                            scope=_scope(who))["n"].iat[0])


def points(store: Store, who: Viewer, indicator: str, all_crime: str, start: str, end: str,
           bounds: tuple[float, float, float, float], by_month: bool) -> pd.DataFrame:
    """``lon, lat[, month], n``: the indicator's points in the months and bounds."""
    where, params = _points_where(indicator, all_crime)
    minx, miny, maxx, maxy = bounds
    return store.query(
        f"SELECT lon, lat, {'month, ' if by_month else ''}sum(n) AS n FROM crime_points "
        f"WHERE {where} AND month >= ? AND month <= ? AND lon BETWEEN ? AND ? "
        f"AND lat BETWEEN ? AND ? GROUP BY lon, lat{', month' if by_month else ''}",
        [*params, start, end, minx, maxx, miny, maxy], scope=_scope(who))
