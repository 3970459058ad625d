"""Ward names instead of codes: matched to ward codes within the file's districts.

A council's public health team publishes by ward *name* ("Acocks Green",
"Bordesley & Highgate"). Names repeat across England and Wales (there are 16
wards called Abbey), so a name is matched only within the districts the file is
about: those where most of its names are wards, found from the names
themselves unless the steward names a region. Case, punctuation and "&"/"and"
do not matter. A name that matches no ward there is quarantined; a name that
matches two wards there is ambiguous, and the file is refused with the
candidates, for the steward to settle.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

VINTAGES = {2011: "WD19", 2021: "WD24"}  # the ward sets of the ONS LSOA lookups
HOME_SHARE = 0.2  # a district is the file's when it holds this share of the best one's names


def normal(name: str) -> str:
    """A ward name compared without case, punctuation or "&"/"and": ``"Bordesley &
    Highgate"`` and ``"BORDESLEY AND HIGHGATE"`` are the same name."""
    text = str(name).lower().replace("&", " and ").replace("'", "").replace("\u2019", "")
    text = re.sub(r"[^a-z0-9]+", " ", text)
    return " ".join(w for w in text.split() if w != "ward")


@dataclass
class Matched:
    """What matching a file's ward names found."""

    codes: dict[str, str]  # file name -> ward code
    vintage: int
    districts: list[str]  # lad names
    unmatched: list[str] = field(default_factory=list)
    ambiguous: dict[str, list[str]] = field(default_factory=dict)  # name -> candidates

    @property
    def geography(self) -> str:
        return VINTAGES[self.vintage]

    def describe(self) -> str:
        return (f"{len(self.codes)} ward names matched to ward codes of "
                f"{'2019' if self.vintage == 2011 else '2024'} ({self.geography}) in "
                f"{', '.join(self.districts)}")


def match(names: pd.Series, wards: pd.DataFrame, lads: list[str] | None = None) -> Matched:
    """Match a file's ward names to ward codes.

    Parameters
    ----------
    names : Series of str
        The file's ward names (repeats allowed).
    wards : DataFrame
        ``vintage, ward_code, ward_name, lad_code, lad_name`` (from ``lsoa_ward``).
    lads : list of str, optional
        The districts to match in (a region's); found from the names when None.

    Returns
    -------
    Matched
    """
    wanted = {n: normal(n) for n in pd.unique(names.astype(str).str.strip()) if n}
    wards = wards.drop_duplicates(["vintage", "ward_code", "lad_code"]) \
        .assign(key=lambda w: w["ward_name"].map(normal))
    keys = set(wanted.values())
    best = None
    for vintage in sorted(VINTAGES):
        here = wards[(wards["vintage"] == vintage) & wards["key"].isin(keys)]
        if lads is not None:
            home = here[here["lad_code"].isin(lads)]
        else:
            score = here.groupby(["lad_code", "lad_name"])["key"].nunique()
            if score.empty:
                continue
            keep = score[score >= max(2, HOME_SHARE * score.max())]
            home = here[here["lad_code"].isin(set(keep.index.get_level_values(0)))]
        found = home["key"].nunique()
        if best is None or found > best[0]:
            best = (found, vintage, home)
    if best is None:
        return Matched({}, 2011, [], unmatched=sorted(wanted))
    _, vintage, home = best
    by_key = home.groupby("key")
    out = Matched({}, vintage, sorted(home["lad_name"].unique()))
    for name, key in wanted.items():
        if key not in by_key.groups:
            out.unmatched.append(name)
            continue
        found = by_key.get_group(key).drop_duplicates("ward_code")
        if len(found) > 1:
            out.ambiguous[name] = [f"{c} ({w}, {lad})" for c, w, lad in zip(
                found["ward_code"], found["ward_name"], found["lad_name"], strict=True)]
        else:
            out.codes[name] = found["ward_code"].iat[0]
    return out


