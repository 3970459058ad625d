"""The ward report: one ward on a few printable pages, for a councillor's surgery.

It holds what the Ward profile page shows, from the same model calls (so the
same access and disclosure control): the plain-words summary, where the ward
is, every indicator with its rank and its comparison with the district, the
region and England, the month-by-month figures beside the region's, and the
sources with their attribution.

The page is HTML with the charts drawn as SVG by Vega's own converter
(``vl-convert``, the same Altair charts as the app), printed to PDF by Chromium
(one headless Chromium kept open for the process, each page in a context of its
own). Chromium's PDF is tagged (headings, tables, reading order), so a screen
reader can read it, and has an outline of its sections. The maps' outlines are
simplified for the size they are printed at.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime as dt
import html
import os
import queue
import re
import threading
from concurrent.futures import Future
from dataclasses import dataclass

import altair as alt
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import vl_convert

from dashboard import access, geography
from dashboard.access import Viewer
from dashboard.analysis import profile
from dashboard.filters import ViewFilter
from dashboard.measures import catalogue, rates
from dashboard.views import charts, contrast, export
from loaders import Region
from store import Store

CHROMIUM = os.environ.get("ODA_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update"]
MAX_TRENDS = 16


@dataclass(frozen=True)
class WardReport:
    """What a ward report holds, before it is laid out."""

    ward: str
    name: str
    district: str
    region: str
    period: str
    summary: str
    table: pd.DataFrame  # profile.display_table
    map_svg: str
    spine_svg: str
    trends_svg: str
    trends_text: str
    sources: list[str]
    made: str


def build(store: Store, region: Region, ward: str, flt: ViewFilter, *,
          viewer: Viewer, table: pd.DataFrame | None = None) -> WardReport:
    """Gather one ward's report for the filter's months (``flt.period``). Pass the
    ward's ``table`` (``profile.ward_profile`` for the same filter) when it is read.

    Raises
    ------
    FilterError
        If the ward is not one of the region's.
    """
    if table is None:
        table = profile.ward_profile(store, region, ward, flt, viewer=viewer)
    grants = access.rules(store, viewer)
    period = flt.period_start if flt.period_start == flt.period_end \
        else f"{flt.period_start} to {flt.period_end}"
    wards = geography.map_shapes(store, region, "ward")
    mine = wards[wards["code"] == ward]
    name = str(mine["name"].iat[0]) if len(mine) else ward
    lookup = geography.lsoa_lookup(store, region)
    inside = set(lookup.loc[lookup["ward_code"] == ward, "lsoa_code"])
    lsoas = geography.map_shapes(store, region, "lsoa")
    lsoas = lsoas[lsoas["code"].isin(inside)]
    monthly = table[table["trend"] != ""].head(MAX_TRENDS)
    trends = pd.concat([profile.ward_trend(store, region, ward, flt.with_(
        indicator=row.indicator), viewer=viewer, grants=grants)
        .assign(title=charts.short_title(row.title))
        for row in monthly.itertuples()], ignore_index=True) if len(monthly) else \
        pd.DataFrame(columns=["period", "area", "figure", "title"])
    shown = catalogue.catalogue(store, viewer=viewer).set_index("indicator")
    sources = sorted({f"{shown.at[i, 'title']}: {shown.at[i, 'source']}"
                      for i in table["indicator"] if i in shown.index})
    return WardReport(
        ward=ward, name=name, district=profile.district_of(table), region=region.title,
        period=period,
        summary=profile.summary(table, name, region.title),
        table=_for_paper(profile.display_table(table), period),
        map_svg=_svg(ward_map_chart(wards, mine, lsoas),
                     f"Map of {name} and its {len(lsoas)} LSOAs, and where it lies among "
                     f"the wards of {region.title}."),
        spine_svg=_svg(charts.profile_chart(table, name).properties(width=430),
                       f"Where {name} falls among the region's wards on each indicator; "
                       "the figures are in the table."),
        trends_svg=_svg(trends_chart(trends), "The ward's monthly figures beside the "
                        "region's; the direction of each is in the table.")
        if len(trends) else "",
        trends_text=_trend_words(table),
        sources=sources + export.ATTRIBUTION,
        made=dt.date.today().isoformat())


def ward_map_chart(wards: gpd.GeoDataFrame, ward: gpd.GeoDataFrame,
                   lsoas: gpd.GeoDataFrame) -> alt.HConcatChart:
    """The ward and its LSOAs (left), and the region's wards with the ward marked
    (right): for paper, with no basemap. Outlines are simplified for the size of the
    panel they are drawn in (:func:`_for_print`)."""
    near_size, where_size = (300, 260), (220, 260)
    near_bounds = pd.concat([ward, lsoas]).total_bounds if len(ward) or len(lsoas) \
        else wards.total_bounds
    wards = _for_print(wards, wards.total_bounds, where_size)
    marked = _for_print(ward, wards.total_bounds, where_size)
    ward = _for_print(ward, near_bounds, near_size)
    lsoas = _for_print(lsoas, near_bounds, near_size)
    wards, ward, lsoas, marked = (_wound(g) for g in (wards, ward, lsoas, marked))
    near = alt.layer(
        alt.Chart(lsoas).mark_geoshape(fill="#fdcc8a", stroke="#ffffff", strokeWidth=1),
        alt.Chart(ward).mark_geoshape(fill=None, stroke="#141414", strokeWidth=2.5),
    ).properties(width=near_size[0], height=near_size[1], title="The ward and its LSOAs")
    where = alt.layer(
        alt.Chart(wards).mark_geoshape(fill="#f0f0f0", stroke="#bdbdbd", strokeWidth=0.3),
        alt.Chart(marked).mark_geoshape(fill="#d7301f", stroke="#141414", strokeWidth=1),
    ).properties(width=where_size[0], height=where_size[1],
                 title="Where it lies in the region")
    return alt.hconcat(near, where).configure_view(stroke=None) \
        .configure_title(fontSize=12, anchor="start")


def _for_print(shapes: gpd.GeoDataFrame, bounds, size: tuple[int, int]
               ) -> gpd.GeoDataFrame:
    """Outlines for a panel of ``size`` pixels showing ``bounds``: simplified as one
    coverage (``shapely.coverage_simplify``, tolerance a quarter of a pixel: neighbours
    keep their shared edges, so no gap opens between them, and no outline moves by
    more than about a pixel), with coordinates to five decimal places of a degree
    (about a metre). The region's wards went to print with some 30,000 points, most
    closer together than a pixel; about a third of them are left."""
    minx, miny, maxx, maxy = bounds
    tolerance = 0.25 * max((maxx - minx) / size[0], (maxy - miny) / size[1])
    if not len(shapes) or not tolerance > 0:
        return shapes
    simple = shapely.coverage_simplify(shapes.geometry.values, tolerance)
    simple = shapely.transform(simple, lambda xy: np.round(xy, 5))
    return shapes.assign(geometry=gpd.GeoSeries(simple, index=shapes.index, crs=shapes.crs))


def _wound(shapes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Polygons wound as Vega's spherical geometry expects (exterior rings clockwise):
    wound the other way, a polygon is read as the whole globe but itself."""
    return shapes[["code", "name", "geometry"]].set_geometry(
        shapely.orient_polygons(shapes.geometry.values, exterior_cw=True), crs=shapes.crs)


