"""The printable ward report: the command line writes a PDF that holds the ward's
summary, every indicator it may see with its rank, the trends and the sources; the
PDF is read back with poppler's ``pdftotext`` and drawn with ``pdftoppm``."""

from __future__ import annotations

import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from dashboard.access import Viewer
from dashboard.analysis import profile
from dashboard.filters import ViewFilter
from tests.conftest import REPO

WARD = "E05010892"  # Central, Bristol


def run(*args):
    """The command line, with time to gather a whole profile and start Chromium."""
    return subprocess.run([sys.executable, "-m", "dashboard", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def report(tmp_path_factory, partner_world, regions):
    """The report of Central ward as a councillor sees it, from a store with a partner
    indicator the councillor's agreement shares (``test_in``) and one it does not."""
    if not shutil.which("pdftotext"):
        pytest.fail("poppler-utils is not installed; `make test` installs it")
    out = tmp_path_factory.mktemp("report") / "central.pdf"
    done = run("report", "--region", "avon_and_somerset", "--ward", WARD, "--period",
               "2022-01:2022-06", "--out", str(out), "--store", str(partner_world),
               "--as", "t_councillor")
    assert done.returncode == 0, done.stderr
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True,
                          text=True, check=True).stdout
    return out, text


def test_the_report_says_what_the_profile_says(report, partner_world, regions):
    _, text = report
    from store import Store
    table = profile.ward_profile(
        Store(partner_world), regions["avon_and_somerset"], WARD,
        ViewFilter("avon_and_somerset", "ward", "crime_all", "2022-01", "2022-06", "rate"),
        viewer=Viewer("t_councillor", "councillor"))
    flat = " ".join(text.split())
    assert "Central: ward report" in flat and "2022-01 to 2022-06" in flat
    # Lines may break anywhere in the PDF, and pdftotext joins "anti-" and "social" at a
    # line end as "antisocial": compared without spaces and hyphens.
    said = "".join(profile.summary(table, "Central", "Avon and Somerset").split())
    assert said.replace("-", "") in "".join(text.split()).replace("-", "")
    for row in table.itertuples():  # every indicator, with its rank among the wards
        assert " ".join(row.title.split()[:2]) in flat, row.title
    ranked = table[table["rank"].notna()]
    squeezed = "".join(text.split())  # a cell's "12 of 255" may wrap
    missing = [r.title for r in ranked.itertuples()
               if f"{int(r.rank)}of{r.of}" not in squeezed]
    assert not missing, missing
    for heading in ("In brief", "Where the ward is", "How the ward compares",
                    "Every indicator", "Over the months", "Sources"):
        assert heading in flat
    assert "Open Government Licence" in flat and "Crown copyright" in flat
    assert "Page 1 of" in flat


def test_the_report_holds_only_what_the_viewer_may_see(report):
    _, text = report
    assert "Test: shared indicator" in text  # the councillors' agreement shares it
    assert "Test: unshared indicator" not in text and "Test: expired indicator" not in text


def test_the_report_draws_the_ward_map_on_its_first_page(report, tmp_path):
    pdf, _ = report
    subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(pdf),
                    str(tmp_path / "page")], check=True)
    png = next(tmp_path.glob("page*.png"))
    pixels = np.asarray(Image.open(png).convert("RGB")).reshape(-1, 3).astype(int)
    # The ward's LSOAs are filled in the map's light orange (#fdcc8a), and the region's
    # other wards in grey: the page is not blank and the map is on it.
    orange = (np.abs(pixels - [253, 204, 138]).sum(axis=1) < 30).mean()
    assert orange > 0.005, f"only {orange:.2%} of page 1 is the map's fill"
    assert len(np.unique(pixels, axis=0)) > 50


def test_an_unknown_ward_is_refused_with_its_code(tmp_path):
    done = run("report", "--region", "avon_and_somerset", "--ward", "E0NOTAWARD", "--out",
               str(tmp_path / "x.pdf"))
    assert done.returncode == 2 and "E0NOTAWARD" in done.stderr
    assert not (tmp_path / "x.pdf").exists()


def test_page_one_is_filled_the_table_starting_under_the_map(report, tmp_path):
    pdf, _ = report
    first = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(pdf), "-"],
                           capture_output=True, text=True, check=True).stdout
    flat = " ".join(first.split())
    assert "Where the ward is" in flat and "Every indicator" in flat
    assert "Police: All crime" in flat  # the table's first rows are on page 1
    subprocess.run(["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", str(pdf),
                    str(tmp_path / "one")], check=True)
    grey = np.asarray(Image.open(next(tmp_path.glob("one*.png"))).convert("L"))
    # Inside the margins (and above the footer), the share of pixel rows with ink: the
    # page is written down to its foot, not two-thirds white.
    body = grey[int(grey.shape[0] * 0.05):int(grey.shape[0] * 0.93)]
    inked = (body < 200).any(axis=1)
    assert inked[int(len(inked) * 2 / 3):].mean() > 0.5, "the foot of page 1 is empty"


