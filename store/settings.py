"""Where the store lives, and the deployment's roles file.

The store is either the embedded DuckDB file (``geodata/oda.duckdb``, or
``ODA_STORE``, or ``--store``) or a PostgreSQL + PostGIS database, chosen by one
setting, ``ODA_DATABASE_URL`` (a libpq URL such as ``postgresql://oda@db.example/oda``).
The governance register (accounts, agreements, the audit log) is a SQLite file
beside a DuckDB store (or ``ODA_GOVERNANCE``), or the ``governance`` schema of a
PostgreSQL one. Roles come from ``config/roles.toml`` unless ``ODA_ROLES`` names a deployment's own
file; the database's row-level security reads them too.
"""

from __future__ import annotations

import os
from pathlib import Path

from store.errors import ConfigError

REPO = Path(__file__).resolve().parent.parent
DEFAULT_STORE = REPO / "geodata" / "oda.duckdb"
DEFAULT_ROLES = REPO / "config" / "roles.toml"
URL_SCHEMES = ("postgresql://", "postgres://")


def store_path(path: str | os.PathLike | None = None) -> Path:
    """Return the store file: ``path``, else ``ODA_STORE``, else the default."""
    if path:
        return Path(path)
    env = os.environ.get("ODA_STORE")
    return Path(env) if env else DEFAULT_STORE


def roles_file() -> Path:
    """Return the roles file: ``ODA_ROLES``, else ``config/roles.toml``.

    Raises
    ------
    ConfigError
        If ``ODA_ROLES`` names a file that does not exist.
    """
    env = os.environ.get("ODA_ROLES")
    if not env:
        return DEFAULT_ROLES
    if not Path(env).is_file():
        raise ConfigError("ODA_ROLES", f"the roles file {env} does not exist; unset "
                          "ODA_ROLES to use config/roles.toml")
    return Path(env)


def is_url(target: object) -> bool:
    """Whether a store target is a PostgreSQL URL (else it is a DuckDB file)."""
    return isinstance(target, str) and target.startswith(URL_SCHEMES)


def database_url() -> str | None:
    """``ODA_DATABASE_URL``, when the deployment uses PostgreSQL."""
    value = os.environ.get("ODA_DATABASE_URL", "").strip()
    return value or None


def store_target(store: str | os.PathLike | None = None) -> Path | str:
    """The store: ``store`` as given (a file or a URL), else ``ODA_DATABASE_URL``,
    else the DuckDB file (``ODA_STORE`` or ``geodata/oda.duckdb``)."""
    if store is not None and str(store) != "":
        return str(store) if is_url(str(store)) else Path(store)
    return database_url() or store_path()


def describe(target: Path | str) -> str:
    """A store target for messages, without any password in a URL."""
    if not is_url(target):
        return str(target)
    from psycopg.conninfo import conninfo_to_dict
    info = conninfo_to_dict(str(target))
    return (f"postgresql://{info.get('user', '')}@{info.get('host', '')}"
            f"{':' + str(info['port']) if info.get('port') else ''}/{info.get('dbname', '')}")


def governance_path(path: str | os.PathLike | None = None,
                    store: str | os.PathLike | None = None) -> Path | str:
    """The governance register: ``path``, else ``ODA_GOVERNANCE``; else the store's
    own database when it is PostgreSQL, or the file beside the DuckDB store."""
    if path:
        return str(path) if is_url(str(path)) else Path(path)
    if is_url(str(store or "")):
        return str(store)
    env = os.environ.get("ODA_GOVERNANCE")
    if env:
        return env if is_url(env) else Path(env)
    if not store and database_url():
        return database_url()
    return store_path(store).with_name("governance.sqlite")
