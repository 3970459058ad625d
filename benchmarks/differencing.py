"""Benchmark: how many suppressed cells a hostile analyst recovers by differencing the
views the app offers.

A hand-made partner file of small counts (k = 5): every Avon and Somerset LSOA for six
months, Poisson(2) values, so about half the LSOA-month cells are 1 to 4 and hidden.
The analyst subtracts views the app itself offers:

- month ranges: the LSOA's figure for months 1..m less that for 1..m-1 (and m..6 less
  m+1..6);
- a ward's monthly figure less its visible LSOAs;
- the region's monthly trend less the region's visible LSOAs.

A cell counts as recovered only when the attack gives its true value both on the real
file and on a copy in which every hidden value was changed (v -> 5 - v, and 3 -> 1):
an attack that merely guesses right on one of them learns nothing. The baseline, in
the same run, is the same file with no protection at all (k = 0), where every cell is shown.

The second part attacks a count broken down by sex (Poisson(2) parts, a total row from
the partner for every other LSOA, which also counts people of unlisted sex, and totals
made at load for the rest): a hidden part is the total less the visible parts, and two
hidden parts whose difference from the total is 2 (or 8) must be 1 and 1 (or 4 and 4).
"Before" is the rule the app applied until totals were protected part by part (a stored
total shown as stored unless it is itself small); "after" is what the app shows now.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("ODA_DATA_DIR", str((REPO.parent / "shared" / "data").resolve()))

import duckdb  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from dashboard import geography, measures  # noqa: E402
from dashboard.access import OPERATOR  # noqa: E402
from dashboard.filters import ViewFilter  # noqa: E402
from loaders import load_regions  # noqa: E402
from loaders.ingest import ingest  # noqa: E402
from store import Store  # noqa: E402
from store.settings import store_path  # noqa: E402

MONTHS = [f"2022-{m:02d}" for m in range(1, 7)]
K = 5
INDICATOR = "fire_small"


def copy_store(folder: Path, name: str) -> tuple[Path, list[str]]:
    """A private copy of the built store, and Avon and Somerset's LSOA codes."""
    copy = folder / name
    shutil.copy(store_path(), copy)
    reader = Store(copy, governance=folder / "g.sqlite")
    codes = geography.lsoa_lookup(reader, load_regions()["avon_and_somerset"])[
        "lsoa_code"].tolist()
    reader.close()  # a load writes to the file next
    return copy, codes


def make_store(folder: Path, k: int) -> tuple[Store, pd.DataFrame]:
    """A private store holding the small-count file, with suppression threshold ``k``."""
    copy, codes = copy_store(folder, f"store_k{k}.duckdb")
    rng = np.random.default_rng(11)
    truth = pd.DataFrame([(c, m, int(rng.poisson(2.0))) for c in codes for m in MONTHS],
                         columns=["area_code", "period", "value"]).assign(indicator=INDICATOR)
    path = folder / "fire_small.csv"
    truth.to_csv(path, index=False)
    meta = folder / "meta.toml"
    meta.write_text(f"suppression_k = {k}\n")
    report = ingest(path, store=copy, partner="fire", meta=meta,
                    governance_file=folder / "g.sqlite")
    assert not report.refused, report.reason
    return Store(copy, governance=folder / "g.sqlite"), truth


def perturb(store: Store, truth: pd.DataFrame) -> pd.DataFrame:
    """Change every hidden value in the store (v -> 5 - v, 3 -> 1); return the new truth."""
    new = truth.copy()
    hidden = new["value"].between(1, K - 1)
    new.loc[hidden, "value"] = (K - new.loc[hidden, "value"]).where(
        new.loc[hidden, "value"] != 2, 1)  # 2 -> 1 so that no value maps to itself (3 -> 2)
    with store.writing() as path, duckdb.connect(str(path)) as con:
        con.register("_new", new)
        con.execute("UPDATE observations o SET value = n.value FROM _new n WHERE "
                    "o.indicator = n.indicator AND o.area_code = n.area_code AND "
                    "o.period_start = n.period")
    return new


def views(store: Store) -> dict:
    region = load_regions()["avon_and_somerset"]

    def view(level, a, b):
        flt = ViewFilter(region.name, level, INDICATOR, a, b, "count")
        return measures.indicator_view(store, region, flt, viewer=OPERATOR) \
            .set_index("area_code")["value"]
    out = {("lsoa", a, b): view("lsoa", a, b) for a in MONTHS for b in MONTHS if a <= b
           and (a == MONTHS[0] or b == MONTHS[-1] or a == b)}
    out.update({("ward", m, m): view("ward", m, m) for m in MONTHS})
    monthly = measures.region_monthly(store, region, MONTHS[0], MONTHS[-1], viewer=OPERATOR)
    out["region"] = monthly[monthly["indicator"] == INDICATOR].set_index("period_start")["value"]
    return out