def test_the_change_on_a_year_before_is_never_blank(report, partner_world, regions):
    pdf, text = report
    from dashboard.views import report as ward_report
    from store import Store
    region = regions["avon_and_somerset"]
    table = profile.ward_profile(
        Store(partner_world), region, WARD,
        ViewFilter("avon_and_somerset", "ward", "crime_all", "2022-01", "2022-06", "rate"),
        viewer=Viewer("t_councillor", "councillor"))
    paper = ward_report._for_paper(profile.display_table(table), "2022-01 to 2022-06")
    change = paper["Change on a year before"]
    assert (change != "").all(), paper.loc[change == "", "Indicator"].tolist()
    # The months a year before (2021) are not in the store: counts say so, in words.
    crime = paper.set_index("Indicator").loc[table.set_index("indicator")
                                             .at["crime_all", "title"]]
    assert crime["Change on a year before"] == "no earlier period"
    imd = paper.set_index("Indicator").loc[table.set_index("indicator")
                                           .at["imd2019_rank", "title"]]
    assert imd["Change on a year before"] == "not a count"
    squeezed = "".join(text.split())
    assert "noearlierperiod" in squeezed and "notacount" in squeezed
    # Where the profile has a change it is kept as the profile says it.
    fake = profile.display_table(table.assign(change_ratio=1.25, change_lower_95=1.1,
                                              change_upper_95=1.4, change="higher"))
    kept = ward_report._for_paper(fake, "2022-01 to 2022-06")["Change on a year before"]
    assert (kept == "+25% (+10% to +40%), higher").all()


def _text(pdf: bytes, tmp_path, name: str) -> str:
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def test_the_kept_chromium_prints_what_a_fresh_one_prints(report, partner_world, regions,
                                                          tmp_path):
    """One Chromium is kept open for the process: a report printed by it (twice, and
    from another thread, as the server's sessions ask) reads exactly as the same page
    printed by a Chromium started for it alone, and as the command line's."""
    import threading

    from playwright.sync_api import sync_playwright

    from dashboard.views import report as ward_report
    from store import Store
    _, cli_text = report
    page = ward_report.to_html(ward_report.build(
        Store(partner_world), regions["avon_and_somerset"], WARD,
        ViewFilter("avon_and_somerset", "ward", "crime_all", "2022-01", "2022-06", "rate"),
        viewer=Viewer("t_councillor", "councillor")))
    kept = [ward_report.to_pdf(page), ward_report.to_pdf(page)]
    other = threading.Thread(target=lambda: kept.append(ward_report.to_pdf(page)))
    other.start()
    other.join()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=ward_report.CHROMIUM,
                                    args=ward_report.CHROMIUM_FLAGS)
        try:
            fresh = ward_report._print(browser, page)
        finally:
            browser.close()
    want = _text(fresh, tmp_path, "fresh")
    assert "Central: ward report" in want
    assert [_text(pdf, tmp_path, f"kept{i}") for i, pdf in enumerate(kept)] == [want] * 3
    assert cli_text == want
    ward_report.PRINTER.stop()  # and a page after it was closed starts it again
    assert _text(ward_report.to_pdf(page), tmp_path, "again") == want


def test_the_printed_map_keeps_every_area_and_its_shape(regions):
    """Outlines go to print simplified for the size of their panel: every ward is still
    drawn, none moves by more than a pixel and a half, with under half its points, and
    neighbours still meet (the wards cover the same ground, with no gap or overlap
    opened between them)."""
    import shapely

    from dashboard import geography
    from dashboard.views import report as ward_report
    from store import Store
    wards = geography.map_shapes(Store(), regions["avon_and_somerset"], "ward")
    size = (220, 260)
    printed = ward_report._for_print(wards, wards.total_bounds, size)
    minx, miny, maxx, maxy = wards.total_bounds
    pixel = max((maxx - minx) / size[0], (maxy - miny) / size[1])
    assert list(printed["code"]) == list(wards["code"])
    assert printed.geometry.is_valid.all() and not printed.geometry.is_empty.any()
    moved = shapely.hausdorff_distance(printed.geometry.values, wards.geometry.values)
    assert moved.max() <= 1.5 * pixel, moved.max() / pixel
    points = shapely.get_num_coordinates(printed.geometry.values).sum()
    assert points < shapely.get_num_coordinates(wards.geometry.values).sum() / 2
    whole = shapely.union_all(wards.geometry.values).area
    assert abs(shapely.union_all(printed.geometry.values).area - whole) < 1e-3 * whole
    overlap = shapely.area(printed.geometry.values).sum() \
        - shapely.union_all(printed.geometry.values).area
    assert abs(overlap) < 1e-3 * whole
