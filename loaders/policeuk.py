"""The police.uk street-level crime adapter.

A police.uk street-level file has one row per crime or anti-social behaviour
incident, with a snapped location and the 2011 LSOA it falls in. The adapter
counts rows by LSOA x month x crime type. Rows it cannot count (no LSOA code, an
LSOA code that is not a 2011 LSOA, a malformed month, no crime type) are never
dropped: each is kept, with its file, row number, column and reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from loaders.errors import LoaderError

HEADER = (
    "Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude",
    "Location", "LSOA code", "LSOA name", "Crime type", "Last outcome category", "Context",
)
REQUIRED = ("Month", "LSOA code", "Crime type")
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
LSOA11 = re.compile(r"^[EW]01\d{6}$")
ALL_CRIME = "crime_all"


def crime_indicator(crime_type: str) -> str:
    """Return the indicator id of a police.uk crime type.

    Examples
    --------
    >>> crime_indicator("Anti-social behaviour")
    'crime_anti_social_behaviour'
    """
    slug = re.sub(r"[^a-z0-9]+", "_", crime_type.strip().lower()).strip("_")
    return f"crime_{slug}"


def force_districts(pfa: pd.DataFrame, force: str) -> pd.DataFrame:
    """The rows of ``lad_pfa`` for the districts a force's files cover.

    A file's ``Falls within`` names the force ("Avon and Somerset Constabulary");
    the police force area is named without the title ("Avon and Somerset").
    """
    return pfa[pfa["pfa_name"].map(lambda name: force.startswith(name))]


def file_force_months(path: Path) -> tuple[str, set[str]]:
    """A street-level file's force (its ``Falls within``) and months, read from those two
    columns only: what coverage a build has is known before any file is counted."""
    try:
        frame = pd.read_csv(path, usecols=["Month", "Falls within"], dtype=str,
                            keep_default_na=False, encoding="utf-8-sig")
    except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError) as err:
        raise LoaderError(str(path), f"cannot be read as a police.uk CSV: {err}") from err
    months = {m.strip() for m in frame["Month"] if MONTH.match(m.strip())}
    forces = frame["Falls within"].str.strip()
    return (forces.mode().iat[0] if len(forces) else ""), months


class Coverage:
    """Where police.uk figures can be given: the districts of the police force areas with
    a file for each month. A crime a force recorded outside them (West Mercia's files
    hold some in Birmingham) would make a partial count of a district no loaded force
    covers, so such rows are kept aside with the reason, and the district has no data.

    ``districts`` maps each month to the district codes (LAD 2024) covered, ``forces``
    to the forces with a file; ``lsoa_district`` gives each 2011 LSOA's district and
    ``active`` each district code's current code.
    """

    def __init__(self, districts: dict[str, set[str]], forces: dict[str, set[str]],
                 lsoa_district: dict[str, str], active: dict[str, str]):
        self.districts, self.forces = districts, forces
        self.lsoa_district, self.active = lsoa_district, active

    @classmethod
    def of_forces(cls, force_months: dict[str, set[str]], pfa: pd.DataFrame,
                  lsoa_district: dict[str, str], active: dict[str, str]) -> Coverage:
        districts: dict[str, set[str]] = {}
        forces: dict[str, set[str]] = {}
        for force, months in force_months.items():
            lads = set(force_districts(pfa, force)["lad_code"])
            for month in months:
                districts.setdefault(month, set()).update(lads)
                forces.setdefault(month, set()).add(force)
        return cls(districts, forces, lsoa_district, active)

    def frame(self) -> pd.DataFrame:
        """``lad_code, period``: the coverage rows of every police.uk indicator."""
        return pd.DataFrame([(lad, month) for month, lads in sorted(self.districts.items())
                             for lad in sorted(lads)], columns=["lad_code", "period"])

    def outside(self, lsoas: pd.Series, months: pd.Series) -> pd.Series:
        """For each row, why it is outside the coverage ("" when inside)."""
        out = []
        for lsoa, month in zip(lsoas, months, strict=True):
            lad = self.lsoa_district.get(lsoa)
            lads = self.districts.get(month, set())
            if lad is None or lad in lads or self.active.get(lad) in lads:
                out.append("")
            else:
                forces = " and ".join(sorted(self.forces.get(month, ()))) or "no force"
                out.append(f"outside the police force areas with files for {month} "
                           f"({forces}): a count there would be partial, so the area has "
                           "no data")
        return pd.Series(out, index=lsoas.index, dtype=object)


def is_policeuk_header(columns: list[str]) -> bool:
    """True when the columns are those of a police.uk street-level file."""
    return {"Crime ID", "Month", "LSOA code", "Crime type", "Falls within"} <= set(columns)


@dataclass
class PoliceFile:
    """What one police.uk file gave: counts, rows kept aside, and a summary."""

    path: Path
    force: str
    rows_read: int
    counts: pd.DataFrame  # lsoa_code, month, crime_type, count
    kept_aside: pd.DataFrame  # row, column, reason, plus the row's fields
    reasons: dict[str, int] = field(default_factory=dict)
    # lon, lat, lsoa_code, month, crime_type, count: counted rows by snapped point.
    # Counted rows without usable coordinates are counted by LSOA but not here.
    points: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def rows_counted(self) -> int:
        return int(self.counts["count"].sum())

    def summary(self) -> str:
        """One line for the build log."""
        why = "; ".join(f"{n} {r}" for r, n in self.reasons.items()) or "none"
        return (
            f"{self.path.name}: {self.rows_read} rows read, {self.rows_counted} counted, "
            f"{len(self.kept_aside)} kept aside ({why})"
        )


def read_policeuk_file(path: Path, known_lsoas: set[str],
                       coverage: Coverage | None = None) -> PoliceFile:
    """Count one police.uk street-level file by LSOA x month x crime type.

    Parameters
    ----------
    path : Path
        A ``*-street.csv`` file, optionally gzipped.
    known_lsoas : set of str
        The 2011 LSOA codes; a code outside it is kept aside, not counted.
    coverage : Coverage, optional
        Where figures can be given; a row outside it is kept aside, not counted.

    Returns
    -------
    PoliceFile

    Raises
    ------
    LoaderError
        If the file cannot be read or lacks the police.uk columns.
    """
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as err:
        raise LoaderError(str(path), f"cannot be read as a police.uk CSV: {err}") from err
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise LoaderError(str(path), f"is missing the police.uk columns {missing}")
    frame = frame.apply(lambda col: col.str.strip())
    frame.insert(0, "row", range(2, len(frame) + 2))  # row 1 is the header
    reason = pd.Series("", index=frame.index, dtype=object)
    column = pd.Series("", index=frame.index, dtype=object)

    def mark(mask: pd.Series, col: str, why: str) -> None:
        todo = mask & (reason == "")
        reason[todo] = why
        column[todo] = col

    mark(frame["LSOA code"] == "", "LSOA code", "no LSOA code (location not matched to an area)")
    mark(~frame["LSOA code"].str.match(LSOA11) & (frame["LSOA code"] != ""),
         "LSOA code", "malformed LSOA code")
    # A plain set lookup per row: Series.isin converts a large set element by element.
    known = pd.Series([c in known_lsoas for c in frame["LSOA code"]], index=frame.index)
    mark(~known, "LSOA code", "LSOA code is not a 2011 LSOA")
    mark(~frame["Month"].str.match(MONTH), "Month", "month is not YYYY-MM")
    mark(frame["Crime type"] == "", "Crime type", "no crime type")
    if coverage is not None:
        why = coverage.outside(frame["LSOA code"], frame["Month"])
        todo = (why != "") & (reason == "")
        reason[todo] = why[todo]
        column[todo] = "LSOA code"

    bad = reason != ""
    kept = frame[bad].copy()
    kept.insert(1, "column", column[bad])
    kept.insert(2, "reason", reason[bad])
    good = frame[~bad]
    counts = (
        good.groupby(["LSOA code", "Month", "Crime type"], sort=True)
        .size()
        .rename("count")
        .reset_index()
        .rename(columns={"LSOA code": "lsoa_code", "Month": "month", "Crime type": "crime_type"})
    )
    points = _points(good)
    forces = frame.get("Falls within", pd.Series(dtype=str))
    force = forces.mode().iat[0] if len(forces) else ""
    return PoliceFile(
        path=path,
        force=force,
        rows_read=len(frame),
        counts=counts,
        kept_aside=kept,
        reasons=kept["reason"].value_counts().to_dict(),
        points=points,
    )


def _points(good: pd.DataFrame) -> pd.DataFrame:
    """Counted rows by snapped location (police.uk points are anonymised map points)."""
    cols = ["lon", "lat", "lsoa_code", "month", "crime_type", "count"]
    if "Longitude" not in good or "Latitude" not in good:
        return pd.DataFrame(columns=cols)
    lon = pd.to_numeric(good["Longitude"], errors="coerce")
    lat = pd.to_numeric(good["Latitude"], errors="coerce")
    ok = lon.between(-8.7, 2.0) & lat.between(49.8, 60.9)  # Great Britain
    pts = pd.DataFrame({"lon": lon[ok], "lat": lat[ok], "lsoa_code": good.loc[ok, "LSOA code"],
                        "month": good.loc[ok, "Month"], "crime_type": good.loc[ok, "Crime type"]})
    return pts.groupby(cols[:-1], as_index=False, sort=True).size() \
        .rename(columns={"size": "count"})[cols]


def policeuk_files(folder: Path) -> list[Path]:
    """Every street-level file in every force folder under ``folder``, in order."""
    return sorted(folder.glob("*/*-street.csv*"))
