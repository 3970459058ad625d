"""A count broken down two ways at once (hospital admissions by provider and age group,
per LSOA): its total and its margins are made at load, shown through the door as the sums
of protected cells (hidden, with their range, where a cell is hidden), exported with a
reason beside every blank figure, and no view gives a hidden cell back."""

from __future__ import annotations

import datetime as dt
import io
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dashboard import measures
from dashboard.access import AccessDenied, Viewer, agreements
from dashboard.filters import ViewFilter
from dashboard.measures import catalogue, disclosure
from dashboard.views import export
from loaders.ingest import ingest
from store import Store
from tests.loaders.conftest import counts

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "partner" / \
    "admissions_provider_age.csv"
TODAY = dt.date(2026, 6, 1)
INDICATOR = "emergency_admissions"
PERIODS = ("2022/23", "2023/24")
K = 5
ANALYST = Viewer("t_analyst", "analyst", "bristol_council")  # named by the agreement
OUTSIDER = Viewer("t_outsider", "analyst", "elsewhere")
ADMIN = Viewer("t_admin", "administrator")


def fixture_cells(path: Path = FIXTURE) -> pd.DataFrame:
    """The file's cells, read here: the number, or the partner's mark (all are 1 to 4)."""
    raw = pd.read_csv(path, dtype=str)
    marked = ~raw["admissions"].str.fullmatch(r"\d+")
    assert set(raw.loc[marked, "admissions"]) <= {"*", "<5"}
    return raw.assign(value=pd.to_numeric(raw["admissions"], errors="coerce"),
                      marked=marked)


def expected(cells: pd.DataFrame) -> dict:
    """What the door should show for one sum of cells: the sum with each small count as
    k/2 (rounded half up), or, with a cell the partner hid, hidden with the range of the
    sum (each hidden cell 1 to 4, each small count still k/2)."""
    small = cells["value"].between(1, K - 1) & ~cells["marked"]
    shown = cells["value"].where(~small, K / 2)
    if cells["marked"].any():
        base = shown[~cells["marked"]].sum()
        n = int(cells["marked"].sum())
        return {"value": np.nan, "suppressed": f"partner ({base + n:g} to {base + 4 * n:g})"}
    value = float(np.floor(shown.sum() + 0.5))
    return {"value": value, "suppressed": "primary" if 1 <= value < K else "",
            "estimated": int(small.sum())}


def sums(cells: pd.DataFrame) -> dict:
    """Every sum the door shows, keyed by (breakdown, area, period): the total and each
    provider's and each age group's margin."""
    out = {}
    for (code, period), part in cells.groupby(["lsoa_code", "period"]):
        out[("", code, period)] = expected(part)
        for p, one in part.groupby("provider"):
            out[(f"provider: {p}", code, period)] = expected(one)
        for a, one in part.groupby("age_group"):
            out[(f"age_group: {a}", code, period)] = expected(one)
    return out


def load(store_file: Path, path: Path = FIXTURE):
    gov = Store(store_file).governance
    if "isa_admissions" not in set(agreements.register(gov)["id"]):
        agreements.add({"id": "isa_admissions", "title": "Admissions for prevention",
                        "parties": ["nhs_bristol", "bristol_council"], "orgs": "bristol_council",
                        "indicators": [INDICATOR], "level": "lsoa", "expires": "2030-01-01"},
                       {INDICATOR}, by=ADMIN, path=gov)
    return ingest(path, store=store_file, partner="nhs_bristol", indicator=INDICATOR,
                  value="admissions", today=TODAY, governance_file=gov)


@pytest.fixture()
def admissions(loader_store):
    report = load(loader_store)
    return Store(loader_store), report


def view(store: Store, regions, breakdown: str = "", period: str = PERIODS[0],
         level: str = "lsoa", who: Viewer = ANALYST) -> pd.DataFrame:
    flt = ViewFilter("avon_and_somerset", level, INDICATOR, period, period,
                     breakdown=breakdown)
    return measures.indicator_view(store, regions["avon_and_somerset"], flt, viewer=who)