# Words a district's name is written with or without: "Bristol, City of", "City of
# Bristol" and "Bristol City Council" are one district.
DISTRICT_WORDS = frozenset({"city", "of", "county", "borough", "council", "district",
                            "metropolitan", "royal", "the", "unitary", "authority", "and"})
GEOGRAPHY_YEARS = {"WD19": 2019, "WD24": 2024, "WD25": 2025}


def district_keys(name: str) -> set[str]:
    """The forms a district's name is written in: in full, without words such as
    "City of" or "Council", and as initials (``"BANES"`` and ``"BNES"`` for Bath and
    North East Somerset)."""
    words = re.sub(r"[^a-z0-9]+", " ", str(name).lower().replace("&", " and ")).split()
    core = [w for w in words if w not in DISTRICT_WORDS]
    keys = {" ".join(words), " ".join(core)}
    for letters in ("".join(w[0] for w in words),
                    "".join(w[0] for w in words if w not in ("and", "of"))):
        if len(letters) >= 3 and len(words) >= 3:
            keys.add(letters)
    return keys - {""}


def _full(name: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", str(name).lower().replace("&", " and ")).split())


def _district_index(wards: pd.DataFrame) -> dict[str, set[str]]:
    """Each written form of a district's name to the district codes it could mean."""
    index: dict[str, set[str]] = {}
    for code, name in wards.drop_duplicates("lad_code")[["lad_code", "lad_name"]] \
            .itertuples(index=False):
        for key in district_keys(name):
            index.setdefault(key, set()).add(code)
    return index


def _district(written: str, index: dict[str, set[str]]) -> str:
    """The one district a written name means ('' for none, or for more than one)."""
    if len(index.get(_full(written), ())) == 1:
        return next(iter(index[_full(written)]))
    hits = set().union(*(index[k] for k in district_keys(written) if k in index))
    return next(iter(hits)) if len(hits) == 1 else ""


@dataclass
class RowMatch:
    """Each row's ward code ('' where none), and for the others the column and reason."""

    codes: pd.Series
    column: pd.Series
    reason: pd.Series
    matches: list[dict] = field(default_factory=list)  # name, district, ward_code, ward_name
    notes: list[str] = field(default_factory=list)


def match_rows(names: pd.Series, districts: pd.Series | None, wards: pd.DataFrame,
               usable: set[str], *, name_column: str, district_column: str | None
               ) -> RowMatch:
    """Match each row's ward name within the district the row names.

    Parameters
    ----------
    names, districts : Series of str
        Each row's ward name and district name (``districts`` None: the districts
        where most of the names are wards, as :func:`match` finds them).
    wards : DataFrame
        ``geography, ward_code, ward_name, lad_code, lad_name`` of every vintage the
        store names (``store.loads.ward_names``): a ward renamed between vintages is
        found under either name.
    usable : set of str
        The ward codes figures can be loaded for (those of the LSOA lookups).

    Returns
    -------
    RowMatch
        A name matching no ward of its district, a district no one knows, or a name
        that could be two wards there, leaves its row without a code, with the reason.
    """
    names = names.astype(str).str.strip()
    codes = pd.Series("", index=names.index, dtype=object)
    column = pd.Series("", index=names.index, dtype=object)
    reason = pd.Series("", index=names.index, dtype=object)
    wards = wards.assign(key=wards["ward_name"].map(normal))
    keys = names.map(normal)
    lad_names = wards.drop_duplicates("lad_code").set_index("lad_code")["lad_name"]
    if districts is not None:
        index = _district_index(wards)
        written = districts.astype(str).str.strip()
        found = {d: _district(d, index) for d in written.unique()}
        lad = written.map(found)
        blank, unknown = written == "", (lad == "") & (written != "")
        column[blank | unknown] = district_column
        reason[blank] = "no district given"
        reason[unknown] = [f"{district_column} {d!r} is not a district the dashboard knows"
                           for d in written[unknown]]
    else:
        score = wards[wards["key"].isin(set(keys))].groupby("lad_code")["key"].nunique()
        home = set(score[score >= max(2, HOME_SHARE * score.max())].index) \
            if len(score) else set()
        lad = pd.Series(",".join(sorted(home)), index=names.index, dtype=object)
    empty = (names == "") & (reason == "")
    column[empty], reason[empty] = name_column, "no ward name given"
    todo = reason == ""
    pairs = pd.DataFrame({"lad": lad[todo], "key": keys[todo]}).drop_duplicates()
    cands = {}
    for lads, key in pairs.itertuples(index=False):
        here = wards[wards["lad_code"].isin(lads.split(",")) & (wards["key"] == key)]
        cands[(lads, key)] = here
    # The vintage most of the file's names are written in decides between two wards
    # that share a name in different vintages.
    best = pd.concat(cands.values()).groupby("geography")["key"].nunique() \
        if cands else pd.Series(dtype=int)
    best_geo = min(best.index, key=lambda g: (-best[g], g)) if len(best) else "WD19"
    outcome: dict[tuple[str, str], tuple[str, str]] = {}
    renamed: dict[str, str] = {}
    for (lads, key), here in cands.items():
        where = ", ".join(lad_names.get(c, c) for c in lads.split(",") if c) or "any district"
        codes_here = here.drop_duplicates("ward_code")
        if codes_here.empty:
            outcome[(lads, key)] = ("", f"matches no ward in {where}")
            continue
        ok = codes_here[codes_here["ward_code"].isin(usable)]
        if ok.empty:
            row = codes_here.iloc[0]
            outcome[(lads, key)] = ("", f"is a ward of {GEOGRAPHY_YEARS.get(row['geography'])} "
                                    f"({row['ward_code']}), for which the dashboard has no "
                                    "lookup of LSOAs")
            continue
        if ok["ward_code"].nunique() > 1:
            mine = here[here["geography"] == best_geo]
            ok = ok[ok["ward_code"].isin(set(mine["ward_code"]))] if len(mine) else ok
        if ok["ward_code"].nunique() > 1:
            outcome[(lads, key)] = ("", "could be " + " or ".join(
                f"{c} ({n}, {lad_names.get(d, d)})" for c, n, d in zip(
                    ok["ward_code"], ok["ward_name"], ok["lad_code"], strict=True)))
            continue
        code = ok["ward_code"].iat[0]
        outcome[(lads, key)] = (code, "")
        if best_geo not in set(here["geography"]):
            now = wards[(wards["ward_code"] == code) & (wards["geography"] == best_geo)]
            if len(now):
                renamed[here["ward_name"].iat[0]] = f"{now['ward_name'].iat[0]} ({code})"
    got = pd.Series([outcome[(lads, key)] for lads, key in zip(lad[todo], keys[todo],
                                                                 strict=True)],
                    index=names[todo].index, dtype=object)
    codes[todo] = got.str[0]
    missed = todo & (codes == "")
    column[missed] = name_column
    reason[missed] = [f"ward name {n!r} {why}" for n, why in zip(
        names[missed], got[missed[todo].to_numpy()].str[1], strict=True)]
    out = RowMatch(codes, column, reason)
    hit = codes != ""
    seen = pd.DataFrame({"name": names[hit], "district": lad[hit].map(
        lambda c: ", ".join(lad_names.get(x, x) for x in c.split(","))),
        "ward_code": codes[hit]}).drop_duplicates()
    ward_name = wards[wards["geography"] == best_geo].drop_duplicates("ward_code") \
        .set_index("ward_code")["ward_name"]
    out.matches = seen.assign(ward_name=seen["ward_code"].map(ward_name).fillna("")) \
        .sort_values(["district", "name"]).to_dict("records")
    if renamed:
        out.notes.append(
            f"names of another vintage than {GEOGRAPHY_YEARS.get(best_geo)}'s matched to the "
            "same ward under its name then: " + ", ".join(
                f"{old!r} is {new}" for old, new in sorted(renamed.items())))
    return out