def trends_chart(trends: pd.DataFrame) -> alt.FacetChart:
    """Small multiples: the ward's monthly figure (red) beside the region's (grey)."""
    data = trends.assign(month=pd.to_datetime(trends["period"] + "-01"))
    return alt.Chart(data).mark_line(point=alt.OverlayMarkDef(size=12)).encode(
        x=alt.X("month:T", title=None, axis=alt.Axis(format="%b %y", tickCount=3)),
        y=alt.Y("figure:Q", title=None, axis=alt.Axis(tickCount=3)),
        color=alt.Color("area:N", title=None, scale=alt.Scale(range=["#d7301f", "#636363"]),
                        legend=alt.Legend(orient="top")),
    ).properties(width=140, height=70).facet(
        facet=alt.Facet("title:N", title=None), columns=4,
    ).resolve_scale(y="independent")


CHANGE = "Change on a year before"


def _for_paper(table: pd.DataFrame, period: str) -> pd.DataFrame:
    """The profile table narrowed for A4: the partner is in each police title already,
    and a period the same as the report's is said once, in its heading. A change on a
    year before that cannot be given says why rather than leaving a blank: a count or
    rate with no figures for the same months a year before has "no earlier period"; a
    score, rank or published rate is "not a count" (the change is a ratio of counts)."""
    counted = table["Compared as"].isin(["count", "rate per 1,000"]) \
        if "Compared as" in table else pd.Series(True, index=table.index)
    out = table.drop(columns=["Partner", "Compared as"], errors="ignore")
    out["Period"] = out["Period"].where(out["Period"] != period, "as above")
    if CHANGE in out:
        blank = out[CHANGE].fillna("") == ""
        out[CHANGE] = out[CHANGE].mask(blank & counted, "no earlier period") \
            .mask(blank & ~counted, "not a count")
    return out


