"""Backtests: capture rate, area share and Chainey's PAI of each hot spot method's
areas, first on a hand-made lattice whose answers are known, then every method on
the real police.uk months."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from dashboard.access import OPERATOR
from dashboard.analysis import backtest
from dashboard.filters import FilterError, ViewFilter
from tests.conftest import REPO


def lattice() -> tuple[pd.Series, pd.Series, pd.Series]:
    """A 10 x 10 lattice of areas: training counts, test counts and land areas.

    Training counts rise with the cell number (0..99), so the top five are cells
    95..99. In the test window every cell has 1 except cells 97..99, which have 21
    each: a total of 97 + 63 = 160, of which the top five hold 2 + 63 = 65. Cells
    95..99 have twice the land of the others: 10 of 105 units.
    """
    codes = [f"A{i:03d}" for i in range(100)]
    train = pd.Series(np.arange(100, dtype=float), index=codes)
    test = pd.Series(1.0, index=codes)
    test[codes[97:]] = 21.0
    area = pd.Series(1.0, index=codes)
    area[codes[95:]] = 2.0
    return train, test, area


def test_counts_on_a_lattice_with_known_capture_and_pai():
    train, test, area = lattice()
    flagged = backtest.top_share(train, 0.05)
    assert flagged == ["A099", "A098", "A097", "A096", "A095"]
    got = backtest.score(flagged, test, area)
    assert got["areas_flagged"] == 5
    assert got["test_total"] == 160 and got["captured"] == 65
    assert got["capture_rate"] == pytest.approx(65 / 160)
    assert got["area_share"] == pytest.approx(10 / 105)
    assert got["pai"] == pytest.approx((65 / 160) / (10 / 105))


def test_counts_round_the_share_up_and_break_ties_by_area_code():
    train = pd.Series([5.0, 5.0, 5.0, 1.0, np.nan], index=["C", "A", "B", "D", "E"])
    assert backtest.top_share(train, 0.3) == ["A", "B"]  # ceil(0.3 x 4 with data) = 2


def test_rolling_windows_move_one_month_at_a_time():
    months = [f"2022-{m:02d}" for m in range(1, 12)]
    windows = backtest.rolling_windows(months, train=6, test=1)
    assert len(windows) == 5
    assert windows[0] == backtest.Window("2022-01", "2022-06", "2022-07", "2022-07")
    assert windows[-1] == backtest.Window("2022-05", "2022-10", "2022-11", "2022-11")


def test_every_method_on_the_real_months_from_the_command_line(tmp_path, store):
    out = tmp_path / "backtest.csv"
    done = subprocess.run(
        [sys.executable, "-m", "dashboard", "backtest", "--region", "avon_and_somerset",
         "--level", "ward", "--indicator", "crime_all", "--train", "2022-01:2022-10",
         # Local Moran's p-values count permutations: with 199 none is below 0.005,
         # too coarse for FDR control over the wards to pass any high-high cluster.
         "--test", "2022-11:2022-11", "--permutations", "999", "--out", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    got = pd.read_csv(out)
    assert list(got.columns) == backtest.COLUMNS
    assert got["method"].tolist() == list(backtest.METHODS)
    assert (got["share"] == 0.05).all()
    total = store.query(
        "SELECT sum(o.value) AS n FROM observations o JOIN lsoa_ward l ON l.lsoa_code = "
        "o.area_code AND l.vintage = 2011 WHERE o.indicator = 'crime_all' AND "
        "o.period_start = '2022-11' AND l.lad_code IN ('E06000022', 'E06000023', "
        "'E06000024', 'E06000025', 'E07000187', 'E07000188', 'E07000189', 'E07000246')"
    )["n"].iat[0]
    assert np.allclose(got["test_total"], total)
    assert np.allclose(got["capture_rate"], got["captured"] / got["test_total"])
    assert np.allclose(got["pai"], got["capture_rate"] / got["area_share"], equal_nan=True)
    counts = got.set_index("method").loc["counts"]
    assert counts["areas_flagged"] == np.ceil(0.05 * 255)  # 255 wards with figures
    assert counts["pai"] > 1  # last year's busiest wards stay busy: better than chance
    made = got[got["method"] != "forecast"]
    assert (made["areas_flagged"] > 0).all()
    # Ten training months are too few for a forecast: it flags nothing, and says so.
    assert got.set_index("method").at["forecast", "areas_flagged"] == 0
    assert ((made["pei"] > 0) & (made["pei"] <= 1)).all()


def test_bad_windows_and_methods_are_refused_with_a_reason(store, regions):
    flt = ViewFilter("avon_and_somerset", "ward", "crime_all", "2022-01", "2022-06")
    region = regions["avon_and_somerset"]
    with pytest.raises(FilterError, match="must start after the training window"):
        backtest.backtest(store, region, flt, backtest.Window(
            "2022-01", "2022-06", "2022-05", "2022-07"), methods=["counts"], viewer=OPERATOR)
    with pytest.raises(FilterError, match="not backtest methods"):
        backtest.backtest(store, region, flt, backtest.Window(
            "2022-01", "2022-06", "2022-07", "2022-07"), methods=["magic"], viewer=OPERATOR)
    with pytest.raises(FilterError, match="is not a period of crime_all"):
        backtest.backtest(store, region, flt, backtest.Window(
            "2022-01", "2022-06", "2023-07", "2023-07"), methods=["counts"], viewer=OPERATOR)


def _per_window(store, region, flt, windows, settings, methods=None):
    """The backtest of each window on its own, stacked as ``rolling`` gives them."""
    return pd.concat([backtest.backtest(store, region, flt, w, settings=settings,
                                        methods=methods, viewer=OPERATOR)
                      .assign(window=w.label, test_start=w.test_start)
                      for w in windows], ignore_index=True)


def test_rolling_gives_each_window_what_its_own_backtest_gives(store, regions):
    """The rolling backtest reads every month and tests each month's Gi* once for all
    windows; the figures must be those of each window's backtest run on its own."""
    region = regions["avon_and_somerset"]
    flt = ViewFilter("avon_and_somerset", "ward", "crime_all", "2022-01", "2022-11")
    settings = backtest.hotspots.Settings(permutations=99)
    windows = backtest.rolling_windows([f"2022-{m:02d}" for m in range(1, 12)], 6, 1) \
        + [backtest.Window("2022-01", "2022-04", "2022-05", "2022-07")]  # a longer test
    got = backtest.rolling(store, region, flt, windows, settings=settings, viewer=OPERATOR)
    want = _per_window(store, region, flt, windows, settings)
    pd.testing.assert_frame_equal(got, want)
    assert set(got["method"]) == set(backtest.METHODS)
    assert len(got) == len(backtest.METHODS) * len(windows)


