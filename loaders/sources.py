"""Readers for the open tables: ONS lookups, population and context indicators.

Each reader returns a tidy frame with the store's column names. Files are read
with ``utf-8-sig`` because several ONS CSVs start with a byte-order mark.
"""

from __future__ import annotations

import functools
import importlib.resources
import tomllib
from pathlib import Path

import pandas as pd

from loaders import details
from loaders.config import REPO
from loaders.errors import ConfigError, LoaderError

CATALOGUE_FILE = REPO / "config" / "catalogue.toml"
UNITS = details.UNITS
POLARITIES = details.POLARITIES
OGL = "Open Government Licence v3.0"


def read_csv(path: Path, columns: list[str] | None = None, **kwargs) -> pd.DataFrame:
    """Read a CSV (optionally gzipped), checking that the expected columns exist.

    Raises
    ------
    LoaderError
        Naming the file and the missing columns.
    """
    try:
        frame = pd.read_csv(path, encoding="utf-8-sig", **kwargs)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as err:
        raise LoaderError(str(path), f"cannot be read: {err}") from err
    if columns:
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise LoaderError(str(path), f"expected columns are missing: {missing}")
    return frame


def lsoa_ward_lookups(data: Path) -> pd.DataFrame:
    """The ONS best-fit LSOA -> ward -> LAD lookups of both vintages."""
    cols = ["lsoa_code", "lsoa_name", "ward_code", "ward_name", "lad_code", "lad_name"]
    f11 = data / "lookups" / "lsoa11_wd19_lad19_ew_bestfit_ons.csv"
    l11 = read_csv(f11, ["LSOA11CD", "LSOA11NM", "WD19CD", "WD19NM", "LAD19CD", "LAD19NM"])
    l11 = l11[["LSOA11CD", "LSOA11NM", "WD19CD", "WD19NM", "LAD19CD", "LAD19NM"]]
    l11.columns = cols
    f21 = data / "lookups" / "lsoa21_wd24_lad24_ew_bestfit_ons.csv"
    l21 = read_csv(f21, ["LSOA21CD", "LSOA21NM", "WD24CD", "WD24NM", "LAD24CD", "LAD24NM"])
    l21 = l21[["LSOA21CD", "LSOA21NM", "WD24CD", "WD24NM", "LAD24CD", "LAD24NM"]]
    l21.columns = cols
    return pd.concat([l11.assign(vintage=2011), l21.assign(vintage=2021)], ignore_index=True)


def lsoa11_lsoa21(data: Path) -> pd.DataFrame:
    """The ONS LSOA 2011 -> 2021 lookups: best fit (one row per LSOA11) and exact fit."""
    best = read_csv(data / "lookups" / "lsoa11_lsoa21_lad22_ew_bestfit_ons_v2.csv",
                    ["LSOA11CD", "LSOA21CD"])
    exact = read_csv(data / "lookups" / "lsoa11_lsoa21_lad22_ew_exactfit_ons.csv.gz",
                     ["F_LSOA11CD", "LSOA21CD", "CHGIND"])
    best = pd.DataFrame({"lsoa11_code": best["LSOA11CD"], "lsoa21_code": best["LSOA21CD"],
                         "fit": "best", "change": None})
    exact = pd.DataFrame({"lsoa11_code": exact["F_LSOA11CD"], "lsoa21_code": exact["LSOA21CD"],
                          "fit": "exact", "change": exact["CHGIND"]})
    return pd.concat([best, exact], ignore_index=True)


def lad_codes(data: Path) -> pd.DataFrame:
    """Every LAD code since 2011 with the current LAD it became."""
    la = read_csv(data / "lookups" / "la_all_codes.csv",
                  ["LADCD", "LADNM", "LADCD_ACTIVE", "LADNM_ACTIVE"])
    return pd.DataFrame({"lad_code": la["LADCD"], "lad_name": la["LADNM"],
                         "lad_code_active": la["LADCD_ACTIVE"],
                         "lad_name_active": la["LADNM_ACTIVE"]})


def lad_police_force_areas(data: Path) -> pd.DataFrame:
    """LAD (2024) -> police force area (2024)."""
    pfa = read_csv(data / "lookups" / "lad24_csp24_pfa24_ew_ons.csv",
                   ["LAD24CD", "LAD24NM", "PFA24CD", "PFA24NM"])
    return pd.DataFrame({"lad_code": pfa["LAD24CD"], "lad_name": pfa["LAD24NM"],
                         "pfa_code": pfa["PFA24CD"], "pfa_name": pfa["PFA24NM"]})