def _trend_words(table: pd.DataFrame) -> str:
    rising = table.loc[table["trend"] == "rising", "title"].map(charts.short_title).tolist()
    falling = table.loc[table["trend"] == "falling", "title"].map(charts.short_title).tolist()
    parts = []
    if rising:
        parts.append(f"rising significantly: {', '.join(rising)}")
    if falling:
        parts.append(f"falling significantly: {', '.join(falling)}")
    if not parts:
        return "No monthly figure shows a significant trend over these months."
    return ("Over these months (Mann-Kendall test at 5%), the ward's figures are "
            + "; ".join(parts) + ".")


def _svg(chart: alt.TopLevelMixin, label: str) -> str:
    """A chart as SVG, an image with a text alternative (its details are in the text)."""
    svg = vl_convert.vegalite_to_svg(charts.readable(chart).to_json())
    svg = re.sub(r"^<svg ", f'<svg role="img" aria-label="{html.escape(label)}" ', svg,
                 count=1)
    return svg


def to_html(report: WardReport) -> str:
    """The report as one self-contained HTML page, laid out for A4."""
    e = html.escape
    compared = [c for c in report.table.columns if c.startswith("vs ")]
    head = "".join(f"<th scope='col'>{e(c)}</th>" for c in report.table.columns)
    rows = []
    for row in report.table.itertuples(index=False):
        cells = []
        for col, value in zip(report.table.columns, row, strict=True):
            text = "" if pd.isna(value) else str(value)
            colour = rates.COMPARISON_COLOURS.get(text) if col in compared else None
            style = f" style='background:{colour};color:{contrast.text_on(colour)}'" \
                if colour else ""
            tag = "th scope='row'" if col == "Indicator" else "td"
            cells.append(f"<{tag}{style}>{e(text)}</{tag.split()[0]}>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    trends = (f"<h2>Over the months</h2><p>{e(report.trends_text)}</p>"
              f"<figure>{report.trends_svg}</figure>") if report.trends_svg else ""
    sources = "".join(f"<li>{e(s)}</li>" for s in report.sources)
    return f"""<!DOCTYPE html>
<html lang="en-GB"><head><meta charset="utf-8">
<title>{e(report.name)} ward report, {e(report.period)}</title>
<style>
@page {{ size: A4; margin: 14mm 12mm 16mm 12mm; }}
body {{ font-family: "DejaVu Sans", "Liberation Sans", sans-serif; font-size: 9.5pt;
        color: #111; line-height: 1.35; }}
h1 {{ font-size: 18pt; margin: 0 0 2pt; }}
h2 {{ font-size: 12.5pt; margin: 12pt 0 4pt; break-after: avoid; }}
.meta {{ color: #444; margin: 0 0 8pt; }}
.summary {{ font-size: 10.5pt; border-left: 3pt solid #d7301f; padding-left: 6pt; }}
figure {{ margin: 4pt 0; break-inside: avoid; }}
svg {{ max-width: 100%; height: auto; }}
/* The map is kept small so the table starts on page 1; the chart of every indicator,
   taller than the rest of a page, has a page of its own and is scaled to fit it. */
figure.map svg {{ max-height: 62mm; width: auto; }}
section.spine {{ break-before: page; }}
section.spine svg {{ max-height: 240mm; width: auto; }}
table {{ border-collapse: collapse; width: 100%; font-size: 7.5pt; }}
th[scope="row"] {{ width: 24%; }}
th, td {{ border: 0.5pt solid #999; padding: 2pt 3pt; text-align: left;
          vertical-align: top; }}
thead th {{ background: #eee; }}
tr {{ break-inside: avoid; }}
.key {{ font-size: 8pt; color: #333; }}
ul.sources {{ font-size: 8pt; padding-left: 12pt; }}
</style></head>
<body>
<header>
<h1>{e(report.name)}: ward report</h1>
<p class="meta">{e(report.ward)} · {e(report.district)} · {e(report.region)} ·
months {e(report.period)} · made {e(report.made)} with ODA Dashboard</p>
</header>
<main>
<h2>In brief</h2>
<p class="summary">{e(report.summary)}</p>
<h2>Where the ward is</h2>
<figure class="map">{report.map_svg}</figure>
<h2>Every indicator</h2>
<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>
<p class="key">Rank: 1 is the ward of most need. vs district, region and England: the
comparator's figure against the ward's 95% confidence interval (exact Poisson for a rate
per 1,000; the partner's own limits for a published rate): worse or better by the
indicator's direction, similar when the comparator is inside the interval. Change on a
year before: the ward's count against the same months a year before, as a rate ratio
with its 95% interval. Suppressed: a small count hidden to protect privacy.</p>
<section class="spine">
<h2>How the ward compares</h2>
<figure>{report.spine_svg}</figure>
</section>
{trends}
<h2>Sources</h2>
<ul class="sources">{sources}</ul>
</main></body></html>"""