def test_rolling_matches_each_window_on_a_partner_series_with_hidden_cells(series, regions):
    """The same on the 92-month partner series (small counts hidden, two LSOA vintages),
    at LSOA level, where each training total protects its own small cells."""
    region = regions["avon_and_somerset"]
    flt = ViewFilter("avon_and_somerset", "lsoa", "burglary", "2022-09", "2023-08")
    months = backtest.catalogue.months(series, "burglary", viewer=OPERATOR)
    windows = backtest.rolling_windows([m for m in months if "2022-09" <= m <= "2023-08"],
                                       8, 2, step=2)
    settings = backtest.hotspots.Settings(permutations=99)
    got = backtest.rolling(series, region, flt, windows, settings=settings, viewer=OPERATOR)
    want = _per_window(series, region, flt, windows, settings)
    pd.testing.assert_frame_equal(got, want)
    assert len(got) == len(backtest.METHODS) * len(windows)


def test_the_forecast_method_flags_from_two_years_of_training(series, regions):
    """With 24 training months the forecast flags the share asked; rolling gives each
    window what its own backtest gives, and its pick is near the best possible."""
    region = regions["avon_and_somerset"]
    flt = ViewFilter("avon_and_somerset", "lsoa", "monthly_crime_count", "2019-01", "2021-04")
    months = backtest.catalogue.months(series, "monthly_crime_count", viewer=OPERATOR)
    windows = backtest.rolling_windows([m for m in months if "2019-01" <= m <= "2021-04"],
                                       24, 2, step=2)
    methods = ["counts", "forecast"]
    got = backtest.rolling(series, region, flt, windows, methods=methods, viewer=OPERATOR)
    want = _per_window(series, region, flt, windows, backtest.hotspots.Settings(), methods)
    pd.testing.assert_frame_equal(got, want)
    fc = got[got["method"] == "forecast"]
    assert len(fc) == 2 and (fc["areas_flagged"] > 0).all()
    assert (fc["pei"] > 0.8).all() and (fc["pai"] > 5).all()


def constructed(rows: dict[str, list[tuple[float, float]]]) -> pd.DataFrame:
    """Rolling results from (capture rate, area share) per method per window."""
    out = []
    for method, figures in rows.items():
        for i, (capture, area) in enumerate(figures):
            out.append({"method": method, "share": 0.05, "areas_flagged": 10,
                        "area_share": area, "captured": capture * 1000, "test_total": 1000.0,
                        "capture_rate": capture, "pai": capture / area,
                        "window": f"w{i}", "test_start": f"2022-0{i + 1}"})
    return pd.DataFrame(out)


