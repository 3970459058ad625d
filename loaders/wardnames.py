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
