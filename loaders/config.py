"""Where the open data lives, and the region presets.

The open data folder comes from ``ODA_DATA_DIR`` (the Makefile points it at
``../shared/data``). Region presets are configuration in ``config/regions.toml``.
Where the store and the roles file live is :mod:`store.settings`.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from store.errors import ConfigError
from store.settings import REPO

REGIONS_FILE = REPO / "config" / "regions.toml"

LAD_CODE = re.compile(r"^[EW]0[6789]\d{6}$")
VINTAGES = (2011, 2021)
LSOA_BOUNDARIES = ("oda", "national")
MAP_DETAILS = ("fine", "coarse")


def data_dir() -> Path:
    """Return the open data folder named by ``ODA_DATA_DIR``.

    Raises
    ------
    ConfigError
        If the variable is unset and ``../shared/data`` does not exist, or the
        folder it names does not exist.
    """
    value = os.environ.get("ODA_DATA_DIR")
    path = Path(value) if value else REPO.parent / "shared" / "data"
    if not path.is_dir():
        raise ConfigError(
            "ODA_DATA_DIR",
            f"the open data folder {path} does not exist; set ODA_DATA_DIR to the "
            "folder that holds boundaries/, lookups/, indicators/ and policeuk/",
        )
    return path


@dataclass(frozen=True)
class Region:
    """A region preset: a named set of LADs and the geography it is drawn with."""

    name: str
    title: str
    lads: tuple[str, ...] | None  # None means every LAD in England and Wales
    vintage: int
    lsoa_boundaries: str
    map_detail: str
    default: bool = False

    @property
    def lsoa_geography(self) -> str:
        """The LSOA geography code of this region's vintage (``LSOA11``/``LSOA21``)."""
        return "LSOA11" if self.vintage == 2011 else "LSOA21"

    @property
    def ward_geography(self) -> str:
        """The ward geography drawn for this region's vintage."""
        return "WD19" if self.vintage == 2011 else "WD25"

    @property
    def lsoa_detail(self) -> str:
        """Which LSOA boundary set the region draws (``bgc`` or ``bsc``)."""
        return "bgc" if self.lsoa_boundaries == "oda" else "bsc"


def _region_problems(name: str, table: object) -> list[str]:
    if not isinstance(table, dict):
        return [f"[regions.{name}] must be a table"]
    problems = []
    for key in ("title", "lads", "vintage", "lsoa_boundaries", "map_detail"):
        if key not in table:
            problems.append(f"[regions.{name}] is missing the key '{key}'")
    lads = table.get("lads")
    if lads is not None and lads != "all":
        if not isinstance(lads, list) or not lads:
            problems.append(f"[regions.{name}] lads must be \"all\" or a list of LAD codes")
        else:
            bad = [c for c in lads if not (isinstance(c, str) and LAD_CODE.match(c))]
            if bad:
                problems.append(f"[regions.{name}] lads has malformed LAD codes: {bad}")
    if "vintage" in table and table["vintage"] not in VINTAGES:
        problems.append(
            f"[regions.{name}] vintage was {table['vintage']!r} but must be one of {VINTAGES}"
        )
    for key, allowed in (("lsoa_boundaries", LSOA_BOUNDARIES), ("map_detail", MAP_DETAILS)):
        if key in table and table[key] not in allowed:
            problems.append(
                f"[regions.{name}] {key} was {table[key]!r} but must be one of {allowed}"
            )
    return problems


def load_regions(path: str | os.PathLike | None = None) -> dict[str, Region]:
    """Read and check the region presets.

    Parameters
    ----------
    path : path-like, optional
        The TOML file; ``config/regions.toml`` by default.

    Returns
    -------
    dict of str to Region
        In file order; exactly one region has ``default`` set.

    Raises
    ------
    ConfigError
        Naming the file and every key that is wrong.
    """
    path = Path(path) if path else REGIONS_FILE
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise ConfigError(str(path), "the region file does not exist") from err
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(str(path), f"is not valid TOML: {err}") from err
    tables = raw.get("regions")
    if not isinstance(tables, dict) or not tables:
        raise ConfigError(str(path), "has no [regions.<name>] tables")
    problems: list[str] = []
    for name, table in tables.items():
        problems += _region_problems(name, table)
    defaults = [n for n, t in tables.items() if isinstance(t, dict) and t.get("default")]
    if len(defaults) != 1:
        problems.append(f"exactly one region must set default = true; found {defaults}")
    if problems:
        raise ConfigError(str(path), problems)
    return {
        name: Region(
            name=name,
            title=t["title"],
            lads=None if t["lads"] == "all" else tuple(t["lads"]),
            vintage=t["vintage"],
            lsoa_boundaries=t["lsoa_boundaries"],
            map_detail=t["map_detail"],
            default=bool(t.get("default", False)),
        )
        for name, t in tables.items()
    }


def default_region(regions: dict[str, Region]) -> Region:
    """Return the region marked ``default``."""
    return next(r for r in regions.values() if r.default)