def test_the_verdict_picks_by_its_stated_rule_where_pai_and_capture_disagree():
    # Gi* flags a sliver of land: PAI 60, but it catches 6% of the demand; counts catch
    # 25% in 1% of the land (PAI 25). PAI alone would pick Gi*.
    sliver = constructed({"gi": [(0.06, 0.001)] * 3, "counts": [(0.25, 0.01)] * 3})
    assert sliver.groupby("method")["pai"].median().idxmax() == "gi"
    assert backtest.best_by_rule(sliver[sliver["window"] == "w0"]) == "counts"
    text = backtest.verdict(sliver)
    assert text.startswith("Over 3 test windows, **Highest counts** held up best here")
    assert "caught a median 25% of the demand in the test months" in text
    assert "a median 1% of the region's land" in text and "a median PAI of 25.0" in text
    assert "It did best by the rule in every window" in text
    assert "12.5% or more; it caught the most itself" in text
    # A method catching enough (20%, over the bar of half of 25%) wins on PAI: LISA, in 0.4%.
    close = constructed({"counts": [(0.25, 0.01)] * 3, "lisa": [(0.20, 0.004)] * 3})
    text = backtest.verdict(close)
    assert text.startswith("Over 3 test windows, **LISA high-high clusters** held up")
    assert "Highest counts caught the most, 25% in 1% of the land, a PAI of 25.0" in text
    spread = backtest.spread(close).set_index("method")
    assert spread.loc["lisa", "best_in"] == 3 and spread.loc["counts", "best_in"] == 0


def markup_left(markdown: str) -> list[str]:
    """Markdown characters that would show, or change how text shows, once the verdict's
    own bold and list markers are taken out: unescaped ``*``, ``_``, ``$``, backticks,
    brackets, tags and emoji shortcodes."""
    text = re.sub(r"^- ", "", markdown, flags=re.M)
    text = re.sub(r"\*\*([^*\\]|\\.)+?\*\*", "", text)  # whole bold runs
    text = re.sub(r"\\[\\`*_{}\[\]<>#!|~:$&]", "", text)  # escaped: shown as typed
    return re.findall(r"[*_$`\[\]<>]|:\w+:", text)


def test_the_verdict_s_markdown_shows_method_names_as_written():
    # Gi* (a star) and 95% in the name: bold must wrap the whole name.
    text = backtest.verdict(constructed({"gi": [(0.3, 0.01)] * 3,
                                         "counts": [(0.25, 0.01)] * 3}))
    assert text.startswith(r"Over 3 test windows, **Gi\* hot spots (95%, FDR)**")
    assert markup_left(text) == []
    paragraph, bullets = text.split("\n\n")
    assert "\n" not in paragraph
    assert [b[:9] for b in bullets.split("\n")] == ["- **PAI**", "- **The r"]
    assert markup_left("**gi* hot spots (95%, fdr)** held up") != []  # the check bites


def _same_views(got: dict, store, region, flt, spans) -> None:
    """Each span's view is exactly what ``indicator_view`` gives for its months: every
    figure, what is hidden and why, ranks, stand-ins and the region's figure."""
    assert list(got) == list(dict.fromkeys(spans))
    for start, end in spans:
        want = backtest.measures.indicator_view(
            store, region, flt.with_(period_start=start, period_end=end), viewer=OPERATOR)
        view = got[(start, end)]
        pd.testing.assert_frame_equal(view, want, check_exact=True)
        for name in set(want.attrs) - {"conversion"}:
            a, b = view.attrs[name], want.attrs[name]
            assert a == b or (pd.isna(a) and pd.isna(b)), (start, end, name, a, b)


@pytest.mark.parametrize("level", ["lsoa", "ward"])
def test_every_training_total_in_one_read_is_protected_as_its_own_view(series, regions,
                                                                        level):
    """``measures.span_views`` reads every window's total in one pass: on the partner
    series (small counts hidden, LSOA 2011 codes until 2023 and 2021 after), each span's
    total must be protected as that total, exactly as its own view protects it (spans
    across the change of vintage, a single month, overlapping spans and the whole
    series; a span given twice is read once)."""
    region = regions["avon_and_somerset"]
    flt = ViewFilter("avon_and_somerset", level, "burglary", "2022-09", "2023-08")
    spans = [("2022-09", "2023-02"), ("2022-10", "2023-03"), ("2023-01", "2023-08"),
             ("2022-09", "2022-09"), ("2022-09", "2022-12"), ("2018-01", "2025-08"),
             ("2022-10", "2023-03")]
    got = backtest.measures.span_views(series, region, flt, spans, viewer=OPERATOR)
    _same_views(got, series, region, flt, spans)
    hidden = got[("2022-09", "2023-02")]
    assert (hidden["suppressed"] == "primary").any() and hidden["estimated"].gt(0).any()


@pytest.mark.parametrize("level,measure", [("lsoa", "count"), ("ward", "rate")])
def test_span_views_of_open_crime_with_coverage_month_by_month(store, regions, level,
                                                               measure):
    """The same on police.uk crime, whose coverage is recorded month by month (each
    span's true zeros and ``attrs["partial"]`` come from its own months), by LSOA and
    as rates by ward."""
    region = regions["avon_and_somerset"]
    flt = ViewFilter("avon_and_somerset", level, "crime_all", "2022-01", "2022-11", measure)
    spans = [("2022-01", "2022-06"), ("2022-02", "2022-07"), ("2022-05", "2022-11"),
             ("2022-11", "2022-11")]
    got = backtest.measures.span_views(store, region, flt, spans, viewer=OPERATOR)
    _same_views(got, store, region, flt, spans)