def attack(v: dict, lookup: pd.DataFrame) -> dict:
    """Each LSOA-month's value as the analyst reads or derives it: {(lsoa, month): value}."""
    got = {}
    for i, m in enumerate(MONTHS):
        single = v[("lsoa", m, m)]
        got.update({(c, m): x for c, x in single.dropna().items()})  # shown as it is
        hidden = single[single.isna()].index
        if i:
            diff = v[("lsoa", MONTHS[0], m)] - v[("lsoa", MONTHS[0], MONTHS[i - 1])]
            got.update({(c, m): diff[c] for c in hidden if pd.notna(diff.get(c))})
        if i < len(MONTHS) - 1:
            diff = v[("lsoa", m, MONTHS[-1])] - v[("lsoa", MONTHS[i + 1], MONTHS[-1])]
            got.update({(c, m): diff[c] for c in hidden if pd.notna(diff.get(c))})
        ward = v[("ward", m, m)]
        for w, part in lookup.groupby("ward_code")["lsoa_code"]:
            gaps = [c for c in part if pd.isna(single.get(c))]
            if len(gaps) == 1 and pd.notna(ward.get(w)):
                got.setdefault((gaps[0], m), ward[w] - single.reindex(part).sum())
        gaps = single[single.isna()].index
        if len(gaps) == 1 and m in v["region"].index:
            got.setdefault((gaps[0], m), v["region"][m] - single.sum())
    return got


def recovered(store: Store, truth: pd.DataFrame, lookup: pd.DataFrame) -> tuple[int, int]:
    """(hidden cells, cells the attack gets right on the real and on the changed file)."""
    first = attack(views(store), lookup)
    true1 = truth.set_index(["area_code", "period"])["value"]
    hidden = true1.between(1, K - 1)
    true2 = perturb(store, truth).set_index(["area_code", "period"])["value"]
    second = attack(views(store), lookup)
    both = [c for c, x in first.items() if hidden.get(c, False) and x == true1[c]
            and second.get(c) == true2[c]]
    return int(hidden.sum()), len(both)


SEXES = ("Female", "Male")
BROKEN = "falls_small"
BMONTHS = MONTHS[:3]


def make_breakdown_store(folder: Path) -> tuple[Store, pd.DataFrame, pd.DataFrame]:
    """A private store holding the broken-down file; its parts and its stored totals."""
    copy, codes = copy_store(folder, "store_breakdown.duckdb")
    rng = np.random.default_rng(17)
    parts = pd.DataFrame([(c, m, s, int(rng.poisson(2.0))) for c in codes for m in BMONTHS
                          for s in SEXES], columns=["area_code", "period", "Sex", "value"])
    totals = parts.groupby(["area_code", "period"], as_index=False)["value"].sum()
    totals = totals[totals["area_code"].isin(codes[::2])]
    totals["value"] += rng.poisson(1.0, len(totals))
    rows = pd.concat([parts, totals.assign(Sex="All")], ignore_index=True).assign(
        indicator=BROKEN)
    path = folder / "falls_small.csv"
    rows[["area_code", "period", "indicator", "Sex", "value"]].to_csv(path, index=False)
    report = ingest(path, store=copy, partner="health", governance_file=folder / "g.sqlite")
    assert not report.refused, report.reason
    store = Store(copy, governance=folder / "g.sqlite")
    with duckdb.connect(str(copy), read_only=True) as con:
        stored = con.execute("SELECT area_code, period_start AS period, value FROM "
                             "observations WHERE indicator = ? AND breakdown IS NULL",
                             [BROKEN]).df()
    return store, parts, stored


def breakdown_views(store: Store, before: bool) -> dict:
    """{(month, part): Series by LSOA}: the total ("") and each part, as the app shows
    them now, or (``before``) with the stored total shown as stored unless small."""
    region = load_regions()["avon_and_somerset"]
    out = {}
    for m in BMONTHS:
        for part in ("", *(f"Sex: {s}" for s in SEXES)):
            flt = ViewFilter(region.name, "lsoa", BROKEN, m, m, "count", breakdown=part)
            out[(m, part)] = measures.indicator_view(store, region, flt, viewer=OPERATOR) \
                .set_index("area_code")["value"]
    if before:
        with duckdb.connect(str(store.path), read_only=True) as con:
            stored = con.execute("SELECT area_code, period_start, value FROM observations "
                                 "WHERE indicator = ? AND breakdown IS NULL", [BROKEN]).df()
        for m in BMONTHS:
            one = stored[stored["period_start"] == m].set_index("area_code")["value"]
            shown = one.where(~one.between(1, K - 1))
            out[(m, "")] = shown.reindex(out[(m, "")].index)
    return out