def population(data: Path) -> pd.DataFrame:
    """Rate denominators: mid-2018 estimates (LSOA11) and Census 2021 (LSOA21)."""
    p18 = read_csv(data / "indicators" / "population_mid2018_lsoa11_ons_sape21dt11.csv",
                   ["LSOA11CD", "pop_mid2018"])
    p21 = read_csv(data / "indicators" / "population_census2021_lsoa21_agebands.csv",
                   ["lsoa21_code", "usual_residents_total"])
    return pd.concat([
        pd.DataFrame({"geography": "LSOA11", "code": p18["LSOA11CD"],
                      "population": p18["pop_mid2018"].astype(float),
                      "source": "ONS mid-2018 population estimates (SAPE21DT11)"}),
        pd.DataFrame({"geography": "LSOA21", "code": p21["lsoa21_code"],
                      "population": p21["usual_residents_total"].astype(float),
                      "source": "ONS Census 2021 usual residents"}),
    ], ignore_index=True)


@functools.cache
def open_indicator_ids() -> frozenset[str]:
    """The ids of the open catalogue's indicators (``config/catalogue.toml``)."""
    return frozenset(load_catalogue())


def load_catalogue(path: Path | None = None) -> dict[str, dict]:
    """Read ``config/catalogue.toml`` and check every entry.

    Raises
    ------
    ConfigError
        Naming the file and each entry and key that is wrong.
    """
    path = path or CATALOGUE_FILE
    try:
        entries = tomllib.loads(path.read_text(encoding="utf-8"))["indicators"]
    except (OSError, KeyError, tomllib.TOMLDecodeError) as err:
        raise ConfigError(str(path), f"cannot be read as an indicator catalogue: {err}") from err
    problems = []
    required = ("title", "partner", "unit", "polarity", "geography", "period", "source",
                "file", "value_column")
    for ident, e in entries.items():
        problems += [f"[indicators.{ident}] is missing '{k}'" for k in required if k not in e]
        if e.get("unit") not in UNITS:
            problems.append(f"[indicators.{ident}] unit {e.get('unit')!r} is not one of {UNITS}")
        if e.get("polarity") not in POLARITIES:
            problems.append(
                f"[indicators.{ident}] polarity {e.get('polarity')!r} is not one of {POLARITIES}")
        if "code_column" not in e and "name_column" not in e:
            problems.append(f"[indicators.{ident}] needs code_column or name_column")
    if problems:
        raise ConfigError(str(path), problems)
    return entries


def _entry_path(data: Path, entry: dict) -> Path:
    if "package" in entry:
        return Path(str(importlib.resources.files(entry["package"]).joinpath(entry["file"])))
    return data / entry["file"]


def context_indicator(data: Path, ident: str, entry: dict,
                      lsoa_names: pd.Series) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read one catalogued indicator into observations, and the rows it cannot use.

    Parameters
    ----------
    lsoa_names : Series
        LSOA code indexed by LSOA name, for files keyed by name.

    Returns
    -------
    (observations, quarantine)
        ``area_code, value`` and ``row, column, reason, record``.
    """
    path = _entry_path(data, entry)
    key = entry.get("code_column") or entry["name_column"]
    frame = read_csv(path, [key, entry["value_column"]], dtype={key: str})
    frame = frame[[key, entry["value_column"]]].copy()
    frame["row"] = range(2, len(frame) + 2)
    if "name_column" in entry:
        frame["area_code"] = frame[key].map(lsoa_names)
    else:
        frame["area_code"] = frame[key].str.strip()
    frame["value"] = pd.to_numeric(frame[entry["value_column"]], errors="coerce")
    no_area = frame["area_code"].isna()
    no_value = frame["value"].isna() & ~no_area
    quarantine = pd.concat([
        frame[no_area].assign(column=key, reason=f"{key} does not match a 2011 LSOA name"
                              if "name_column" in entry else f"{key} is empty"),
        frame[no_value].assign(column=entry["value_column"],
                               reason="value is empty or not a number"),
    ])
    quarantine["record"] = quarantine[key].astype(str) + "," + \
        quarantine[entry["value_column"]].astype(str)
    good = frame[~no_area & ~no_value]
    return good[["area_code", "value"]], quarantine[["row", "column", "reason", "record"]]


def source_path(data: Path, entry: dict) -> Path:
    """The file an entry is read from (in the data folder or an installed package)."""
    return _entry_path(data, entry)