def test_the_file_loads_with_totals_and_margins_made(admissions):
    store, report = admissions
    assert counts(report) == (96, 90, 6, 0)
    cells = fixture_cells()
    hidden = sum(w["suppressed"].startswith("partner") for w in sums(cells).values())
    assert hidden == 16  # 5 LSOA-periods with a hidden cell; one of them with two
    assert ("8 totals and 56 margins (one breakdown over all the others) were made by adding "
            "the cells of each count given as a full cross-classification (provider by "
            f"age_group), where the file has no total row ({hidden} with a partner-hidden "
            "cell, hidden too, with the range they must lie in)") in report.notes
    offered = catalogue.breakdowns(store, INDICATOR, viewer=ANALYST)
    assert {f"provider: {p}" for p in cells["provider"]} <= set(offered)
    assert {f"age_group: {a}" for a in cells["age_group"]} <= set(offered)
    assert len(offered) == 3 + 4 + 12


def test_totals_and_margins_are_sums_of_protected_cells(admissions, regions):
    store, _ = admissions
    cells = fixture_cells()
    want = sums(cells)
    codes = sorted(cells["lsoa_code"].unique())
    checked = {"value": 0, "partner": 0, "estimated": 0}
    for breakdown in sorted({b for b, _, _ in want}):
        for period in PERIODS:
            got = view(store, regions, breakdown, period).set_index("area_code").loc[codes]
            for code in codes:
                w, g = want[(breakdown, code, period)], got.loc[code]
                assert g["suppressed"] == w["suppressed"], (breakdown, code, period)
                if w["suppressed"].startswith("partner"):
                    assert np.isnan(g["value"])
                    checked["partner"] += 1
                elif not w["suppressed"]:
                    assert g["value"] == w["value"], (breakdown, code, period)
                    assert g["estimated"] == w["estimated"], (breakdown, code, period)
                    checked["value"] += 1
                    checked["estimated"] += w["estimated"] > 0
    # Every kind is met: figures shown, figures with stand-ins, sums hidden with a range.
    assert checked == {"value": 48, "partner": 16, "estimated": 7}


def test_a_hidden_cell_makes_its_total_and_margins_hidden_with_their_range(admissions,
                                                                          regions):
    store, _ = admissions
    # E01014485 in 2022/23: Bath's 0-17 is '*' and its 65-79 is '<5' (1 to 4 each).
    raw = fixture_cells()
    one = raw[(raw["lsoa_code"] == "E01014485") & (raw["period"] == "2022/23")]
    rest = one.loc[~one["marked"], "value"].sum()
    total = view(store, regions).set_index("area_code").loc["E01014485"]
    assert total["suppressed"] == f"partner ({rest + 2:g} to {rest + 8:g})"
    bath = view(store, regions, "provider: Royal United Hospitals Bath") \
        .set_index("area_code").loc["E01014485"]
    shown = one.loc[(one["provider"] == "Royal United Hospitals Bath") & ~one["marked"],
                    "value"].sum()
    assert bath["suppressed"] == f"partner ({shown + 2:g} to {shown + 8:g})"
    adults = view(store, regions, "age_group: 18-64").set_index("area_code").loc["E01014485"]
    assert adults["value"] == one.loc[one["age_group"] == "18-64", "value"].sum()


def test_the_cells_themselves_are_protected(admissions, regions):
    store, _ = admissions
    raw = fixture_cells()
    for (provider, age), part in raw[raw["period"] == PERIODS[0]].groupby(
            ["provider", "age_group"]):
        got = view(store, regions, f"provider: {provider}; age_group: {age}") \
            .set_index("area_code")
        for row in part.itertuples():
            g = got.loc[row.lsoa_code]
            if row.marked:
                assert g["suppressed"] == "partner (1 to 4)"
            elif 1 <= row.value < K:
                assert g["suppressed"] == disclosure.PRIMARY and np.isnan(g["value"])
            else:
                assert g["value"] == row.value or g["suppressed"] == disclosure.SECONDARY


def _every_view(store: Store, regions) -> dict:
    names = [b for b in catalogue.breakdowns(store, INDICATOR, viewer=ANALYST)
             if "; " not in b or "Bath" in b]  # the cells with small counts, and margins
    return {(b, p, level): view(store, regions, b, p, level)
            for b in ["", *names] for p in PERIODS for level in ("lsoa", "ward")}