def breakdown_attack(v: dict) -> tuple[dict, dict]:
    """Hidden parts the analyst pins down exactly, and the values each narrowed one has
    left: ({(lsoa, month, sex): value}, {(lsoa, month, sex): {values}})."""
    exact, narrowed = {}, {}
    for m in BMONTHS:
        total = v[(m, "")]
        parts = pd.DataFrame({s: v[(m, f"Sex: {s}")] for s in SEXES})
        for code, t in total.dropna().items():
            row = parts.loc[code]
            gaps = [s for s in SEXES if pd.isna(row[s])]
            rest = t - row.drop(gaps).sum()
            if len(gaps) == 1 and 1 <= rest <= K - 1:
                exact[(code, m, gaps[0])] = rest
            elif len(gaps) == 2:
                pairs = [(a, int(rest) - a) for a in range(1, K) if 1 <= rest - a <= K - 1]
                if len(pairs) == 1:
                    exact.update({(code, m, s): pairs[0][i] for i, s in enumerate(gaps)})
                elif pairs:
                    narrowed.update({(code, m, s): {p[i] for p in pairs}
                                     for i, s in enumerate(gaps)})
    return exact, narrowed


def redraw_breakdown(store: Store, parts: pd.DataFrame, stored: pd.DataFrame) -> pd.DataFrame:
    """Change every hidden part (v -> 5 - v, 2 -> 1) and each stored total with it."""
    new = parts.copy()
    hidden = new["value"].between(1, K - 1)
    new.loc[hidden, "value"] = (K - new.loc[hidden, "value"]).where(
        new.loc[hidden, "value"] != 2, 1)
    delta = new.assign(d=new["value"] - parts["value"]).groupby(
        ["area_code", "period"], as_index=False)["d"].sum()
    totals = stored.merge(delta, on=["area_code", "period"], how="left").fillna({"d": 0})
    totals["value"] += totals["d"]
    with store.writing() as path, duckdb.connect(str(path)) as con:
        con.register("_new", new.assign(breakdown="Sex: " + new["Sex"]))
        con.execute("UPDATE observations o SET value = n.value FROM _new n WHERE "
                    "o.indicator = ? AND o.area_code = n.area_code AND "
                    "o.period_start = n.period AND o.breakdown = n.breakdown", [BROKEN])
        con.register("_totals", totals)
        con.execute("UPDATE observations o SET value = t.value FROM _totals t WHERE "
                    "o.indicator = ? AND o.area_code = t.area_code AND "
                    "o.period_start = t.period AND o.breakdown IS NULL", [BROKEN])
    return new


def breakdown_recovered(folder: Path) -> list[tuple[str, int, int, int]]:
    """(views, hidden parts, recovered exactly, narrowed to 2 or 3 values), before and
    after."""
    rows = []
    for before in (True, False):
        store, parts, stored = make_breakdown_store(folder)
        truth1 = parts.set_index(["area_code", "period", "Sex"])["value"]
        hidden = truth1.between(1, K - 1)
        exact1, narrow1 = breakdown_attack(breakdown_views(store, before))
        truth2 = redraw_breakdown(store, parts, stored).set_index(
            ["area_code", "period", "Sex"])["value"]
        exact2, narrow2 = breakdown_attack(breakdown_views(store, before))
        got = [c for c, x in exact1.items() if hidden.get(c, False) and x == truth1[c]
               and exact2.get(c) == truth2[c]]
        narrow = [c for c, n in narrow1.items() if hidden.get(c, False) and len(n) <= 3
                  and truth1[c] in n and truth2[c] in narrow2.get(c, set())]
        name = "before: stored totals shown" if before else "after: totals from protected parts"
        rows.append((name, int(hidden.sum()), len(got), len(narrow)))
        store.close()
    return rows


def main() -> int:
    region = load_regions()["avon_and_somerset"]
    with tempfile.TemporaryDirectory(prefix="oda-bench-diff-") as tmp:
        folder = Path(tmp)
        lookup = geography.lsoa_lookup(Store(governance=folder / "g.sqlite"), region)
        rows = []
        for k in (0, K):
            store, truth = make_store(folder, k)
            n, got = recovered(store, truth, lookup)
            rows.append((f"k = {k}" + (" (no protection, baseline)" if k == 0 else ""), n, got))
        broken = breakdown_recovered(folder)
    print(f"{'views':34} {'cells of 1-4':>12} {'recovered':>10} {'share':>7}")
    for name, n, got in rows:
        print(f"{name:34} {n:>12,} {got:>10,} {got / max(n, 1):>7.1%}")
    print()
    print(f"{'breakdown by sex':34} {'parts of 1-4':>12} {'recovered':>10} {'share':>7} "
          f"{'narrowed':>9}")
    for name, n, got, narrow in broken:
        print(f"{name:34} {n:>12,} {got:>10,} {got / max(n, 1):>7.1%} {narrow:>9,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
