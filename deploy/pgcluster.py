"""A throwaway PostgreSQL 15 + PostGIS 3 cluster on a free loopback port.

``make test`` runs the suite inside one (``python -m deploy.pgcluster run --
pytest ...``), the load benchmark serves from one, and a developer can try the
PostgreSQL store with it (``make run-postgres``). It uses Debian's binaries
(``postgresql-15-postgis-3``), which the Makefile installs when missing.

The cluster listens on 127.0.0.1 only, trusts local connections (it holds
nothing but a copy of open data and test fixtures) and is deleted when the
command it wraps ends. PostgreSQL refuses to run as root, so under root the
server runs as the ``postgres`` account the Debian package creates.

Roles it makes: ``postgres`` (superuser, sets up) and ``oda`` (the dashboard's
owner role: owns the ``oda`` database, creates the store's schemas and the
read roles of :mod:`loaders.backend.postgres`).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

BIN = Path(os.environ.get("ODA_PG_BIN", "/usr/lib/postgresql/15/bin"))
OWNER = "oda"
DATABASE = "oda"


def free_port() -> int:
    """A TCP port nothing listens on now (loopback)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_server(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


class Cluster:
    """One cluster in a temporary folder; ``with Cluster() as c: c.url()``."""

    def __init__(self, folder: str | os.PathLike | None = None, port: int | None = None):
        self.folder = Path(folder or tempfile.mkdtemp(prefix="oda-pg-"))
        self.port = port or free_port()
        self.data = self.folder / "data"

    def url(self, user: str = OWNER, database: str = DATABASE) -> str:
        """A libpq URL for a role and database of this cluster."""
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database}"

    def psql(self, sql: str, user: str = "postgres", database: str = "postgres") -> str:
        """Run SQL with psql; return what it printed (unaligned, tuples only)."""
        out = subprocess.run(
            [str(BIN / "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
             "-h", "127.0.0.1", "-p", str(self.port), "-U", user, "-d", database, "-c", sql],
            check=True, capture_output=True, text=True)
        return out.stdout

    def start(self) -> Cluster:
        """initdb, start the server and create the ``oda`` role and database."""
        if not (BIN / "initdb").exists():
            raise SystemExit(f"PostgreSQL 15 is not installed ({BIN}/initdb is missing); "
                             "run `make test`, which installs postgresql-15-postgis-3")
        self.folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            pg = pwd.getpwnam("postgres")
            os.chown(self.folder, pg.pw_uid, pg.pw_gid)
        _as_server([str(BIN / "initdb"), "-D", str(self.data), "-U", "postgres",
                    "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8"])
        conf = (f"listen_addresses = '127.0.0.1'\nport = {self.port}\n"
                f"unix_socket_directories = '{self.folder}'\n"
                # A throwaway cluster: durability is not wanted, speed is.
                "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
                "max_connections = 200\nshared_buffers = 256MB\n")
        with open(self.data / "postgresql.conf", "a") as f:
            f.write(conf)
        _as_server([str(BIN / "pg_ctl"), "-D", str(self.data), "-l",
                    str(self.folder / "server.log"), "-w", "start"])
        self.psql(f"CREATE ROLE {OWNER} LOGIN CREATEROLE CREATEDB")
        self.psql(f"CREATE DATABASE {DATABASE} OWNER {OWNER}")
        self.psql("CREATE EXTENSION postgis", database=DATABASE)
        return self

    def stop(self) -> None:
        """Stop the server and delete the folder."""
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(subprocess.CalledProcessError):
                _as_server([str(BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate",
                            "-w", "stop"])
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> Cluster:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m deploy.pgcluster", description=__doc__.split(
        "\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="start a cluster, run a command with ODA_TEST_DATABASE_URL "
                       "set to it, then delete the cluster")
    r.add_argument("argv", nargs=argparse.REMAINDER, help="the command (after --)")
    args = p.parse_args(argv)
    cmd = [a for a in args.argv if a != "--"] or [os.environ.get("SHELL", "bash")]
    with Cluster() as cluster:
        env = {**os.environ, "ODA_TEST_DATABASE_URL": cluster.url()}
        print(f"throwaway PostgreSQL at {cluster.url()}", file=sys.stderr)
        return subprocess.run(cmd, env=env).returncode


if __name__ == "__main__":
    raise SystemExit(main())