def to_pdf(page_html: str) -> bytes:
    """Print an HTML page to PDF with Chromium (tagged, with an outline), A4 with page
    numbers. One headless Chromium is kept open for the process (:class:`Printer`), so
    only the first report waits for it to start."""
    return PRINTER.pdf(page_html)


def _print(browser, page_html: str) -> bytes:
    """One page printed in a context of its own (nothing of one report reaches the
    next), closed after."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_content(page_html, wait_until="load")
        return page.pdf(
            format="A4", print_background=True, tagged=True, outline=True,
            prefer_css_page_size=True, display_header_footer=True,
            header_template="<span></span>",
            footer_template="<div style='font-size:7pt;width:100%;text-align:center;"
            "color:#444'>Page <span class='pageNumber'></span> of "
            "<span class='totalPages'></span></div>")
    finally:
        context.close()


class Printer:
    """A headless Chromium kept open in a thread of its own, printing one page at a
    time for any thread that asks (Playwright's sync API belongs to the thread that
    started it). Chromium starts with the first page; if it fails or closes, the next
    page starts it again. It is closed when the process exits (:meth:`stop`)."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def pdf(self, page_html: str) -> bytes:
        """The page printed (as :func:`_print`); raises what printing raised."""
        job: Future = Future()
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._serve, name="report-printer",
                                                daemon=True)
                self._thread.start()
            self._jobs.put((page_html, job))
        return job.result()

    def stop(self, timeout: float = 10.0) -> None:
        """Close Chromium and end the thread (a later page starts them again)."""
        with self._lock:
            thread, self._thread = self._thread, None
            if thread is not None and thread.is_alive():
                self._jobs.put(None)
        if thread is not None:
            thread.join(timeout)

    def _serve(self) -> None:
        from playwright.sync_api import sync_playwright

        playwright = browser = None
        try:
            while (item := self._jobs.get()) is not None:
                page_html, job = item
                if not job.set_running_or_notify_cancel():
                    continue
                try:
                    if browser is None or not browser.is_connected():
                        if playwright is None:
                            playwright = sync_playwright().start()
                        browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                                             args=CHROMIUM_FLAGS)
                    job.set_result(_print(browser, page_html))
                except BaseException as exc:  # the caller gets it; the next page retries
                    job.set_exception(exc)
        finally:
            for close in ((browser.close if browser is not None else None),
                          (playwright.stop if playwright is not None else None)):
                if close is not None:
                    with contextlib.suppress(Exception):  # already closed or gone
                        close()


PRINTER = Printer()
atexit.register(PRINTER.stop)


def ward_report_pdf(store: Store, region: Region, ward: str, flt: ViewFilter, *,
                    viewer: Viewer, table: pd.DataFrame | None = None) -> bytes:
    """The ward report as PDF bytes (:func:`build`, :func:`to_html`, :func:`to_pdf`)."""
    return to_pdf(to_html(build(store, region, ward, flt, viewer=viewer, table=table)))