def test_no_margin_total_or_cell_gives_a_small_count_back(tmp_path, loader_store, regions):
    """The small counts the partner left in (3, 3 and 3) are redrawn (1, 4 and 2): every
    view of the total, the margins and the cells, by LSOA and ward, is unchanged."""
    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(loader_store, other / "store.duckdb")
    text = FIXTURE.read_text()
    changes = {"E01014486,2022/23,Royal United Hospitals Bath,0-17,3":
               "E01014486,2022/23,Royal United Hospitals Bath,0-17,1",
               "E01014488,2022/23,Royal United Hospitals Bath,0-17,3":
               "E01014488,2022/23,Royal United Hospitals Bath,0-17,4",
               "E01014488,2022/23,Royal United Hospitals Bath,80+,3":
               "E01014488,2022/23,Royal United Hospitals Bath,80+,2"}
    for before, after in changes.items():
        assert before in text
        text = text.replace(before, after)
    redrawn = other / FIXTURE.name
    redrawn.write_text(text)
    assert not load(loader_store).refused
    assert not load(other / "store.duckdb", redrawn).refused
    first = _every_view(Store(loader_store), regions)
    second = _every_view(Store(other / "store.duckdb"), regions)
    assert len(first) == 2 * 2 * (1 + 3 + 4 + 4)
    for key, before in first.items():
        pd.testing.assert_frame_equal(second[key], before, obj=str(key))


def test_the_export_gives_each_figure_and_says_why_any_is_blank(admissions, regions):
    store, _ = admissions
    region = regions["avon_and_somerset"]
    want = sums(fixture_cells())
    for breakdown in ("", "provider: North Bristol NHS Trust", "age_group: 80+"):
        flt = ViewFilter("avon_and_somerset", "lsoa", INDICATOR, PERIODS[1], PERIODS[1],
                         breakdown=breakdown)
        files = export.write(store, region, flt, [INDICATOR], "csv", viewer=ANALYST)
        got = pd.read_csv(io.BytesIO(files[".csv"]), dtype={"why_blank": str},
                          keep_default_na=False, na_values={"value": [""]})
        assert "why_blank" in got.columns
        blank = got["value"].isna()
        assert got.loc[blank, "why_blank"].str.len().gt(0).all()  # never blank unexplained
        assert got.loc[~blank, "why_blank"].eq("").all()
        assert got.loc[blank & ~got["area_code"].isin([c for _, c, _ in want]),
                       "why_blank"].eq("no data for this breakdown" if breakdown
                                       else "no data").all()
        mine = got.set_index("area_code")
        for (b, code, period), w in want.items():
            if b != breakdown or period != PERIODS[1]:
                continue
            if w["suppressed"].startswith("partner"):
                assert mine.at[code, "why_blank"] == "hidden by the partner" + \
                    w["suppressed"][len("partner"):]
            else:
                assert mine.at[code, "value"] == w["value"]


def test_a_viewer_outside_the_agreement_sees_none_of_it(admissions, regions):
    store, _ = admissions
    with pytest.raises(AccessDenied):
        view(store, regions, who=OUTSIDER)
    with pytest.raises(AccessDenied):
        view(store, regions, "provider: North Bristol NHS Trust", who=OUTSIDER)


def test_a_breakdown_withheld_for_another_way_says_so(loader_store, regions, tmp_path):
    """Sex and age group sent as two separate one-way breakdowns beside a total: the
    total is built from one way (age group); the other's parts are withheld, and say so
    rather than passing for cells the partner hid."""
    path = tmp_path / "falls_two_ways.csv"
    path.write_text("area_code,period,indicator,Sex,Age group,value\n"
                    "E01014485,2023,falls_ways,All,All ages,30\n"
                    "E01014485,2023,falls_ways,Female,All ages,12\n"
                    "E01014485,2023,falls_ways,Male,All ages,18\n"
                    "E01014485,2023,falls_ways,All,0-64,9\n"
                    "E01014485,2023,falls_ways,All,65+,21\n")
    report = ingest(path, store=loader_store, partner="nhs_bristol", today=TODAY)
    assert not report.refused, report.reason
    flt = ViewFilter("avon_and_somerset", "lsoa", "falls_ways", "2023", "2023",
                     breakdown="Sex: Female")
    got = measures.indicator_view(Store(loader_store), regions["avon_and_somerset"], flt,
                                  viewer=ADMIN).set_index("area_code").loc["E01014485"]
    assert np.isnan(got["value"])
    assert got["suppressed"] == disclosure.OTHER_WAY
    assert "partner" not in got["suppressed"] and "range not known" not in got["why_blank"]
