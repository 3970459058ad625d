"""Roles, read from ``config/roles.toml`` (or ``ODA_ROLES``): what each kind of user may
see and do."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from loaders import ConfigError
from store.settings import roles_file

# Finest first. A role or agreement allowing "ward" allows ward, district and region.
LEVELS = ("point", "lsoa", "ward", "district", "region")
PARTNER_DATA = ("none", "agreements", "own", "all")


@dataclass(frozen=True)
class Role:
    """One role: its finest level, which partner data it sees, and what it may do."""

    name: str
    title: str
    description: str
    finest_level: str
    partner_data: str
    upload: bool
    administer: bool


def coarser(a: str, b: str) -> str:
    """The coarser of two levels (the one that shows less)."""
    return a if LEVELS.index(a) >= LEVELS.index(b) else b


def allows(finest: str, level: str) -> bool:
    """Whether a grant whose finest level is ``finest`` allows ``level``."""
    return LEVELS.index(level) >= LEVELS.index(finest)


@cache
def load_roles(path: Path | None = None) -> dict[str, Role]:
    """Every role, by name, from ``path`` (default: :func:`store.settings.roles_file`).

    Raises
    ------
    ConfigError
        Naming the file, the role and the key that is wrong.
    """
    path = path or roles_file()
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8")).get("roles", {})
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise ConfigError(str(path), f"cannot be read: {err}") from err
    problems, out = [], {}
    for name, spec in table.items():
        missing = [k for k in ("title", "finest_level", "partner_data") if k not in spec]
        if missing:
            problems.append(f"[roles.{name}] is missing {missing}")
            continue
        if spec["finest_level"] not in LEVELS:
            problems.append(f"[roles.{name}] finest_level was {spec['finest_level']!r}; "
                            f"it must be one of {LEVELS}")
        if spec["partner_data"] not in PARTNER_DATA:
            problems.append(f"[roles.{name}] partner_data was {spec['partner_data']!r}; "
                            f"it must be one of {PARTNER_DATA}")
        out[name] = Role(name=name, title=spec["title"],
                         description=spec.get("description", ""),
                         finest_level=spec["finest_level"], partner_data=spec["partner_data"],
                         upload=bool(spec.get("upload")), administer=bool(spec.get("administer")))
    for needed in ("public", "administrator"):
        if needed not in table:
            problems.append(f"the role {needed!r} must be defined")
    if problems:
        raise ConfigError(str(path), problems)
    return out


def get_role(name: str) -> Role:
    """The role called ``name``.

    Raises
    ------
    ConfigError
        Naming the known roles.
    """
    roles = load_roles()
    if name not in roles:
        raise ConfigError("role", f"{name!r} is not a role; known: {list(roles)}")
    return roles[name]
